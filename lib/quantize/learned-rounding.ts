// Learned rounding of weights, a plan pass (between planFor and bias correction / writePlan): for every
// int8/int16 CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and TRANSPOSE_CONV op, each weight rounds
// down or up (instead of to nearest) so that the layer's output on the calibration images' float
// inputs changes least (rounding-search.ts). Only the integer weights the plan will write change;
// scales, biases and the float graph do not.
//
// Data: one float pass per calibration image collects, for every target layer, the rows (im2col at
// sampled output positions, layer-rows.ts) of its float input. Every fourth image is held out: its
// rows are not fitted, and a channel keeps its learned rounding only when it lowers the error on the
// fitted rows and does not raise it on the held-out ones (otherwise it keeps nearest). So on its
// calibration data no channel's, and hence no layer's, output error is larger than with nearest rounding.
// Bounds: `samples` images, `rows` fitted rows per layer (a quarter as many held out), at most
// MAX_LAYER_VALUES values of rows per layer (wide layers get fewer rows), `sweeps` passes per channel,
// no layer with more than MAX_GRAM_COLUMNS inputs per output channel.
import type { FloatExecutor } from '../graph/execute.js';
import type { Graph, IrNode } from '../ir/graph.js';
import type { OpQuant } from '../ops/types.js';
import { WEIGHT_QMAX, WEIGHT_QMIN } from '../int8/arithmetic.js';
import { nowSeconds } from '../util/clock.js';
import type { PlannedOp, PlannedTensor, QuantPlan } from './plan.js';
import { layerRows, ROUNDING_OPS, samplePositions, type LayerRows } from './layer-rows.js';
import { channelSignal, gramOf, roundingError, searchChannelRounding, sumOfSquares, type ChannelWeights, type InputColumns } from './rounding-search.js';
import type { ModelSample } from './dataset.js';

export interface LearnedRoundingSettings {
  /** Calibration images read (the first ones); every fourth is held out. At least 4. */
  samples: number;
  /** Fitted rows (sampled output positions over the images) per layer. */
  rows: number;
  /** Coordinate-descent passes over each channel's weights. */
  sweeps: number;
}

export const LEARNED_ROUNDING_DEFAULTS: Readonly<LearnedRoundingSettings> = { samples: 16, rows: 1024, sweeps: 4 };
/** Fewer images leave no held-out image to check the fit on. */
export const LEARNED_ROUNDING_MIN_SAMPLES = 4;
/** Row values kept per layer (float32): 8M = 32 MB; a layer wider than this / 64 rows is skipped. */
const MAX_LAYER_VALUES = 8 * 1024 * 1024;
const MIN_ROWS = 64;
/** Inputs per output channel above which the Gram matrix (K^2 float64: 4608 -> 170 MB) is not built. */
const MAX_GRAM_COLUMNS = 4608;

export interface LearnedRoundingLayer {
  node: string;
  op: string;
  channels: number;
  /** Channels whose learned rounding was kept (the others keep nearest). */
  channelsChanged: number;
  /** Weights rounded the other way than nearest, in the kept channels. */
  weightsFlipped: number;
  fitRows: number;
  heldOutRows: number;
  /** Layer output SQNR (dB) against the float weights' output, nearest -> learned, on fitted and held-out rows. */
  fitSqnrBeforeDb: number;
  fitSqnrAfterDb: number;
  heldOutSqnrBeforeDb: number;
  heldOutSqnrAfterDb: number;
}

export interface LearnedRoundingReport {
  applied: boolean;
  /** Why nothing was done (too few images, no weighted layers). */
  reason?: string;
  samples: number;
  settings: LearnedRoundingSettings;
  layers: LearnedRoundingLayer[];
  skipped: { node: string; reason: string }[];
  seconds: number;
}

export interface LearnRoundingOptions {
  floatExec: FloatExecutor;
  /** The calibration inputs from the first one (float, as the float graph takes them). */
  inputs: () => AsyncIterable<ModelSample>;
  quantOf: (node: IrNode) => OpQuant;
  settings: LearnedRoundingSettings;
  /** Calibration images available (the pass reads min(samples, this)). */
  available: number;
  onProgress?: (step: string, done: number, total: number) => void;
}

