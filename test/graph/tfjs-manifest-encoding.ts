// Test-side writers of TF.js graph-model variants: weight manifests re-encoded as float32, float16
// or uint8/uint16-affine (the tfjs-converter formats, written here independently of the importer's
// decoder), and model.json rewritten the way older converters wrote convolutions (Conv2D followed
// by a separate BiasAdd / AddV2 and activation node instead of one _FusedConv2D).
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

export interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; min?: number; scale?: number; original_dtype?: string };
}

export interface GraphModelFiles {
  json: {
    format?: string;
    modelTopology: { node: GraphNode[] } & Record<string, unknown>;
    weightsManifest: { paths: string[]; weights: ManifestEntry[] }[];
    [k: string]: unknown;
  };
  /** Every weight as tfjs-core's own decoder reads it (float32 / int32 values). */
  values: Map<string, Float32Array | Int32Array>;
}

export interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, { s?: string; i?: string; f?: number; b?: boolean; type?: string; list?: { s?: string[]; i?: string[] } }>;
  device?: string;
}

/** Reads model.json and decodes its weights with tf.io.decodeWeights (the reference decoder). */
export function readGraphModelFiles(dir: string): GraphModelFiles {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as GraphModelFiles['json'];
  const values = new Map<string, Float32Array | Int32Array>();
  for (const group of json.weightsManifest) {
    const buf = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(dir, p))));
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const decoded = tf.io.decodeWeights(ab, group.weights as tf.io.WeightsManifestEntry[]);
    for (const [name, t] of Object.entries(decoded)) {
      values.set(name, t.dataSync() as Float32Array | Int32Array);
      t.dispose();
    }
  }
  return { json, values };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> IEEE half bits, round to nearest even (subnormals, overflow to infinity, NaN). */
export function float32ToFloat16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Half subnormal m * 2^-24 with m = (1.mant) * 2^(exp-127) / 2^-24.
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    const kept = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (kept + (rest > mid || (rest === mid && (kept & 1)) ? 1 : 0));
  }
  const kept = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa moves into the exponent, which is the correctly rounded result.
  return sign | (kept + (rest > 0x1000 || (rest === 0x1000 && (kept & 1)) ? 1 : 0));
}

/** Half of the float16 spacing at |v| (the largest error of round-to-nearest float16 storage). */
export function float16HalfUlp(v: number): number {
  const a = Math.abs(v);
  if (a < 2 ** -14) return 2 ** -25; // subnormal spacing 2^-24
  return 2 ** (Math.floor(Math.log2(a)) - 11);
}

/**
 * uint8 / uint16 affine quantization as tfjs-converter writes it: scale = (max - min) / qmax over the
 * tensor, min nudged so that 0 is exactly representable when the range covers it, q = round((v - min)
 * / scale); decoded as q * scale + min.
 */
export function affineQuantize(values: Float32Array, bits: 8 | 16): { q: Uint8Array | Uint16Array; min: number; scale: number } {
  const qmax = 2 ** bits - 1;
  const q = bits === 8 ? new Uint8Array(values.length) : new Uint16Array(values.length);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (values.length === 0 || lo === hi) return { q, min: values.length ? lo : 0, scale: 1 };
  const scale = (hi - lo) / qmax;
  const min = lo <= 0 && hi >= 0 ? -Math.round(-lo / scale) * scale : lo;
  for (let i = 0; i < values.length; i++) q[i] = Math.min(qmax, Math.max(0, Math.round((values[i] - min) / scale)));
  return { q, min, scale };
}

export type WeightEncoding = 'float32' | 'float16' | 'uint8' | 'uint16';

/**
 * Writes `json` (its topology as given) with every float32 weight re-encoded from `values` in
 * `encoding` (int32 weights stay raw int32), into one shard. `shapes` overrides manifest shapes
 * (a bias stored as [1,1,1,C]). Returns the manifest written.
 */
