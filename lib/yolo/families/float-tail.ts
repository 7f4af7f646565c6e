// Heads no family knows: an output tail that joins quantities of very different ranges.
//
// An exported detector often ends in layout ops only (Concat, Reshape, Transpose) that join boxes in
// pixels (0..640), probabilities (0..1) and keypoints in one tensor. Quantized as one tensor, it has
// one int8 scale: a step of 640/255 = 2.5, so every probability rounds to 0 or one step of 2.5.
// When a Concat in that tail joins inputs whose int8 ranges differ by more than MIXED_RANGE_FACTOR,
// the whole tail moves to float: the tensors entering it become separate int8 outputs (each with
// its own scale), and the tail's ops are written into the metadata as steps that the decode runs
// in float, giving back exactly the tensor the source model outputs.
//
// MIXED_RANGE_FACTOR = 4: sharing the widest input's scale makes the narrowest input's step that
// many times coarser, and 4x is 2 of its 8 bits; below that the split would buy less than the
// rounding noise already in a calibrated int8 tensor (a step of range/255), above it the narrow part
// keeps under 64 levels. Pixels vs probabilities are a factor of ~300-800, far beyond either side.
import type { Graph, IrNode } from '../../ir/graph.js';
import { consumersOf, elementCount, producersOf } from '../../ir/graph.js';
import type { DecodedRows, HeadSpecBase, SpecKind } from './types.js';
import { checkInputSize, checkShape, checkTensorName, checkVersion, specError } from './validate.js';
import { decodeStandardOutput } from './standard.js';

export const FLOAT_TAIL_KIND = 'float-tail';
export const MIXED_RANGE_FACTOR = 4;

export type TailStep =
  | { op: 'concat'; inputs: string[]; axis: number; output: string; shape: number[] }
  | { op: 'reshape'; input: string; output: string; shape: number[] }
  | { op: 'transpose'; input: string; perm: number[]; output: string; shape: number[] };

export interface FloatTailSpec extends HeadSpecBase {
  kind: typeof FLOAT_TAIL_KIND;
  version: 1;
  /** The int8 model's outputs the steps read: name and shape (NHWC or whatever the source had). */
  parts: { name: string; shape: number[] }[];
  /** Run in order, each on float values of earlier parts/steps. */
  steps: TailStep[];
  /** The tensor the steps end in: the source model's own output. */
  result: { name: string; shape: number[] };
  /** How many class scores the result rows carry (absent: inferred from the layout). */
  numClasses: number;
  /** Values per anchor after boxes and scores (pose keypoints: kpt count x dims), 0 for a detect head. */
  extraPerAnchor: number;
}

const TAIL_OPS = new Set(['Concat', 'Reshape', 'Transpose', 'Squeeze', 'ExpandDims', 'Identity']);

export interface TailSplit {
  graph: Graph;
  spec: FloatTailSpec;
  /** The Concat nodes whose inputs' ranges differed, with the ratio found. */
  mixed: { node: string; ratio: number }[];
}

/** Width of the int8 grid a range needs (0 is always representable). */
function rangeWidth(r: { min: number; max: number } | undefined): number {
  if (!r) return NaN;
  return Math.max(r.max, 0) - Math.min(r.min, 0);
}

/**
 * Finds the layout-only tail before the single graph output; when one of its Concats is mixed
 * (ranges differ by more than `factor`), returns the graph ending at the tail's inputs and the spec
 * that rebuilds the output in float. Undefined when there is nothing to split.
 */
export function splitMixedOutputTail(
  graph: Graph,
  ranges: ReadonlyMap<string, { min: number; max: number }>,
  info: { inputSize: [number, number]; numClasses?: number; extraPerAnchor?: number },
  factor = MIXED_RANGE_FACTOR,
): TailSplit | undefined {
  if (graph.outputs.length !== 1) return undefined;
  const output = graph.outputs[0];
  const { tail, parts } = layoutTail(graph, output);
  const mixed = mixedConcats(tail, ranges, factor);
  if (mixed.length === 0) return undefined;
  if (parts.some((p) => graph.inputs.includes(p))) return undefined;
  const steps = tailSteps(graph, tail);
  const partList = parts.map((name) => ({ name, shape: [...graph.tensors.get(name)!.shape] }));
  // Parts in graph order, so output order is stable and readable.
  const pos = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((o) => pos.set(o, i)));
  partList.sort((a, b) => (pos.get(a.name) ?? -1) - (pos.get(b.name) ?? -1));
  const resultShape = [...graph.tensors.get(output)!.shape];
  const spec: FloatTailSpec = {
    kind: FLOAT_TAIL_KIND,
    version: 1,
    inputSize: info.inputSize,
    parts: partList,
    steps,
    result: { name: output, shape: resultShape },
    numClasses: info.numClasses ?? inferNumClasses(resultShape, info.extraPerAnchor ?? 0),
    extraPerAnchor: info.extraPerAnchor ?? 0,
  };
  const nodes = graph.nodes.filter((n) => !tail.has(n));
  const live = new Set<string>();
  for (const n of nodes) for (const t of [...n.inputs, ...n.outputs]) live.add(t);
  for (const i of graph.inputs) live.add(i);
  const tensors = new Map([...graph.tensors].filter(([name]) => live.has(name)));
  const note =
    `output tail: ${mixed.map((m) => `'${m.node}' joins ranges ${m.ratio.toFixed(0)}x apart`).join(', ')}; ` +
    `its ${partList.length} inputs are separate int8 outputs and the tail (${steps.length} layout ops) runs in float (metadata 'yolo_int8_head', kind '${FLOAT_TAIL_KIND}')`;
  return {
    graph: { ...graph, nodes, tensors, outputs: partList.map((p) => p.name), meta: { ...graph.meta, notes: [...graph.meta.notes, note] } },
    spec,
    mixed,
  };
}

