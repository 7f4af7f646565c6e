// Decoding of TF.js weight manifests (model.json `weightsManifest`) into constant IR tensors,
// including the converter's compressed forms (tfjs-converter `--quantize_uint8/uint16/float16`,
// ultralytics `int8=True`), exactly as tfjs-core's io decodeWeights reads them:
//   - `quantization: {dtype: 'uint8' | 'uint16', min, scale}`: value = q * scale + min, for float32
//     weights, and Math.round(q * scale + min) for int32 weights;
//   - `quantization: {dtype: 'float16'}`: IEEE half storage, float32 weights only.
// `original_dtype`, which the converter writes beside them, repeats the entry's `dtype` and is not
// needed. There is no int8 or top-level float16 dtype in the format.
import fs from 'node:fs';
import type { IrData, IrDType, IrTensor } from '../../ir/graph.js';
import { elementCount } from '../../ir/graph.js';
import { checkShape, resolveInsideDir } from '../../util/validate.js';

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
    const size = q === 'uint8' ? 1 : q === 'uint16' || q === 'float16' ? 2 : 0;
    if (size === 0) {
      throw new Error(`${label}: weight '${spec.name}' has unsupported quantization dtype '${String(q)}' (uint8, uint16 or float16 expected, as tfjs-converter writes)`);
    }
    const allowed = q === 'float16' ? ['float32'] : ['float32', 'int32'];
    if (!allowed.includes(spec.dtype)) {
      throw new Error(`${label}: weight '${spec.name}' of dtype '${spec.dtype}' cannot be stored with ${q} quantization (only ${allowed.join(' or ')} weights can)`);
    }
    return size;
  }
  if (spec.dtype === 'float32' || spec.dtype === 'int32') return 4;
  if (spec.dtype === 'bool') return 1;
  const hint = spec.dtype === 'float16' ? "; TF.js stores float16 weights as dtype 'float32' with quantization {dtype: 'float16'}" : '';
  throw new Error(`${label}: weight '${spec.name}' has unsupported dtype '${spec.dtype}' (float32, int32, bool or quantized expected${hint})`);
}

/** Decodes one weight from `bytes` (exactly its stored bytes). */
export function decodeWeight(spec: WeightSpec, bytes: Uint8Array, label: string): IrTensor {
  const n = elementCount(spec.shape);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const targetDType: IrDType = spec.dtype === 'int32' ? 'int32' : spec.dtype === 'bool' ? 'bool' : 'float32';
  let data: IrData;
  storedBytesPerElement(spec, label); // refuses dtypes and dtype / quantization pairs TF.js cannot load
  const q = spec.quantization;
  if (q) {
    if (q.dtype === 'float16') {
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = float16ToFloat32(view.getUint16(2 * i, true));
      data = values;
    } else {
      const { scale, min } = q;
      if (typeof scale !== 'number' || typeof min !== 'number' || !Number.isFinite(scale) || !Number.isFinite(min)) {
        throw new Error(`${label}: ${q.dtype}-quantized weight '${spec.name}' needs finite numbers 'scale' and 'min' (got ${JSON.stringify({ scale, min })})`);
      }
      // q * scale + min in double precision, then stored (float32) or rounded (int32), as tfjs-core does.
      const stored = (i: number) => (q.dtype === 'uint8' ? bytes[i] : view.getUint16(2 * i, true));
      data = targetDType === 'int32' ? new Int32Array(n) : new Float32Array(n);
      if (targetDType === 'int32') for (let i = 0; i < n; i++) data[i] = Math.round(stored(i) * scale + min);
      else for (let i = 0; i < n; i++) data[i] = stored(i) * scale + min;
    }
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
    checkWeightSpec(spec, label);
    const size = elementCount(spec.shape) * storedBytesPerElement(spec, label);
    if (offset + size > buffer.byteLength) {
      throw new Error(`${label}: weight '${spec.name}' [${spec.shape}] needs bytes ${offset}..${offset + size} but the shards hold ${buffer.byteLength}`);
    }
    out.set(spec.name, decodeWeight(spec, buffer.subarray(offset, offset + size), label));
    offset += size;
  }
  return out;
}

