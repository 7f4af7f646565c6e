// Split weights (two-term, or residual, weight quantization): a weighted layer whose int8 weights are
// too coarse even with int16 activations (16x8; TFLite has no integer kernel with wider weights) is
// written as two layers over the same input, W = W_hi + W_lo:
//   W_hi = s_c * q_hi     the usual per-channel int8 weights (scale s_c = max|W_c| / 127)
//   W_lo = the residual W - W_hi, itself int8 per channel (scale max|R_c| / 127 <= s_c / 254)
// so the weights carry about 15 bits. The layer becomes op(x, W_hi, bias) -> hi, op(x, W_lo) -> lo,
// ADD(hi, lo) -> the original output with the original fused activation, all int16. Ranges: lo takes
// [-L, L] and hi the output's range widened by L on both sides, where L is lo's largest observed
// |value| on calibration inputs (observePartialRanges), or without them (or when lo was 0 on all of
// them) the bound max_c ||R_c||_1 * max|x|. Then where hi clips (a pre-activation value that a ReLU / ReLU6 or
// the output's range clips anyway), hi + lo is still beyond the output's range on the same side, so
// the ADD's output is what it would have been. (hi with the bare output range is not enough: on
// weights-limited layers lo is not small, and a clipped hi plus a negative lo landed inside the
// range: CONV_2D + ReLU6 35.6 dB instead of 60+, test/quantize/split-weights.test.ts. The bound
// alone is loose: pose_landmark_lite with every layer split, 19.5 dB with it, 26.8 dB with L / 10.)
// The rewrite is a graph rewrite of the calibrated graph, so the plan, the emitter and the checks
// write it as usual.
import type { Graph, IrNode, IrTensor } from '../ir/graph.js';
import { createFloatExecutor } from '../graph/execute.js';
import type { BackendName } from '../graph/backend.js';
import type { ModelSample } from './dataset.js';
import { perChannelWeightScales, quantizeWeightsPerChannel } from '../int8/arithmetic.js';
import { quantOf, type CalibratedGraph } from './stages.js';
import type { ActivationRange } from './params.js';

/** The ops with weights whose TFLite kernels have a 16x8 (int16 activations, int8 weights) version. */
const SPLIT_OPS = new Set(['Conv2D', 'DepthwiseConv2D', 'FullyConnected', 'Conv2DTranspose']);
/** Graph weights are input 1 and the optional bias input 2 of every op above. */
const WEIGHTS_INPUT = 1;
const BIAS_INPUT = 2;
/** Element indices stand in for the weights to find their layout: exact as float32 up to 2^24. */
const MAX_INDEXED = 1 << 24;

/** The two int8 terms of per-channel weights (layout order), with their scales. */
export interface WeightSplit {
  /** s_c * q_hi: the usual int8 weights, as float values. */
  hi: Float32Array;
  /** W - hi: what int8 weights leave out. */
  residual: Float32Array;
  hiScales: Float32Array;
  /** The residual's own per-channel scales (max|R_c| / 127; 1 for a channel without residual). */
  loScales: Float32Array;
}

/** W split into its int8 weights and their residual, per channel along `axis` of `shape`. */
export function splitWeightChannels(weights: Float32Array, shape: readonly number[], axis: number): WeightSplit {
  const hiScales = perChannelWeightScales(weights, shape, axis);
  const q = quantizeWeightsPerChannel(weights, shape, axis, hiScales);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channels = shape[axis];
  const hi = new Float32Array(weights.length);
  const residual = new Float32Array(weights.length);
  for (let i = 0; i < weights.length; i++) {
    hi[i] = q[i] * hiScales[Math.floor(i / inner) % channels];
    residual[i] = weights[i] - hi[i];
  }
  return { hi, residual, hiScales, loScales: perChannelWeightScales(residual, shape, axis) };
}

/** For each element of the op's TFLite weight layout, the graph weight element it is (a permutation), or undefined. */
function layoutPermutation(graph: Graph, node: IrNode): { index: Int32Array; shape: number[]; axis: number } | undefined {
  const w = quantOf(node).weighted;
  const name = node.inputs[WEIGHTS_INPUT];
  const t = name === undefined ? undefined : graph.tensors.get(name);
  if (!w || !t?.data || t.data.length >= MAX_INDEXED) return undefined;
  const indices = Float32Array.from({ length: t.data.length }, (_, i) => i);
  const layout = w.weights(node, (n) => (n === name ? { ...t, data: indices } : graph.tensors.get(n)!));
  if (layout.data.length !== t.data.length) return undefined;
  const index = Int32Array.from(layout.data);
  const seen = new Uint8Array(index.length);
  for (const i of index) {
    if (!(i >= 0 && i < index.length) || seen[i]) return undefined;
    seen[i] = 1;
  }
  return { index, shape: layout.shape, axis: layout.axis };
}

