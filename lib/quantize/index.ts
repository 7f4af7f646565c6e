// quantizeInt8: float model in, int8 (full-integer unless the recipe says otherwise) .tflite out.
//   import -> passes -> (detection head: cut where its family says) -> calibrate (streaming) ->
//   plan (every tensor's dtype and parameters, every conversion) -> write TFLite -> verify the file.
// The stages live in stages.ts; this file is the public entry and the report.
import type { BackendName } from '../graph/backend.js';
import type { FloatExecutor } from '../graph/execute.js';
import type { Graph } from '../ir/graph.js';
import type { CalibrationMethod } from '../calibrate/calibrate.js';
import { inspectTflite, type InspectReport } from '../tflite/inspect.js';
import { correctionInputs, isReiterable, modelInputShapes, modelSamples, type ModelSample, type RepresentativeDataset } from './dataset.js';
import type { HeadTreatment } from './head.js';
import { NO_PLUGIN, type DatasetInfo, type HeadSpecData, type ImageSourceResolver, type QuantizerPlugin } from './plugin.js';
import {
  checkLearnedRoundingSettings, learnRounding, LEARNED_ROUNDING_DEFAULTS, type LearnedRoundingReport, type LearnedRoundingSettings,
} from './learned-rounding.js';
import { buildPlan, planPrecisionSummary, planToJson, type IoType, type QuantPlan } from './plan.js';
import { tensorQuantReport, type TensorQuantReport } from './emit.js';
import { analyzeLayerErrors, type LayerError } from './layer-errors.js';
import { resolveRecipe, type QuantRecipe, type RecipeResolver, type ResolvedRecipe } from './recipe.js';
import type { Precision } from '../ops/types.js';
import type { ProgressRate } from '../util/progress.js';
import { correctBiases, type BiasCorrectionReport, type BiasCorrectionSettings } from './bias-correction.js';
import type { InputNormalization } from '../graph/passes/normalize-input.js';
import { callerInputRange, calibrateGraph, imageSourceOf, planFor, prepareGraph, quantOf, writePlan, type CalibratedGraph, type ModelSource, type PreparedGraph } from './stages.js';
import { checkAccuracyTarget, selectForAccuracy, type AccuracyReport, type AccuracyTarget } from './accuracy.js';
import { splitCalibrated, type PartialRanges } from './split-weights.js';
import { nowSeconds } from '../util/clock.js';
import { INPUT_RANGE_METADATA, encodeInputRange } from '../pipeline/quantize.js';

export type { HeadSpecData, QuantizerPlugin } from './plugin.js';
export type { QuantRecipe } from './recipe.js';
export type { ModelSource } from './stages.js';
export { siluNegligibleBelow } from '../ops/defs/silu.js';
export { formatPlan, planToJson, type QuantPlan } from './plan.js';
export type { AccuracyTarget, AccuracyReport } from './accuracy.js';
export { correctBiases, type BiasCorrectionReport, type BiasCorrectionSettings } from './bias-correction.js';

