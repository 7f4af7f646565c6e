// Cross-layer equalization (Nagel et al. 2019, section 4.1) as a pure pass over the IR: for every
// pair of weighted layers W1 -> f -> W2 (Conv2D, DepthwiseConv2D, FullyConnected) where W1's output
// is read only on that path and f commutes with a positive per-channel scale, W1's output channel i
// (weights and bias) is divided by s_i and W2's input channel i multiplied by s_i (equalize-math.ts).
// Pairs sharing a layer (conv -> depthwise -> conv) are swept in turn until the scales stop moving.
// The float function is unchanged in real arithmetic; only float rounding differs.
//
// What f may be (each a chain of these, after W1's fused activation):
//   - nothing, Identity, ReLU (fused `activation: 'relu'` or a Relu node): relu(x / s) = relu(x) / s;
//   - LeakyRelu and Prelu (any constant alpha, per channel or per element): the sign of x / s is the
//     sign of x, so the slope applied is the same and the scale comes out;
//   - ReLU6 is not positive-homogeneous: min(max(x / s, 0), 6) * s = min(max(x, 0), 6 s) clips channel
//     i at 6 s_i instead of 6. By default (relu6: 'skip') pairs through ReLU6 are not equalised (the
//     report names them). With relu6: 'clip', a fused ReLU6 on W1 is equalised exactly by moving the
//     clip: relu6(y) / S_i = min(relu(y / S_i), 6 / S_i), so W1 keeps a fused ReLU (ReLU6 when every
//     S_i >= 1, where 6 / S_i <= 6 makes the fused clip redundant but keeps W1's output within 6) and a
//     Minimum by the per-channel constant 6 / S_i is inserted after it (S: the product of the sweeps'
//     scales). That costs one element-wise op per pair, and the Minimum shares its input's int8
//     parameters, whose range is no longer capped at 6 where S_i < 1: measured on the zoo (bench/
//     RESULTS.md) it loses 1-50 dB on four of five models, hence not the default. A separate Relu6
//     node is not equalised either way.
//   - MaxPool, AvgPool, ResizeBilinear, ResizeNearest, and Pad by zeros outside the channel axis: per
//     channel, max or linear, so the scale comes out too;
//   - anything else (HardSwish, SiLU, Sigmoid, Add, Concat, Reshape, Mean, ...): not equalised.
// High-bias absorption (the paper's section 4.2) is not done here: it needs each pre-activation's
// lower bound (the paper takes beta - 3 gamma from batch norm, which the imported graphs have already
// folded away), and moving a constant through W2 is exact only where W2 reads no zero padding.
import { consumersOf, isConstant, type Graph, type IrNode } from '../../ir/graph.js';
import { cloneGraph, pruneTensors } from './util.js';
import {
  channelLayout, equalizationScales, maxLogScale, perChannelMaxAbs, rangeSpread, reciprocal, scaleChannels,
  type ChannelLayout, type WeightedOpName,
} from './equalize-math.js';

export interface EqualizeOptions {
  /** Sweeps over all pairs at most (default 300: a 27-layer MobileNetV1 chain needs a few hundred). */
  maxIterations?: number;
  /** Stop when no scale of a sweep moved by more than this (|log s| < tolerance; default 1e-3). */
  tolerance?: number;
  /** Pairs through a fused ReLU6: 'skip' (default) or 'clip' (a per-channel Minimum keeps the function; see the header). */
  relu6?: 'skip' | 'clip';
  /** A channel whose range is below this fraction of the largest on its side is left alone (default 1e-5). */
  deadBelow?: number;
}

export interface EqualizedPair {
  first: string;
  second: string;
  /** The ops between the two layers ('relu (fused)', 'Relu', 'Prelu', ...). */
  through: string[];
  channels: number;
  /** max / min of the live channels' ranges (W1's output channels, W2's input channels) before and after. */
  spreadBefore: { first: number; second: number };
  spreadAfter: { first: number; second: number };
}