/** Checks one manifest entry's structure and shape limits (before any allocation from it). */
export function checkWeightSpec(spec: unknown, label: string): asserts spec is WeightSpec {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new Error(`${label}: weightsManifest entry ${JSON.stringify(spec)?.slice(0, 60)} is not an object`);
  const s = spec as Partial<WeightSpec>;
  if (typeof s.name !== 'string') throw new Error(`${label}: a weightsManifest entry has no name (got ${JSON.stringify(s.name)})`);
  if (typeof s.dtype !== 'string') throw new Error(`${label}: weight '${s.name}' has no dtype`);
  (s as WeightSpec).shape = checkShape(s.shape, `${label}: weight '${s.name}'`);
  if (s.quantization !== undefined && (typeof s.quantization !== 'object' || s.quantization === null)) {
    throw new Error(`${label}: weight '${s.name}' has a malformed quantization entry`);
  }
}

/** Bytes the weights of one manifest group occupy in its shards. */
export function groupByteLength(weights: WeightSpec[], label: string): number {
  let total = 0;
  for (const spec of weights) {
    checkWeightSpec(spec, label);
    total += elementCount(spec.shape) * storedBytesPerElement(spec, label);
  }
  return total;
}

/** Largest total of weight bytes one manifest group may claim (a Uint8Array must hold it). */
export const MAX_GROUP_BYTES = 2 ** 31 - 1;

/**
 * Reads the shard files of every manifest group from the model directory. Paths are checked to stay
 * inside `dir` and shard sizes are checked against the manifest before any file is read; only the
 * bytes the manifest describes are read (a shard with trailing bytes is accepted, as TF.js does).
 */
export function readWeightGroups(manifest: unknown, dir: string, label: string): { groups: WeightGroup[]; bytes: Uint8Array[] } {
  if (manifest === undefined || manifest === null) return { groups: [], bytes: [] };
  if (!Array.isArray(manifest)) throw new Error(`${label}: weightsManifest is not a list of weight groups`);
  manifest.forEach((g, gi) => {
    if (typeof g !== 'object' || g === null || !Array.isArray(g.paths) || !Array.isArray(g.weights)) {
      throw new Error(`${label}: weightsManifest[${gi}] must have 'paths' and 'weights' lists`);
    }
  });
  const groups = manifest as WeightGroup[];
  // Validate every path and size first: nothing is read from a manifest that is wrong anywhere.
  const plans = groups.map((g, gi) => {
    const need = groupByteLength(g.weights, label);
    if (need > MAX_GROUP_BYTES) throw new Error(`${label}: weightsManifest[${gi}] describes ${need} bytes of weights, over the limit of ${MAX_GROUP_BYTES}`);
    const files = g.paths.map((p) => {
      const file = resolveInsideDir(dir, p, label);
      const st = fs.statSync(file, { throwIfNoEntry: false });
      if (!st) throw new Error(`${label}: weight shard '${p}' not found next to model.json`);
      if (!st.isFile()) throw new Error(`${label}: weight shard '${p}' is not a regular file`);
      return { p, file, size: st.size };
    });
    const have = files.reduce((a, f) => a + f.size, 0);
    if (have < need) {
      throw new Error(
        `${label}: weight shards [${g.paths.join(', ')}] hold ${have} bytes but the manifest's weights need ${need} ` +
          `(${shortfallWeight(g.weights, have, label)}); a shard is missing or truncated`,
      );
    }
    return { files, need };
  });
  const bytes = plans.map(({ files, need }) => {
    const out = new Uint8Array(need);
    let o = 0;
    for (const f of files) {
      if (o >= need) break;
      const fd = fs.openSync(f.file, 'r');
      try {
        while (o < need) {
          const n = fs.readSync(fd, out, o, need - o, null);
          if (n === 0) break;
          o += n;
        }
      } finally {
        fs.closeSync(fd);
      }
    }
    if (o < need) throw new Error(`${label}: weight shards [${files.map((f) => f.p).join(', ')}] became shorter while being read`);
    return out;
  });
  return { groups, bytes };
}

/** Names the first weight that does not fit into `have` bytes (for the truncated-shard error). */
function shortfallWeight(weights: WeightSpec[], have: number, label: string): string {
  let offset = 0;
  for (const spec of weights) {
    const size = elementCount(spec.shape) * storedBytesPerElement(spec, label);
    if (offset + size > have) return `weight '${spec.name}' [${spec.shape}] needs bytes ${offset}..${offset + size}`;
    offset += size;
  }
  return 'all weights fit';
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