export interface QuantizeInt8Options {
  /**
   * An image directory, a list of image paths, or an (async) iterable of inputs (Float32Array / tf.Tensor /
   * Uint8Array pixels). For a model with several inputs each sample is one tensor per input: an array in
   * the graph's input order or a record by input name; images feed it only when every input is image-like
   * (each gets the image letterboxed to its own size). Tensor-fed inputs of such a model take their int8
   * parameters from their observed extremes unless inputRange is given.
   */
  representativeDataset: RepresentativeDataset;
  /** How many samples calibration uses (default 100, or fewer when the dataset is smaller). */
  numCalibrationSamples?: number;
  calibration?: CalibrationMethod;
  /** Per-channel weights (default true). */
  perChannel?: boolean;
  inputType?: IoType;
  /** Output type; default int8 (each output in its own dtype when the recipe raises the output's precision). */
  outputType?: IoType;
  /** Tensor names to cut the graph at (post-processing after them is not quantized). */
  outputs?: string[];
  /**
   * The input's shape when the model leaves sizes unknown (e.g. [1, 320, 320, 3] for [-1,-1,-1,3]), or
   * shapes by input name; without it such a model is refused with an error naming the input.
   */
  inputShape?: number[] | Record<string, number[]>;
  /**
   * Detection-head treatment: 'split' (default) ends the int8 graph where the head's family says
   * (YOLOv5: per-level sigmoid outputs; YOLOv8/11: per-level DFL logits and class scores) and leaves
   * the decode to float post-processing; a head no family knows whose output joins very different
   * ranges has that join moved to float. 'keep' quantizes the head as it is (one output tensor,
   * like the official converter).
   */
  head?: 'split' | 'keep';
  /** A cut variant of the head's family (YOLOv8: 'logit-scores' (default) or 'sigmoid-scores'). */
  headCut?: string;
  /** Cross-layer equalization before calibration (off by default; see PrepareOptions.equalize). */
  equalize?: boolean;
  /** Per-layer choices (calibration method, per-channel, explicit ranges, precision). */
  recipe?: QuantRecipe;
  /** Default precision of every op: 'int8' (default, full-integer), 'int16' (16x8) or 'float'. */
  precision?: Precision;
  /**
   * Float range of the model input; default [0, 1] (pixel / 255) -> int8 scale 1/255, zero point -128.
   * Like every activation range it is widened to contain 0 ([0.2, 1] is quantized as [0, 1]).
   */
  inputRange?: [number, number];
  /**
   * Per-channel image normalisation in pixel units 0..255, as OpenCV / ultralytics / mmdet give it:
   * model input = (pixel - mean[c]) / std[c] (ImageNet: mean [123.675, 116.28, 103.53], std
   * [58.395, 57.12, 57.375]). One value per channel or one for all; mean defaults to 0, std to 1.
   * The int8 input has one scale, so the normalisation is written as the graph's first op (a 1x1
   * depthwise conv, exact) and the file takes pixels (int8 = pixel - 128); recorded in its metadata.
   * Not together with inputRange.
   */
  inputNormalization?: InputNormalization;
  /**
   * Largest image (width x height) a calibration or analysis image may declare in its header before it
   * is decoded (default 8192 x 8192 = 67,108,864): a file claiming more is skipped with its reason.
   */
  maxPixels?: number;
  /**
   * Decode and letterbox image files in a worker thread, a few ahead of the float pass that uses them
   * (default true), so that on a machine with a free core decoding overlaps the passes; false decodes
   * them in the calling thread. Same pixels, same file either way.
   */
  decodeInWorker?: boolean;
  backend?: BackendName;
  /** Stage, items done, items in all; during calibration also images per second and the time left. */
  onProgress?: (step: string, done: number, total: number, rate?: ProgressRate) => void;
  /**
   * Layer-by-layer verification: these inputs (image paths or tensors, as for the dataset) are run
   * through the float graph and through the int8 model in LiteRT with every activation exposed, and
   * the report lists each tensor's signal-to-quantization-noise ratio.
   */
  analyzeLayers?: RepresentativeDataset;
  /**
   * Accuracy-aware mixed precision (lib/quantize/accuracy.ts): from full int8, the most sensitive
   * layers are raised to int16, then to float, until the drop against the float model on
   * `validation` is within `maxDrop` mAP50-95 points (or the output SQNR is at least `minSqnrDb`).
   * Outputs keep their own dtype unless outputType is given. Throws, writing nothing, when the
   * target cannot be met even with every op in float (unless `writeBest`).
   */
  accuracy?: AccuracyTarget;
  /**
   * Empirical bias correction (per output channel of every int8/int16 weighted op, measured with the
   * integer model in LiteRT against the float graph on the first calibration samples): true, false,
   * or { samples, mode: 'sequential' | 'one-shot' }. Overrides recipe.biasCorrection; the default is in BIAS_CORRECTION_DEFAULTS.
   */
  biasCorrection?: boolean | Partial<BiasCorrectionSettings>;
  /**
   * Learned rounding of the weights (lib/quantize/learned-rounding.ts, AdaRound-like): each int8
   * weight of every conv, depthwise, fully-connected and transposed conv layer rounds down or up so
   * that the layer's output on the calibration images' float inputs changes least; a channel keeps
   * nearest rounding unless that is better on its fitted rows and not worse on held-out images.
   * true, false (default) or { samples, rows, sweeps } (defaults in LEARNED_ROUNDING_DEFAULTS).
   */
  learnedRounding?: boolean | Partial<LearnedRoundingSettings>;
  /**
   * Class names by id, stored in the written file's metadata with the head spec (so `detect`, `eval`
   * draw and print names). They replace the names the source carries; their count must be the head's
   * class count. Default: the source's own (ultralytics metadata.yaml or embedded metadata).
   */
  classNames?: string[];
}