export interface EqualizeReport {
  pairs: EqualizedPair[];
  /** Weighted layers whose output was not equalised with a next layer, and why. */
  skipped: { node: string; reason: string }[];
  iterations: number;
  converged: boolean;
  /** The largest |log s| of the last sweep. */
  lastStep: number;
  notes: string[];
}

const WEIGHTED = new Set<string>(['Conv2D', 'DepthwiseConv2D', 'FullyConnected']);
// Per-channel ops with f(x / s) = f(x) / s for a positive per-channel s (pooling and resizing are
// linear or max per channel; Pad only with zeros and no padding of the channel axis).
const HOMOGENEOUS = new Set<string>(['Relu', 'LeakyRelu', 'Prelu', 'Identity', 'MaxPool', 'AvgPool', 'ResizeBilinear', 'ResizeNearest', 'Pad']);

const NOT_HOMOGENEOUS_WHY: Record<string, string> = {
  relu6: 'ReLU6 clips at 6, which a per-channel scale would move to 6 s_i',
  Relu6: 'ReLU6 clips at 6, which a per-channel scale would move to 6 s_i',
};

/** Pad keeps the scale only when it pads with 0 and leaves the channel (last) axis alone. */
function padIsHomogeneous(n: IrNode): boolean {
  const p = n.attrs.paddings;
  return Number(n.attrs.constantValue ?? 0) === 0 && Array.isArray(p) && p.length >= 2 && p[p.length - 1] === 0 && p[p.length - 2] === 0;
}

interface Layer {
  node: IrNode;
  layout: ChannelLayout;
  weights: Float32Array;
  bias?: Float32Array;
}

/** The layer's float weights and bias when both are constants, else why not. */
function layerOf(g: Graph, n: IrNode): Layer | string {
  const w = g.tensors.get(n.inputs[1]);
  if (!(w?.data instanceof Float32Array)) return 'weights are not a float constant';
  const layout = channelLayout(n.op as WeightedOpName, w.shape);
  const b = n.inputs[2] ? g.tensors.get(n.inputs[2]) : undefined;
  if (n.inputs[2] && !(b?.data instanceof Float32Array && b.data.length === layout.outChannels)) return 'bias is not a float constant per output channel';
  return { node: n, layout, weights: w.data, bias: b?.data as Float32Array | undefined };
}

/** Follows W1's output through positive-homogeneous ops to the next weighted layer, or says why it stops. */
function followPath(g: Graph, n1: IrNode, consumers: Map<string, IrNode[]>, relu6: 'skip' | 'clip'): { second: IrNode; through: string[] } | string {
  const act = String(n1.attrs.activation ?? 'none');
  const clip = act === 'relu6' && relu6 === 'clip';
  if (act !== 'none' && act !== 'relu' && !clip) return NOT_HOMOGENEOUS_WHY[act] ?? `fused activation '${act}' is not positive-homogeneous`;
  const through = act === 'none' ? [] : [`${act} (fused${clip ? ', clip moved per channel' : ''})`];
  let t = n1.outputs[0];
  for (;;) {
    if (g.outputs.includes(t)) return `'${t}' is a graph output`;
    const readers = consumers.get(t) ?? [];
    if (readers.length !== 1) return `'${t}' has ${readers.length} readers`;
    const c = readers[0];
    if (!WEIGHTED.has(c.op) && !HOMOGENEOUS.has(c.op)) return NOT_HOMOGENEOUS_WHY[c.op] ?? `${c.op} '${c.name}' is not positive-homogeneous`;
    if (c.inputs.lastIndexOf(t) !== 0) return `'${t}' is not only the data input of '${c.name}'`;
    if (WEIGHTED.has(c.op)) return { second: c, through };
    const fused = String(c.attrs.activation ?? 'none');
    if (fused !== 'none' && fused !== 'relu') return `${c.op} '${c.name}' has a fused ${fused}`;
    if (c.op === 'Prelu' && !isConstant(g, c.inputs[1])) return `Prelu '${c.name}' has no constant alpha`;
    if (c.op === 'Pad' && !padIsHomogeneous(c)) return `Pad '${c.name}' pads with a non-zero value or along channels`;
    through.push(c.op);
    t = c.outputs[0];
  }
}