interface Target {
  step: PlannedOp;
  node: IrNode;
  rows: LayerRows;
  fitPerImage: number;
  heldPerImage: number;
  fit: InputColumns;
  held: InputColumns;
  fitFilled: number;
  heldFilled: number;
}

/** Checks the settings; throws a one-line error naming the bad one. */
export function checkLearnedRoundingSettings(s: LearnedRoundingSettings, where: string): void {
  const bad = (k: keyof LearnedRoundingSettings, min: number) => !(Number.isInteger(s[k]) && s[k] >= min);
  if (bad('samples', LEARNED_ROUNDING_MIN_SAMPLES)) throw new Error(`${where}: learnedRounding.samples must be an integer >= ${LEARNED_ROUNDING_MIN_SAMPLES}, got ${String(s.samples)}`);
  if (bad('rows', MIN_ROWS)) throw new Error(`${where}: learnedRounding.rows must be an integer >= ${MIN_ROWS}, got ${String(s.rows)}`);
  if (bad('sweeps', 1)) throw new Error(`${where}: learnedRounding.sweeps must be an integer >= 1, got ${String(s.sweeps)}`);
}

/** A copy of `plan` whose eligible weights are rounded to minimise each layer's output error on calibration data, and what changed. */
export async function learnRounding(plan: QuantPlan, graph: Graph, options: LearnRoundingOptions): Promise<{ plan: QuantPlan; report: LearnedRoundingReport }> {
  const t0 = nowSeconds();
  const { settings } = options;
  const images = Math.min(settings.samples, options.available);
  const report = (r: Partial<LearnedRoundingReport>): LearnedRoundingReport => ({ applied: false, samples: 0, settings, layers: [], skipped: [], seconds: nowSeconds() - t0, ...r });
  if (images < LEARNED_ROUNDING_MIN_SAMPLES) {
    const reason = `needs at least ${LEARNED_ROUNDING_MIN_SAMPLES} calibration images (one held out per four), has ${images}`;
    return { plan: withNote(plan, `learned rounding: not applied: ${reason}`), report: report({ reason }) };
  }
  const { targets, skipped } = roundingTargets(plan, graph, images, settings.rows);
  if (targets.length === 0) {
    const reason = skipped.length ? `no eligible weighted layer (${skipped.length} skipped)` : 'no weighted layers';
    return { plan: withNote(plan, `learned rounding: not applied: ${reason}`), report: report({ reason, skipped }) };
  }
  const read = await collectRows(targets, options, images);
  const tensors = new Map(plan.tensors);
  const layers: LearnedRoundingLayer[] = [];
  for (const [k, t] of targets.entries()) {
    options.onProgress?.('learned rounding', k, targets.length);
    const r = roundLayer(t, plan, graph, options);
    tensors.set(t.step.weights!, r.weights);
    layers.push(r.layer);
  }
  options.onProgress?.('learned rounding', targets.length, targets.length);
  const changed = layers.filter((l) => l.channelsChanged > 0).length;
  const out: QuantPlan = { ...plan, tensors, notes: [...plan.notes] };
  out.notes.push(`learned rounding: ${changed} of ${targets.length} weighted layers changed on ${read} calibration images (${skipped.length} skipped)`);
  return { plan: out, report: report({ applied: true, samples: read, layers, skipped }) };
}

function withNote(plan: QuantPlan, note: string): QuantPlan {
  return { ...plan, notes: [...plan.notes, note] };
}