/** The layout-only nodes that compute `output` and nothing else, and the tensors entering them (in visit order). */
function layoutTail(graph: Graph, output: string): { tail: Set<IrNode>; parts: string[] } {
  const producers = producersOf(graph);
  const consumers = consumersOf(graph);
  const tail = new Set<IrNode>();
  const parts: string[] = [];
  const visit = (t: string) => {
    const p = producers.get(t);
    const readers = consumers.get(t) ?? [];
    const onlyTail = t === output ? readers.length === 0 : readers.every((r) => tail.has(r));
    if (!p || !TAIL_OPS.has(p.op) || !onlyTail || graph.tensors.get(t)?.data) {
      if (!parts.includes(t)) parts.push(t);
      return;
    }
    if (tail.has(p)) return;
    tail.add(p);
    for (const i of p.inputs) if (!graph.tensors.get(i)?.data) visit(i);
  };
  visit(output);
  return { tail, parts };
}

/** The tail's Concats whose inputs' ranges differ by more than `factor`. */
function mixedConcats(tail: Set<IrNode>, ranges: ReadonlyMap<string, { min: number; max: number }>, factor: number): TailSplit['mixed'] {
  const mixed: TailSplit['mixed'] = [];
  for (const n of tail) {
    if (n.op !== 'Concat') continue;
    const widths = n.inputs.map((i) => rangeWidth(ranges.get(i)));
    if (widths.some((w) => !(w > 0))) continue;
    const ratio = Math.max(...widths) / Math.min(...widths);
    if (ratio > factor) mixed.push({ node: n.name, ratio });
  }
  return mixed;
}

/** The tail as float steps of the spec, in graph order. */
function tailSteps(graph: Graph, tail: Set<IrNode>): TailStep[] {
  return graph.nodes.filter((n) => tail.has(n)).map((n): TailStep => {
    const out = n.outputs[0];
    const shape = [...graph.tensors.get(out)!.shape];
    const inputs = n.inputs.filter((i) => !graph.tensors.get(i)?.data);
    if (n.op === 'Concat') {
      const rank = shape.length;
      const a = Number(n.attrs.axis);
      return { op: 'concat', inputs, axis: a < 0 ? a + rank : a, output: out, shape };
    }
    if (n.op === 'Transpose') {
      const perm = (n.attrs.perm as number[] | undefined) ?? Array.from(graph.tensors.get(n.inputs[1])?.data ?? []);
      return { op: 'transpose', input: inputs[0], perm: [...perm], output: out, shape };
    }
    return { op: 'reshape', input: inputs[0], output: out, shape };
  });
}

/** Classes of a [1, 4+nc+extra, N] (anchor-free) or [1, N, 5+nc+extra] (YOLOv5) result. */
function inferNumClasses(shape: number[], extra: number): number {
  if (shape.length !== 3) return 1;
  const [, a, b] = shape;
  return Math.max(1, a < b ? a - 4 - extra : b - 5 - extra);
}

function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** Concatenation along `axis` of row-major tensors. */
export function concatValues(values: Float32Array[], shapes: number[][], axis: number): Float32Array {
  const outer = elementCount(shapes[0].slice(0, axis));
  const inners = shapes.map((s) => elementCount(s.slice(axis)));
  const total = inners.reduce((a, b) => a + b, 0);
  const out = new Float32Array(outer * total);
  for (let o = 0; o < outer; o++) {
    let off = o * total;
    values.forEach((v, k) => {
      out.set(v.subarray(o * inners[k], (o + 1) * inners[k]), off);
      off += inners[k];
    });
  }
  return out;
}