interface Pair {
  first: Layer;
  second: Layer;
  through: string[];
  /** W1 has a fused ReLU6 whose clip moves per channel (relu6: 'clip'). */
  clip: boolean;
  /** The product of the scales applied so far, per channel. */
  total: Float64Array;
}

/** The pair starting at weighted layer n, or why there is none. */
function pairAt(g: Graph, n: IrNode, consumers: Map<string, IrNode[]>, get: (n: IrNode) => Layer | string, relu6: 'skip' | 'clip'): Pair | string {
  const path = followPath(g, n, consumers, relu6);
  if (typeof path === 'string') return path;
  const first = get(n);
  if (typeof first === 'string') return first;
  const second = get(path.second);
  if (typeof second === 'string') return `'${path.second.name}': ${second}`;
  if (first.layout.outChannels !== second.layout.inChannels) {
    return `${first.layout.outChannels} output channels feed ${second.layout.inChannels} input channels of '${path.second.name}'`;
  }
  const clip = n.attrs.activation === 'relu6';
  return { first, second, through: path.through, clip, total: new Float64Array(first.layout.outChannels).fill(1) };
}

/** Every equalisable pair, in graph order, and the weighted layers that have none. */
function findEqualizablePairs(g: Graph, relu6: 'skip' | 'clip' = 'skip'): { pairs: Pair[]; skipped: EqualizeReport['skipped'] } {
  const consumers = consumersOf(g);
  // One Layer per node: a depthwise layer between two pairs is updated by both.
  const layers = new Map<string, Layer>();
  const get = (n: IrNode): Layer | string => layers.get(n.name) ?? layerOf(g, n);
  const pairs: Pair[] = [];
  const skipped: EqualizeReport['skipped'] = [];
  for (const n of g.nodes) {
    if (!WEIGHTED.has(n.op)) continue;
    const pair = pairAt(g, n, consumers, get, relu6);
    if (typeof pair === 'string') {
      skipped.push({ node: n.name, reason: pair });
      continue;
    }
    layers.set(n.name, pair.first);
    layers.set(pair.second.node.name, pair.second);
    pairs.push(pair);
  }
  return { pairs, skipped };
}

/** One equalization step on a pair (updates both layers' arrays); returns max |log s|. */
function equalizePair(p: Pair, deadBelow: number): number {
  const { first: a, second: b } = p;
  const r1 = perChannelMaxAbs(a.weights, a.layout.outChannels, a.layout.outOf);
  const r2 = perChannelMaxAbs(b.weights, b.layout.inChannels, b.layout.inOf);
  const s = equalizationScales(r1, r2, deadBelow);
  const inv = reciprocal(s);
  a.weights = scaleChannels(a.weights, inv, a.layout.outOf);
  if (a.bias) a.bias = scaleChannels(a.bias, inv, (k) => k);
  b.weights = scaleChannels(b.weights, s, b.layout.inOf);
  for (let i = 0; i < s.length; i++) p.total[i] *= s[i];
  return maxLogScale(s);
}

function spreads(p: Pair, deadBelow: number): { first: number; second: number } {
  return {
    first: rangeSpread(perChannelMaxAbs(p.first.weights, p.first.layout.outChannels, p.first.layout.outOf), deadBelow),
    second: rangeSpread(perChannelMaxAbs(p.second.weights, p.second.layout.inChannels, p.second.layout.inOf), deadBelow),
  };
}

/** A tensor name not used yet. */
function freshName(g: Graph, base: string): string {
  if (!g.tensors.has(base)) return base;
  for (let i = 1; ; i++) if (!g.tensors.has(`${base}_${i}`)) return `${base}_${i}`;
}

