// Importer for TF.js graph models (`format: "graph-model"`): model.json + weight shards read with fs
// (tfjs in Node has no file:// handler), or an already loaded tf.GraphModel (its artifacts).
import fs from 'node:fs';
import path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import type { AttrValue, Graph } from '../../ir/graph.js';
import { GraphBuilder, unsupportedOpsError } from '../builder.js';
import { concatBytes, decodeWeightGroup, readWeightGroups, type WeightGroup, type WeightSpec } from './tfjs-weights.js';
import { checkShape } from '../../util/validate.js';
import { normalizeStridedSlice } from '../../ops/defs/strided-slice.js';
import { resolveReshape } from '../../ops/defs/reshape.js';
import { normalizeAxis } from '../../ops/util.js';
import { chooseCut, isPostprocessOp, type CutCandidate } from './cut.js';

export interface TfjsGraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttr>;
}

interface TfAttr {
  i?: string | number; f?: number; b?: boolean; s?: string; type?: string;
  list?: { i?: (string | number)[]; f?: number[]; s?: string[]; type?: string[] };
  shape?: { dim?: { size: string | number }[]; unknownRank?: boolean };
  tensor?: unknown;
}

export interface ImportOptions {
  /** Tensors or node names to cut the graph at (post-processing is never quantized). */
  outputs?: string[];
  /** Static shapes for graph inputs whose shape has unknown dimensions (batch -1 defaults to 1). */
  inputShapes?: Record<string, number[]>;
  /** Label used in error messages (a path by default). */
  label?: string;
}

export interface TfjsGraphModelJson {
  format?: string;
  modelTopology: { node: TfjsGraphNode[] } & Record<string, unknown>;
  signature?: { inputs?: Record<string, { name: string }>; outputs?: Record<string, { name: string }> };
  weightsManifest?: WeightGroup[];
}

/** Node name of a TF tensor reference ("node", "node:1", "^node"). */
function nodeOf(ref: string): string {
  return ref.replace(/^\^/, '').replace(/:\d+$/, '');
}

/** The IR tensor name of a TF tensor reference: output 0 is the node name, output k is "node:k". */
function tensorRef(ref: string): string {
  return ref.endsWith(':0') ? ref.slice(0, -2) : ref;
}

function decodeS(s: string | undefined): string {
  return s === undefined ? '' : Buffer.from(s, 'base64').toString('utf8');
}

function attrInts(a: TfAttr | undefined): number[] {
  return (a?.list?.i ?? []).map(Number);
}

/** TF ops this importer converts, with how. */
const CONVERTERS: Record<string, (c: NodeCtx) => void> = {};

class NodeCtx {
  constructor(readonly b: GraphBuilder, readonly node: TfjsGraphNode, readonly label: string) {}
  get name(): string { return this.node.name; }
  get dataInputs(): string[] { return (this.node.input ?? []).filter((i) => !i.startsWith('^')).map(tensorRef); }
  in(i: number): string {
    const r = this.dataInputs[i];
    if (r === undefined) throw this.error(`expects input ${i}`);
    return r;
  }
  error(msg: string): Error { return new Error(`${this.label}: node '${this.name}' (${this.node.op}): ${msg}`); }
  constValues(i: number): number[] {
    const t = this.b.tensor(this.in(i));
    if (!t.data) throw this.error(`input ${i} ('${t.name}') must be a constant`);
    return Array.from(t.data as ArrayLike<number>);
  }
  attr(key: string): TfAttr | undefined { return this.node.attr?.[key]; }
  int(key: string, fallback: number): number { const a = this.attr(key); return a?.i !== undefined ? Number(a.i) : fallback; }
  float(key: string, fallback: number): number { return this.attr(key)?.f ?? fallback; }
  bool(key: string): boolean { return this.attr(key)?.b ?? false; }
  str(key: string): string { return decodeS(this.attr(key)?.s); }
  checkNhwc(): void {
    const f = this.str('data_format');
    if (f && f !== 'NHWC') throw this.error(`data_format ${f} is not supported (NHWC expected)`);
  }
  padding(): 'SAME' | 'VALID' {
    const p = this.str('padding');
    if (p !== 'SAME' && p !== 'VALID') throw this.error(`padding '${p}' is not supported (SAME or VALID expected)`);
    return p;
  }
  spatial(key: string): [number, number] {
    const v = attrInts(this.attr(key));
    if (v.length === 0) return [1, 1];
    if (v.length !== 4 || v[0] !== 1 || v[3] !== 1) throw this.error(`${key} [${v}] must be [1, h, w, 1]`);
    return [v[1], v[2]];
  }
  emit(op: string, inputs: string[], attrs: Record<string, AttrValue>, outputs?: string[]): string[] {
    return this.b.emit(outputs?.[0] === this.name || !outputs ? this.name : outputs[0], op, inputs, attrs, outputs);
  }
  /** A constant invented by the importer. */
  constant(suffix: string, shape: number[], data: Float32Array): string {
    return this.b.addConstant(this.b.uniqueName(`${this.name}/${suffix}`), shape, 'float32', data);
  }
}

