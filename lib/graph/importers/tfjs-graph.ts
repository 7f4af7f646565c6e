// Importer for TF.js graph models (`format: "graph-model"`): model.json + weight shards read with fs
// (tfjs in Node has no file:// handler), or an already loaded tf.GraphModel (its artifacts).
import fs from 'node:fs';
import path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import type { AttrValue, Graph, IrTensor } from '../../ir/graph.js';
import type { AttrSource, Attrs, AttrType, ImportContext } from '../../ops/types.js';
import { importEntry, importableOps } from '../../ops/registry.js';
import { attrValue, runImportEntry, type FormatHooks } from './rules.js';
import { GraphBuilder, unsupportedOpsError } from '../builder.js';
import { concatBytes, decodeWeightGroup, readWeightGroups, type WeightGroup, type WeightSpec } from './tfjs-weights.js';
import { checkShape } from '../../util/validate.js';
import { resolveInputShape, type InputShapeOptions } from './input-shape.js';
import { findPostprocessCut, findPreprocessCut, type CutNode, type CutView } from './cut.js';
import { READ_LIMITS, readRegularTextFile } from '../../util/read-file.js';

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

export interface ImportOptions extends InputShapeOptions {
  /** Tensors or node names to cut the graph at (post-processing is never quantized). */
  outputs?: string[];
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

/** Reads one TF node attribute as an op file's rule asks (lib/ops/types.ts AttrType). */
function readTfAttr(node: TfjsGraphNode, key: string, type: AttrType, fallback: AttrValue | undefined, fail: (msg: string) => Error): AttrValue {
  const a = node.attr?.[key];
  switch (type) {
    case 'number':
      if (a?.i !== undefined) return Number(a.i);
      if (a?.f !== undefined) return a.f;
      if (fallback !== undefined) return fallback;
      throw fail(`attribute '${key}' is missing`);
    case 'bool':
      return a?.b ?? fallback ?? false;
    case 'string':
      // Type-valued attributes (Cast's DstT) are stored as `type`, read as their name ('DT_FLOAT').
      return a?.s !== undefined ? decodeS(a.s) : a?.type ?? fallback ?? '';
    case 'strings':
      return (a?.list?.s ?? []).map(decodeS);
    case 'numbers':
      return a?.list?.i ? attrInts(a) : a?.list?.f ? [...a.list.f] : fallback ?? [];
    case 'spatial': {
      const v = attrInts(a);
      if (v.length === 0) return [1, 1];
      if (v.length !== 4 || v[0] !== 1 || v[3] !== 1) throw fail(`${key} [${v}] must be [1, h, w, 1]`);
      return [v[1], v[2]];
    }
    case 'padding': {
      const p = decodeS(a?.s);
      if (p !== 'SAME' && p !== 'VALID') throw fail(`padding '${p}' is not supported (SAME or VALID expected)`);
      return p;
    }
    default:
      throw fail(`attribute type '${type}' does not apply to TF.js graph models`);
  }
}

/** The ImportContext of one TF.js graph node (lib/ops/types.ts). */
class NodeCtx implements ImportContext {
  constructor(readonly b: GraphBuilder, readonly node: TfjsGraphNode, readonly label: string) {}
  get name(): string { return this.node.name; }
  private get dataInputs(): string[] { return (this.node.input ?? []).filter((i) => !i.startsWith('^')).map(tensorRef); }
  get inputCount(): number { return this.dataInputs.length; }
  input(i: number): string {
    const r = this.dataInputs[i];
    if (r === undefined) throw this.error(`expects input ${i}`);
    return r;
  }
  hasInput(i: number): boolean { return i < this.dataInputs.length; }
  output(k: number): string { return k === 0 ? this.name : `${this.name}:${k}`; }
  tensor(name: string): IrTensor { return this.b.tensor(name); }
  error(msg: string): Error { return new Error(`${this.label}: node '${this.name}' (${this.node.op}): ${msg}`); }
  constValues(i: number): number[] {
    const t = this.b.tensor(this.input(i));
    if (!t.data) throw this.error(`input ${i} ('${t.name}') must be a constant`);
    return Array.from(t.data as ArrayLike<number>);
  }
  attr(source: AttrSource): AttrValue {
    if (!('attr' in source)) return attrValue(source, this);
    const read = (key: string) => readTfAttr(this.node, key, source.type, source.default, (m) => this.error(m));
    return Array.isArray(source.attr) ? (source.attr.map(read) as number[]) : read(source.attr);
  }
  emit(op: string, inputs: string[], attrs: Attrs, at: { name?: string; outputs?: string[] } = {}): string[] {
    const outputs = at.outputs ?? [this.output(0)];
    return this.b.emit(at.name ?? this.name, op, inputs, attrs, outputs);
  }
  constant(name: string, shape: number[], data: Float32Array): string {
    return this.b.addConstant(this.b.uniqueName(name), shape, 'float32', data);
  }
}

const TFJS_HOOKS: FormatHooks = {
  checkNhwc(c) {
    const f = c.attr({ attr: 'data_format', type: 'string' });
    if (f && f !== 'NHWC') throw c.error(`data_format ${String(f)} is not supported (NHWC expected)`);
  },
};

/** Graph structure, not ops: inputs, constants, control-only nodes and Shape (shapes are static). */
const STRUCTURAL_OPS = new Set(['Const', 'Placeholder', 'NoOp', 'Shape']);

/** TF ops the graph-model importer understands (besides the structural ones). */
export function tfjsGraphOps(): string[] {
  return importableOps('tfjsGraph');
}

function isConvertible(op: string): boolean {
  return STRUCTURAL_OPS.has(op) || importEntry('tfjsGraph', op) !== undefined;
}

/** Converts one op node with its op file's rule. */
function convertNode(b: GraphBuilder, node: TfjsGraphNode, label: string): void {
  const ctx = new NodeCtx(b, node, label);
  if (node.op === 'Shape') {
    const shape = b.tensor(ctx.input(0)).shape;
    b.addConstant(node.name, [shape.length], 'int32', Int32Array.from(shape));
    return;
  }
  const found = importEntry('tfjsGraph', node.op);
  if (!found) throw ctx.error('is not supported');
  runImportEntry(found.entry, found.def.op, ctx, TFJS_HOOKS);
}

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
        const ref = ins[top[1]++];
        // Control inputs ('^node') carry no value: the IR computes values only.
        if (ref.startsWith('^')) continue;
        const dep = nodeOf(ref);
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

/** Nodes whose values the roots need (control inputs, '^node', carry none). */
function ancestors(nodes: Map<string, TfjsGraphNode>, roots: string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const i of nodes.get(n)?.input ?? []) if (!i.startsWith('^')) stack.push(nodeOf(i));
  }
  return seen;
}