export interface QuantizeReport<S extends HeadSpecData = HeadSpecData> {
  source: string;
  format: string;
  backend: string;
  recipe: ResolvedRecipe;
  head: { treatment: HeadTreatment; family?: string; cut?: string; spec?: S; probeMaxError?: number };
  cutAt?: string[];
  /** Set when the source model's weights were already integer-rounded (a quantized .tflite source). */
  sourceQuantization?: Graph['meta']['sourceQuantization'];
  calibration: {
    method: string; samples: number; skipped: { file: string; reason: string }[]; seconds: number;
    /** Float passes with the observers (s); observeSeconds of it in the observers. */
    forwardSeconds: number;
    observeSeconds: number;
    /** Time the float passes waited for image files to be read, decoded and letterboxed (s; they are prepared ahead in a worker thread; 0 when the dataset is tensors). */
    decodeSeconds: number;
    /** When the dataset was given as a path: how it was read (layout, split used). */
    dataset?: DatasetInfo;
  };
  tensors: TensorQuantReport[];
  /** The plan the file was written from (JSON: constants' values left out). */
  plan: ReturnType<typeof planToJson>;
  /** Ops per precision; the ops that are not int8 (a model with any is not full-integer). */
  precision: ReturnType<typeof planPrecisionSummary>;
  ops: Record<string, number>;
  inputs: InspectReport['inputs'];
  outputs: InspectReport['outputs'];
  allInteger: boolean;
  floatTensors: string[];
  quantizeOps: number;
  fileBytes: number;
  warnings: string[];
  notes: string[];
  timings: Record<string, number>;
  /** With options.analyzeLayers: per activation, in graph order. */
  layerErrors?: LayerError[];
  /** With options.accuracy: the target, the layers raised, the search, and the cost against all-int8. */
  accuracy?: AccuracyReport;
  /** When bias correction ran: layers corrected, mean |correction|, samples, mode, seconds. */
  biasCorrection?: BiasCorrectionReport;
  /** When learned rounding was asked for: whether it applied (or why not), and per layer the error before and after. */
  learnedRounding?: LearnedRoundingReport;
}

export interface QuantizeInt8Result<S extends HeadSpecData = HeadSpecData> {
  tflite: Uint8Array;
  report: QuantizeReport<S>;
  /** The post-processing decode spec for models whose head was split (also stored in the file). */
  head?: S;
}


/** exportFloatTflite's options: those of quantizeInt8 that shape the graph. */
export interface FloatExportOptions {
  outputs?: string[];
  inputShape?: number[] | Record<string, number[]>;
  head?: 'split' | 'keep';
  headCut?: string;
  backend?: BackendName;
  /** As quantizeInt8's: the float file then takes pixels 0..255 too, like the int8 file (like with like). */
  inputNormalization?: InputNormalization;
}

/**
 * The same graph written as a float32 .tflite (same ops, same head treatment, no quantization): the
 * float reference that the int8 model is compared with, runnable in the same runtime. It is the plan
 * whose tensors are all float32.
 */
export async function exportFloatTflite<S extends HeadSpecData = HeadSpecData>(
  source: ModelSource,
  options: FloatExportOptions = {},
  plugin: QuantizerPlugin<S> = NO_PLUGIN,
): Promise<{ tflite: Uint8Array; head?: S }> {
  const { graph, headSpec, fileMetadata } = await prepareGraph(source, options, plugin);
  const plan = buildPlan(graph, new Map(), { mode: 'float', quantOf });
  const tflite = writePlan(graph, plan, { metadata: fileMetadata, description: 'yolo-int8 float32 export', where: 'exportFloatTflite' });
  // The spec came from the plug-in's own hooks: it is the plug-in's type.
  return { tflite, head: headSpec as S | undefined };
}