function convOrDepthwise(depthwise: boolean) {
  return (c: NodeCtx) => {
    c.checkNhwc();
    const fused = (c.attr('fused_ops')?.list?.s ?? []).map(decodeS);
    const attrs = { strides: c.spatial('strides'), dilations: c.spatial('dilations'), padding: c.padding(), activation: 'none' };
    const op = depthwise ? 'DepthwiseConv2D' : 'Conv2D';
    const x = c.in(0), filter = c.in(1);
    if (fused.length === 0) {
      c.emit(op, [x, filter], attrs);
      return;
    }
    let rest = fused;
    let y: string;
    const last = rest.length === 1;
    if (rest[0] === 'BiasAdd') {
      rest = rest.slice(1);
      if (rest.length === 1 && (rest[0] === 'Relu' || rest[0] === 'Relu6')) {
        c.emit(op, [x, filter, c.in(2)], { ...attrs, activation: rest[0].toLowerCase() });
        return;
      }
      y = c.b.emit(last ? c.name : `${c.name}/conv`, op, [x, filter, c.in(2)], attrs, [last ? c.name : `${c.name}/conv`])[0];
    } else if (rest[0] === 'FusedBatchNorm') {
      rest = rest.slice(1);
      const conv = c.b.emit(`${c.name}/conv`, op, [x, filter], attrs, [`${c.name}/conv`])[0];
      const out = rest.length === 0 ? c.name : `${c.name}/bn`;
      y = c.b.emit(out, 'BatchNorm', [conv, c.in(2), c.in(3), c.in(4), c.in(5)], { epsilon: c.float('epsilon', 1e-3) }, [out])[0];
    } else {
      throw c.error(`fused_ops [${fused}] are not supported`);
    }
    if (rest.length === 0) return;
    if (rest.length > 1) throw c.error(`fused_ops [${fused}] are not supported`);
    const act = { Relu: 'Relu', Relu6: 'Relu6', LeakyRelu: 'LeakyRelu', Sigmoid: 'Sigmoid', Tanh: 'Tanh' }[rest[0]];
    if (!act) throw c.error(`fused activation ${rest[0]} is not supported`);
    c.b.emit(c.name, act, [y], act === 'LeakyRelu' ? { alpha: c.float('leakyrelu_alpha', 0.2) } : {}, [c.name]);
  };
}

CONVERTERS.Conv2D = convOrDepthwise(false);
CONVERTERS._FusedConv2D = convOrDepthwise(false);
CONVERTERS.DepthwiseConv2dNative = convOrDepthwise(true);
CONVERTERS.FusedDepthwiseConv2dNative = convOrDepthwise(true);