export function writeGraphModel(dir: string, json: GraphModelFiles['json'], values: Map<string, Float32Array | Int32Array>, encoding: WeightEncoding, shapes = new Map<string, number[]>()): ManifestEntry[] {
  fs.mkdirSync(dir, { recursive: true });
  const entries: ManifestEntry[] = [];
  const chunks: Buffer[] = [];
  for (const spec of json.weightsManifest.flatMap((g) => g.weights)) {
    const v = values.get(spec.name);
    if (!v) throw new Error(`no decoded values for weight '${spec.name}'`);
    const shape = shapes.get(spec.name) ?? spec.shape;
    if (v instanceof Int32Array) {
      entries.push({ name: spec.name, shape, dtype: 'int32' });
      chunks.push(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
      continue;
    }
    if (encoding === 'float32') {
      entries.push({ name: spec.name, shape, dtype: 'float32' });
      chunks.push(Buffer.from(Float32Array.from(v).buffer));
    } else if (encoding === 'float16') {
      entries.push({ name: spec.name, shape, dtype: 'float32', quantization: { dtype: 'float16', original_dtype: 'float32' } });
      chunks.push(Buffer.from(Uint16Array.from(v, float32ToFloat16Bits).buffer));
    } else {
      const { q, min, scale } = affineQuantize(v, encoding === 'uint8' ? 8 : 16);
      entries.push({ name: spec.name, shape, dtype: 'float32', quantization: { dtype: encoding, min, scale, original_dtype: 'float32' } });
      chunks.push(Buffer.from(q.buffer, q.byteOffset, q.byteLength));
    }
  }
  const out = { ...json, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: entries }] };
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(out));
  fs.writeFileSync(path.join(dir, 'group1-shard1of1.bin'), Buffer.concat(chunks));
  return entries;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/** The conv attributes a plain Conv2D node has (what _FusedConv2D adds is dropped). */
const CONV2D_ATTRS = ['T', 'strides', 'padding', 'dilations', 'data_format', 'explicit_paddings', 'use_cudnn_on_gpu'];

/** The bias-add forms older converters and hand-written graphs use, cycled over the convs. */
export type BiasForm = 'BiasAdd' | 'AddV2(conv, b[C])' | 'AddV2(b[1,1,1,C], conv)' | 'AddV2(conv, b[1,1,1,C])';
export const BIAS_FORMS: readonly BiasForm[] = ['BiasAdd', 'AddV2(conv, b[C])', 'AddV2(b[1,1,1,C], conv)', 'AddV2(conv, b[1,1,1,C])'];

/**
 * Rewrites every _FusedConv2D [BiasAdd(, activation)] into Conv2D -> bias add -> activation nodes;
 * the last node keeps the fused node's name, so its readers are unchanged. Returns the new JSON,
 * the manifest shape changes ([1,1,1,C] biases) and how many convs got each form.
 */
export function unfuseConvolutions(json: GraphModelFiles['json']): { json: GraphModelFiles['json']; shapes: Map<string, number[]>; forms: Record<BiasForm, number> } {
  const nodes = json.modelTopology.node;
  const readers = new Map<string, number>();
  for (const n of nodes) for (const i of n.input ?? []) readers.set(i, (readers.get(i) ?? 0) + 1);
  const specs = new Map(json.weightsManifest.flatMap((g) => g.weights).map((w) => [w.name, w]));
  const shapes = new Map<string, number[]>();
  const forms = Object.fromEntries(BIAS_FORMS.map((f) => [f, 0])) as Record<BiasForm, number>;
  const out: GraphNode[] = [];
  let k = 0;
  for (const n of nodes) {
    if (n.op !== '_FusedConv2D') {
      out.push(n);
      continue;
    }
    const fused = (n.attr?.fused_ops?.list?.s ?? []).map(unb64);
    if (fused[0] !== 'BiasAdd' || fused.length > 2) throw new Error(`${n.name}: fused_ops [${fused}] is not BiasAdd(+activation)`);
    const [x, filter, bias] = n.input!;
    const activation = fused[1];
    const convName = `${n.name}/unfused_conv`;
    const addName = activation ? `${n.name}/unfused_bias` : n.name;
    const T = n.attr!.T;
    out.push({ name: convName, op: 'Conv2D', input: [x, filter], attr: Object.fromEntries(CONV2D_ATTRS.filter((a) => n.attr![a]).map((a) => [a, n.attr![a]])) });
    // A [1,1,1,C] bias changes the weight's manifest shape: only for a bias no other node reads.
    const spec = specs.get(bias);
    const canReshape = spec !== undefined && spec.shape.length === 1 && readers.get(bias) === 1;
    let form = BIAS_FORMS[k++ % BIAS_FORMS.length];
    if (!canReshape && form.includes('1,1,1')) form = 'AddV2(conv, b[C])';
    forms[form]++;
    if (form === 'BiasAdd') out.push({ name: addName, op: 'BiasAdd', input: [convName, bias], attr: { T: T!, data_format: { s: b64('NHWC') } } });
    else {
      if (form.includes('1,1,1')) shapes.set(bias, [1, 1, 1, spec!.shape[0]]);
      const inputs = form.startsWith('AddV2(b') ? [bias, convName] : [convName, bias];
      out.push({ name: addName, op: 'AddV2', input: inputs, attr: { T: T! } });
    }
    if (activation) {
      const attr: GraphNode['attr'] = { T: T! };
      if (activation === 'LeakyRelu') attr.alpha = { f: n.attr!.leakyrelu_alpha?.f ?? 0.2 };
      out.push({ name: n.name, op: activation, input: [addName], attr });
    }
  }
  return { json: { ...json, modelTopology: { ...json.modelTopology, node: out } }, shapes, forms };
}
