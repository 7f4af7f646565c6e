// Sensitivity analysis: for each quantized layer, the error it alone adds to the model's outputs.
//
// Two ways to isolate a layer (both from one calibration, see variants.ts):
//   'raise-one': the int8 model with only that layer raised (to int16 or float, with the readers that
//                carry its output raised to int16): the layer's error is the output noise removed.
//   'only-int8': the float model with only that layer in int8: the layer's error is the output noise
//                it brings (including the int8 rounding of its inputs, which an int8 layer reads).
// Either way the result per layer is an SQNR in dB of the error that layer alone adds: 10 log10 of
// the float outputs' power over the added noise power (summed over every output and image); lower
// is more sensitive. With a labelled set (`data`) and a task metric (the plug-in's, plugin.ts), the
// worst layers also get the metric points they cost.
import type { BackendName } from '../graph/backend.js';
import type { IrNode } from '../ir/graph.js';
import type { CalibrationMethod } from '../calibrate/calibrate.js';
import { modelInputShapes, modelSamples, plainImageSource, type ModelInputShape, type ModelSample, type RepresentativeDataset } from './dataset.js';
import { closeNames, namePattern, resolveRecipe, type QuantRecipe } from './recipe.js';
import type { Precision } from '../ops/types.js';
import { assertOneInput, callerInputRange, calibrateGraph, imageSourceOf, prepareGraph, type CalibratedGraph, type ModelSource } from './stages.js';
import type { InputNormalization } from '../graph/passes/normalize-input.js';
import { NO_PLUGIN, type ImageSourceResolver, type Metric, type MetricValues, type QuantizerPlugin, type ScoredSet, type ValidationSetSpec } from './plugin.js';
import { VariantSession, raisedPrecisions, sensitivityLayers, sqnrDb } from './variants.js';
import { supportedPrecision } from './stages.js';
import { nowSeconds } from '../util/clock.js';

export type SensitivityMethod = 'raise-one' | 'only-int8';
export const SENSITIVITY_METHODS: readonly SensitivityMethod[] = ['raise-one', 'only-int8'];

export interface SensitivityOptions {
  /** Calibration data, as for quantizeInt8. */
  representativeDataset: RepresentativeDataset;
  numCalibrationSamples?: number;
  calibration?: CalibrationMethod;
  perChannel?: boolean;
  /** The recipe of the int8 model analysed (layers it already raises are not analysed). */
  recipe?: QuantRecipe;
  outputs?: string[];
  head?: 'split' | 'keep';
  headCut?: string;
  inputRange?: [number, number];
  /** Per-channel mean/std in pixel units, as quantizeInt8's (the graph then takes pixels 0..255). */
  inputNormalization?: InputNormalization;
  backend?: BackendName;
  /** 'raise-one' (default) or 'only-int8'. */
  method?: SensitivityMethod;
  /** What 'raise-one' raises a layer to: 'int16' (default; 16x8) or 'float'. */
  raiseTo?: 'int16' | 'float';
  /** Inputs for the output SQNR (default: the first `numImages` calibration samples, read again). */
  images?: RepresentativeDataset;
  /** How many of `images` are used (default 4). */
  numImages?: number;
  /** A labelled dataset (a path the plug-in's metric reads, or a spec): the worst `mapTop` layers are scored on it. */
  data?: string | ValidationSetSpec;
  /** How many of the worst layers get the metric (default 5 when `data` is given). */
  mapTop?: number;
  /** Only the layers whose node or output name matches (an exact name, a `*` glob or a /regex/). */
  layers?: string;
  onProgress?: (step: string, done: number, total: number) => void;
}

export interface LayerSensitivity<P extends MetricValues = MetricValues> {
  /** 1 = the most sensitive. */
  rank: number;
  node: string;
  op: string;
  /** SQNR (dB) of the output error this layer alone adds; lower = more sensitive (Infinity: none measured). */
  sqnrDb: number;
  /** SQNR (dB) of the variant model's outputs (raise-one: int8 with this layer raised; only-int8: float with this layer int8). */
  variantSqnrDb: number;
  /** With `data`, for the worst layers: the variant's metric values. */
  metric?: P;
  /** Points of the metric's primary value this layer costs: raise-one, gained by raising it; only-int8, lost by quantizing it alone. */
  metricCost?: number;
}