/** The plan's integer weighted ops that learned rounding handles, their row buffers sized; the others with why. */
function roundingTargets(plan: QuantPlan, graph: Graph, images: number, rows: number): { targets: Target[]; skipped: { node: string; reason: string }[] } {
  const nodes = new Map(graph.nodes.map((n) => [n.name, n]));
  const heldImages = Math.floor(images / 4);
  const fitImages = images - heldImages;
  const targets: Target[] = [];
  const skipped: { node: string; reason: string }[] = [];
  for (const step of plan.steps) {
    if (step.kind !== 'op' || !step.weights || step.precision === 'float') continue;
    const node = nodes.get(step.node)!;
    const w = plan.tensors.get(step.weights)!;
    if (!ROUNDING_OPS.includes(node.op)) { skipped.push({ node: node.name, reason: `${node.op} is not a convolution or fully-connected layer` }); continue; }
    if (w.dtype !== 'int8' || !(w.data instanceof Int8Array)) { skipped.push({ node: node.name, reason: 'weights are not int8' }); continue; }
    const lr = layerRows(graph, node);
    if (node.op !== 'DepthwiseConv2D' && lr.columns > MAX_GRAM_COLUMNS) { skipped.push({ node: node.name, reason: `${lr.columns} inputs per output channel (more than ${MAX_GRAM_COLUMNS})` }); continue; }
    const layerRowsCap = Math.min(rows, Math.floor(MAX_LAYER_VALUES / lr.columns / 1.25));
    if (layerRowsCap < MIN_ROWS) { skipped.push({ node: node.name, reason: `${lr.columns} inputs per row leave fewer than ${MIN_ROWS} rows in the memory bound` }); continue; }
    const fitPerImage = Math.min(lr.positions, Math.ceil(layerRowsCap / fitImages));
    const heldPerImage = Math.min(lr.positions, Math.ceil(layerRowsCap / 4 / heldImages));
    const fitRows = fitPerImage * fitImages;
    const heldRows = heldPerImage * heldImages;
    targets.push({
      step, node, rows: lr, fitPerImage, heldPerImage,
      fit: { data: new Float32Array(fitRows * lr.columns), rows: fitRows, columns: lr.columns },
      held: { data: new Float32Array(heldRows * lr.columns), rows: heldRows, columns: lr.columns },
      fitFilled: 0, heldFilled: 0,
    });
  }
  return { targets, skipped };
}

/** One float pass per image fills every target's rows (image i is held out when i % 4 == 3); returns the images read. */
async function collectRows(targets: Target[], options: LearnRoundingOptions, images: number): Promise<number> {
  const byInput = new Map<string, Target[]>();
  for (const t of targets) byInput.set(t.node.inputs[0], [...(byInput.get(t.node.inputs[0]) ?? []), t]);
  let i = 0;
  for await (const x of options.inputs()) {
    if (i >= images) break;
    const held = i % 4 === 3;
    await options.floatExec.stream(x, {
      fetch: [],
      onTensor: (name, data) => {
        for (const t of byInput.get(name) ?? []) {
          const cols = held ? t.held : t.fit;
          const at = held ? t.heldFilled : t.fitFilled;
          const ps = samplePositions(t.rows.positions, held ? t.heldPerImage : t.fitPerImage, i);
          ps.forEach((p, j) => t.rows.fill(data, p, cols.data, cols.rows, at + j));
          if (held) t.heldFilled += ps.length;
          else t.fitFilled += ps.length;
        }
      },
    });
    i++;
    options.onProgress?.('learned rounding: reading images', i, images);
  }
  if (i < images) throw new Error(`learned rounding: the calibration inputs gave ${i} images, ${images} expected`);
  return i;
}

/** How channel c's weights sit in the plan's weight array and which row column each reads. */
function channelIndex(node: IrNode, graph: Graph, w: PlannedTensor, columns: number): (c: number) => { index: Int32Array; column: Int32Array } {
  if (node.op === 'DepthwiseConv2D') {
    // [1, kh, kw, O]: weight (p, o) at p O + o reads column p C + floor(o / multiplier).
    const O = w.shape[3];
    const taps = w.shape[1] * w.shape[2];
    const C = graph.tensors.get(node.inputs[0])!.shape[3];
    const mult = O / C;
    return (c) => ({
      index: Int32Array.from({ length: taps }, (_, p) => p * O + c),
      column: Int32Array.from({ length: taps }, (_, p) => p * C + Math.floor(c / mult)),
    });
  }
  // OHWI / [O, I]: channel c's weights are contiguous and read the columns in order.
  return (c) => ({ index: Int32Array.from({ length: columns }, (_, k) => c * columns + k), column: Int32Array.from({ length: columns }, (_, k) => k) });
}