/** Why a node cannot take split weights, or undefined when it can. */
export function splitProblem(graph: Graph, node: IrNode): string | undefined {
  if (!SPLIT_OPS.has(node.op)) return `${node.op} has no 16x8 kernel with weights`;
  if (node.inputs.length > BIAS_INPUT + 1) return `${node.op} has inputs after its bias`;
  const perm = layoutPermutation(graph, node);
  if (!perm) return 'its weights are not a float constant laid out as a permutation of the kernel\'s';
  const data = graph.tensors.get(node.inputs[WEIGHTS_INPUT])!.data!;
  const layoutData = Float32Array.from(perm.index, (i) => Number(data[i]));
  const { residual } = splitWeightChannels(layoutData, perm.shape, perm.axis);
  return residual.some((r) => r !== 0) ? undefined : 'its weights are exact in int8 (no residual)';
}

/** The split graph of a calibrated graph and, for each node it added, the node it came from. */
export interface SplitGraph {
  cal: CalibratedGraph;
  originOf: Map<string, string>;
}

/** max_c ||R_c||_1 of per-channel values along `axis` of `shape`: what |R . x| can reach per unit of max|x|. */
export function maxChannelL1(values: Float32Array, shape: readonly number[], axis: number): number {
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channels = shape[axis];
  const l1 = new Float64Array(channels);
  for (let i = 0; i < values.length; i++) l1[Math.floor(i / inner) % channels] += Math.abs(values[i]);
  return Math.max(0, ...l1);
}

/** The three nodes and four tensors that replace one weighted node (splitProblem(node) is undefined), and the bound L on |lo| per unit of max|x|. */
function splitNode(graph: Graph, node: IrNode): { nodes: IrNode[]; tensors: IrTensor[]; hiOut: string; loOut: string; loPerInput: number } {
  const perm = layoutPermutation(graph, node)!;
  const wName = node.inputs[WEIGHTS_INPUT];
  const wt = graph.tensors.get(wName)!;
  const layoutData = Float32Array.from(perm.index, (i) => Number(wt.data![i]));
  const s = splitWeightChannels(layoutData, perm.shape, perm.axis);
  const hi = new Float32Array(layoutData.length);
  const lo = new Float32Array(layoutData.length);
  perm.index.forEach((g, j) => {
    hi[g] = s.hi[j];
    lo[g] = s.residual[j];
  });
  const out = node.outputs[0];
  const outShape = graph.tensors.get(out)!.shape;
  const [hiW, loW, hiOut, loOut] = [`${wName}/split_hi`, `${wName}/split_lo`, `${out}/split_hi`, `${out}/split_lo`];
  const linear = { ...node.attrs, activation: 'none' };
  return {
    nodes: [
      { ...node, name: `${node.name}/split_hi`, inputs: node.inputs.map((t, k) => (k === WEIGHTS_INPUT ? hiW : t)), outputs: [hiOut], attrs: linear },
      // No bias: it is in the hi term once.
      { ...node, name: `${node.name}/split_lo`, inputs: node.inputs.slice(0, BIAS_INPUT).map((t, k) => (k === WEIGHTS_INPUT ? loW : t)), outputs: [loOut], attrs: linear },
      { name: `${node.name}/split_add`, op: 'Add', inputs: [hiOut, loOut], outputs: [...node.outputs], attrs: { activation: node.attrs.activation ?? 'none' } },
    ],
    tensors: [
      { name: hiW, shape: [...wt.shape], dtype: 'float32', data: hi },
      { name: loW, shape: [...wt.shape], dtype: 'float32', data: lo },
      { name: hiOut, shape: [...outShape], dtype: 'float32' },
      { name: loOut, shape: [...outShape], dtype: 'float32' },
    ],
    hiOut,
    loOut,
    loPerInput: maxChannelL1(s.residual, perm.shape, perm.axis),
  };
}

/**
 * The calibrated graph with the named weighted nodes written with split weights (each must be
 * splittable: splitProblem). The partial sums' ranges follow from the output's and L (see the top).
 */