/**
 * The input range when the caller gives none: a source that declares integer pixels (uint8 / int32
 * inputs) takes them as they are, [0, 255] (then the int8 input is pixel - 128 at scale 1, exactly);
 * otherwise undefined, the default [0, 1].
 */
function defaultInputRange(graph: { inputs: string[]; meta: { integerInputs?: Record<string, string> } }): [number, number] | undefined {
  return graph.inputs.every((i) => graph.meta.integerInputs?.[i]) ? [0, 255] : undefined;
}

/**
 * The input range as a metadata entry, so that the pipeline helpers feed the file as it was
 * calibrated; none for the default [0, 1] (files stay as they were).
 */
function inputRangeMetadata(range: [number, number] | undefined): Record<string, Uint8Array> {
  if (range === undefined || (range[0] === 0 && range[1] === 1)) return {};
  return { [INPUT_RANGE_METADATA]: encodeInputRange(range) };
}

/**
 * Float model in, int8 (full-integer unless the recipe says otherwise) .tflite out. The plug-in's
 * hooks (plugin.ts) bring what a task knows: heads, dataset layouts, a metric for accuracy targets.
 */
export async function quantizeInt8<S extends HeadSpecData = HeadSpecData>(
  source: ModelSource,
  options: QuantizeInt8Options,
  plugin: QuantizerPlugin<S> = NO_PLUGIN,
): Promise<QuantizeInt8Result<S>> {
  const t0 = nowSeconds();
  const timings: Record<string, number> = {};
  if (!options || options.representativeDataset === undefined || options.representativeDataset === null) {
    throw new Error('quantizeInt8: options.representativeDataset is required (an image directory, image paths or input tensors)');
  }
  const progress = options.onProgress ?? (() => {});
  const recipe = resolveRecipe(options);
  if (options.accuracy !== undefined) checkAccuracyTarget(options.accuracy, plugin.metric);

  // 1. Import, clean up, and treat the model's head (the plug-in's families).
  progress('import', 0, 1);
  const givenRange = callerInputRange(options, 'quantizeInt8');
  const prepared = await prepareGraph(source, options, plugin);
  options = { ...options, inputRange: givenRange ?? defaultInputRange(prepared.graph) };
  progress('import', 1, 1);
  timings.importSeconds = nowSeconds() - t0;

  // 2. Calibration over every activation of the graph to be quantized.
  const tc = nowSeconds();
  const bc = recipe.resolved.biasCorrection;
  const lr = learnedRoundingSettings(options.learnedRounding);
  const kept = Math.max(bc.enabled ? bc.samples : 0, lr?.samples ?? 0);
  const { calibrated: cal, executor } = await calibrateGraph(prepared, recipe, {
    ...options,
    keepExecutor: options.analyzeLayers !== undefined || bc.enabled || lr !== undefined,
    // A one-shot dataset (an iterator) cannot be read again: keep the samples bias correction and learned rounding read.
    keepInputs: kept > 0 && !isReiterable(options.representativeDataset) ? kept : 0,
    // The plan's precisions are the recipe's unless an accuracy target searches them after calibration.
    observe: options.accuracy === undefined ? 'plan' : 'exact',
    plannedOutputType: options.outputType ?? 'int8',
  }, plugin);
  try {
    timings.calibrationSeconds = nowSeconds() - tc;
    // 3. The plan (precisions for an accuracy target, bias correction), then the file.
    const accuracy = options.accuracy ? await accuracyPrecisions(cal, recipe, options, plugin, timings, { biasCorrection: bc.enabled, learnedRounding: lr !== undefined }) : undefined;
    const tq = nowSeconds();
    // The layers the search gave split weights are three nodes each in the graph that is written.
    const written = accuracy?.splitWeights.size ? splitCalibrated(cal, accuracy.splitWeights, accuracy.splitRanges) : { cal, originOf: new Map<string, string>() };
    const precisionOf = accuracy ? (n: { name: string }) => accuracy.precisionOf({ name: written.originOf.get(n.name) ?? n.name }) : undefined;
    const { plan, biasCorrection, learnedRounding } = await correctedPlan(written.cal, recipe, options, { executor, precisionOf, int16Headroom: accuracy?.int16Headroom, resolve: imageSourceOf(plugin) }, timings);
    const metadata = { ...cal.fileMetadata, ...inputRangeMetadata(options.inputRange) };
    const tflite = writePlan(written.cal.graph, plan, { metadata, description: descriptionOf(plan), where: 'quantizeInt8' });
    timings.writeSeconds = nowSeconds() - tq - (timings.biasCorrectionSeconds ?? 0) - (timings.learnedRoundingSeconds ?? 0);
    const layerErrors = options.analyzeLayers && executor ? await analyzeLayers(cal, recipe, plan, { ...options, analyzeLayers: options.analyzeLayers }, executor, imageSourceOf(plugin), timings) : undefined;

    // 4. Check the written file, not our intentions.
    const inspected = inspectTflite(tflite);
    timings.totalSeconds = nowSeconds() - t0;
    timings.forwardSeconds = cal.forwardSeconds;
    // The spec came from the plug-in's own hooks: it is the plug-in's type.
    const headSpec = cal.headSpec as S | undefined;
    const report = quantizeReport<S>(prepared, cal, recipe, { plan, tflite, inspected, headSpec, timings, layerErrors, accuracy: accuracy?.report, biasCorrection, learnedRounding });
    return { tflite, report, head: headSpec };
  } finally {
    executor?.dispose();
  }
}

