// quantizeInt8: float model in, full-integer int8 .tflite out.
//   import -> passes -> (detection head: cut where its family says) -> calibrate (streaming) ->
//   choose int8 parameters -> write TFLite -> verify the written file.
import type * as tfTypes from '@tensorflow/tfjs';
import { importModel } from '../graph/importers/index.js';
import { runDefaultPasses } from '../graph/passes/index.js';
import { createFloatExecutor, type FloatExecutor } from '../graph/execute.js';
import type { BackendName } from '../graph/backend.js';
import type { Graph, IrNode } from '../graph/ir.js';
import { consumersOf } from '../graph/ir.js';
import { getOpDef } from '../ops/registry.js';
import { calibrate, type CalibrationMethod } from '../calibrate/calibrate.js';
import { writeTflite } from '../tflite/writer.js';
import { chooseActivationParams, snapRangeOutward } from './math.js';
import type { QParams } from './params.js';
import { assertValidTflite } from '../tflite/check.js';
import { inspectTflite, type InspectReport } from '../inspect.js';
import { checkCalibrationCount, datasetInputs, type DatasetStats, type RepresentativeDataset } from './dataset.js';
import { splitOutputTail, treatHead, type HeadSpec, type HeadTreatment } from './head.js';
import { quantizeGraph, type IoType, type TensorQuantReport } from './quantize-graph.js';
import type { OpQuant } from './rules.js';
import { headSpecMetadata } from '../yolo/families/index.js';
import type { DatasetInfo } from '../yolo/dataset.js';
import { assertFiniteConstants } from '../util/validate.js';
import { analyzeLayerErrors, type LayerError } from './layer-errors.js';
import { resolveRecipe, type QuantRecipe, type ResolvedRecipe } from './recipe.js';

export type { HeadSpec } from './head.js';
export type { QuantRecipe } from './recipe.js';

export type ModelSource = string | Uint8Array | tfTypes.GraphModel | tfTypes.LayersModel | Graph;

function isGraph(x: unknown): x is Graph {
  return typeof x === 'object' && x !== null && (x as Graph).tensors instanceof Map && Array.isArray((x as Graph).nodes);
}

export interface QuantizeInt8Options {
  /** An image directory, a list of image paths, or an (async) iterable of inputs (Float32Array / tf.Tensor / Uint8Array pixels). */
  representativeDataset: RepresentativeDataset;
  /** How many samples calibration uses (default 100, or fewer when the dataset is smaller). */
  numCalibrationSamples?: number;
  calibration?: CalibrationMethod;
  /** Per-channel weights (default true). */
  perChannel?: boolean;
  inputType?: IoType;
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
  /** Per-layer choices (calibration method, per-channel, explicit ranges). */
  recipe?: QuantRecipe;
  /**
   * Float range of the model input; default [0, 1] (pixel / 255) -> int8 scale 1/255, zero point -128.
   * Like every activation range it is widened to contain 0 ([0.2, 1] is quantized as [0, 1]).
   */
  inputRange?: [number, number];
  backend?: BackendName;
  onProgress?: (step: string, done: number, total: number) => void;
  /**
   * Layer-by-layer verification: these inputs (image paths or tensors, as for the dataset) are run
   * through the float graph and through the int8 model in LiteRT with every activation exposed, and
   * the report lists each tensor's signal-to-quantization-noise ratio.
   */
  analyzeLayers?: RepresentativeDataset;
}

export interface QuantizeReport {
  source: string;
  format: string;
  backend: string;
  recipe: ResolvedRecipe;
  head: { treatment: HeadTreatment; family?: string; cut?: string; spec?: HeadSpec; probeMaxError?: number };
  cutAt?: string[];
  /** Set when the source model's weights were already integer-rounded (a quantized .tflite source). */
  sourceQuantization?: Graph['meta']['sourceQuantization'];
  calibration: {
    method: string; samples: number; skipped: { file: string; reason: string }[]; seconds: number; forwardSeconds: number;
    /** When the dataset was given as a path: how it was read (layout, split used). */
    dataset?: DatasetInfo;
  };
  tensors: TensorQuantReport[];
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
}

