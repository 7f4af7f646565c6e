// Small valid models the checker tests and the checker-vs-LiteRT fuzz edit (as TfliteModel objects).
import { TfliteBuilder } from '../../lib/tflite/builder.js';
import type { TfliteModel } from '../../lib/tflite/model.js';

export const q = (scale: number, zeroPoint: number) => ({ scale: [scale], zeroPoint: [zeroPoint] });
const ACT = q(0.1, 2);

/**
 * A valid int8 model touching every rule: two CONV_2D (per-channel weights, int32 bias) -> CONCATENATION
 * -> MAX_POOL_2D / RESHAPE -> FULLY_CONNECTED -> SOFTMAX, TANH; LOGISTIC, PADV2 and SPLIT on the convs.
 */
export function baseModel(): TfliteModel {
  const b = new TfliteBuilder();
  const x = b.addTensor({ name: 'x', shape: [1, 4, 4, 3], type: 'int8', quantization: q(0.05, -3) });
  const conv = (name: string, wData: number[], wScales: number[]) => {
    const w = b.addTensor({ name: `${name}/w`, shape: [3, 1, 1, 3], type: 'int8', data: Int8Array.from(wData), quantization: { scale: wScales, zeroPoint: [0, 0, 0], quantizedDimension: 0 } });
    const bs = wScales.map((s) => Math.fround(Math.fround(0.05) * Math.fround(s)));
    const bias = b.addTensor({ name: `${name}/b`, shape: [3], type: 'int32', data: Int32Array.from([100, -50, 7]), quantization: { scale: bs, zeroPoint: [0, 0, 0], quantizedDimension: 0 } });
    const y = b.addTensor({ name, shape: [1, 4, 4, 3], type: 'int8', quantization: ACT });
    b.addOperator('CONV_2D', [x, w, bias], [y], { padding: 1, strideW: 1, strideH: 1, fusedActivationFunction: 0, dilationWFactor: 1, dilationHFactor: 1 });
    return y;
  };
  const c = conv('c', [1, -2, 3, 4, 5, -6, 127, -127, 0], [0.1, 0.2, 0.05]);
  const c2 = conv('c2', [9, 8, 7, -6, -5, -4, 3, 2, 1], [0.03, 0.04, 0.05]);
  const cat = b.addTensor({ name: 'cat', shape: [1, 4, 4, 6], type: 'int8', quantization: ACT });
  b.addOperator('CONCATENATION', [c, c2], [cat], { axis: 3, fusedActivationFunction: 0 });
  const mp = b.addTensor({ name: 'mp', shape: [1, 2, 2, 6], type: 'int8', quantization: ACT });
  b.addOperator('MAX_POOL_2D', [cat], [mp], { padding: 1, strideW: 2, strideH: 2, filterWidth: 2, filterHeight: 2, fusedActivationFunction: 0 });
  const shape = b.addTensor({ name: 'rs/shape', shape: [2], type: 'int32', data: Int32Array.from([1, 96]) });
  const rs = b.addTensor({ name: 'rs', shape: [1, 96], type: 'int8', quantization: ACT });
  b.addOperator('RESHAPE', [cat, shape], [rs], { newShape: [1, 96] });
  const wfc = b.addTensor({ name: 'fc/w', shape: [2, 96], type: 'int8', data: Int8Array.from({ length: 192 }, (_, i) => ((i * 37) % 255) - 127), quantization: q(0.01, 0) });
  const bfc = b.addTensor({ name: 'fc/b', shape: [2], type: 'int32', data: Int32Array.from([1000, -1000]), quantization: q(Math.fround(Math.fround(0.1) * Math.fround(0.01)), 0) });
  const fc = b.addTensor({ name: 'fc', shape: [1, 2], type: 'int8', quantization: q(0.05, 0) });
  b.addOperator('FULLY_CONNECTED', [rs, wfc, bfc], [fc], { fusedActivationFunction: 0, weightsFormat: 0, keepNumDims: false, asymmetricQuantizeInputs: false });
  const sm = b.addTensor({ name: 'sm', shape: [1, 2], type: 'int8', quantization: q(1 / 256, -128) });
  b.addOperator('SOFTMAX', [fc], [sm], { beta: 1 });
  const th = b.addTensor({ name: 'th', shape: [1, 2], type: 'int8', quantization: q(1 / 128, 0) });
  b.addOperator('TANH', [fc], [th]);
  const sg = b.addTensor({ name: 'sg', shape: [1, 4, 4, 3], type: 'int8', quantization: q(1 / 256, -128) });
  b.addOperator('LOGISTIC', [c], [sg]);
  const pads = b.addTensor({ name: 'pd/pads', shape: [4, 2], type: 'int32', data: Int32Array.from([0, 0, 1, 1, 1, 1, 0, 0]) });
  const value = b.addTensor({ name: 'pd/value', shape: [], type: 'int8', data: Int8Array.of(2), quantization: ACT });
  const pd = b.addTensor({ name: 'pd', shape: [1, 6, 6, 3], type: 'int8', quantization: ACT });
  b.addOperator('PADV2', [c, pads, value], [pd]);
  const axis = b.addTensor({ name: 'split/axis', shape: [], type: 'int32', data: Int32Array.of(3) });
  const parts = [0, 1, 2].map((i) => b.addTensor({ name: `s${i}`, shape: [1, 4, 4, 1], type: 'int8', quantization: ACT }));
  b.addOperator('SPLIT', [axis, c2], parts, { numSplits: 3 });
  b.setInputs([x]);
  b.setOutputs([mp, sm, th, sg, pd, ...parts]);
  return b.build();
}