/** With an accuracy target: the precision of every node the search chose (accuracy.ts), and its report. */
async function accuracyPrecisions(
  cal: CalibratedGraph,
  recipe: RecipeResolver,
  options: QuantizeInt8Options,
  plugin: QuantizerPlugin,
  timings: Record<string, number>,
  weightPasses: { biasCorrection: boolean; learnedRounding: boolean },
): Promise<{ precisionOf: (n: { name: string }) => Precision; splitWeights: ReadonlySet<string>; splitRanges?: PartialRanges; report: AccuracyReport; int16Headroom: number }> {
  const ts = nowSeconds();
  // Bias correction and learned rounding run the float graph layer by layer, which has no split layers.
  const passes = [weightPasses.biasCorrection ? 'bias correction' : '', weightPasses.learnedRounding ? 'learned rounding' : ''].filter(Boolean);
  const sel = await selectForAccuracy(cal, recipe, options.accuracy!, {
    inputType: options.inputType, outputType: options.outputType, inputRange: options.inputRange, onProgress: options.onProgress,
    metric: plugin.metric, resolveImages: imageSourceOf(plugin),
    calibrationInputs: firstSamples(correctionInputs(options.representativeDataset, modelInputShapes(cal.graph), cal.keptInputs, imageSourceOf(plugin), options.inputRange, options), Math.min(SPLIT_OBSERVE_SAMPLES, cal.calibration.samples)),
    ...(passes.length ? { noSplitWeights: `${passes.join(' and ')} work on the unsplit layers (turn ${passes.length > 1 ? 'them' : 'it'} off to allow split weights)` } : {}),
  });
  timings.accuracySeconds = nowSeconds() - ts;
  return { precisionOf: (n) => sel.precisions.get(n.name)!, splitWeights: sel.splitWeights, splitRanges: sel.splitRanges, report: sel.report, int16Headroom: sel.int16Headroom };
}

/** Calibration samples the split layers' partial sums are observed on (the first ones calibration read). */
const SPLIT_OBSERVE_SAMPLES = 16;

/** The first `n` samples of a re-readable source. */
function firstSamples(source: (() => AsyncIterable<ModelSample>) | undefined, n: number): (() => AsyncIterable<ModelSample>) | undefined {
  if (!source) return undefined;
  return async function* () {
    let k = 0;
    for await (const x of source()) {
      if (k++ >= n) return;
      yield x;
    }
  };
}

