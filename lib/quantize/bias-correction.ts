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
import { quantizeInput } from '../pipeline/quantize.js';
import { runnerInputs, type ModelSample } from './dataset.js';
import type { PlannedTensor, QuantPlan } from './plan.js';
import {
  assignDepths, biasChanges, biasTargets, prefixPlan, subtractError, valuesPerChannel, withBiases, type BiasCorrectionLayer, type BiasTarget,
} from './bias-plan.js';
import { nowSeconds } from '../util/clock.js';

export type { BiasCorrectionLayer };
export { prefixPlan };

export type BiasCorrectionMode = 'sequential' | 'one-shot' | 'local';
export const BIAS_CORRECTION_MODES: readonly BiasCorrectionMode[] = ['sequential', 'one-shot', 'local'];

export interface BiasCorrectionSettings {
  /** Calibration samples the errors are measured on (the first ones). */
  samples: number;
  /** 'sequential' (layer by layer, upstream first), 'one-shot' (all layers from one measurement) or 'local' (each op's own error). */
  mode: BiasCorrectionMode;
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

/** What correctBiases is given: the float graph's executor, the inputs, how a plan becomes a file, the settings. */
export interface CorrectBiasesOptions {
  floatExec: FloatExecutor;
  /** Model samples (one array per graph input), from the first each time it is called. */
  inputs: () => AsyncIterable<ModelSample>;
  write: (plan: QuantPlan) => Uint8Array;
  settings: BiasCorrectionSettings;
}

/**
 * Returns a copy of `plan` whose int8/int16 weighted ops have empirically corrected biases, and what
 * changed. `write` turns a plan into a .tflite (no file check needed); `inputs` yields the calibration
 * inputs (float, as the float graph takes them) and is called once per pass plus once for the float
 * means, so it must start from the first sample each time.
 */
export async function correctBiases(plan: QuantPlan, graph: Graph, options: CorrectBiasesOptions): Promise<{ plan: QuantPlan; report: BiasCorrectionReport }> {
  const t0 = nowSeconds();
  const { samples: maxSamples, mode } = options.settings;
  if (!(Number.isInteger(maxSamples) && maxSamples >= 1)) throw new Error(`bias correction: samples must be an integer >= 1, got ${maxSamples}`);
  if (!BIAS_CORRECTION_MODES.includes(mode)) throw new Error(`bias correction: mode must be one of ${BIAS_CORRECTION_MODES.join(', ')}, got ${String(mode)}`);
  const { targets, skipped, candidates } = biasTargets(plan, graph);
  const maxDepth = assignDepths(plan, targets);
  const empty = (): BiasCorrectionReport => ({
    layers: 0, candidates, skipped, samples: 0, mode, passes: 0, meanAbsCorrectionBiasSteps: 0, meanAbsCorrectionOutputSteps: 0,
    meanAbsErrorSteps: 0, seconds: nowSeconds() - t0, perLayer: [],
  });
  if (targets.length === 0) return { plan, report: empty() };

  const measured = new Map<string, number>();
  let corrected: { plan: QuantPlan; samples: number; passes: number };
  if (mode === 'local') {
    const local = await correctLocally(plan, graph, targets, options, maxSamples, measured);
    corrected = { ...local, passes: 1 };
  } else {
    // ('local' has no whole-graph float reference: its samples are counted as it reads them.)
    const samples = await floatMeans(graph, targets, options, maxSamples);
    if (samples === 0) return { plan, report: empty() };
    // Sequential: one group per weighted depth, upstream first; one-shot: every target at once.
    const groups = mode === 'one-shot' ? [targets] : Array.from({ length: maxDepth }, (_, d) => targets.filter((t) => t.depth === d + 1)).filter((g) => g.length);
    let current = plan;
    for (const [pass, group] of groups.entries()) current = await correctGroup(current, graph, group, options, { pass, samples }, measured);
    corrected = { plan: current, samples, passes: groups.length };
  }
  if (corrected.samples === 0) return { plan, report: empty() };
  const { perLayer, layers } = biasChanges(plan, corrected.plan, targets, measured);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  corrected.plan.notes.push(`bias correction (${mode}): ${layers} of ${candidates} weighted layers corrected on ${corrected.samples} calibration samples`);
  return {
    plan: corrected.plan,
    report: {
      layers,
      candidates,
      skipped,
      samples: corrected.samples,
      mode,
      passes: corrected.passes,
      meanAbsCorrectionBiasSteps: mean(perLayer.map((l) => l.correctionBiasSteps)),
      meanAbsCorrectionOutputSteps: mean(perLayer.map((l) => l.correctionOutputSteps)),
      meanAbsErrorSteps: mean(perLayer.map((l) => l.errorSteps)),
      seconds: nowSeconds() - t0,
      perLayer,
    },
  };
}

/**
 * The float graph's mean per channel of each target's output (clamped to what the output's
 * parameters represent) over the first `maxSamples` inputs, into target.floatMean; returns the
 * number of samples read.
 */
async function floatMeans(graph: Graph, targets: BiasTarget[], options: CorrectBiasesOptions, maxSamples: number): Promise<number> {
  const byOutput = new Map(targets.map((t) => [t.output, t]));
  let samples = 0;
  for await (const x of options.inputs()) {
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
  if (samples === 0) return 0;
  for (const t of targets) {
    const perChannel = valuesPerChannel(graph, t) * samples;
    for (let c = 0; c < t.channels; c++) t.floatMean[c] /= perChannel;
  }
  return samples;
}

/**
 * One pass: measures the integer means of the current plan for a group of targets (in LiteRT) and
 * moves each bias by its error; returns the corrected plan and records each target's error.
 */
async function correctGroup(
  current: QuantPlan,
  graph: Graph,
  group: BiasTarget[],
  options: CorrectBiasesOptions,
  at: { pass: number; samples: number },
  measured: Map<string, number>,
): Promise<QuantPlan> {
  const { samples } = at;
  // Only what the group's outputs need is written and run (the deeper layers and the head are not).
  const debug = prefixPlan(current, group.map((t) => t.output));
  const runner = await TfliteRunner.load(options.write(debug), { label: 'bias correction model' });
  const intSum = group.map((t) => new Float64Array(t.channels));
  const slot = group.map((t) => debug.outputs.indexOf(t.output));
  let n = 0;
  try {
    for await (const x of options.inputs()) {
      if (n >= samples) break;
      const outs = await runner.run(runnerInputs(x, runner.inputs));
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
  if (n !== samples) throw new Error(`bias correction: the calibration inputs gave ${n} samples on pass ${at.pass + 1}, ${samples} before`);
  const changed = new Map<string, PlannedTensor>();
  group.forEach((t, k) => {
    const perChannel = valuesPerChannel(graph, t) * samples;
    measured.set(t.node, subtractError(t, current, changed, (c) => (intSum[k][c] / perChannel - t.zeroPoint) * t.scale - t.floatMean[c]));
  });
  return withBiases(current, changed);
}

/** 'local': the float reference of each op is the op itself on the integer model's input to it. */
async function correctLocally(
  plan: QuantPlan,
  graph: Graph,
  targets: BiasTarget[],
  options: CorrectBiasesOptions,
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
  const exec = await createFloatExecutor(mini, { backend: options.floatExec.backend, activationViews: options.floatExec.activationViews });
  const isModelInput = (k: string) => plan.inputs.includes(k) || graph.inputs.includes(k);
  const exposed = [...new Set([...targets.map((t) => t.output), ...feeds.map((f) => f.key).filter((k) => !isModelInput(k))])];
  const debug = prefixPlan(plan, exposed);
  const runner = await TfliteRunner.load(options.write(debug), { label: 'bias correction model' });
  const sums = targets.map((t) => new Float64Array(t.channels));
  let n = 0;
  try {
    for await (const x of options.inputs()) {
      if (n >= maxSamples) break;
      const fed = runnerInputs(x, runner.inputs);
      const outs = await runner.run(fed);
      const valueOf = (key: string): RuntimeArray => {
        // A model input as fed; a graph input behind the model input's QUANTIZE as that makes it.
        if (plan.inputs.includes(key)) return fed[plan.inputs.indexOf(key)];
        if (graph.inputs.includes(key)) {
          const p = plan.tensors.get(key)!;
          return quantizeInput(x[graph.inputs.indexOf(key)], { dtype: 'int8', scale: p.scale![0], zeroPoint: p.zeroPoint![0] });
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