export function splitCalibrated(cal: CalibratedGraph, names: ReadonlySet<string>, observed?: PartialRanges): SplitGraph {
  const graph = cal.graph;
  const tensors = new Map(graph.tensors);
  const ranges = new Map(cal.ranges);
  const observedRanges = new Map(cal.observedRanges);
  const originOf = new Map<string, string>();
  const nodes: IrNode[] = [];
  for (const n of graph.nodes) {
    if (!names.has(n.name)) {
      nodes.push(n);
      continue;
    }
    const problem = splitProblem(graph, n);
    if (problem) throw new Error(`split weights: node '${n.name}' (${n.op}) cannot be split: ${problem}`);
    const s = splitNode(graph, n);
    for (const m of s.nodes) originOf.set(m.name, n.name);
    for (const t of s.tensors) tensors.set(t.name, t);
    const seen = observed?.get(n.name);
    const seenBound = seen ? Math.max(Math.abs(seen.lo.min), Math.abs(seen.lo.max)) : 0;
    const bound = seenBound > 0 ? seenBound : s.loPerInput * maxAbsInput(cal, n.inputs[quantOf(n).weighted!.input]);
    partialRanges(ranges, observedRanges, n.outputs[0], s, bound);
    nodes.push(...s.nodes);
  }
  return { cal: { ...cal, graph: { ...graph, tensors, nodes }, ranges, observedRanges }, originOf };
}

/** max|x| of a layer's input as calibrated (observed extremes), or as its fixed model-input parameters represent. */
function maxAbsInput(cal: CalibratedGraph, x: string): number {
  const r = cal.observedRanges.get(x);
  if (r) return Math.max(Math.abs(r.min), Math.abs(r.max));
  const { scale, zeroPoint } = cal.inputParams;
  return scale * Math.max(128 + zeroPoint, 127 - zeroPoint);
}

/**
 * lo in [-bound, bound]; hi in the output's range widened by `bound` (calibrated and observed ranges
 * alike). Not hi's own observed range: before a ReLU6 it reaches +-100 where the output is [0, 6],
 * and what lies beyond the output's range is clipped anyway (pose_landmark_lite every layer split:
 * 10.4 dB with hi's own range, see the top for the rest).
 */
function partialRanges(
  ranges: Map<string, ActivationRange>,
  observed: Map<string, ActivationRange>,
  out: string,
  s: { hiOut: string; loOut: string },
  bound: number,
): void {
  for (const m of [ranges, observed]) {
    const r = m.get(out);
    if (!r) throw new Error(`split weights: tensor '${out}' has no calibrated range`);
    m.set(s.hiOut, { min: r.min - bound, max: r.max + bound });
    m.set(s.loOut, { min: -bound, max: bound });
  }
}

/** Observed ranges of each split layer's two partial sums (by node name; lo's is the one used). */
export type PartialRanges = Map<string, { hi: ActivationRange; lo: ActivationRange }>;

/**
 * The partial sums' extremes on `inputs` (calibration inputs), every node in `names` split, run in
 * float: lo's largest |value| is then what lo's and hi's int16 ranges make room for, not a bound.
 */
export async function observePartialRanges(cal: CalibratedGraph, names: ReadonlySet<string>, inputs: AsyncIterable<ModelSample>): Promise<PartialRanges> {
  const { cal: split } = splitCalibrated(cal, names);
  const byTensor = new Map<string, { node: string; part: 'hi' | 'lo' }>();
  for (const n of split.graph.nodes) {
    const m = /^(.*)\/split_(hi|lo)$/.exec(n.name);
    if (m && names.has(m[1])) byTensor.set(n.outputs[0], { node: m[1], part: m[2] as 'hi' | 'lo' });
  }
  const out: PartialRanges = new Map([...names].map((n) => [n, { hi: { min: 0, max: 0 }, lo: { min: 0, max: 0 } }]));
  const executor = await createFloatExecutor(split.graph, { backend: cal.backend as BackendName });
  try {
    for await (const x of inputs) {
      await executor.stream(x, {
        fetch: [],
        onTensor: (name, data) => {
          const at = byTensor.get(name);
          if (!at) return;
          const r = out.get(at.node)![at.part];
          for (let i = 0; i < data.length; i++) {
            if (data[i] < r.min) r.min = data[i];
            if (data[i] > r.max) r.max = data[i];
          }
        },
      });
    }
  } finally {
    executor.dispose();
  }
  return out;
}