/** The plan of the calibrated graph, its biases corrected when the recipe says so (bias-correction.ts). */
async function correctedPlan(
  cal: CalibratedGraph,
  recipe: RecipeResolver,
  options: QuantizeInt8Options,
  ctx: { executor?: FloatExecutor; precisionOf?: (n: { name: string }) => Precision; int16Headroom?: number; resolve: ImageSourceResolver },
  timings: Record<string, number>,
): Promise<{ plan: QuantPlan; biasCorrection?: BiasCorrectionReport; learnedRounding?: LearnedRoundingReport }> {
  const graph = cal.graph;
  // With an accuracy target, outputs keep their own dtype (as the search measured them) unless outputType says otherwise.
  const outputType = options.accuracy ? options.outputType : options.outputType ?? 'int8';
  const planned = planFor(cal, recipe, { inputType: options.inputType, outputType, inputRange: options.inputRange, precisionOf: ctx.precisionOf, int16Headroom: ctx.int16Headroom });
  const inputs = correctionInputs(options.representativeDataset, modelInputShapes(graph), cal.keptInputs, ctx.resolve, options.inputRange, options)!;
  const lr = learnedRoundingSettings(options.learnedRounding);
  const rounded = lr && ctx.executor ? await roundedPlan(planned, cal, lr, { executor: ctx.executor, inputs, onProgress: options.onProgress }, timings) : undefined;
  const plan = rounded?.plan ?? planned;
  const bc = recipe.resolved.biasCorrection;
  if (!bc.enabled || !ctx.executor) return { plan, learnedRounding: rounded?.report };
  const progress = options.onProgress ?? (() => {});
  const tb = nowSeconds();
  progress('bias correction', 0, 1);
  const corrected = await correctBiases(plan, graph, {
    floatExec: ctx.executor,
    inputs,
    // Measured on calibration samples only: the first ones calibration used.
    settings: { mode: bc.mode, samples: Math.min(bc.samples, cal.calibration.samples) },
    write: (p) => writePlan(graph, p, { description: 'yolo-int8 bias correction', where: 'quantizeInt8 (bias correction)', check: false }),
  });
  progress('bias correction', 1, 1);
  timings.biasCorrectionSeconds = nowSeconds() - tb;
  return { plan: corrected.plan, biasCorrection: corrected.report, learnedRounding: rounded?.report };
}

/** The resolved learned-rounding settings, or undefined when it is off. */
function learnedRoundingSettings(option: QuantizeInt8Options['learnedRounding']): LearnedRoundingSettings | undefined {
  if (option === undefined || option === false) return undefined;
  if (option !== true && (typeof option !== 'object' || option === null)) throw new Error('quantizeInt8: learnedRounding must be true, false or { samples, rows, sweeps }');
  const s = { ...LEARNED_ROUNDING_DEFAULTS, ...(option === true ? {} : option) };
  checkLearnedRoundingSettings(s, 'quantizeInt8');
  return s;
}

/** The plan with learned weight rounding (learned-rounding.ts) on the calibration images. */
async function roundedPlan(
  plan: QuantPlan,
  cal: CalibratedGraph,
  settings: LearnedRoundingSettings,
  ctx: { executor: FloatExecutor; inputs: () => AsyncIterable<ModelSample>; onProgress?: QuantizeInt8Options['onProgress'] },
  timings: Record<string, number>,
): Promise<{ plan: QuantPlan; report: LearnedRoundingReport }> {
  const tr = nowSeconds();
  const r = await learnRounding(plan, cal.graph, {
    floatExec: ctx.executor, inputs: ctx.inputs, quantOf, settings, available: cal.calibration.samples, onProgress: ctx.onProgress,
  });
  timings.learnedRoundingSeconds = nowSeconds() - tr;
  return r;
}