/** With `data`: the metric (names and primary value, from the plug-in) of the float reference and the int8 model. */
export interface MetricSummary<P extends MetricValues = MetricValues> {
  name: string;
  shortName: string;
  primary: string;
  images: number;
  float: P;
  int8: P;
}

export interface SensitivityResult<P extends MetricValues = MetricValues> {
  method: SensitivityMethod;
  raiseTo: 'int16' | 'float';
  /** Worst first. */
  layers: LayerSensitivity<P>[];
  /** Output SQNR (dB) of the whole int8 model (the recipe's) against the float model. */
  int8SqnrDb: number;
  metric?: MetricSummary<P>;
  images: number;
  family?: string;
  timings: { calibrationSeconds: number; analysisSeconds: number; metricSeconds: number; totalSeconds: number };
  warnings: string[];
}

/** The inputs for the SQNR: `images` or the calibration samples again, at most n. */
export async function firstInputs(
  dataset: RepresentativeDataset,
  inputs: readonly ModelInputShape[],
  n: number,
  resolve: ImageSourceResolver = plainImageSource,
  inputRange?: readonly [number, number],
): Promise<ModelSample[]> {
  const out: ModelSample[] = [];
  let files: RepresentativeDataset = dataset;
  if (Array.isArray(dataset) && dataset.every((d) => typeof d === 'string')) files = (dataset as string[]).slice(0, n);
  for await (const x of modelSamples(files, inputs, { used: 0, skipped: [] }, resolve, inputRange)) {
    out.push(x);
    if (out.length >= n) break;
  }
  if (out.length === 0) throw new Error('sensitivity: no inputs for the output SQNR (a one-shot iterator as the dataset? pass `images`)');
  return out;
}

export interface RankedLayer {
  node: IrNode;
  sqnrDb: number;
  variantSqnrDb: number;
  precisions: Map<string, Precision>;
}

/**
 * Measures every layer with the chosen method on the session's inputs; worst first (ties keep graph
 * order). Layers the recipe already computes in another precision than int8 are left out.
 * `carrierFallback`: what a carrier without an int16 kernel becomes (variants.ts raisedPrecisions).
 */
export async function rankLayers(
  session: VariantSession,
  method: SensitivityMethod,
  raiseTo: 'int16' | 'float',
  onProgress?: (done: number, total: number) => void,
  only?: string,
  carrierFallback: 'float' | 'int8' = 'float',
): Promise<{ ranked: RankedLayer[]; int8SqnrDb: number; int8Noise: number }> {
  const graph = session.graph;
  const base = (n: IrNode) => session.basePrecision(n);
  let layers = sensitivityLayers(graph).filter((n) => base(n) === 'int8');
  if (only !== undefined) {
    const re = namePattern(only);
    const all = layers;
    layers = layers.filter((n) => re.test(n.name) || n.outputs.some((t) => re.test(t)));
    if (layers.length === 0) throw new Error(`sensitivity: layers '${only}' matches none of the ${all.length} int8 layers; close names: ${closeNames(only, all.map((n) => n.name)).join(', ')}`);
  }
  const int8 = await session.outputError(session.write(new Map(graph.nodes.map((n) => [n.name, base(n)]))));
  const measured: RankedLayer[] = [];
  for (const [i, node] of layers.entries()) {
    let precisions: Map<string, Precision>;
    // An op without an int16 kernel (HardSwish, PReLU) is raised to float instead.
    if (method === 'raise-one') precisions = raisedPrecisions(graph, base, new Map([[node.name, supportedPrecision(node, raiseTo)]]), carrierFallback);
    else precisions = new Map(graph.nodes.map((n) => [n.name, n.name === node.name ? 'int8' : 'float'] as [string, Precision]));
    const e = await session.outputError(session.write(precisions));
    const added = method === 'raise-one' ? int8.noise - e.noise : e.noise;
    measured.push({ node, sqnrDb: added > 0 ? sqnrDb(e.signal, added) : Infinity, variantSqnrDb: e.sqnrDb, precisions });
    onProgress?.(i + 1, layers.length);
  }
  const order = measured.map((m, i) => ({ m, i })).sort((a, b) => a.m.sqnrDb - b.m.sqnrDb || a.i - b.i);
  return { ranked: order.map((o) => o.m), int8SqnrDb: int8.sqnrDb, int8Noise: int8.noise };
}