function placeholderShape(node: TfjsGraphNode, opts: ImportOptions, inputCount: number, label: string): number[] {
  const dims = node.attr?.shape?.shape?.dim;
  const declared = dims?.map((d) => Number(d.size ?? 0));
  return checkShape(resolveInputShape(opts, node.name, declared, inputCount, label), `${label}: input '${node.name}'`);
}

/** Integer image inputs the importer accepts: their values are pixels, carried as float32 in the IR. */
const INTEGER_INPUTS: Record<string, 'uint8' | 'int32'> = { DT_UINT8: 'uint8', DT_INT32: 'int32' };

/** A graph input: float32 as it is; uint8/int32 as float32 holding the same integers (noted in meta). */
function addPlaceholder(b: GraphBuilder, node: TfjsGraphNode, opts: ImportOptions, inputCount: number, label: string): void {
  const dtype = node.attr?.dtype?.type;
  const integer = dtype ? INTEGER_INPUTS[dtype] : undefined;
  if (dtype && dtype !== 'DT_FLOAT' && !integer) {
    throw new Error(`${label}: input '${node.name}' has dtype ${dtype}; float32, uint8 and int32 inputs are supported`);
  }
  b.addInput(node.name, placeholderShape(node, opts, inputCount, label));
  if (integer) b.integerInputs[node.name] = integer;
}

/** Converts the nodes (topologically ordered). */
function convertNodes(order: TfjsGraphNode[], weights: Map<string, IrTensor>, opts: ImportOptions, label: string): GraphBuilder {
  const b = new GraphBuilder(label);
  const inputCount = order.filter((n) => n.op === 'Placeholder').length;
  for (const node of order) {
    if (node.op === 'Placeholder') {
      addPlaceholder(b, node, opts, inputCount, label);
      continue;
    }
    if (node.op === 'Const') {
      const w = weights.get(node.name);
      if (!w) throw new Error(`${label}: constant '${node.name}' has no entry in the weights manifest`);
      b.addConstant(node.name, w.shape, w.dtype, w.data!);
      continue;
    }
    if (node.op === 'NoOp') continue;
    convertNode(b, node, label);
  }
  return b;
}