function matMul(c: NodeCtx) {
  if (c.bool('transpose_a')) throw c.error('transpose_a is not supported');
  const wName = c.in(1);
  const w = c.b.tensor(wName);
  if (!w.data || w.shape.length !== 2) throw c.error('the second operand must be a constant matrix');
  let weights = wName;
  if (c.bool('transpose_b')) {
    const [o, i] = w.shape;
    const src = w.data as Float32Array;
    const t = new Float32Array(o * i);
    for (let r = 0; r < o; r++) for (let k = 0; k < i; k++) t[k * o + r] = src[r * i + k];
    weights = c.constant('weights_io', [i, o], t);
  }
  const fused = (c.attr('fused_ops')?.list?.s ?? []).map(decodeS);
  const inputs = [c.in(0), weights];
  let activation = 'none';
  for (const f of fused) {
    if (f === 'BiasAdd') inputs.push(c.in(2));
    else if (f === 'Relu' || f === 'Relu6') activation = f.toLowerCase();
    else throw c.error(`fused op ${f} is not supported`);
  }
  c.emit('FullyConnected', inputs, { activation });
}
CONVERTERS.MatMul = matMul;
CONVERTERS._FusedMatMul = matMul;

const binary = (op: string) => (c: NodeCtx) => c.emit(op, [c.in(0), c.in(1)], { activation: 'none' });
CONVERTERS.Add = binary('Add');
CONVERTERS.AddV2 = binary('Add');
CONVERTERS.BiasAdd = (c) => { c.checkNhwc(); binary('Add')(c); };
CONVERTERS.Sub = binary('Sub');
CONVERTERS.Mul = binary('Mul');
CONVERTERS.RealDiv = (c) => {
  const d = c.b.tensor(c.in(1));
  if (!d.data) throw c.error('division is only supported by a constant');
  const recip = Float32Array.from(d.data as ArrayLike<number>, (v) => 1 / v);
  c.emit('Mul', [c.in(0), c.constant('reciprocal', [...d.shape], recip)], { activation: 'none' });
};

const unary = (op: string) => (c: NodeCtx) => c.emit(op, [c.in(0)], {});
for (const op of ['Square', 'Sigmoid', 'Relu', 'Relu6', 'Tanh']) CONVERTERS[op] = unary(op);
for (const op of ['Identity', 'StopGradient', 'Snapshot']) CONVERTERS[op] = unary('Identity');
CONVERTERS.LeakyRelu = (c) => c.emit('LeakyRelu', [c.in(0)], { alpha: c.float('alpha', 0.2) });
CONVERTERS.Softmax = (c) => c.emit('Softmax', [c.in(0)], { axis: -1, beta: 1 });

