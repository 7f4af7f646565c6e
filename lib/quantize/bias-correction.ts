// Empirical bias correction, a plan pass (between planFor and writePlan):
//
//   for every int8/int16 weighted op (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, unfolded BatchNorm)
//   error_c = mean over samples and positions of (integer output - float output) in channel c,
//   bias_c <- bias_c - error_c, re-quantized with the same scale (input scale x weight scale).
//
// The integer output is what LiteRT computes from the plan's own model (a copy with the weighted ops'
// outputs exposed), so the error is everything quantization adds there: weight rounding, the rounding
// of the op's (upstream-quantized) input, the kernel's fixed-point arithmetic. The float output is the
// float graph's same tensor on the same input, clamped to what the output's parameters represent:
// clipping by the calibrated range is a choice of the range, not a bias to undo. Because the error is
// a difference of per-channel means, the float means are computed once and each pass runs only the
// integer model.
//
// Two schedules:
//   'sequential' (layer by layer, upstream first): the ops are grouped by their weighted depth (the
//     number of weighted ops on the longest path from the input, them included); one pass per depth
//     measures the ops of that depth in the model whose shallower ops are already corrected, so each
//     op removes only the error that remains once everything above it is corrected. Cost: one
//     integer-model pass over the samples per depth (YOLOv5n: 50).
//   'one-shot': one pass measures every op in the uncorrected model and corrects all at once. An op's
//     error then includes what its upstream ops' errors caused, which their own corrections remove
//     too, so deep ops over-correct: the mean residual error after one-shot correction was 4.2x
//     (YOLOv5n) and 6.8x (YOLOv8n) the error before it (bench/RESULTS.md); repeating passes diverges.
//   'local': one pass; each op's float reference is the float op run on the integer model's own
//     (dequantized) input to it, so the error is only what the op adds (weight rounding, arithmetic,
//     output rounding), not what reaches it from upstream (which upstream corrections or nothing
//     can fix: e.g. activations clipped by their calibrated ranges). All ops are corrected at once.
import { createFloatExecutor, type FloatExecutor } from '../graph/execute.js';
import type { Graph, IrNode, IrTensor } from '../ir/graph.js';
import { TfliteRunner, type RuntimeArray } from '../runtime/index.js';
import { ACTIVATION_LIMITS, type QuantDType } from '../int8/arithmetic.js';
import { floatToInput, quantizeInput } from '../pipeline/quantize.js';
import { datasetInputs, plainImageSource, type RepresentativeDataset } from './dataset.js';
import type { ImageSourceResolver } from './plugin.js';
import { biasTensor, type PlannedOp, type PlannedTensor, type QuantPlan } from './plan.js';
import { nowSeconds } from '../util/clock.js';

export type BiasCorrectionMode = 'sequential' | 'one-shot' | 'local';
export const BIAS_CORRECTION_MODES: readonly BiasCorrectionMode[] = ['sequential', 'one-shot', 'local'];