/**
 * Makes the graph start at `tensor` (the end of a pre-processing loop): its node becomes a float32
 * input, shaped by opts.inputShapes or, for a TensorListStack, by its constant element shape.
 */
function startAt(nodes: Map<string, TfjsGraphNode>, tensor: string, weights: Map<string, IrTensor>, opts: ImportOptions, label: string): number[] {
  const node = nodes.get(tensor);
  if (!node) throw new Error(`${label}: the pre-processing ends at '${tensor}', an output of a node with several; pass opts.outputs and a model without the loop`);
  let shape = opts.inputShapes?.[tensor];
  if (!shape && node.op === 'TensorListStack') {
    const element = weights.get(nodeOf(node.input?.[1] ?? ''))?.data;
    if (element && element.length > 0 && Array.from(element).every((d) => d > 0)) shape = [1, ...Array.from(element)];
  }
  if (!shape) throw new Error(`${label}: the graph starts at '${tensor}' after its pre-processing, whose shape is not static; pass opts.inputShapes['${tensor}']`);
  nodes.set(tensor, { name: tensor, op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: shape.map((d) => ({ size: d })) } } } });
  return shape;
}

/** The source graph as the post-processing cut sees it (lib/graph/importers/cut.ts). */
function cutView(nodes: Map<string, TfjsGraphNode>, outputs: string[]): CutView {
  const referenced = new Map<string, Set<string>>();
  for (const n of nodes.values()) {
    for (const ref of n.input ?? []) {
      if (ref.startsWith('^')) continue;
      if (!referenced.has(nodeOf(ref))) referenced.set(nodeOf(ref), new Set());
      referenced.get(nodeOf(ref))!.add(tensorRef(ref));
    }
  }
  const ops = [...nodes.values()].filter((n) => n.op !== 'Const' && n.op !== 'Placeholder' && n.op !== 'NoOp');
  const cutNodes: CutNode[] = ops.map((n) => ({
    name: n.name,
    op: n.op,
    inputs: (n.input ?? []).filter((i) => !i.startsWith('^')).map(tensorRef),
    outputs: [...new Set([n.name, ...(referenced.get(n.name) ?? [])])],
  }));
  return {
    nodes: cutNodes,
    inputs: [...nodes.values()].filter((n) => n.op === 'Placeholder').map((n) => n.name),
    outputs,
    kind(op) {
      if (op === 'Shape') return 'importable';
      const found = importEntry('tfjsGraph', op);
      return !found ? 'unknown' : found.def.quant?.weighted ? 'weighted' : 'importable';
    },
  };
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
export function graphFromTfjsJson(json: TfjsGraphModelJson, weights: Map<string, IrTensor>, opts: ImportOptions = {}, label = 'model.json'): Graph {
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

function convertGraphModel(json: TfjsGraphModelJson, weights: Map<string, IrTensor>, opts: ImportOptions, label: string): Graph {
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
    const cut = findPostprocessCut(cutView(nodes, outputs));
    if (cut) {
      outputs = cut.outputs;
      cutAt = outputs;
      notes.push(cut.note);
    }
  }
  const pre = findPreprocessCut(cutView(nodes, outputs));
  if (pre) {
    const shape = startAt(nodes, pre.input, weights, opts, label);
    notes.push(`${pre.note} (a float32 [${shape}] tensor)`);
  }
  const needed = ancestors(nodes, outputs.map(nodeOf));
  const unsupported = new Map<string, string[]>();
  for (const n of [...nodes.keys()].filter((k) => needed.has(k))) {
    const node = nodes.get(n);
    if (!node) throw new Error(`${label}: node '${n}' is referenced but not defined`);
    if (isConvertible(node.op)) continue;
    if (!unsupported.has(node.op)) unsupported.set(node.op, []);
    unsupported.get(node.op)!.push(node.name);
  }
  if (unsupported.size) throw unsupportedOpsError(label, unsupported);
  const b = convertNodes(topoSort(nodes, needed, label), weights, opts, label);
  return b.build(outputs, { source: label, format: 'tfjs-graph-model', cutAt, notes });
}

/** Decodes every group of a weights manifest given the bytes of each group (shards concatenated). */
export function decodeManifest(manifest: WeightGroup[], groupBytes: Uint8Array[], label: string) {
  const all = new Map<string, IrTensor>();
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
      json = JSON.parse(readRegularTextFile(jsonPath, 'model.json', READ_LIMITS.json));
    } catch (e) {
      if (e instanceof Error && e.message.startsWith(`${jsonPath}:`)) throw e;
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