export interface QuantizeInt8Result {
  tflite: Uint8Array;
  report: QuantizeReport;
  /** The post-processing decode spec for models whose head was split (also stored in the file). */
  head?: HeadSpec;
}

/**
 * int8 parameters of the model input for its float range, from the shared chooser: the range is widened
 * to contain 0 (so [0.2, 1] is quantized as [0, 1]) and the zero point stays inside int8. The default
 * [0, 1] (pixel / 255) gives scale 1/255, zero point -128.
 */
function inputParamsFor(range: [number, number] | undefined): QParams {
  const [lo, hi] = range ?? [0, 1];
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(lo < hi)) {
    throw new Error(`quantizeInt8: inputRange must be [min, max] with finite min < max, got [${range?.join(', ')}]`);
  }
  return chooseActivationParams(lo, hi);
}

function now(): number {
  return performance.now() / 1000;
}

/**
 * The T >= 1.2785 (where SiLU has its minimum) beyond which |x * sigmoid(x)| < tolerance for all x < -T
 * (|SiLU| decreases monotonically there), found by bisection.
 */
export function siluNegligibleBelow(tolerance: number): number {
  const silu = (x: number) => x / (1 + Math.exp(-x));
  let lo = 1.2785;
  if (Math.abs(silu(-lo)) <= tolerance) return lo;
  let hi = 2;
  while (Math.abs(silu(-hi)) > tolerance && hi < 1e3) hi *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (Math.abs(silu(-mid)) > tolerance) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Logit beyond which the int8 LOGISTIC output (scale 1/256, zp -128) saturates: ln(255.5 / 0.5). */
const LOGISTIC_SATURATION = Math.log(255.5 / 0.5);

interface PreparedGraph {
  graph: Graph;
  headSpec?: HeadSpec;
  family?: string;
  cut?: string;
  treatment: HeadTreatment;
  probeMaxError?: number;
  warnings: string[];
}

/** Import + default passes + the detection-head treatment (shared by quantizeInt8 and exportFloatTflite). */
async function prepareGraph(
  source: ModelSource,
  options: { outputs?: string[]; head?: 'split' | 'keep'; headCut?: string; backend?: BackendName },
): Promise<PreparedGraph> {
  const imported = isGraph(source) ? source : await importModel(source, { outputs: options.outputs });
  assertFiniteConstants(imported, imported.meta?.source ?? 'model');
  const graph: Graph = runDefaultPasses(imported);
  if (graph.inputs.length !== 1) {
    throw new Error(`${graph.meta.source}: the model has ${graph.inputs.length} inputs; one image input is supported`);
  }
  const treated = await treatHead(graph, options);
  return {
    graph: treated.graph,
    headSpec: treated.spec,
    family: treated.family,
    cut: treated.cut,
    treatment: treated.treatment,
    probeMaxError: treated.probeMaxError,
    warnings: treated.warnings,
  };
}

/**
 * The same graph written as a float32 .tflite (same ops, same head treatment, no quantization): the
 * float reference that the int8 model is compared with, runnable in the same runtime.
 */
export async function exportFloatTflite(
  source: ModelSource,
  options: { outputs?: string[]; head?: 'split' | 'keep'; headCut?: string; backend?: BackendName } = {},
): Promise<{ tflite: Uint8Array; head?: HeadSpec }> {
  const { graph, headSpec } = await prepareGraph(source, options);
  const metadata: Record<string, Uint8Array> = headSpec ? headSpecMetadata(headSpec) : {};
  const result = quantizeGraph(graph, new Map(), {
    mode: 'float32',
    perChannel: false,
    inputType: 'float32',
    outputType: 'float32',
    quantOf,
    metadata,
    description: 'yolo-int8 float32 export',
  });
  const tflite = writeTflite(result.model);
  assertValidTflite(tflite, 'exportFloatTflite');
  return { tflite, head: headSpec };
}

function quantOf(n: IrNode): OpQuant {
  const q = getOpDef(n.op).quant;
  if (!q) throw new Error(`quantize: op '${n.op}' (node '${n.name}') has no int8 quantization rule`);
  return q;
}

export async function quantizeInt8(source: ModelSource, options: QuantizeInt8Options): Promise<QuantizeInt8Result> {
  const t0 = now();
  const timings: Record<string, number> = {};
  const warnings: string[] = [];
  if (!options || options.representativeDataset === undefined || options.representativeDataset === null) {
    throw new Error('quantizeInt8: options.representativeDataset is required (an image directory, image paths or input tensors)');
  }
  const progress = options.onProgress ?? (() => {});
  const recipe = resolveRecipe(options);
  const inputParams = inputParamsFor(options.inputRange);

  // 1. Import, clean up, and treat the YOLO head.
  progress('import', 0, 1);
  const prepared = await prepareGraph(source, options);
  let graph = prepared.graph;
  let { headSpec, treatment } = prepared;
  const { probeMaxError } = prepared;
  let family = prepared.family;
  warnings.push(...prepared.warnings);
  progress('import', 1, 1);
  timings.importSeconds = now() - t0;
  const inputName = graph.inputs[0];
  const inputShape = graph.tensors.get(inputName)!.shape;

  let executor: FloatExecutor | undefined;
  try {
    // 2. Calibration over every activation of the graph to be quantized.
    const calibGraphExec = (executor = await createFloatExecutor(graph, { backend: options.backend }));
    const backendName = calibGraphExec.backend;
    const activations: string[] = [];
    const consumers = consumersOf(graph);
    for (const n of graph.nodes) for (const o of n.outputs) if (!graph.tensors.get(o)?.data) activations.push(o);
    const stats: DatasetStats = { used: 0, skipped: [] };
    const numSamples = options.numCalibrationSamples ?? 100;
    if (!(numSamples >= 1)) throw new Error(`quantizeInt8: numCalibrationSamples must be >= 1, got ${numSamples}`);
    let forwardSeconds = 0;
    const tc = now();
    let calibration;
    try {
      calibration = await calibrate({
        tensors: activations,
        samples: datasetInputs(options.representativeDataset, inputShape, stats),
        numSamples,
        forward: async (input, onTensor) => {
          const tf0 = now();
          await calibGraphExec.stream(input, { onTensor: (name, data) => onTensor(name, data), fetch: [] });
          forwardSeconds += now() - tf0;
        },
        method: (t) => recipe.methodFor(t),
        onProgress: (done, total) => progress('calibrate', done, total),
      });
    } finally {
      if (!options.analyzeLayers) {
        executor.dispose();
        executor = undefined;
      }
    }
    timings.calibrationSeconds = now() - tc;
    if (stats.skipped.length) {
      warnings.push(`${stats.skipped.length} calibration file(s) skipped: ${stats.skipped.slice(0, 3).map((s) => s.reason).join('; ')}`);
    }
    checkCalibrationCount(stats, numSamples);
    if (calibration.samples < numSamples && typeof options.representativeDataset !== 'string') {
      warnings.push(`only ${calibration.samples} calibration samples were available (asked for ${numSamples})`);
    }

    // 3. Ranges, with what the int8 kernels make irrelevant clipped away.
    const ranges = new Map<string, { min: number; max: number }>();
    for (const [name, r] of calibration.ranges) {
      let { min, max } = r;
      const override = recipe.rangeFor(name);
      if (override) [min, max] = override;
      const readers = consumers.get(name) ?? [];
      // A tensor read only by LOGISTIC needs no range beyond where the int8 sigmoid saturates.
      if (!override && readers.length > 0 && readers.every((n) => n.op === 'Sigmoid') && !graph.outputs.includes(name)) {
        const clip = (v: number) => Math.min(LOGISTIC_SATURATION, Math.max(-LOGISTIC_SATURATION, v));
        min = clip(min);
        max = clip(max);
      }
      // A tensor read only by SiLU needs no negative range below where x * sigmoid(x) rounds to 0 in
      // the SiLU output's own int8 step: clipping there changes no SiLU output, and the rest of the
      // range gets a finer step.
      if (!override && readers.length > 0 && readers.every((n) => n.op === 'Silu') && !graph.outputs.includes(name)) {
        let step = Infinity;
        for (const n of readers) {
          const out = calibration.ranges.get(n.outputs[0]);
          if (out) step = Math.min(step, (Math.max(out.max, 0) - Math.min(out.min, 0)) / 255);
        }
        if (Number.isFinite(step) && step > 0) min = Math.max(min, -siluNegligibleBelow(step / 2));
      }
      ranges.set(name, override ? { min, max } : snapRangeOutward(min, max));
    }
    // A head no family took: move an output tail that joins very different ranges to float.
    if (treatment === 'none' && options.head !== 'keep') {
      const split = splitOutputTail(graph, ranges);
      if (split) {
        graph = split.graph;
        headSpec = split.spec;
        treatment = 'split';
        family = split.spec.kind;
      }
    }

    // 4. Write the int8 model.
    const tq = now();
    const metadata: Record<string, Uint8Array> = headSpec ? headSpecMetadata(headSpec) : {};
    const result = quantizeGraph(graph, ranges, {
      perChannel: (n) => recipe.perChannelFor(n.name),
      inputType: options.inputType ?? 'int8',
      outputType: options.outputType ?? 'int8',
      inputParams: new Map([[inputName, inputParams]]),
      quantOf,
      metadata,
      description: 'yolo-int8 full-integer quantization',
    });
    const tflite = writeTflite(result.model);
    assertValidTflite(tflite, 'quantizeInt8');
    timings.writeSeconds = now() - tq;

    let layerErrors: LayerError[] | undefined;
    if (options.analyzeLayers && executor) {
      const ta = now();
      const debugModel = quantizeGraph(graph, ranges, {
        perChannel: (n) => recipe.perChannelFor(n.name),
        inputType: 'int8',
        outputType: 'int8',
        inputParams: new Map([[inputName, inputParams]]),
        quantOf,
        extraOutputs: activations,
      });
      layerErrors = await analyzeLayerErrors(writeTflite(debugModel.model), executor, datasetInputs(options.analyzeLayers, inputShape, { used: 0, skipped: [] }), activations);
      timings.analyzeSeconds = now() - ta;
    }

    // 5. Check the written file, not our intentions.
    const inspected = inspectTflite(tflite);
    timings.totalSeconds = now() - t0;
    timings.forwardSeconds = forwardSeconds;
    const report: QuantizeReport = {
      source: graph.meta.source,
      format: graph.meta.format,
      backend: backendName,
      recipe: recipe.resolved,
      head: { treatment, family, cut: prepared.cut, spec: headSpec, probeMaxError },
      cutAt: graph.meta.cutAt,
      ...(graph.meta.sourceQuantization ? { sourceQuantization: graph.meta.sourceQuantization } : {}),
      calibration: {
        method: recipe.resolved.calibration,
        samples: calibration.samples,
        skipped: stats.skipped,
        seconds: calibration.seconds,
        forwardSeconds,
        ...(stats.dataset ? { dataset: stats.dataset } : {}),
      },
      tensors: result.tensors,
      ops: inspected.opHistogram,
      inputs: inspected.inputs,
      outputs: inspected.outputs,
      allInteger: inspected.allInteger,
      floatTensors: inspected.floatTensors,
      quantizeOps: inspected.opHistogram.QUANTIZE ?? 0,
      fileBytes: tflite.length,
      warnings,
      notes: [...graph.meta.notes, ...result.notes],
      timings,
      layerErrors,
    };
    return { tflite, report, head: headSpec };
  } finally {
    executor?.dispose();
  }
}
