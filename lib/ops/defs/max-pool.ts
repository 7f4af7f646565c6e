// MaxPool over [h, w] windows (NHWC). Keeps its input's parameters.
import type { Attrs, EmitContext, ImportContext, ImportRule, OpDef, OpQuant } from '../types.js';
import { applyActivation, attrActivation, attrNumbers, attrPadding, windowOutputSize } from '../util.js';
import { out0, tfliteActivation, tflitePadding } from '../emit-util.js';
import type { IrTensor } from '../../ir/graph.js';

export function poolShape([x]: IrTensor[], attrs: Attrs): number[][] {
  const [fh, fw] = attrNumbers(attrs, 'filter');
  const [sh, sw] = attrNumbers(attrs, 'strides', [1, 1]);
  const padding = attrPadding(attrs);
  if (x.shape.length !== 4) throw new Error(`pooling input must be rank 4 NHWC, got [${x.shape}]`);
  return [[x.shape[0], windowOutputSize(x.shape[1], fh, sh, 1, padding), windowOutputSize(x.shape[2], fw, sw, 1, padding), x.shape[3]]];
}

/** TF.js MaxPool / AvgPool. */
export const TFJS_POOL: ImportRule = {
  nhwc: true,
  attrs: {
    filter: { attr: 'ksize', type: 'spatial' },
    strides: { attr: 'strides', type: 'spatial' },
    padding: { attr: 'padding', type: 'padding' },
    activation: { value: 'none' },
  },
};

/** TFLite MAX_POOL_2D / AVERAGE_POOL_2D. */
export const TFLITE_POOL: ImportRule = {
  attrs: {
    filter: { attr: ['filterHeight', 'filterWidth'], type: 'number' },
    strides: { attr: ['strideH', 'strideW'], type: 'number' },
    padding: { attr: 'padding', type: 'padding' },
    activation: { attr: 'fusedActivationFunction', type: 'activation' },
  },
};

/** Layers MaxPooling2D / AveragePooling2D: strides default to the pool size. */
export function importLayersPool(op: 'MaxPool' | 'AvgPool') {
  return (c: ImportContext): void => {
    const format = c.attr({ attr: 'dataFormat', type: 'string', default: 'channelsLast' });
    if (format !== 'channelsLast') throw c.error(`dataFormat ${String(format)} is not supported (channelsLast expected)`);
    const size = c.attr({ attr: 'poolSize', type: 'pair', default: 2 });
    const given = c.attr({ attr: 'strides', type: 'pair', default: null });
    const padding = c.attr({ attr: 'padding', type: 'padding', default: 'valid' });
    c.emit(op, [c.input(0)], { filter: size, strides: given ?? size, padding, activation: 'none' });
  };
}

/** A pool node's Pool2DOptions (window, strides, padding, fused activation). */
export function poolOptions(a: Attrs): Record<string, unknown> {
  const [fh, fw] = attrNumbers(a, 'filter');
  const [sh, sw] = attrNumbers(a, 'strides', [1, 1]);
  return { padding: tflitePadding(a), strideW: sw, strideH: sh, filterWidth: fw, filterHeight: fh, fusedActivationFunction: tfliteActivation(a) };
}

/** A pooling op written as one TFLite operator that keeps its input's parameters. */
export function poolQuant(tfliteOp: 'MAX_POOL_2D' | 'AVERAGE_POOL_2D'): OpQuant {
  return {
    rule: { output: 'same-as-input' },
    emit(ctx: EmitContext) {
      ctx.op(tfliteOp, [ctx.activation(ctx.node.inputs[0])], [out0(ctx)], poolOptions(ctx.node.attrs));
    },
  };
}

export const POOL_BUILTIN = {
  options: 'Pool2DOptions',
  version: ({ inputs: [x], outputs: [y] }: { inputs: (string | undefined)[]; outputs: string[] }) => (x === 'int16' && y === 'int16' ? 3 : x === 'int8' ? 2 : 1),
  runtime: ['1.5.0', '1.14.0', '2.3.0'],
  kernel: { sameParams: [0] },
};

export const MaxPool: OpDef = {
  op: 'MaxPool',
  imports: {
    tfjsGraph: { MaxPool: TFJS_POOL },
    tfjsLayers: { MaxPooling2D: importLayersPool('MaxPool') },
    tflite: { MAX_POOL_2D: TFLITE_POOL },
  },
  fusableActivation: true,
  inferShapes: poolShape,
  runFloat(tf, [x], attrs) {
    const [fh, fw] = attrNumbers(attrs, 'filter');
    const [sh, sw] = attrNumbers(attrs, 'strides', [1, 1]);
    const y = tf.maxPool(x as import('@tensorflow/tfjs').Tensor4D, [fh, fw], [sh, sw], attrPadding(attrs) === 'SAME' ? 'same' : 'valid');
    return [applyActivation(tf, y, attrActivation(attrs))];
  },
  quant: poolQuant('MAX_POOL_2D'),
  builtins: { MAX_POOL_2D: POOL_BUILTIN },
  examples: [{ name: 'MaxPool 5x5 SAME', build: (b) => b.emit('mp', 'MaxPool', [b.conv('c', b.input, 4)], { filter: [5, 5], strides: [1, 1], padding: 'SAME' }) }],
};