/** int16 activations (16x8): CONV_2D with int64 bias, then LOGISTIC (1/32768, 0). */
export function int16Model(): TfliteModel {
  const b = new TfliteBuilder();
  const x = b.addTensor({ name: 'x16', shape: [1, 2, 2, 2], type: 'int16', quantization: q(1 / 4096, 0) });
  const w = b.addTensor({ name: 'w16', shape: [2, 1, 1, 2], type: 'int8', data: Int8Array.from([10, -20, 30, 40]), quantization: { scale: [0.01, 0.02], zeroPoint: [0, 0], quantizedDimension: 0 } });
  const bias = b.addTensor({ name: 'b16', shape: [2], type: 'int64', data: BigInt64Array.from([5n, -5n]), quantization: { scale: [0.01 / 4096, 0.02 / 4096], zeroPoint: [0, 0], quantizedDimension: 0 } });
  const c = b.addTensor({ name: 'c16', shape: [1, 2, 2, 2], type: 'int16', quantization: q(1 / 2048, 0) });
  b.addOperator('CONV_2D', [x, w, bias], [c], { padding: 1, strideW: 1, strideH: 1 });
  const y = b.addTensor({ name: 'y16', shape: [1, 2, 2, 2], type: 'int16', quantization: q(1 / 32768, 0) });
  b.addOperator('LOGISTIC', [c], [y]);
  b.setInputs([x]);
  b.setOutputs([y]);
  return b.build();
}

/** float16 constant -> DEQUANTIZE -> ADD (the float16 export's weight pattern). */
export function float16Model(): TfliteModel {
  const b = new TfliteBuilder();
  const x = b.addTensor({ name: 'x', shape: [2], type: 'float32' });
  const k16 = b.addTensor({ name: 'k16', shape: [2], type: 'float16', data: Uint16Array.of(0x3c00, 0x4000) }); // 1, 2
  const k = b.addTensor({ name: 'k', shape: [2], type: 'float32' });
  b.addOperator('DEQUANTIZE', [k16], [k]);
  const y = b.addTensor({ name: 'y', shape: [2], type: 'float32' });
  b.addOperator('ADD', [x, k], [y], { fusedActivationFunction: 0 });
  b.setInputs([x]);
  b.setOutputs([y]);
  return b.build();
}

