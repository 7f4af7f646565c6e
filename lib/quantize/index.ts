// quantizeInt8: float model in, int8 (full-integer unless the recipe says otherwise) .tflite out.
//   import -> passes -> (detection head: cut where its family says) -> calibrate (streaming) ->
//   plan (every tensor's dtype and parameters, every conversion) -> write TFLite -> verify the file.
// The stages live in stages.ts; this file is the public entry and the report.
import type { BackendName } from '../graph/backend.js';
import type { Graph } from '../ir/graph.js';
import type { CalibrationMethod } from '../calibrate/calibrate.js';
import { inspectTflite, type InspectReport } from '../tflite/inspect.js';
import { correctionInputs, datasetInputs, isReiterable, type RepresentativeDataset } from './dataset.js';
import type { HeadTreatment } from './head.js';
import { NO_PLUGIN, type DatasetInfo, type HeadSpecData, type QuantizerPlugin } from './plugin.js';
import { buildPlan, planPrecisionSummary, planToJson, type IoType, type QuantPlan } from './plan.js';
import { tensorQuantReport, type TensorQuantReport } from './emit.js';
import { analyzeLayerErrors, type LayerError } from './layer-errors.js';
import { resolveRecipe, type QuantRecipe, type ResolvedRecipe } from './recipe.js';
import type { Precision } from '../ops/types.js';
import type { ProgressRate } from '../util/progress.js';
import { correctBiases, type BiasCorrectionReport, type BiasCorrectionSettings } from './bias-correction.js';
import { calibrateGraph, imageSourceOf, planFor, prepareGraph, quantOf, writePlan, type ModelSource } from './stages.js';
import { checkAccuracyTarget, selectForAccuracy, type AccuracyReport, type AccuracyTarget } from './accuracy.js';
import { nowSeconds } from '../util/clock.js';

export type { HeadSpecData, QuantizerPlugin } from './plugin.js';
export type { QuantRecipe } from './recipe.js';
export type { ModelSource } from './stages.js';
export { siluNegligibleBelow } from '../ops/quant-rules.js';
export { formatPlan, planToJson, type QuantPlan } from './plan.js';
export type { AccuracyTarget, AccuracyReport } from './accuracy.js';
export { correctBiases, type BiasCorrectionReport, type BiasCorrectionSettings } from './bias-correction.js';

export interface QuantizeInt8Options {
  /** An image directory, a list of image paths, or an (async) iterable of inputs (Float32Array / tf.Tensor / Uint8Array pixels). */
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
   * Detection-head treatment: 'split' (default) ends the int8 graph where the head's family says
   * (YOLOv5: per-level sigmoid outputs; YOLOv8/11: per-level DFL logits and class scores) and leaves
   * the decode to float post-processing; a head no family knows whose output joins very different
   * ranges has that join moved to float. 'keep' quantizes the head as it is (one output tensor,
   * like the official converter).
   */
  head?: 'split' | 'keep';
  /** A cut variant of the head's family (YOLOv8: 'logit-scores' (default) or 'sigmoid-scores'). */
  headCut?: string;
  /** Per-layer choices (calibration method, per-channel, explicit ranges, precision). */
  recipe?: QuantRecipe;
  /** Default precision of every op: 'int8' (default, full-integer), 'int16' (16x8) or 'float'. */
  precision?: Precision;
  /**
   * Float range of the model input; default [0, 1] (pixel / 255) -> int8 scale 1/255, zero point -128.
   * Like every activation range it is widened to contain 0 ([0.2, 1] is quantized as [0, 1]).
   */
  inputRange?: [number, number];
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
    method: string; samples: number; skipped: { file: string; reason: string }[]; seconds: number; forwardSeconds: number;
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
}

export interface QuantizeInt8Result<S extends HeadSpecData = HeadSpecData> {
  tflite: Uint8Array;
  report: QuantizeReport<S>;
  /** The post-processing decode spec for models whose head was split (also stored in the file). */
  head?: S;
}


/**
 * The same graph written as a float32 .tflite (same ops, same head treatment, no quantization): the
 * float reference that the int8 model is compared with, runnable in the same runtime. It is the plan
 * whose tensors are all float32.
 */