CONVERTERS.ConcatV2 = (c) => {
  const ins = c.dataInputs;
  const axis = c.constValues(ins.length - 1)[0];
  const data = ins.slice(0, -1);
  c.emit('Concat', data, { axis: normalizeAxis(axis, c.b.tensor(data[0]).shape.length), activation: 'none' });
};
CONVERTERS.Reshape = (c) => c.emit('Reshape', [c.in(0)], { shape: resolveReshape(c.b.tensor(c.in(0)).shape, c.constValues(1)) });
CONVERTERS.Transpose = (c) => c.emit('Transpose', [c.in(0)], { perm: c.constValues(1) });
CONVERTERS.StridedSlice = (c) => {
  const s = normalizeStridedSlice(c.b.tensor(c.in(0)).shape, c.constValues(1), c.constValues(2), c.constValues(3), {
    beginMask: c.int('begin_mask', 0), endMask: c.int('end_mask', 0), ellipsisMask: c.int('ellipsis_mask', 0),
    newAxisMask: c.int('new_axis_mask', 0), shrinkAxisMask: c.int('shrink_axis_mask', 0),
  });
  c.emit('StridedSlice', [c.in(0)], { ...s });
};
CONVERTERS.Slice = (c) => {
  const shape = c.b.tensor(c.in(0)).shape;
  const begin = c.constValues(1);
  const size = c.constValues(2).map((s, i) => (s === -1 ? shape[i] - begin[i] : s));
  c.emit('Slice', [c.in(0)], { begin, size });
};
function splitOutputs(c: NodeCtx, n: number): string[] {
  return Array.from({ length: n }, (_, k) => (k === 0 ? c.name : `${c.name}:${k}`));
}
CONVERTERS.Split = (c) => {
  const x = c.in(1);
  const shape = c.b.tensor(x).shape;
  const axis = normalizeAxis(c.constValues(0)[0], shape.length);
  const n = c.int('num_split', 1);
  if (shape[axis] % n !== 0) throw c.error(`dimension ${shape[axis]} does not split into ${n}`);
  c.emit('Split', [x], { axis, sizes: Array(n).fill(shape[axis] / n) }, splitOutputs(c, n));
};
CONVERTERS.SplitV = (c) => {
  const x = c.in(0);
  const shape = c.b.tensor(x).shape;
  const axis = normalizeAxis(c.constValues(2)[0], shape.length);
  const sizes = c.constValues(1);
  const known = sizes.filter((s) => s !== -1).reduce((a, b) => a + b, 0);
  const resolved = sizes.map((s) => (s === -1 ? shape[axis] - known : s));
  c.emit('Split', [x], { axis, sizes: resolved }, splitOutputs(c, resolved.length));
};
CONVERTERS.Pack = (c) => c.emit('Pack', c.dataInputs, { axis: c.int('axis', 0) });
CONVERTERS.Unpack = (c) => {
  const shape = c.b.tensor(c.in(0)).shape;
  const axis = normalizeAxis(c.int('axis', 0), shape.length);
  c.emit('Unpack', [c.in(0)], { axis }, splitOutputs(c, shape[axis]));
};
const pad = (c: NodeCtx) => {
  const constantValue = c.dataInputs.length > 2 ? c.constValues(2)[0] : 0;
  c.emit('Pad', [c.in(0)], { paddings: c.constValues(1), constantValue });
};
CONVERTERS.Pad = pad;
CONVERTERS.PadV2 = pad;
const pool = (op: string) => (c: NodeCtx) => {
  c.checkNhwc();
  c.emit(op, [c.in(0)], { filter: c.spatial('ksize'), strides: c.spatial('strides'), padding: c.padding(), activation: 'none' });
};
CONVERTERS.MaxPool = pool('MaxPool');
CONVERTERS.AvgPool = pool('AvgPool');
CONVERTERS.Mean = (c) => {
  const rank = c.b.tensor(c.in(0)).shape.length;
  const axes = [...new Set(c.constValues(1).map((a) => normalizeAxis(a, rank)))].sort();
  c.emit('Mean', [c.in(0)], { axes, keepDims: c.bool('keep_dims') });
};
const resize = (op: string) => (c: NodeCtx) =>
  c.emit(op, [c.in(0)], { size: c.constValues(1), alignCorners: c.bool('align_corners'), halfPixelCenters: c.bool('half_pixel_centers') });
CONVERTERS.ResizeNearestNeighbor = resize('ResizeNearest');
CONVERTERS.ResizeBilinear = resize('ResizeBilinear');
const batchNorm = (c: NodeCtx) => {
  c.checkNhwc();
  if (c.bool('is_training')) throw c.error('is_training=true is not supported (inference graphs only)');
  c.emit('BatchNorm', [c.in(0), c.in(1), c.in(2), c.in(3), c.in(4)], { epsilon: c.float('epsilon', 1e-3) });
};
CONVERTERS.FusedBatchNorm = batchNorm;
CONVERTERS.FusedBatchNormV2 = batchNorm;
CONVERTERS.FusedBatchNormV3 = batchNorm;
CONVERTERS.Squeeze = (c) => {
  const shape = c.b.tensor(c.in(0)).shape;
  let axes = attrInts(c.attr('squeeze_dims')).map((a) => normalizeAxis(a, shape.length));
  if (axes.length === 0) axes = shape.flatMap((d, i) => (d === 1 ? [i] : []));
  c.emit('Squeeze', [c.in(0)], { axes });
};
CONVERTERS.ExpandDims = (c) => c.emit('ExpandDims', [c.in(0)], { axis: c.constValues(1)[0] });
// Shapes are static, so Shape folds to a constant.
CONVERTERS.Shape = (c) => {
  const shape = c.b.tensor(c.in(0)).shape;
  c.b.addConstant(c.name, [shape.length], 'int32', Int32Array.from(shape));
};

