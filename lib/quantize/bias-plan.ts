// Bias correction's plan surgery (no runtime here; the measurement is bias-correction.ts): which
// weighted ops are corrected, their weighted depths, the plan cut down to what a pass measures, a
// measured error subtracted from a bias and re-quantized with the same scale, and what changed.
import type { Graph, IrNode } from '../ir/graph.js';
import { ACTIVATION_LIMITS, type QuantDType } from '../int8/arithmetic.js';
import { biasTensor, type PlannedOp, type PlannedTensor, type QuantPlan } from './plan.js';

/** A weighted integer op whose bias is corrected: where its output is, its scales, its float bias as it changes. */
export interface BiasTarget {
  step: PlannedOp;
  node: string;
  output: string;
  channels: number;
  /** Dequantization and clamp limits of the output. */
  scale: number;
  zeroPoint: number;
  lo: number;
  hi: number;
  inputScale: number;
  weightScales: number[];
  biasDType: 'int32' | 'int64';
  floatMean: Float64Array;
  original: Float32Array;
  bias: Float32Array;
  depth: number;
}

/**
 * The int8/int16 weighted ops of a plan whose bias can be corrected, and the candidates skipped with
 * why. Depths are not set yet (assignDepths).
 */
export function biasTargets(plan: QuantPlan, graph: Graph): { targets: BiasTarget[]; skipped: { node: string; reason: string }[]; candidates: number } {
  const nodes = new Map(graph.nodes.map((n) => [n.name, n]));
  const skipped: { node: string; reason: string }[] = [];
  const targets: BiasTarget[] = [];
  let candidates = 0;
  for (const step of plan.steps) {
    if (step.kind !== 'op' || !step.weights || !step.bias) continue;
    if (step.precision === 'float') continue;
    candidates++;
    const target = biasTarget(plan, step, nodes.get(step.node));
    if (typeof target === 'string') skipped.push({ node: step.node, reason: target });
    else targets.push(target);
  }
  return { targets, skipped, candidates };
}

/** One weighted op as a target, or why it cannot be corrected. */
function biasTarget(plan: QuantPlan, step: PlannedOp, node: IrNode | undefined): BiasTarget | string {
  const output = step.outputs[0];
  const out = plan.tensors.get(output);
  const bias = plan.tensors.get(step.bias!)!;
  const weights = plan.tensors.get(step.weights!)!;
  const activation = node?.attrs.activation ?? 'none';
  // The float and integer outputs are after the fused activation: their mean difference is not
  // the pre-activation bias error.
  if (activation !== 'none') return `fused activation ${String(activation)}`;
  if (!out?.scale || (out.dtype !== 'int8' && out.dtype !== 'int16') || !bias.floatData || bias.origin.kind !== 'bias') return 'output or bias not integer';
  const channels = bias.floatData.length;
  if (out.shape.at(-1) !== channels) return `output channels ${out.shape.at(-1)} != bias length ${channels}`;
  const inScale = plan.tensors.get(bias.origin.input)?.scale?.[0];
  if (!inScale) return 'input has no scale';
  const weightScales = weights.scale!.length === channels ? [...weights.scale!] : new Array(channels).fill(weights.scale![0]);
  const limits = ACTIVATION_LIMITS[out.dtype as QuantDType];
  const scale = out.scale[0];
  const zeroPoint = out.zeroPoint![0];
  return {
    step,
    node: step.node,
    output,
    channels,
    scale,
    zeroPoint,
    lo: (limits.qmin - zeroPoint) * scale,
    hi: (limits.qmax - zeroPoint) * scale,
    inputScale: inScale,
    weightScales,
    biasDType: bias.dtype === 'int64' ? 'int64' : 'int32',
    floatMean: new Float64Array(channels),
    original: bias.floatData,
    bias: Float32Array.from(bias.floatData),
    depth: 0,
  };
}

export interface BiasCorrectionLayer {
  node: string;
  /** Mean over channels of |error| before correction (pass 1), in output steps. */
  errorSteps: number;
  /** Weighted depth (1: no weighted op above it). */
  depth: number;
  /** Mean over channels of |correction| in bias steps (input scale x weight scale). */
  correctionBiasSteps: number;
  /** The same correction in output steps (what it moves the output by). */
  correctionOutputSteps: number;
}

