// Decoding of TF.js weight manifests (model.json `weightsManifest`) into constant IR tensors,
// including the converter's compressed forms: uint8/uint16 affine quantization (v*scale+min) and
// float16 storage.
import type { IrData, IrDType, IrTensor } from '../ir.js';
import { elementCount } from '../ir.js';

export interface WeightQuantization {
  dtype: 'uint8' | 'uint16' | 'float16';
  scale?: number;
  min?: number;
  original_dtype?: string;
}

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: WeightQuantization;
}

export interface WeightGroup {
  paths: string[];
  weights: WeightSpec[];
}

/** IEEE 754 half -> float. */
export function float16ToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function storedBytesPerElement(spec: WeightSpec, label: string): number {
  if (spec.quantization) {
    const q = spec.quantization.dtype;
    if (q === 'uint8') return 1;
    if (q === 'uint16' || q === 'float16') return 2;
    throw new Error(`${label}: weight '${spec.name}' has unsupported quantization dtype '${q}'`);
  }
  if (spec.dtype === 'float32' || spec.dtype === 'int32') return 4;
  if (spec.dtype === 'bool') return 1;
  throw new Error(`${label}: weight '${spec.name}' has unsupported dtype '${spec.dtype}' (float32, int32, bool or quantized expected)`);
}

/** Decodes one weight from `bytes` (exactly its stored bytes). */
export function decodeWeight(spec: WeightSpec, bytes: Uint8Array, label: string): IrTensor {
  const n = elementCount(spec.shape);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const targetDType: IrDType = spec.dtype === 'int32' ? 'int32' : spec.dtype === 'bool' ? 'bool' : 'float32';
  let data: IrData;
  const q = spec.quantization;
  if (q) {
    const values = new Float32Array(n);
    if (q.dtype === 'float16') {
      for (let i = 0; i < n; i++) values[i] = float16ToFloat32(view.getUint16(2 * i, true));
    } else {
      if (typeof q.scale !== 'number' || typeof q.min !== 'number') {
        throw new Error(`${label}: quantized weight '${spec.name}' lacks scale/min`);
      }
      for (let i = 0; i < n; i++) {
        const v = q.dtype === 'uint8' ? bytes[i] : view.getUint16(2 * i, true);
        values[i] = v * q.scale + q.min;
      }
    }
    data = targetDType === 'int32' ? Int32Array.from(values, Math.round) : values;
  } else if (targetDType === 'float32') {
    data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = view.getFloat32(4 * i, true);
  } else if (targetDType === 'int32') {
    data = new Int32Array(n);
    for (let i = 0; i < n; i++) data[i] = view.getInt32(4 * i, true);
  } else {
    data = Uint8Array.from(bytes.subarray(0, n));
  }
  return { name: spec.name, shape: [...spec.shape], dtype: targetDType, data };
}

/** Decodes every weight of one group from the concatenation of its shard files. */
export function decodeWeightGroup(weights: WeightSpec[], buffer: Uint8Array, label: string): Map<string, IrTensor> {
  const out = new Map<string, IrTensor>();
  let offset = 0;
  for (const spec of weights) {
    const size = elementCount(spec.shape) * storedBytesPerElement(spec, label);
    if (offset + size > buffer.byteLength) {
      throw new Error(`${label}: weight '${spec.name}' [${spec.shape}] needs bytes ${offset}..${offset + size} but the shards hold ${buffer.byteLength}`);
    }
    out.set(spec.name, decodeWeight(spec, buffer.subarray(offset, offset + size), label));
    offset += size;
  }
  return out;
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((a, p) => a + p.byteLength, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}