/** Writes each equalised layer's arrays as new constants read by that layer only. */
function writeLayers(g: Graph, pairs: Pair[]): void {
  const layers = new Set(pairs.flatMap((p) => [p.first, p.second]));
  for (const l of layers) {
    const w = g.tensors.get(l.node.inputs[1])!;
    const wName = freshName(g, `${l.node.name}/equalized_weights`);
    g.tensors.set(wName, { name: wName, shape: [...w.shape], dtype: 'float32', data: l.weights });
    const inputs = [l.node.inputs[0], wName];
    if (l.bias) {
      const bName = freshName(g, `${l.node.name}/equalized_bias`);
      g.tensors.set(bName, { name: bName, shape: [...g.tensors.get(l.node.inputs[2])!.shape], dtype: 'float32', data: l.bias });
      inputs.push(bName);
    }
    l.node.inputs = [...inputs, ...l.node.inputs.slice(inputs.length)];
  }
}

/**
 * For a pair through a fused ReLU6 (relu6: 'clip'): W1 writes relu(y / S) (relu6 when every S_i >= 1)
 * to a new tensor, and Minimum(that, 6 / S) writes W1's old output.
 */
function moveClip(g: Graph, p: Pair): void {
  const n1 = p.first.node;
  if (p.total.every((v) => v === 1)) return;
  const out = n1.outputs[0];
  const inner = freshName(g, `${n1.name}/equalized`);
  const bound = freshName(g, `${n1.name}/equalized_clip`);
  g.tensors.set(inner, { ...g.tensors.get(out)!, name: inner, shape: [...g.tensors.get(out)!.shape] });
  g.tensors.set(bound, { name: bound, shape: [p.total.length], dtype: 'float32', data: Float32Array.from(p.total, (v) => 6 / v) });
  n1.attrs = { ...n1.attrs, activation: p.total.every((v) => v >= 1) ? 'relu6' : 'relu' };
  n1.outputs = [inner];
  const clip = { name: `${n1.name}/equalized_clip`, op: 'Minimum', inputs: [inner, bound], outputs: [out], attrs: {} };
  g.nodes.splice(g.nodes.indexOf(n1) + 1, 0, clip);
}

/**
 * Cross-layer equalization of every equalisable pair (see the header). Returns a new graph (the input
 * is not changed) and what was done; a graph without pairs comes back equal, with a note saying so.
 */
export function equalizeCrossLayer(graph: Graph, options: EqualizeOptions = {}): { graph: Graph; report: EqualizeReport } {
  const maxIterations = options.maxIterations ?? 300;
  const tolerance = options.tolerance ?? 1e-3;
  const deadBelow = options.deadBelow ?? 1e-5;
  const g = cloneGraph(graph);
  const { pairs, skipped } = findEqualizablePairs(g, options.relu6 ?? 'skip');
  const before = pairs.map((p) => spreads(p, deadBelow));
  let iterations = 0;
  let lastStep = 0;
  while (pairs.length > 0 && iterations < maxIterations) {
    iterations++;
    lastStep = 0;
    for (const p of pairs) lastStep = Math.max(lastStep, equalizePair(p, deadBelow));
    if (lastStep < tolerance) break;
  }
  writeLayers(g, pairs);
  for (const p of pairs) if (p.clip) moveClip(g, p);
  pruneTensors(g);
  const converged = lastStep < tolerance;
  const notes = pairs.length === 0
    ? [`cross-layer equalization: no equalisable pairs of weighted layers (${skipped.length} weighted layers looked at)`]
    : [`cross-layer equalization: ${pairs.length} pairs, ${iterations} sweeps${converged ? '' : ` (not converged: last step ${lastStep.toExponential(2)})`}`];
  g.meta = { ...g.meta, notes: [...g.meta.notes, ...notes] };
  const report: EqualizeReport = {
    pairs: pairs.map((p, i) => ({
      first: p.first.node.name, second: p.second.node.name, through: p.through, channels: p.first.layout.outChannels,
      spreadBefore: before[i], spreadAfter: spreads(p, deadBelow),
    })),
    skipped, iterations, converged, lastStep, notes,
  };
  return { graph: g, report };
}