/** TF ops the graph-model importer understands (besides Const / Placeholder / NoOp). */
export const TFJS_GRAPH_OPS: readonly string[] = Object.keys(CONVERTERS);

function topoSort(nodes: Map<string, TfjsGraphNode>, wanted: Set<string>, label: string): TfjsGraphNode[] {
  const order: TfjsGraphNode[] = [];
  const state = new Map<string, 1 | 2>();
  for (const start of wanted) {
    if (state.has(start)) continue;
    // Iterative DFS (graphs are deep enough to overflow recursion).
    const stack: [string, number][] = [[start, 0]];
    state.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const node = nodes.get(top[0]);
      if (!node) throw new Error(`${label}: node '${top[0]}' is referenced but not defined`);
      const ins = node.input ?? [];
      if (top[1] < ins.length) {
        const dep = nodeOf(ins[top[1]++]);
        // Loop back edges (NextIteration -> Merge) do not constrain the order.
        if (node.op === 'Merge' && nodes.get(dep)?.op === 'NextIteration') continue;
        if (!state.has(dep)) {
          state.set(dep, 1);
          stack.push([dep, 0]);
        } else if (state.get(dep) === 1) {
          throw new Error(`${label}: cycle through node '${dep}'`);
        }
      } else {
        state.set(top[0], 2);
        order.push(node);
        stack.pop();
      }
    }
  }
  return order;
}

function ancestors(nodes: Map<string, TfjsGraphNode>, roots: string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const i of nodes.get(n)?.input ?? []) stack.push(nodeOf(i));
  }
  return seen;
}

function placeholderShape(node: TfjsGraphNode, opts: ImportOptions, label: string): number[] {
  const given = opts.inputShapes?.[node.name];
  if (given) return checkShape(given, `${label}: opts.inputShapes['${node.name}']`);
  const dims = node.attr?.shape?.shape?.dim;
  if (!dims) throw new Error(`${label}: input '${node.name}' has no static shape; pass opts.inputShapes['${node.name}']`);
  const shape = dims.map((d) => Number(d.size ?? 0));
  if (shape.length > 0 && shape[0] === -1) shape[0] = 1;
  if (shape.some((d) => d === -1)) {
    throw new Error(`${label}: input '${node.name}' has shape [${shape}] with unknown dimensions; pass opts.inputShapes['${node.name}']`);
  }
  return checkShape(shape, `${label}: input '${node.name}'`);
}

/** Converts the nodes (topologically ordered). `tolerant` skips what cannot be converted (cut search). */
function convertNodes(order: TfjsGraphNode[], weights: Map<string, import('../../ir/graph.js').IrTensor>, opts: ImportOptions, label: string, tolerant: boolean): GraphBuilder {
  const b = new GraphBuilder(label);
  for (const node of order) {
    if (node.op === 'Placeholder') {
      const dtype = node.attr?.dtype?.type;
      if (dtype && dtype !== 'DT_FLOAT') throw new Error(`${label}: input '${node.name}' has dtype ${dtype}; only float32 inputs are supported`);
      b.addInput(node.name, placeholderShape(node, opts, label));
      continue;
    }
    if (node.op === 'Const') {
      const w = weights.get(node.name);
      if (!w) throw new Error(`${label}: constant '${node.name}' has no entry in the weights manifest`);
      b.addConstant(node.name, w.shape, w.dtype, w.data!);
      continue;
    }
    if (node.op === 'NoOp') continue;
    const conv = CONVERTERS[node.op];
    if (tolerant) {
      if (!conv) continue;
      const ins = (node.input ?? []).filter((i) => !i.startsWith('^')).map(tensorRef);
      if (ins.some((i) => !b.tensors.has(i))) continue;
      try {
        conv(new NodeCtx(b, node, label));
      } catch {
        continue;
      }
    } else {
      conv(new NodeCtx(b, node, label));
    }
  }
  return b;
}