function sqnrDb(signal: number, noise: number): number {
  return noise > 0 ? 10 * Math.log10(signal / noise) : Infinity;
}

/** One layer: every channel searched on the fitted rows, kept when better there and not worse on the held-out rows. */
function roundLayer(t: Target, plan: QuantPlan, graph: Graph, options: LearnRoundingOptions): { weights: PlannedTensor; layer: LearnedRoundingLayer } {
  const planned = plan.tensors.get(t.step.weights!)!;
  const nearest = planned.data as Int8Array;
  const floatW = options.quantOf(t.node).weighted!.weights(t.node, (n) => graph.tensors.get(n)!).data;
  const channels = planned.shape[planned.axis ?? 0];
  const indexOf = channelIndex(t.node, graph, planned, t.rows.columns);
  // Conv / FC channels read every column: one Gram matrix for the layer; depthwise channels read
  // their own input channel's taps: one per distinct column set.
  const grams = new Map<string, Float64Array>();
  const gramFor = (column: Int32Array) => {
    const key = t.node.op === 'DepthwiseConv2D' ? String(column[0]) : 'all';
    let g = grams.get(key);
    if (!g) grams.set(key, (g = gramOf(t.fit, column)));
    return g;
  };
  const out = Int8Array.from(nearest);
  const sums = { fitSignal: 0, fitBefore: 0, fitAfter: 0, heldSignal: 0, heldBefore: 0, heldAfter: 0 };
  let channelsChanged = 0;
  let weightsFlipped = 0;
  for (let c = 0; c < channels; c++) {
    const { index, column } = indexOf(c);
    const ch: ChannelWeights = {
      w: Float32Array.from(index, (i) => floatW[i]),
      nearest: Int32Array.from(index, (i) => nearest[i]),
      column,
      scale: planned.scale!.length > 1 ? planned.scale![c] : planned.scale![0],
      qmin: WEIGHT_QMIN,
      qmax: WEIGHT_QMAX,
    };
    const zero = new Int32Array(index.length);
    const gram = gramFor(column);
    const found = searchChannelRounding(gram, ch, options.settings.sweeps);
    const heldBefore = sumOfSquares(roundingError(t.held, ch, ch.nearest));
    const heldAfter = found.flipped ? sumOfSquares(roundingError(t.held, ch, found.q)) : heldBefore;
    const keep = found.flipped > 0 && found.errorAfter < found.errorBefore && heldAfter <= heldBefore;
    sums.fitSignal += channelSignal(gram, ch);
    sums.heldSignal += sumOfSquares(roundingError(t.held, ch, zero));
    sums.fitBefore += found.errorBefore;
    sums.heldBefore += heldBefore;
    sums.fitAfter += keep ? found.errorAfter : found.errorBefore;
    sums.heldAfter += keep ? heldAfter : heldBefore;
    if (!keep) continue;
    channelsChanged++;
    weightsFlipped += found.flipped;
    index.forEach((i, k) => (out[i] = found.q[k]));
  }
  const weights: PlannedTensor = { ...planned, data: out, origin: channelsChanged ? { ...(planned.origin as Extract<PlannedTensor['origin'], { kind: 'weights' }>), learnedRounding: true } : planned.origin };
  return {
    weights,
    layer: {
      node: t.node.name, op: t.node.op, channels, channelsChanged, weightsFlipped, fitRows: t.fit.rows, heldOutRows: t.held.rows,
      fitSqnrBeforeDb: sqnrDb(sums.fitSignal, sums.fitBefore), fitSqnrAfterDb: sqnrDb(sums.fitSignal, sums.fitAfter),
      heldOutSqnrBeforeDb: sqnrDb(sums.heldSignal, sums.heldBefore), heldOutSqnrAfterDb: sqnrDb(sums.heldSignal, sums.heldAfter),
    },
  };
}