export interface BiasCorrectionSettings {
  /** Calibration samples the errors are measured on (the first ones). */
  samples: number;
  /** 'sequential' (layer by layer, upstream first), 'one-shot' (all layers from one measurement) or 'local' (each op's own error). */
  mode: BiasCorrectionMode;
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

export interface BiasCorrectionReport {
  /** Layers whose bias was changed. */
  layers: number;
  /** Weighted integer ops considered (corrected or skipped). */
  candidates: number;
  skipped: { node: string; reason: string }[];
  samples: number;
  mode: BiasCorrectionMode;
  /** Integer-model passes over the samples (sequential: the greatest weighted depth; one-shot: 1). */
  passes: number;
  /** Mean over corrected layers of |correction| in bias steps. */
  meanAbsCorrectionBiasSteps: number;
  /** Mean over corrected layers of |correction| in output steps. */
  meanAbsCorrectionOutputSteps: number;
  /** Mean over layers and channels of |mean error| in output steps, as measured for the correction. */
  meanAbsErrorSteps: number;
  seconds: number;
  perLayer: BiasCorrectionLayer[];
}

interface Target {
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

/** A copy of the plan whose `changed` bias entries replace the originals (everything else shared). */
function withBiases(plan: QuantPlan, changed: Map<string, PlannedTensor>): QuantPlan {
  const tensors = new Map(plan.tensors);
  for (const [k, t] of changed) tensors.set(k, t);
  return { ...plan, tensors, notes: [...plan.notes] };
}

/**
 * Returns a copy of `plan` whose int8/int16 weighted ops have empirically corrected biases, and what
 * changed. `write` turns a plan into a .tflite (no file check needed); `inputs` yields the calibration
 * inputs (float, as the float graph takes them) and is called once per pass plus once for the float
 * means, so it must start from the first sample each time.
 */
export async function correctBiases(
  plan: QuantPlan,
  graph: Graph,
  options: {
    floatExec: FloatExecutor;
    inputs: () => AsyncIterable<Float32Array>;
    write: (plan: QuantPlan) => Uint8Array;
    settings: BiasCorrectionSettings;
  },
): Promise<{ plan: QuantPlan; report: BiasCorrectionReport }> {
  const t0 = nowSeconds();
  const { samples: maxSamples, mode } = options.settings;
  if (!(Number.isInteger(maxSamples) && maxSamples >= 1)) throw new Error(`bias correction: samples must be an integer >= 1, got ${maxSamples}`);
  if (!BIAS_CORRECTION_MODES.includes(mode)) throw new Error(`bias correction: mode must be one of ${BIAS_CORRECTION_MODES.join(', ')}, got ${String(mode)}`);
  const nodes = new Map(graph.nodes.map((n) => [n.name, n]));
  const skipped: { node: string; reason: string }[] = [];
  const targets: Target[] = [];
  let candidates = 0;
  for (const step of plan.steps) {
    if (step.kind !== 'op' || !step.weights || !step.bias) continue;
    if (step.precision === 'float') continue;
    candidates++;
    const node = nodes.get(step.node);
    const output = step.outputs[0];
    const out = plan.tensors.get(output);
    const bias = plan.tensors.get(step.bias)!;
    const weights = plan.tensors.get(step.weights)!;
    const activation = node?.attrs.activation ?? 'none';
    if (activation !== 'none') {
      // The float and integer outputs are after the fused activation: their mean difference is not
      // the pre-activation bias error.
      skipped.push({ node: step.node, reason: `fused activation ${String(activation)}` });
      continue;
    }
    if (!out?.scale || (out.dtype !== 'int8' && out.dtype !== 'int16') || !bias.floatData || bias.origin.kind !== 'bias') {
      skipped.push({ node: step.node, reason: 'output or bias not integer' });
      continue;
    }
    const channels = bias.floatData.length;
    if (out.shape.at(-1) !== channels) {
      skipped.push({ node: step.node, reason: `output channels ${out.shape.at(-1)} != bias length ${channels}` });
      continue;
    }
    const inScale = plan.tensors.get(bias.origin.input)?.scale?.[0];
    if (!inScale) {
      skipped.push({ node: step.node, reason: 'input has no scale' });
      continue;
    }
    const weightScales = weights.scale!.length === channels ? [...weights.scale!] : new Array(channels).fill(weights.scale![0]);
    const limits = ACTIVATION_LIMITS[out.dtype as QuantDType];
    const scale = out.scale[0];
    const zeroPoint = out.zeroPoint![0];
    targets.push({
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
    });
  }
  const maxDepth = assignDepths(plan, targets);
  const empty = (): BiasCorrectionReport => ({
    layers: 0, candidates, skipped, samples: 0, mode, passes: 0, meanAbsCorrectionBiasSteps: 0, meanAbsCorrectionOutputSteps: 0,
    meanAbsErrorSteps: 0, seconds: nowSeconds() - t0, perLayer: [],
  });
  if (targets.length === 0) return { plan, report: empty() };

  // Float means per channel (clamped to each output's representable range), once.
  const byOutput = new Map(targets.map((t) => [t.output, t]));
  let samples = 0;
  // ('local' has no whole-graph float reference: its samples are counted as it reads them.)
  for await (const x of mode === 'local' ? [] : options.inputs()) {
    if (samples >= maxSamples) break;
    await options.floatExec.stream(x, {
      fetch: [],
      onTensor: (name, data) => {
        const t = byOutput.get(name);
        if (!t) return;
        const c = t.channels;
        const m = t.floatMean;
        for (let i = 0; i < data.length; i++) {
          const v = data[i];
          m[i % c] += v < t.lo ? t.lo : v > t.hi ? t.hi : v;
        }
      },
    });
    samples++;
  }
  if (samples === 0 && mode !== 'local') return { plan, report: empty() };
  for (const t of targets) {
    const perChannel = (graph.tensors.get(t.output)!.shape.reduce((a, b) => a * b, 1) / t.channels) * samples;
    for (let c = 0; c < t.channels; c++) t.floatMean[c] /= perChannel;
  }

  const measured = new Map<string, number>();
  let current = plan;
  let passCount = 0;
  if (mode === 'local') {
    const local = await correctLocally(plan, graph, targets, options, maxSamples, measured);
    if (local.samples === 0) return { plan, report: empty() };
    current = local.plan;
    samples = local.samples;
    passCount = 1;
  }
  // Passes: measure the integer means of the current plan for a group of ops, move each bias by its error.
  const groups = mode === 'local' ? [] : mode === 'one-shot' ? [targets] : Array.from({ length: maxDepth }, (_, d) => targets.filter((t) => t.depth === d + 1)).filter((g) => g.length);
  for (const [pass, group] of groups.entries()) {
    // Only what the group's outputs need is written and run (the deeper layers and the head are not).
    const debug = prefixPlan(current, group.map((t) => t.output));
    const runner = await TfliteRunner.load(options.write(debug), { label: 'bias correction model' });
    const intSum = group.map((t) => new Float64Array(t.channels));
    const slot = group.map((t) => debug.outputs.indexOf(t.output));
    let n = 0;
    try {
      for await (const x of options.inputs()) {
        if (n >= samples) break;
        const outs = await runner.run([floatToInput(x, runner.inputs[0])]);
        group.forEach((t, k) => {
          const q = outs[slot[k]];
          const m = intSum[k];
          const c = t.channels;
          for (let i = 0; i < q.length; i++) m[i % c] += q[i];
        });
        n++;
      }
    } finally {
      runner.dispose();
    }
    if (n !== samples) throw new Error(`bias correction: the calibration inputs gave ${n} samples on pass ${pass + 1}, ${samples} before`);
    const changed = new Map<string, PlannedTensor>();
    group.forEach((t, k) => {
      const perChannel = valuesPerChannel(graph, t) * samples;
      measured.set(t.node, subtractError(t, current, changed, (c) => (intSum[k][c] / perChannel - t.zeroPoint) * t.scale - t.floatMean[c]));
    });
    current = withBiases(current, changed);
    passCount++;
  }

  // What changed, in bias steps (int32/int64 units) and in output steps.
  const perLayer: BiasCorrectionLayer[] = [];
  let layers = 0;
  for (const t of targets) {
    const before = plan.tensors.get(t.step.bias!)!.data!;
    const after = current.tensors.get(t.step.bias!)!.data!;
    let steps = 0;
    let outSteps = 0;
    let any = false;
    for (let c = 0; c < t.channels; c++) {
      const d = Number(after[c]) - Number(before[c]);
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
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  current.notes.push(`bias correction (${mode}): ${layers} of ${candidates} weighted layers corrected on ${samples} calibration samples`);
  return {
    plan: current,
    report: {
      layers,
      candidates,
      skipped,
      samples,
      mode,
      passes: passCount,
      meanAbsCorrectionBiasSteps: mean(perLayer.map((l) => l.correctionBiasSteps)),
      meanAbsCorrectionOutputSteps: mean(perLayer.map((l) => l.correctionOutputSteps)),
      meanAbsErrorSteps: mean(perLayer.map((l) => l.errorSteps)),
      seconds: nowSeconds() - t0,
      perLayer,
    },
  };
}

/** 'local': the float reference of each op is the op itself on the integer model's input to it. */
async function correctLocally(
  plan: QuantPlan,
  graph: Graph,
  targets: Target[],
  options: { floatExec: FloatExecutor; inputs: () => AsyncIterable<Float32Array>; write: (plan: QuantPlan) => Uint8Array },
  maxSamples: number,
  measured: Map<string, number>,
): Promise<{ plan: QuantPlan; samples: number }> {
  // The weighted ops alone, each reading its own graph input (the integer model's input to it, dequantized).
  const tensors = new Map<string, IrTensor>();
  const nodes: IrNode[] = [];
  const feeds: { key: string; input: string; scale: number; zeroPoint: number }[] = [];
  const nodeOf = new Map(graph.nodes.map((n) => [n.name, n]));
  targets.forEach((t, k) => {
    const node = nodeOf.get(t.node)!;
    const key = t.step.inputs[0];
    const planned = plan.tensors.get(key)!;
    const input = `bias-correction:in:${k}`;
    const output = `bias-correction:out:${k}`;
    const src = graph.tensors.get(node.inputs[0])!;
    tensors.set(input, { name: input, shape: src.shape, dtype: 'float32' });
    tensors.set(output, { name: output, shape: graph.tensors.get(t.output)!.shape, dtype: 'float32' });
    for (const i of node.inputs.slice(1)) tensors.set(i, graph.tensors.get(i)!);
    nodes.push({ ...node, inputs: [input, ...node.inputs.slice(1)], outputs: [output] });
    feeds.push({ key, input, scale: planned.scale![0], zeroPoint: planned.zeroPoint![0] });
  });
  const mini: Graph = { tensors, nodes, inputs: feeds.map((f) => f.input), outputs: nodes.map((n) => n.outputs[0]), meta: { ...graph.meta, notes: [] } };
  const exec = await createFloatExecutor(mini, { backend: options.floatExec.backend });
  const modelInput = plan.inputs[0];
  const exposed = [...new Set([...targets.map((t) => t.output), ...feeds.map((f) => f.key).filter((k) => !plan.inputs.includes(k) && k !== graph.inputs[0])])];
  const debug = prefixPlan(plan, exposed);
  const runner = await TfliteRunner.load(options.write(debug), { label: 'bias correction model' });
  const sums = targets.map((t) => new Float64Array(t.channels));
  let n = 0;
  try {
    for await (const x of options.inputs()) {
      if (n >= maxSamples) break;
      const fed = floatToInput(x, runner.inputs[0]);
      const outs = await runner.run([fed]);
      const valueOf = (key: string): RuntimeArray => {
        if (key === modelInput || key === graph.inputs[0]) {
          // The graph input: what the model input QUANTIZE (if any) makes of the fed values.
          if (key === modelInput) return fed;
          const p = plan.tensors.get(key)!;
          return quantizeInput(x, { dtype: 'int8', scale: p.scale![0], zeroPoint: p.zeroPoint![0] });
        }
        return outs[debug.outputs.indexOf(key)];
      };
      const record: Record<string, Float32Array> = {};
      for (const f of feeds) {
        const q = valueOf(f.key);
        record[f.input] = Float32Array.from(q, (v) => (v - f.zeroPoint) * f.scale);
      }
      const ref = await exec.run(record);
      targets.forEach((t, k) => {
        const q = outs[debug.outputs.indexOf(t.output)];
        const f = ref[mini.outputs[k]];
        const m = sums[k];
        const c = t.channels;
        for (let i = 0; i < q.length; i++) {
          const v = f[i] < t.lo ? t.lo : f[i] > t.hi ? t.hi : f[i];
          m[i % c] += (q[i] - t.zeroPoint) * t.scale - v;
        }
      });
      n++;
    }
  } finally {
    runner.dispose();
    exec.dispose();
  }
  if (n === 0) return { plan, samples: 0 };
  const changed = new Map<string, PlannedTensor>();
  targets.forEach((t, k) => {
    const perChannel = valuesPerChannel(graph, t) * n;
    measured.set(t.node, subtractError(t, plan, changed, (c) => sums[k][c] / perChannel));
  });
  return { plan: withBiases(plan, changed), samples: n };
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
function assignDepths(plan: QuantPlan, targets: Target[]): number {
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

/**
 * Whether a representative dataset can be read again from its start: a path or a list (of files or of
 * tensors) can; any other iterable is treated as one-shot (an iterator is consumed by calibration), so
 * the first samples must be kept while calibrating (calibrateGraph's keepInputs).
 */
export function isReiterable(dataset: RepresentativeDataset): boolean {
  return typeof dataset === 'string' || Array.isArray(dataset);
}

/** The inputs bias correction reads, from the start each time: the dataset again, or the kept inputs. */
export function correctionInputs(
  dataset: RepresentativeDataset,
  inputShape: number[],
  kept: Float32Array[] | undefined,
  resolve: ImageSourceResolver = plainImageSource,
): (() => AsyncIterable<Float32Array>) | undefined {
  if (isReiterable(dataset)) return () => datasetInputs(dataset, inputShape, { used: 0, skipped: [] }, resolve);
  if (!kept) return undefined;
  return async function* () {
    yield* kept;
  };
}

/** Output values per channel of one pass (elements of the output tensor / channels). */
function valuesPerChannel(graph: Graph, t: { output: string; channels: number }): number {
  return graph.tensors.get(t.output)!.shape.reduce((a, b) => a * b, 1) / t.channels;
}

/**
 * Subtracts the measured mean error of each channel from the layer's float bias and plans the
 * re-quantized bias (same scale) into `changed`; returns the mean |error| in output steps.
 */
function subtractError(
  t: { node: string; channels: number; scale: number; bias: Float32Array; step: { bias?: string }; inputScale: number; weightScales: number[]; biasDType: 'int32' | 'int64' },
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
  changed.set(t.step.bias!, biasTensor(old.name, Float32Array.from(t.bias), t.inputScale, t.weightScales, t.biasDType, origin.input, origin.weights, true));
  return layerErr / t.channels;
}