function findCut(nodes: Map<string, TfjsGraphNode>, outputs: string[], weights: Map<string, import('../../ir/graph.js').IrTensor>, opts: ImportOptions, label: string): (CutCandidate & { why: string }) | undefined {
  const anc = ancestors(nodes, outputs.map(nodeOf));
  const post = [...anc].filter((n) => isPostprocessOp(nodes.get(n)!.op));
  if (post.length === 0) return undefined;
  const order = topoSort(nodes, anc, label);
  const b = convertNodes(order, weights, opts, label, true);
  // Consumers over the whole source graph, to test which tensors reach which post-processing nodes.
  const consumers = new Map<string, string[]>();
  for (const n of order) for (const i of n.input ?? []) {
    const k = nodeOf(i);
    if (!consumers.has(k)) consumers.set(k, []);
    consumers.get(k)!.push(n.name);
  }
  const descendantsOf = (start: string): Set<string> => {
    const seen = new Set<string>();
    const stack = [start];
    while (stack.length) {
      const n = stack.pop()!;
      for (const c of consumers.get(n) ?? []) if (!seen.has(c)) { seen.add(c); stack.push(c); }
    }
    return seen;
  };
  const fromInputs = new Set<string>();
  for (const i of b.inputs) for (const d of descendantsOf(i)) fromInputs.add(d);
  const targets = post.filter((p) => fromInputs.has(p));
  const candidates: CutCandidate[] = [];
  order.forEach((n, index) => {
    const t = b.tensors.get(n.name);
    if (!t || t.data || !b.nodes.some((x) => x.outputs.includes(n.name))) return;
    candidates.push({ tensor: n.name, shape: t.shape, order: index, reaches: descendantsOf(n.name) });
  });
  return chooseCut(candidates, targets, label, post.map((p) => nodes.get(p)!.op));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Structural check of a graph-model JSON (files come from the internet): every node is an object
 * with a string name and op, string inputs and object attrs, names are unique, and the signature
 * names strings. Shapes are checked where they are used (placeholders, weights).
 */
export function checkGraphModelJson(json: unknown, label: string): asserts json is TfjsGraphModelJson {
  if (!isObject(json)) throw new Error(`${label}: model.json is not a JSON object`);
  if (json.format !== undefined && json.format !== 'graph-model') throw new Error(`${label}: format '${String(json.format)}' is not a graph model`);
  const topo = json.modelTopology;
  if (!isObject(topo) || !Array.isArray(topo.node)) throw new Error(`${label}: modelTopology.node is missing (not a TF.js graph model?)`);
  const seen = new Set<string>();
  topo.node.forEach((n: unknown, i: number) => {
    if (!isObject(n)) throw new Error(`${label}: modelTopology.node[${i}] is not an object`);
    if (typeof n.name !== 'string' || n.name === '') throw new Error(`${label}: modelTopology.node[${i}] has no name`);
    if (typeof n.op !== 'string') throw new Error(`${label}: node '${n.name}' has no op`);
    if (seen.has(n.name)) throw new Error(`${label}: node name '${n.name}' is used twice`);
    seen.add(n.name);
    if (n.input !== undefined && (!Array.isArray(n.input) || n.input.some((x) => typeof x !== 'string'))) {
      throw new Error(`${label}: node '${n.name}': 'input' must be a list of tensor names`);
    }
    if (n.attr !== undefined) {
      if (!isObject(n.attr)) throw new Error(`${label}: node '${n.name}': 'attr' must be an object`);
      for (const [k, a] of Object.entries(n.attr)) {
        if (!isObject(a)) throw new Error(`${label}: node '${n.name}': attr '${k}' must be an object`);
        if (a.list !== undefined) {
          if (!isObject(a.list)) throw new Error(`${label}: node '${n.name}': attr '${k}'.list must be an object`);
          for (const [lk, lv] of Object.entries(a.list)) {
            if (!Array.isArray(lv)) throw new Error(`${label}: node '${n.name}': attr '${k}'.list.${lk} must be a list`);
            const itemOk = lk === 'i' ? (x: unknown) => typeof x === 'string' || typeof x === 'number'
              : lk === 'f' ? (x: unknown) => typeof x === 'number'
              : lk === 's' || lk === 'type' ? (x: unknown) => typeof x === 'string' : () => true;
            if (!lv.every(itemOk)) throw new Error(`${label}: node '${n.name}': attr '${k}'.list.${lk} has an element of the wrong type`);
          }
        }
        if (a.shape !== undefined && (!isObject(a.shape) || (a.shape.dim !== undefined && (!Array.isArray(a.shape.dim) || a.shape.dim.some((d) => !isObject(d)))))) {
          throw new Error(`${label}: node '${n.name}': attr '${k}'.shape is malformed`);
        }
        for (const key of ['s', 'type'] as const) {
          if (a[key] !== undefined && typeof a[key] !== 'string') throw new Error(`${label}: node '${n.name}': attr '${k}'.${key} must be a string`);
        }
        if (a.i !== undefined && typeof a.i !== 'string' && typeof a.i !== 'number') throw new Error(`${label}: node '${n.name}': attr '${k}'.i must be an integer`);
        if (a.f !== undefined && typeof a.f !== 'number') throw new Error(`${label}: node '${n.name}': attr '${k}'.f must be a number`);
      }
    }
  });
  for (const n of topo.node as TfjsGraphNode[]) {
    for (const ref of n.input ?? []) {
      if (!seen.has(nodeOf(ref))) throw new Error(`${label}: node '${n.name}' reads '${ref}', which is not a node of the graph`);
    }
  }
  if (json.signature !== undefined) {
    if (!isObject(json.signature)) throw new Error(`${label}: signature must be an object`);
    for (const side of ['inputs', 'outputs'] as const) {
      const entries = json.signature[side];
      if (entries === undefined) continue;
      if (!isObject(entries)) throw new Error(`${label}: signature.${side} must be an object`);
      for (const [k, v] of Object.entries(entries)) {
        if (!isObject(v) || typeof v.name !== 'string') throw new Error(`${label}: signature.${side}['${k}'] has no tensor name`);
        if (!seen.has(nodeOf(v.name))) throw new Error(`${label}: signature.${side}['${k}'] names '${v.name}', which is not a node of the graph`);
      }
    }
  }
}

/** Converts a parsed graph-model JSON plus decoded weights into the IR. */
export function graphFromTfjsJson(json: TfjsGraphModelJson, weights: Map<string, import('../../ir/graph.js').IrTensor>, opts: ImportOptions = {}, label = 'model.json'): Graph {
  checkGraphModelJson(json, label);
  try {
    return convertGraphModel(json, weights, opts, label);
  } catch (e) {
    // Every specific check names the file; anything else a malformed file trips over gets it too.
    if (e instanceof Error && !e.message.startsWith(label) && !e.message.startsWith('Unsupported ops in')) {
      throw new Error(`${label}: invalid graph model (${e.message})`);
    }
    throw e;
  }
}

function convertGraphModel(json: TfjsGraphModelJson, weights: Map<string, import('../../ir/graph.js').IrTensor>, opts: ImportOptions, label: string): Graph {
  const topo = json.modelTopology;
  if ((topo as { library?: { function?: unknown[] } }).library?.function?.length) {
    // Functions (If/While bodies) are only ever part of post-processing in supported graphs.
  }
  const nodes = new Map<string, TfjsGraphNode>();
  for (const n of topo.node) nodes.set(n.name, n);
  const notes: string[] = [];
  let outputs: string[];
  let cutAt: string[] | undefined;
  if (opts.outputs && opts.outputs.length) {
    outputs = opts.outputs.map(tensorRef);
    for (const o of outputs) if (!nodes.has(nodeOf(o))) throw new Error(`${label}: opts.outputs names '${o}', which is not a node of the graph`);
    cutAt = outputs;
    notes.push(`cut at the requested outputs: ${outputs.join(', ')}`);
  } else {
    const sigOutputs = Object.values(json.signature?.outputs ?? {}).map((o) => tensorRef(o.name));
    if (sigOutputs.length) outputs = sigOutputs;
    else {
      const used = new Set<string>();
      for (const n of nodes.values()) for (const i of n.input ?? []) used.add(nodeOf(i));
      outputs = [...nodes.values()].filter((n) => !used.has(n.name) && n.op !== 'Const' && n.op !== 'NoOp').map((n) => n.name);
    }
    const cut = findCut(nodes, outputs, weights, opts, label);
    if (cut) {
      outputs = [cut.tensor];
      cutAt = outputs;
      notes.push(`cut before post-processing at '${cut.tensor}' [${cut.shape}] (${cut.why})`);
    }
  }
  const needed = ancestors(nodes, outputs.map(nodeOf));
  const unsupported = new Map<string, string[]>();
  for (const n of [...nodes.keys()].filter((k) => needed.has(k))) {
    const node = nodes.get(n);
    if (!node) throw new Error(`${label}: node '${n}' is referenced but not defined`);
    if (['Const', 'Placeholder', 'NoOp'].includes(node.op) || CONVERTERS[node.op]) continue;
    if (!unsupported.has(node.op)) unsupported.set(node.op, []);
    unsupported.get(node.op)!.push(node.name);
  }
  if (unsupported.size) throw unsupportedOpsError(label, unsupported);
  const b = convertNodes(topoSort(nodes, needed, label), weights, opts, label, false);
  return b.build(outputs, { source: label, format: 'tfjs-graph-model', cutAt, notes });
}

/** Decodes every group of a weights manifest given the bytes of each group (shards concatenated). */
export function decodeManifest(manifest: WeightGroup[], groupBytes: Uint8Array[], label: string) {
  const all = new Map<string, import('../../ir/graph.js').IrTensor>();
  manifest.forEach((g, i) => {
    for (const [k, v] of decodeWeightGroup(g.weights, groupBytes[i], label)) all.set(k, v);
  });
  return all;
}

function readModelJsonPath(source: string): string {
  const st = fs.statSync(source, { throwIfNoEntry: false });
  if (!st) throw new Error(`${source}: no such file or directory`);
  return st.isDirectory() ? path.join(source, 'model.json') : source;
}

/** Imports a TF.js graph model from a directory, a model.json path, or a loaded tf.GraphModel. */
export async function importTfjsGraphModel(source: string | tfTypes.GraphModel, opts: ImportOptions = {}): Promise<Graph> {
  if (typeof source === 'string') {
    const jsonPath = readModelJsonPath(source);
    const label = opts.label ?? jsonPath;
    let json: TfjsGraphModelJson;
    try {
      json = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
    } catch (e) {
      throw new Error(`${label}: cannot read model.json (${(e as Error).message})`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${label}: model.json is not a JSON object`);
    checkGraphModelJson(json, label);
    const { groups, bytes } = readWeightGroups(json.weightsManifest, path.dirname(jsonPath), label);
    return graphFromTfjsJson(json, decodeManifest(groups, bytes, label), opts, label);
  }
  // A loaded tf.GraphModel keeps its io.ModelArtifacts (a non-public field in tfjs 4.x).
  const artifacts = (source as unknown as { artifacts?: tfTypes.io.ModelArtifacts }).artifacts;
  const label = opts.label ?? 'tf.GraphModel';
  if (!artifacts?.modelTopology) throw new Error(`${label}: the GraphModel exposes no artifacts (not loaded, or an unsupported tfjs version)`);
  const specs = (artifacts.weightSpecs ?? []) as WeightSpec[];
  const wd = artifacts.weightData;
  const bytes = wd === undefined ? new Uint8Array(0)
    : Array.isArray(wd) ? concatBytes(wd.map((b) => new Uint8Array(b))) : new Uint8Array(wd as ArrayBuffer);
  const json: TfjsGraphModelJson = {
    format: 'graph-model',
    modelTopology: artifacts.modelTopology as TfjsGraphModelJson['modelTopology'],
    signature: artifacts.signature as TfjsGraphModelJson['signature'],
  };
  return graphFromTfjsJson(json, decodeWeightGroup(specs, bytes, label), opts, label);
}