/** Checks the options before the long work starts; returns them with their defaults. */
function checkSensitivityOptions(options: SensitivityOptions, metric: Metric | undefined): { method: SensitivityMethod; raiseTo: 'int16' | 'float'; numImages: number; mapTop: number } {
  if (!options || options.representativeDataset === undefined || options.representativeDataset === null) {
    throw new Error('analyzeSensitivity: options.representativeDataset is required (an image directory, image paths or input tensors)');
  }
  const method = options.method ?? 'raise-one';
  if (!SENSITIVITY_METHODS.includes(method)) throw new Error(`analyzeSensitivity: method '${String(method)}' is not one of ${SENSITIVITY_METHODS.join(', ')}`);
  const raiseTo = options.raiseTo ?? 'int16';
  if (raiseTo !== 'int16' && raiseTo !== 'float') throw new Error(`analyzeSensitivity: raiseTo '${String(raiseTo)}' is not one of int16, float`);
  const numImages = options.numImages ?? 4;
  if (!(Number.isInteger(numImages) && numImages >= 1)) throw new Error(`analyzeSensitivity: numImages must be an integer >= 1, got ${numImages}`);
  const mapTop = options.data ? options.mapTop ?? 5 : 0;
  if (!(mapTop >= 0)) throw new Error(`analyzeSensitivity: mapTop must be >= 0, got ${mapTop}`);
  if (options.data && !metric) throw new Error('analyzeSensitivity: `data` is scored with a task metric, and this quantizer has none (no plug-in metric)');
  return { method, raiseTo, numImages, mapTop };
}

/**
 * The metric of the float reference, the int8 model and the variants of the worst `top` layers on
 * `set`; fills each scored layer's metric and cost.
 */
async function scoreWorstLayers<P extends MetricValues>(
  cal: CalibratedGraph,
  session: VariantSession,
  ranked: RankedLayer[],
  layers: LayerSensitivity<P>[],
  scoring: { metric: Metric<P>; set: ScoredSet<P>; top: number; method: SensitivityMethod },
  progress: (step: string, done: number, total: number) => void,
): Promise<MetricSummary<P>> {
  const { metric, set, method } = scoring;
  const primary = metric.primary;
  const n = Math.min(scoring.top, layers.length);
  const total = n + 2;
  progress(metric.shortName, 0, total);
  const floatScore = await set.score(session.floatTflite, 'float reference');
  progress(metric.shortName, 1, total);
  const int8Score = await set.score(session.write(new Map(cal.graph.nodes.map((x) => [x.name, session.basePrecision(x)]))), 'int8 model');
  progress(metric.shortName, 2, total);
  for (let i = 0; i < n; i++) {
    const s = await set.score(session.write(ranked[i].precisions), `variant ${ranked[i].node.name}`);
    layers[i].metric = s;
    layers[i].metricCost = 100 * (method === 'raise-one' ? s[primary] - int8Score[primary] : floatScore[primary] - s[primary]);
    progress(metric.shortName, i + 3, total);
  }
  return { name: metric.name, shortName: metric.shortName, primary, images: set.count, float: floatScore, int8: int8Score };
}

/**
 * Sensitivity of every quantized layer of a model (see the file header for the two methods); the
 * plug-in's head, dataset layouts and metric (for `data`) are used.
 */