/** What changed per target between two plans, in bias steps (int32/int64 units) and output steps; and how many layers changed. */
export function biasChanges(before: QuantPlan, after: QuantPlan, targets: BiasTarget[], measured: Map<string, number>): { perLayer: BiasCorrectionLayer[]; layers: number } {
  const perLayer: BiasCorrectionLayer[] = [];
  let layers = 0;
  for (const t of targets) {
    const was = before.tensors.get(t.step.bias!)!.data!;
    const is = after.tensors.get(t.step.bias!)!.data!;
    let steps = 0;
    let outSteps = 0;
    let any = false;
    for (let c = 0; c < t.channels; c++) {
      const d = Number(is[c]) - Number(was[c]);
      if (d !== 0) any = true;
      steps += Math.abs(d);
      outSteps += Math.abs(t.bias[c] - t.original[c]) / t.scale;
    }
    if (any) layers++;
    perLayer.push({
      node: t.node,
      errorSteps: measured.get(t.node)!,
      depth: t.depth,
      correctionBiasSteps: steps / t.channels,
      correctionOutputSteps: outSteps / t.channels,
    });
  }
  return { perLayer, layers };
}

/** A copy of the plan whose `changed` bias entries replace the originals (everything else shared). */
export function withBiases(plan: QuantPlan, changed: Map<string, PlannedTensor>): QuantPlan {
  const tensors = new Map(plan.tensors);
  for (const [k, t] of changed) tensors.set(k, t);
  return { ...plan, tensors, notes: [...plan.notes] };
}

/** The plan cut down to the steps `outputs` depend on, with `outputs` as its only outputs. */
export function prefixPlan(plan: QuantPlan, outputs: string[]): QuantPlan {
  const needed = new Set(outputs);
  const keep: boolean[] = new Array(plan.steps.length).fill(false);
  for (let k = plan.steps.length - 1; k >= 0; k--) {
    const s = plan.steps[k];
    const outs = s.kind === 'op' ? s.outputs : [s.to];
    if (!outs.some((o) => needed.has(o))) continue;
    keep[k] = true;
    for (const i of s.kind === 'op' ? s.inputs : [s.from]) needed.add(i);
  }
  return { ...plan, outputs: [...outputs], steps: plan.steps.filter((_, k) => keep[k]) };
}

/** Sets each target's weighted depth (target ops on the longest path from the input, itself included); returns the greatest. */
export function assignDepths(plan: QuantPlan, targets: BiasTarget[]): number {
  const byNode = new Map(targets.map((t) => [t.node, t]));
  const level = new Map<string, number>();
  let max = 0;
  for (const s of plan.steps) {
    const inputs = s.kind === 'op' ? s.inputs : [s.from];
    const outputs = s.kind === 'op' ? s.outputs : [s.to];
    let l = 0;
    for (const i of inputs) l = Math.max(l, level.get(i) ?? 0);
    const t = s.kind === 'op' ? byNode.get(s.node) : undefined;
    if (t) t.depth = ++l;
    max = Math.max(max, l);
    for (const o of outputs) level.set(o, l);
  }
  return max;
}

/** Output values per channel of one pass (elements of the output tensor / channels). */
export function valuesPerChannel(graph: Graph, t: { output: string; channels: number }): number {
  return graph.tensors.get(t.output)!.shape.reduce((a, b) => a * b, 1) / t.channels;
}

/**
 * Subtracts the measured mean error of each channel from the layer's float bias and plans the
 * re-quantized bias (same scale) into `changed`; returns the mean |error| in output steps.
 */
export function subtractError(
  t: BiasTarget,
  plan: QuantPlan,
  changed: Map<string, PlannedTensor>,
  errorOf: (channel: number) => number,
): number {
  let layerErr = 0;
  for (let c = 0; c < t.channels; c++) {
    const error = errorOf(c);
    layerErr += Math.abs(error) / t.scale;
    t.bias[c] = Math.fround(t.bias[c] - error);
  }
  const old = plan.tensors.get(t.step.bias!)!;
  const origin = old.origin as Extract<PlannedTensor['origin'], { kind: 'bias' }>;
  const weightsPerChannel = (plan.tensors.get(origin.weights)?.scale?.length ?? 1) > 1;
  changed.set(t.step.bias!, biasTensor(old.name, Float32Array.from(t.bias), t.inputScale, t.weightScales, t.biasDType, origin.input, origin.weights, weightsPerChannel, true));
  return layerErr / t.channels;
}