/** out[i_perm...] = x[i...] with out.shape[d] = shape[perm[d]]. */
export function transposeValues(x: Float32Array, shape: number[], perm: number[]): Float32Array {
  const outShape = perm.map((p) => shape[p]);
  const inStrides = strides(shape);
  const stepIn = perm.map((p) => inStrides[p]);
  const out = new Float32Array(x.length);
  const idx = new Array<number>(outShape.length).fill(0);
  let src = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = x[src];
    for (let d = outShape.length - 1; d >= 0; d--) {
      idx[d]++;
      src += stepIn[d];
      if (idx[d] < outShape[d]) break;
      src -= stepIn[d] * outShape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** Runs the spec's steps on the parts' float values: the source model's output tensor. */
export function runFloatTail(spec: FloatTailSpec, outputs: ReadonlyMap<string, Float32Array>): Float32Array {
  const values = new Map<string, { v: Float32Array; shape: number[] }>();
  for (const p of spec.parts) {
    const v = outputs.get(p.name);
    if (!v) throw new Error(`float tail: the model has no output '${p.name}'`);
    if (v.length !== elementCount(p.shape)) throw new Error(`float tail: output '${p.name}' must be [${p.shape}] (${elementCount(p.shape)} values), got ${v.length}`);
    values.set(p.name, { v, shape: p.shape });
  }
  const get = (name: string) => {
    const x = values.get(name);
    if (!x) throw new Error(`float tail: step input '${name}' is neither a part nor an earlier step`);
    return x;
  };
  for (const s of spec.steps) {
    let v: Float32Array;
    if (s.op === 'concat') {
      const ins = s.inputs.map(get);
      v = concatValues(ins.map((x) => x.v), ins.map((x) => x.shape), s.axis);
    } else if (s.op === 'transpose') {
      const x = get(s.input);
      v = transposeValues(x.v, x.shape, s.perm);
    } else {
      v = get(s.input).v;
    }
    if (v.length !== elementCount(s.shape)) throw new Error(`float tail: step '${s.output}' gives ${v.length} values for [${s.shape}]`);
    values.set(s.output, { v, shape: s.shape });
  }
  return get(spec.result.name).v;
}

export function validateFloatTailSpec(x: unknown, where = 'float-tail spec'): FloatTailSpec {
  const fail = specError(where);
  if (typeof x !== 'object' || x === null) fail('expected an object');
  const s = x as FloatTailSpec;
  if (s.kind !== FLOAT_TAIL_KIND) fail(`kind must be '${FLOAT_TAIL_KIND}', got ${JSON.stringify(s.kind)}`);
  checkVersion(s, 1, fail);
  checkInputSize(s.inputSize, fail);
  if (!Array.isArray(s.parts) || s.parts.length === 0) fail('parts must be a non-empty array');
  s.parts.forEach((p, i) => {
    checkTensorName(p.name, `parts[${i}].name`, fail);
    checkShape(p.shape, `parts[${i}].shape`, fail);
  });
  if (!Array.isArray(s.steps)) fail('steps must be an array');
  s.steps.forEach((st, i) => {
    if (!['concat', 'reshape', 'transpose'].includes(st.op)) fail(`steps[${i}].op must be concat, reshape or transpose, got ${JSON.stringify(st.op)}`);
    checkTensorName(st.output, `steps[${i}].output`, fail);
    checkShape(st.shape, `steps[${i}].shape`, fail);
  });
  if (typeof s.result !== 'object' || s.result === null) fail('result must be {name, shape}');
  checkTensorName(s.result.name, 'result.name', fail);
  checkShape(s.result.shape, 'result.shape', fail);
  if (!Number.isInteger(s.numClasses) || s.numClasses < 1) fail(`numClasses must be a positive integer, got ${JSON.stringify(s.numClasses)}`);
  if (!Number.isInteger(s.extraPerAnchor) || s.extraPerAnchor < 0) fail(`extraPerAnchor must be an integer >= 0, got ${JSON.stringify(s.extraPerAnchor)}`);
  return s;
}

export const FLOAT_TAIL: SpecKind<FloatTailSpec> = {
  kind: FLOAT_TAIL_KIND,
  version: 1,
  validate: validateFloatTailSpec,
  outputsOf: (spec) => spec.parts.map((p) => ({ name: p.name, shape: p.shape })),
  decode(spec, outputs): DecodedRows {
    const result = runFloatTail(spec, outputs);
    return decodeStandardOutput(result, spec.result.shape, spec.inputSize, { numClasses: spec.numClasses, extraPerAnchor: spec.extraPerAnchor });
  },
  describe: (s) =>
    `output tail in float (${s.kind} v${s.version}): ${s.parts.length} int8 outputs (${s.parts.map((p) => p.name).join(', ')}) ` +
    `rebuilt into '${s.result.name}' [${s.result.shape}] by ${s.steps.length} layout steps; ${s.numClasses} classes` +
    (s.extraPerAnchor ? `, ${s.extraPerAnchor} extra values per anchor` : ''),
};
