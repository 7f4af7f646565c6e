// Shared by the reader and checker fuzz tests: a small hand-built int8 model and a seeded byte mutator.
import { writeTflite } from '../../lib/tflite/writer.js';
import { TfliteBuilder } from '../../lib/tflite/builder.js';

export function handBuilt(): Uint8Array {
  const b = new TfliteBuilder();
  const q = { scale: [0.05], zeroPoint: [-3] };
  const x = b.addTensor({ name: 'x', shape: [1, 4, 4, 2], type: 'int8', quantization: q });
  const w = b.addTensor({ name: 'w', shape: [2, 1, 1, 2], type: 'int8', data: Int8Array.from([1, -2, 3, 4]), quantization: { scale: [0.1, 0.2], zeroPoint: [0, 0], quantizedDimension: 0 } });
  const bias = b.addTensor({ name: 'b', shape: [2], type: 'int32', data: Int32Array.from([10, -20]) });
  const c = b.addTensor({ name: 'c', shape: [1, 4, 4, 2], type: 'int8', quantization: q });
  const s = b.addTensor({ name: 's', shape: [3], type: 'int32', data: Int32Array.from([1, 16, 2]) });
  const y = b.addTensor({ name: 'y', shape: [1, 16, 2], type: 'int8', quantization: q });
  b.addOperator('CONV_2D', [x, w, bias], [c], { padding: 0, strideW: 1, strideH: 1 });
  b.addOperator('RESHAPE', [c, s], [y], { newShape: [1, 16, 2] });
  b.setInputs([x]);
  b.setOutputs([y]);
  return writeTflite(b.build());
}

/** One random mutation: byte flips, a truncation, or a random 32-bit value written over an aligned word. */
export function mutate(src: Uint8Array, rnd: () => number, headerBias: number): Uint8Array {
  const kind = Math.floor(rnd() * 3);
  // Most structure (tables, vtables, offsets) of a TFLite file sits away from the buffer data; aim
  // mutations at the first/last `headerBias` bytes half of the time so they hit structure, not weights.
  const pos = (): number => {
    if (rnd() < 0.5 || src.length <= 2 * headerBias) return Math.floor(rnd() * src.length);
    return rnd() < 0.5 ? Math.floor(rnd() * headerBias) : src.length - 1 - Math.floor(rnd() * headerBias);
  };
  if (kind === 1) return src.subarray(0, Math.floor(rnd() * src.length));
  const out = src.slice();
  if (kind === 0) {
    const n = 1 + Math.floor(rnd() * 8);
    for (let i = 0; i < n; i++) out[pos()] ^= 1 << Math.floor(rnd() * 8);
  } else {
    const p = pos() & ~3;
    const r = rnd();
    const v = r < 0.3 ? Math.floor(rnd() * 2 ** 32) : r < 0.6 ? Math.floor(rnd() * src.length) : r < 0.8 ? 0xffffffff - Math.floor(rnd() * 64) : Math.floor(rnd() * 256);
    if (p + 4 <= out.length) new DataView(out.buffer).setUint32(p, v >>> 0, true);
  }
  return out;
}