/** options.analyzeLayers: every activation of the written plan against the float graph (layer-errors.ts). */
async function analyzeLayers(
  cal: CalibratedGraph,
  recipe: RecipeResolver,
  plan: QuantPlan,
  options: QuantizeInt8Options & { analyzeLayers: RepresentativeDataset },
  executor: FloatExecutor,
  resolve: ImageSourceResolver,
  timings: Record<string, number>,
): Promise<LayerError[]> {
  const ta = nowSeconds();
  const graph = cal.graph;
  const debugPlan = planFor(cal, recipe, { inputType: 'int8', extraOutputs: cal.activations, inputRange: options.inputRange });
  // The corrected biases and learned weight roundings, as written.
  for (const [k, t] of plan.tensors) if ((t.origin.kind === 'bias' && t.origin.corrected) || (t.origin.kind === 'weights' && t.origin.learnedRounding)) debugPlan.tensors.set(k, t);
  const debugModel = writePlan(graph, debugPlan, { description: 'yolo-int8 layer analysis', where: 'quantizeInt8 (layer analysis)', check: false });
  const samples = modelSamples(options.analyzeLayers, modelInputShapes(graph), { used: 0, skipped: [] }, resolve, options.inputRange, options);
  const errors = await analyzeLayerErrors(debugModel, executor, samples, cal.activations);
  timings.analyzeSeconds = nowSeconds() - ta;
  return errors;
}

/** The report of a quantization: what was decided (head, recipe, plan) and what the written file is. */
function quantizeReport<S extends HeadSpecData>(
  prepared: PreparedGraph,
  cal: CalibratedGraph,
  recipe: RecipeResolver,
  r: {
    plan: QuantPlan; tflite: Uint8Array; inspected: InspectReport; headSpec?: S; timings: Record<string, number>;
    layerErrors?: LayerError[]; accuracy?: AccuracyReport; biasCorrection?: BiasCorrectionReport; learnedRounding?: LearnedRoundingReport;
  },
): QuantizeReport<S> {
  const { graph } = cal;
  const { plan, inspected } = r;
  return {
    source: graph.meta.source,
    format: graph.meta.format,
    backend: cal.backend,
    recipe: recipe.resolved,
    head: { treatment: cal.treatment, family: cal.family, cut: prepared.cut, spec: r.headSpec, probeMaxError: prepared.probeMaxError },
    cutAt: graph.meta.cutAt,
    ...(graph.meta.sourceQuantization ? { sourceQuantization: graph.meta.sourceQuantization } : {}),
    calibration: {
      method: recipe.resolved.calibration,
      samples: cal.calibration.samples,
      skipped: cal.stats.skipped,
      seconds: cal.calibration.seconds,
      forwardSeconds: cal.forwardSeconds,
      observeSeconds: cal.calibration.observeSeconds,
      decodeSeconds: cal.stats.decodeSeconds ?? 0,
      ...(cal.stats.dataset ? { dataset: cal.stats.dataset } : {}),
    },
    tensors: tensorQuantReport(graph, plan, cal.ranges),
    plan: planToJson(plan),
    precision: planPrecisionSummary(plan),
    ops: inspected.opHistogram,
    inputs: inspected.inputs,
    outputs: inspected.outputs,
    allInteger: inspected.allInteger,
    floatTensors: inspected.floatTensors,
    quantizeOps: inspected.opHistogram.QUANTIZE ?? 0,
    fileBytes: r.tflite.length,
    warnings: cal.warnings,
    notes: [...graph.meta.notes, ...plan.notes],
    timings: r.timings,
    layerErrors: r.layerErrors,
    ...(r.accuracy ? { accuracy: r.accuracy } : {}),
    ...(r.biasCorrection ? { biasCorrection: r.biasCorrection } : {}),
    ...(r.learnedRounding ? { learnedRounding: r.learnedRounding } : {}),
  };
}

/** The file's description says what kind of model it is. */
function descriptionOf(plan: QuantPlan): string {
  const s = planPrecisionSummary(plan);
  if (s.int16 === 0 && s.float === 0) return 'yolo-int8 full-integer quantization';
  return `yolo-int8 mixed precision (${s.int8} int8, ${s.int16} int16, ${s.float} float ops)`;
}