export async function exportFloatTflite<S extends HeadSpecData = HeadSpecData>(
  source: ModelSource,
  options: { outputs?: string[]; head?: 'split' | 'keep'; headCut?: string; backend?: BackendName } = {},
  plugin: QuantizerPlugin<S> = NO_PLUGIN,
): Promise<{ tflite: Uint8Array; head?: S }> {
  const { graph, headSpec, fileMetadata } = await prepareGraph(source, options, plugin);
  const plan = buildPlan(graph, new Map(), { mode: 'float', quantOf });
  const tflite = writePlan(graph, plan, { metadata: fileMetadata, description: 'yolo-int8 float32 export', where: 'exportFloatTflite' });
  // The spec came from the plug-in's own hooks: it is the plug-in's type.
  return { tflite, head: headSpec as S | undefined };
}

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

  // 1. Import, clean up, and treat the YOLO head.
  progress('import', 0, 1);
  const prepared = await prepareGraph(source, options, plugin);
  progress('import', 1, 1);
  timings.importSeconds = nowSeconds() - t0;

  // 2. Calibration over every activation of the graph to be quantized.
  const tc = nowSeconds();
  const bc = recipe.resolved.biasCorrection;
  const { calibrated: cal, executor } = await calibrateGraph(prepared, recipe, {
    ...options,
    keepExecutor: options.analyzeLayers !== undefined || bc.enabled,
    // A one-shot dataset (an iterator) cannot be read again: keep the samples bias correction measures on.
    keepInputs: bc.enabled && !isReiterable(options.representativeDataset) ? bc.samples : 0,
  }, plugin);
  try {
    timings.calibrationSeconds = nowSeconds() - tc;
    const { graph, fileMetadata } = cal;
    // The spec came from the plug-in's own hooks: it is the plug-in's type.
    const headSpec = cal.headSpec as S | undefined;

    // 3. The plan, then the file.
    let accuracy: AccuracyReport | undefined;
    let precisionOf: ((n: { name: string }) => Precision) | undefined;
    if (options.accuracy) {
      const ts = nowSeconds();
      const sel = await selectForAccuracy(cal, recipe, options.accuracy, {
        inputType: options.inputType, outputType: options.outputType, inputRange: options.inputRange, onProgress: progress,
        metric: plugin.metric, resolveImages: imageSourceOf(plugin),
      });
      precisionOf = (n) => sel.precisions.get(n.name)!;
      accuracy = sel.report;
      timings.accuracySeconds = nowSeconds() - ts;
    }
    const tq = nowSeconds();
    // With an accuracy target, outputs keep their own dtype (as the search measured them) unless outputType says otherwise.
    const outputType = options.accuracy ? options.outputType : options.outputType ?? 'int8';
    let plan = planFor(cal, recipe, { inputType: options.inputType, outputType, inputRange: options.inputRange, precisionOf });
    let biasCorrection: BiasCorrectionReport | undefined;
    if (bc.enabled && executor) {
      const tb = nowSeconds();
      const inputShape = graph.tensors.get(graph.inputs[0])!.shape;
      const inputs = correctionInputs(options.representativeDataset, inputShape, cal.keptInputs, imageSourceOf(plugin))!;
      progress('bias correction', 0, 1);
      const corrected = await correctBiases(plan, graph, {
        floatExec: executor,
        inputs,
        // Measured on calibration samples only: the first ones calibration used.
        settings: { mode: bc.mode, samples: Math.min(bc.samples, cal.calibration.samples) },
        write: (p) => writePlan(graph, p, { description: 'yolo-int8 bias correction', where: 'quantizeInt8 (bias correction)', check: false }),
      });
      plan = corrected.plan;
      biasCorrection = corrected.report;
      progress('bias correction', 1, 1);
      timings.biasCorrectionSeconds = nowSeconds() - tb;
    }
    const tflite = writePlan(graph, plan, { metadata: fileMetadata, description: descriptionOf(plan), where: 'quantizeInt8' });
    timings.writeSeconds = nowSeconds() - tq - (timings.biasCorrectionSeconds ?? 0);

    let layerErrors: LayerError[] | undefined;
    if (options.analyzeLayers && executor) {
      const ta = nowSeconds();
      const debugPlan = planFor(cal, recipe, { inputType: 'int8', extraOutputs: cal.activations, inputRange: options.inputRange });
      // The corrected biases, as written.
      for (const [k, t] of plan.tensors) if (t.origin.kind === 'bias' && t.origin.corrected) debugPlan.tensors.set(k, t);
      const debugModel = writePlan(graph, debugPlan, { description: 'yolo-int8 layer analysis', where: 'quantizeInt8 (layer analysis)', check: false });
      const inputShape = graph.tensors.get(graph.inputs[0])!.shape;
      layerErrors = await analyzeLayerErrors(debugModel, executor, datasetInputs(options.analyzeLayers, inputShape, { used: 0, skipped: [] }, imageSourceOf(plugin)), cal.activations);
      timings.analyzeSeconds = nowSeconds() - ta;
    }

    // 4. Check the written file, not our intentions.
    const inspected = inspectTflite(tflite);
    timings.totalSeconds = nowSeconds() - t0;
    timings.forwardSeconds = cal.forwardSeconds;
    const report: QuantizeReport<S> = {
      source: graph.meta.source,
      format: graph.meta.format,
      backend: cal.backend,
      recipe: recipe.resolved,
      head: { treatment: cal.treatment, family: cal.family, cut: prepared.cut, spec: headSpec, probeMaxError: prepared.probeMaxError },
      cutAt: graph.meta.cutAt,
      ...(graph.meta.sourceQuantization ? { sourceQuantization: graph.meta.sourceQuantization } : {}),
      calibration: {
        method: recipe.resolved.calibration,
        samples: cal.calibration.samples,
        skipped: cal.stats.skipped,
        seconds: cal.calibration.seconds,
        forwardSeconds: cal.forwardSeconds,
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
      fileBytes: tflite.length,
      warnings: cal.warnings,
      notes: [...graph.meta.notes, ...plan.notes],
      timings,
      layerErrors,
      ...(accuracy ? { accuracy } : {}),
      ...(biasCorrection ? { biasCorrection } : {}),
    };
    return { tflite, report, head: headSpec };
  } finally {
    executor?.dispose();
  }
}

/** The file's description says what kind of model it is. */
function descriptionOf(plan: QuantPlan): string {
  const s = planPrecisionSummary(plan);
  if (s.int16 === 0 && s.float === 0) return 'yolo-int8 full-integer quantization';
  return `yolo-int8 mixed precision (${s.int8} int8, ${s.int16} int16, ${s.float} float ops)`;
}