export async function analyzeSensitivity(source: ModelSource, options: SensitivityOptions, plugin: QuantizerPlugin = NO_PLUGIN): Promise<SensitivityResult> {
  const t0 = nowSeconds();
  const metric = plugin.metric;
  const { method, raiseTo, numImages, mapTop } = checkSensitivityOptions(options, metric);
  const progress = options.onProgress ?? (() => {});
  const recipe = resolveRecipe(options);

  // The SQNR images in the range calibration saw (pixels 0..255 when the normalisation is in the graph).
  options = { ...options, inputRange: callerInputRange(options, 'analyzeSensitivity') };
  const prepared = await prepareGraph(source, options, plugin);
  const { calibrated: cal } = await calibrateGraph(prepared, recipe, options, plugin);
  const tc = nowSeconds();
  // Load the labelled set first: a bad path fails before the long part.
  const spec = typeof options.data === 'string' ? { images: options.data } : options.data;
  if (spec) assertOneInput(cal.graph, 'data (a metric scored on images)');
  const inputShape = cal.graph.tensors.get(cal.graph.inputs[0])!.shape;
  const set = spec ? await metric!.load(spec, [inputShape[1], inputShape[2]]) : undefined;
  const inputs = await firstInputs(options.images ?? options.representativeDataset, modelInputShapes(cal.graph), numImages, imageSourceOf(plugin), options.inputRange);
  const session = await VariantSession.create(cal, recipe, inputs, { inputRange: options.inputRange });
  const { ranked, int8SqnrDb } = await rankLayers(session, method, raiseTo, (d, t) => progress('sensitivity', d, t), options.layers);
  const ta = nowSeconds();

  const layers: LayerSensitivity[] = ranked.map((r, i) => ({ rank: i + 1, node: r.node.name, op: r.node.op, sqnrDb: r.sqnrDb, variantSqnrDb: r.variantSqnrDb }));
  const scored = set && mapTop > 0 ? await scoreWorstLayers(cal, session, ranked, layers, { metric: metric!, set, top: mapTop, method }, progress) : undefined;
  const t1 = nowSeconds();
  return {
    method,
    raiseTo,
    layers,
    int8SqnrDb,
    ...(scored ? { metric: scored } : {}),
    images: inputs.length,
    family: cal.family,
    timings: { calibrationSeconds: tc - t0, analysisSeconds: ta - tc, metricSeconds: t1 - ta, totalSeconds: t1 - t0 },
    warnings: cal.warnings,
  };
}

function fmtDb(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : x > 0 ? 'inf' : '-inf';
}

/** The table the CLI prints: the worst `top` layers. */
export function formatSensitivity(r: SensitivityResult, top = 20, formatTable: (h: string[], rows: string[][]) => string): string {
  const m = r.metric;
  const withMetric = m !== undefined && r.layers.some((l) => l.metric !== undefined);
  const header = ['rank', 'layer', 'op', 'SQNR dB', 'variant SQNR dB', ...(withMetric ? [m.name, `${m.shortName} cost (points)`] : [])];
  const rows = r.layers.slice(0, top).map((l) => [
    String(l.rank),
    l.node,
    l.op,
    fmtDb(l.sqnrDb),
    fmtDb(l.variantSqnrDb),
    ...(withMetric ? [l.metric !== undefined ? l.metric[m.primary].toFixed(4) : '', l.metricCost !== undefined ? l.metricCost.toFixed(2) : ''] : []),
  ]);
  const how = r.method === 'raise-one' ? `int8 model with one layer raised to ${r.raiseTo}` : 'float model with one layer in int8';
  const lines = [
    `sensitivity (${r.method}: ${how}) of ${r.layers.length} layers on ${r.images} image(s); SQNR dB = the output error the layer alone adds (lower = more sensitive)`,
    `whole int8 model: output SQNR ${fmtDb(r.int8SqnrDb)} dB`,
  ];
  if (m) lines.push(`${m.name} on ${m.images} images: float ${m.float[m.primary].toFixed(4)}, int8 ${m.int8[m.primary].toFixed(4)}`);
  lines.push(formatTable(header, rows));
  lines.push(`time: calibration ${r.timings.calibrationSeconds.toFixed(1)} s, analysis ${r.timings.analysisSeconds.toFixed(1)} s${m ? `, ${m.shortName} ${r.timings.metricSeconds.toFixed(1)} s` : ''}`);
  return lines.join('\n');
}
