// The stages of quantization, with data between them:
//   prepareGraph (import, passes, head) -> calibrateGraph (statistics -> ranges) -> planFor (the plan)
//   -> plan passes -> writePlan (emit + check).
// The plug-in (plugin.ts) is read in the first two: the head, the dataset resolver, the overrides
// its head spec needs; what they decide travels on in the PreparedGraph / CalibratedGraph.
// quantizeInt8 runs them once; the sensitivity analysis and the accuracy-aware selection calibrate
// once and plan/write many variants from the same statistics.
import type * as tfTypes from '@tensorflow/tfjs';
import { importModel } from '../graph/importers/index.js';
import { runDefaultPasses } from '../graph/passes/index.js';
import { describeOpNodes } from '../graph/builder.js';
import { imageLayoutOf } from '../pipeline/layout.js';
import { equalizeCrossLayer } from '../graph/passes/equalize.js';
import { inputNormalizationProblem, prependInputNormalization, type InputNormalization } from '../graph/passes/normalize-input.js';
import { INPUT_NORMALIZATION_METADATA, INPUT_RANGE_METADATA, encodeInputNormalization, encodeInputRange } from '../pipeline/quantize.js';
import { createFloatExecutor, type FloatExecutor } from '../graph/execute.js';
import type { BackendName } from '../graph/backend.js';
import type { Graph, IrNode } from '../ir/graph.js';
import { consumersOf } from '../ir/graph.js';
import { getOpDef } from '../ops/registry.js';
import { calibrate, type CalibrationResult } from '../calibrate/calibrate.js';
import type { HistogramObserverOptions } from '../calibrate/observers.js';
import { ObserverKernels } from '../calibrate/observer-kernels.js';
import { rangeDerivations, type ObserveMode } from './observation-plan.js';
import { writeTflite } from '../tflite/writer.js';
import { assertValidTflite } from '../tflite/check.js';
import { chooseActivationParams, snapRangeOutward, type QuantParams } from '../int8/arithmetic.js';
import { applyRangeRule } from './range-rules.js';
import {
  checkCalibrationCount, datasetInputs, isImageDataset, modelInputShapes, modelSamples, plainImageSource, type DatasetStats, type ModelSample, type RepresentativeDataset,
} from './dataset.js';
import { adoptSourceHead, treatHead, type HeadTreatment } from './head.js';
import { NO_PLUGIN, type HeadPlugin, type HeadSpecData, type ImageSourceResolver, type QuantizerPlugin } from './plugin.js';
import type { ActivationRange } from './params.js';
import { buildPlan, type IoType, type QuantPlan } from './plan.js';
import { emitPlan } from './emit.js';
import { checkOverridesMatch, type RecipeOverride, type RecipeResolver } from './recipe.js';
import type { OpQuant, Precision } from '../ops/types.js';
import { assertFiniteConstants } from '../graph/validate.js';
import { progressRate, type ProgressRate } from '../util/progress.js';
import { nowSeconds } from '../util/clock.js';
import { extremesOf } from '../util/stats.js';

export type ModelSource = string | Uint8Array | tfTypes.GraphModel | tfTypes.LayersModel | Graph;

function isGraph(x: unknown): x is Graph {
  return typeof x === 'object' && x !== null && (x as Graph).tensors instanceof Map && Array.isArray((x as Graph).nodes);
}

export function quantOf(n: IrNode): OpQuant {
  const q = getOpDef(n.op).quant;
  if (!q) throw new Error(`quantize: op '${n.op}' (node '${n.name}') has no quantization rule`);
  return q;
}

/**
 * int8 parameters of the model input for its float range, from the shared chooser: the range is widened
 * to contain 0 (so [0.2, 1] is quantized as [0, 1]) and the zero point stays inside int8. The default
 * [0, 1] (pixel / 255) gives scale 1/255, zero point -128.
 */
export function inputParamsFor(range: [number, number] | undefined): QuantParams {
  const [lo, hi] = range ?? [0, 1];
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(lo < hi)) {
    throw new Error(`quantizeInt8: inputRange must be [min, max] with finite min < max, got [${range?.join(', ')}]`);
  }
  return chooseActivationParams(lo, hi);
}

export interface PreparedGraph {
  graph: Graph;
  headSpec?: HeadSpecData;
  family?: string;
  cut?: string;
  treatment: HeadTreatment;
  probeMaxError?: number;
  warnings: string[];
  /** Recipe overrides the head spec's outputs need (the plug-in's; the recipe's own win). */
  overrides: RecipeOverride[];
  /** The metadata entries every file written from the graph carries (the head spec, as the plug-in writes it). */
  fileMetadata: Record<string, Uint8Array>;
}

export interface PrepareOptions {
  outputs?: string[];
  /** Class names replacing the source's (QuantizeInt8Options.classNames). */
  classNames?: string[];
  /**
   * The input's shape where the model leaves sizes unknown ([-1,-1,-1,3]): one shape for a model with
   * one input, or shapes by input name. It must agree with every dimension the model does declare.
   */
  inputShape?: number[] | Record<string, number[]>;
  /**
   * Cross-layer equalization before calibration (Nagel et al. 2019; lib/graph/passes/equalize.ts):
   * per-channel weight ranges of consecutive layers evened out through ReLU / LeakyReLU / PReLU /
   * pooling, the float function unchanged. Off by default: it helped nsfwjs (+3.4 dB) and BlazeFace,
   * left the ReLU6 models unchanged (bench/RESULTS.md).
   */
  equalize?: boolean;
  /**
   * Per-channel mean/std in pixel units (model input = (pixel - mean_c) / std_c): written as the
   * graph's first op (lib/graph/passes/normalize-input.ts), so the file takes pixels 0..255.
   */
  inputNormalization?: InputNormalization;
  head?: 'split' | 'keep';
  headCut?: string;
  backend?: BackendName;
}

/** The float range of a model that takes pixels as they are (int8 = pixel - 128 at scale 1). */
export const PIXEL_RANGE: [number, number] = [0, 255];

/**
 * The model input's float range as the caller set it: pixels 0..255 when the normalisation is in the
 * graph (an inputRange beside it is refused: the two say different things), else options.inputRange.
 */
export function callerInputRange(options: { inputRange?: [number, number]; inputNormalization?: InputNormalization }, where: string): [number, number] | undefined {
  if (options.inputNormalization === undefined) return options.inputRange;
  const problem = inputNormalizationProblem(options.inputNormalization, where);
  if (problem) throw new Error(problem);
  if (options.inputRange !== undefined) {
    throw new Error(`${where}: give inputRange or inputNormalization, not both (with inputNormalization the model takes pixels 0..255)`);
  }
  return [...PIXEL_RANGE];
}

/** The graph with the caller's normalisation as its first op, and the metadata that records it. */
function withInputNormalization(graph: Graph, normalization: InputNormalization | undefined): { graph: Graph; fileMetadata: Record<string, Uint8Array> } {
  if (normalization === undefined) return { graph, fileMetadata: {} };
  const normalized = prependInputNormalization(graph, normalization, `${graph.meta.source}: inputNormalization`);
  return {
    graph: normalized,
    fileMetadata: { [INPUT_RANGE_METADATA]: encodeInputRange(PIXEL_RANGE), [INPUT_NORMALIZATION_METADATA]: encodeInputNormalization(normalization) },
  };
}

/** What a plug-in head makes of a spec: the overrides its outputs need and the file metadata. */
function specConsequences(spec: HeadSpecData | undefined, head: HeadPlugin | undefined): Pick<PreparedGraph, 'overrides' | 'fileMetadata'> {
  if (!spec || !head) return { overrides: [], fileMetadata: {} };
  return { overrides: head.overrides(spec), fileMetadata: head.metadata(spec) };
}

/** Where ModelInfo.names came from when the caller gave them (a head plug-in insists they fit). */
export const GIVEN_CLASS_NAMES = 'options.classNames';

/** The graph with the caller's class names in place of the source's (the head plug-in stores them). */
function withGivenClassNames(graph: Graph, names: string[] | undefined): Graph {
  if (names === undefined) return graph;
  if (!Array.isArray(names) || names.length === 0 || names.some((n) => typeof n !== 'string' || n === '')) {
    throw new Error(`${graph.meta.source}: classNames must be a non-empty list of non-empty strings`);
  }
  return { ...graph, meta: { ...graph.meta, modelInfo: { ...graph.meta.modelInfo, from: GIVEN_CLASS_NAMES, names: [...names] } } };
}

/**
 * Every op left in the graph has a writer (a quantization rule): ops without one (Fill, Range,
 * SparseToDense) are only folded from constant inputs. One error lists each such op once, with its
 * count and a few nodes, rather than stopping at the first node.
 */
function checkWritableOps(graph: Graph): void {
  const unwritable = new Map<string, string[]>();
  for (const n of graph.nodes) {
    if (getOpDef(n.op).quant) continue;
    unwritable.set(n.op, [...(unwritable.get(n.op) ?? []), n.name]);
  }
  if (unwritable.size === 0) return;
  throw new Error(`${graph.meta.source}: ops that are folded from constant inputs only have computed inputs here: ${describeOpNodes(unwritable)}`);
}

/** "'a' [1,32,32,3] (image-like), 'b' [1,10]": a graph's inputs as the errors about them name them. */
function describeGraphInputs(graph: Graph): string {
  return graph.inputs.map((name) => {
    const shape = graph.tensors.get(name)!.shape;
    return `'${name}' [${shape.join(',')}]${imageLayoutOf(shape) ? ' (image-like)' : ''}`;
  }).join(', ');
}

/** Refuses a feature that reads one model input (`what`) on a model with several, naming them. */
export function assertOneInput(graph: Graph, what: string): void {
  if (graph.inputs.length === 1) return;
  throw new Error(`${graph.meta.source}: ${what} applies to a model with one input; this one has ${graph.inputs.length} (${describeGraphInputs(graph)})`);
}

/** PrepareOptions.inputShape as the importers take it. */
function inputShapeOptions(shape: PrepareOptions['inputShape']): { inputShape?: number[]; inputShapes?: Record<string, number[]> } {
  if (shape === undefined) return {};
  return Array.isArray(shape) ? { inputShape: shape } : { inputShapes: shape };
}

/** Import + default passes + the head treatment (shared by quantizeInt8 and exportFloatTflite). */
export async function prepareGraph(source: ModelSource, options: PrepareOptions, plugin: QuantizerPlugin = NO_PLUGIN): Promise<PreparedGraph> {
  const imported = adoptSourceHead(withGivenClassNames(isGraph(source) ? source : await importModel(source, { outputs: options.outputs, ...inputShapeOptions(options.inputShape) }), options.classNames), plugin.head);
  assertFiniteConstants(imported, imported.meta?.source ?? 'model');
  const graph: Graph = runDefaultPasses(imported);
  if (options.inputNormalization !== undefined) assertOneInput(graph, 'inputNormalization');
  const treated = await treatHead(graph, options, plugin.head);
  // After the head treatment, so the pairs are those of the graph that is quantized.
  const equalized = options.equalize ? equalizeCrossLayer(treated.graph).graph : treated.graph;
  // Last, so that nothing above (head probes, equalization) sees or changes it.
  const normalized = withInputNormalization(equalized, options.inputNormalization);
  checkWritableOps(normalized.graph);
  const consequences = specConsequences(treated.spec, plugin.head);
  return {
    graph: normalized.graph,
    headSpec: treated.spec,
    family: treated.family,
    cut: treated.cut,
    treatment: treated.treatment,
    probeMaxError: treated.probeMaxError,
    warnings: treated.warnings,
    overrides: consequences.overrides,
    fileMetadata: { ...consequences.fileMetadata, ...normalized.fileMetadata },
  };
}

/** Everything calibration produced: the graph to quantize (its tail may have moved to float), ranges, statistics. */
export interface CalibratedGraph {
  prepared: PreparedGraph;
  graph: Graph;
  headSpec?: HeadSpecData;
  treatment: HeadTreatment;
  family?: string;
  ranges: Map<string, ActivationRange>;
  /** Observed extremes (snapped), the ranges of int16 tensors. */
  observedRanges: Map<string, ActivationRange>;
  /** Tensors whose range was adjusted after calibration's choice, and why (the plan's origin says it). */
  rangeRules: Map<string, string>;
  calibration: CalibrationResult;
  stats: DatasetStats;
  activations: string[];
  backend: string;
  forwardSeconds: number;
  inputParams: QuantParams;
  warnings: string[];
  /**
   * Model inputs whose int8 parameters come from calibration (their observed extremes) rather than
   * inputParams: every input of a model with several inputs fed with tensors and no inputRange given.
   */
  calibratedInputs: string[];
  /** The first `keepInputs` calibration inputs (when asked for: a one-shot dataset cannot be read again). */
  keptInputs?: ModelSample[];
  /** The plug-in's recipe overrides (planFor applies them under the recipe's own). */
  overrides: RecipeOverride[];
  /** The metadata entries every file written from the graph carries. */
  fileMetadata: Record<string, Uint8Array>;
}

export interface CalibrateGraphOptions {
  representativeDataset: RepresentativeDataset;
  numCalibrationSamples?: number;
  backend?: BackendName;
  /** Heap views for the observers where the backend allows (ExecutorOptions.activationViews; default true). */
  activationViews?: boolean;
  head?: 'split' | 'keep';
  inputRange?: [number, number];
  /** Image pixel limit checked in each header before decoding (decodeImage's default when omitted). */
  maxPixels?: number;
  /** Decode calibration images in a worker thread ahead of the passes (default true; prefetch.ts). */
  decodeInWorker?: boolean;
  onProgress?: (step: string, done: number, total: number, rate?: ProgressRate) => void;
  /** Keep the float executor open (returned) for later passes over the float graph. */
  keepExecutor?: boolean;
  /** Keep the first N prepared calibration inputs (CalibratedGraph.keptInputs). */
  keepInputs?: number;
  /**
   * Which activations are observed (observation-plan.ts): 'exact' (default) derives what follows
   * exactly from other tensors; 'plan' also skips tensors whose parameters the plan fixes (only when the
   * plan's precisions will be the recipe's; 'exact' where the plug-in may still split the head); 'all'.
   */
  observe?: ObserveMode;
  /** The type the plan will write model outputs as ('plan' then skips fixed outputs that keep their parameters). */
  plannedOutputType?: IoType;
  /** Histogram settings of the histogram-based methods (calibrate's defaults when omitted). */
  histogram?: HistogramObserverOptions;
  /**
   * The observers' WebAssembly loops, reading the executor's heap views in place (default true);
   * false: the JavaScript loops. Same statistics either way (calibrate/observer-kernels.ts).
   */
  observerKernels?: boolean;
}

/** How the plug-in reads a dataset path (its layouts), else the plain resolver. */
export function imageSourceOf(plugin: QuantizerPlugin): ImageSourceResolver {
  return plugin.resolveImages ?? plainImageSource;
}

/** The recipe with the plug-in's overrides under its own (what the graph's tensors are quantized by). */
export function recipeWithPlugin(recipe: RecipeResolver, overrides: readonly RecipeOverride[]): RecipeResolver {
  return overrides.length ? recipe.withOverrides(overrides, 'plug-in overrides') : recipe;
}

/** What running calibration over a dataset gives: the statistics and how the dataset was read. */
interface CalibrationRun {
  calibration: CalibrationResult;
  stats: DatasetStats;
  activations: string[];
  forwardSeconds: number;
  keptInputs?: ModelSample[];
  warnings: string[];
}

/** Streams the dataset through the float executor, observing every activation (calibrate/calibrate.ts). */
async function runCalibration(
  graph: Graph,
  executor: FloatExecutor,
  recipe: RecipeResolver,
  options: CalibrateGraphOptions & { observe: ObserveMode },
  resolve: ImageSourceResolver,
): Promise<CalibrationRun> {
  const progress = options.onProgress ?? (() => {});
  const activations: string[] = [];
  for (const n of graph.nodes) for (const o of n.outputs) if (!graph.tensors.get(o)?.data) activations.push(o);
  const stats: DatasetStats = { used: 0, skipped: [] };
  const numSamples = options.numCalibrationSamples ?? 100;
  if (!(numSamples >= 1)) throw new Error(`quantizeInt8: numCalibrationSamples must be >= 1, got ${numSamples}`);
  let forwardSeconds = 0;
  const started = nowSeconds();
  const keepInputs = options.keepInputs ?? 0;
  const keptInputs: ModelSample[] | undefined = keepInputs > 0 ? [] : undefined;
  const source = modelSamples(options.representativeDataset, modelInputShapes(graph), stats, resolve, options.inputRange, options);
  const calibratedInputs = calibratedInputsOf(graph, options);
  const derived = rangeDerivations(graph, activations, {
    mode: options.observe, quantOf, methodOf: (t) => recipe.methodFor(t), precisionOf: (n) => supportedPrecision(n, recipe.precisionFor(n)),
    outputType: options.plannedOutputType,
  });
  const calibration = await calibrate({
    tensors: [...calibratedInputs, ...activations],
    derived,
    kernels: options.observerKernels === false ? null : ObserverKernels.create(executor.heapMemory()),
    ...(options.histogram ? { histogram: options.histogram } : {}),
    samples: keptInputs ? keeping(source, keptInputs, keepInputs) : source,
    numSamples,
    forward: async (input, onTensor) => {
      const tf0 = nowSeconds();
      await executor.stream(input, { onTensor: (name, data) => onTensor(name, data), fetch: [] });
      forwardSeconds += nowSeconds() - tf0;
    },
    // A calibrated model input is represented whole (as an image input's range is): its extremes.
    method: (t) => (calibratedInputs.includes(t) ? 'minmax' : recipe.methodFor(t)),
    onProgress: (done, total) => progress('calibrate', done, total, progressRate(done, total, nowSeconds() - started)),
  });
  const warnings: string[] = [];
  if (stats.skipped.length) {
    warnings.push(`${stats.skipped.length} calibration file(s) skipped: ${stats.skipped.slice(0, 3).map((s) => s.reason).join('; ')}`);
  }
  checkCalibrationCount(stats, numSamples);
  if (calibration.samples < numSamples && typeof options.representativeDataset !== 'string') {
    warnings.push(`only ${calibration.samples} calibration samples were available (asked for ${numSamples})`);
  }
  return { calibration, stats, activations, forwardSeconds, warnings, ...(keptInputs ? { keptInputs } : {}) };
}

/**
 * Each calibrated tensor's range: an explicit recipe range as given; else calibration's choice,
 * adjusted by a range rule when an override names one, then with what every reader's int8 kernel
 * cannot tell apart clipped away; snapped outward to the grid. Also the observed extremes (int16
 * tensors) and the rules that changed a range.
 */
export function rangesFromCalibration(
  graph: Graph,
  calibration: CalibrationResult,
  recipe: RecipeResolver,
): { ranges: Map<string, ActivationRange>; observedRanges: Map<string, ActivationRange>; rangeRules: Map<string, string> } {
  const ranges = new Map<string, ActivationRange>();
  const observedRanges = new Map<string, ActivationRange>();
  const rangeRules = new Map<string, string>();
  const consumers = consumersOf(graph);
  for (const [name, r] of calibration.ranges) {
    let { min, max } = r;
    const override = recipe.rangeFor(name);
    if (override) [min, max] = override;
    const rule = override ? undefined : recipe.rangeRuleFor(name);
    if (rule) {
      const adjusted = applyRangeRule(rule.rule, { min, max }, { min: r.observedMin, max: r.observedMax }, rule.reason);
      if (adjusted.min !== min || adjusted.max !== max) rangeRules.set(name, adjusted.rule);
      ({ min, max } = adjusted);
    }
    // What every reader's int8 kernel cannot tell apart is clipped away (op registry hooks:
    // LOGISTIC saturation, SiLU's negative tail); readers' clips are joined so each is served.
    const readers = consumers.get(name) ?? [];
    const hooks = readers.map((n) => quantOf(n).inputRange);
    if (!override && readers.length > 0 && hooks.every((h) => h !== undefined) && !graph.outputs.includes(name)) {
      let lo = Infinity;
      let hi = -Infinity;
      readers.forEach((n, k) => {
        const c = hooks[k]!({ min, max }, { outputRange: calibration.ranges.get(n.outputs[0]) });
        lo = Math.min(lo, c.min);
        hi = Math.max(hi, c.max);
      });
      min = lo;
      max = hi;
    }
    ranges.set(name, override ? { min, max } : snapRangeOutward(min, max));
    // int16 (16x8) tensors use the observed extremes, as TFLite's 16x8 calibration does.
    observedRanges.set(name, override ? { min, max } : snapRangeOutward(r.observedMin, r.observedMax));
  }
  return { ranges, observedRanges, rangeRules };
}

/** A head no family took: the plug-in may move an output tail that joins very different ranges to float. */
function headAfterCalibration(
  prepared: PreparedGraph,
  ranges: ReadonlyMap<string, ActivationRange>,
  keepHead: boolean,
  head: HeadPlugin | undefined,
): Pick<CalibratedGraph, 'graph' | 'headSpec' | 'treatment' | 'family' | 'fileMetadata'> {
  const { graph, headSpec, treatment, family, fileMetadata } = prepared;
  const split = treatment === 'none' && !keepHead ? head?.splitOutputTail(graph, ranges) : undefined;
  if (!split) return { graph, headSpec, treatment, family, fileMetadata };
  return { graph: split.graph, headSpec: split.spec, treatment: 'split', family: split.spec.kind, fileMetadata: head!.metadata(split.spec) };
}

/**
 * The model inputs calibrated like activations: those of a model with several inputs fed with tensors
 * when no inputRange says what they hold (one range could not fit inputs of different kinds). Image
 * inputs and a single input keep the inputRange parameters (default [0, 1]).
 */
function calibratedInputsOf(graph: Graph, options: Pick<CalibrateGraphOptions, 'representativeDataset' | 'inputRange'>): string[] {
  if (graph.inputs.length === 1 || isImageDataset(options.representativeDataset) || options.inputRange !== undefined) return [];
  return [...graph.inputs];
}

/** Runs calibration over every activation of the prepared graph and turns the statistics into ranges. */
export async function calibrateGraph(
  prepared: PreparedGraph,
  recipe: RecipeResolver,
  options: CalibrateGraphOptions,
  plugin: QuantizerPlugin = NO_PLUGIN,
): Promise<{ calibrated: CalibratedGraph; executor?: FloatExecutor }> {
  const graph = prepared.graph;
  checkOverridesMatch(recipe.resolved, [...graph.nodes.map((n) => n.name), ...graph.tensors.keys()]);
  const inputParams = inputParamsFor(options.inputRange);
  const rules = recipeWithPlugin(recipe, prepared.overrides);
  const executor = await createFloatExecutor(graph, { backend: options.backend, activationViews: options.activationViews });
  let keep = false;
  try {
    // A head the plug-in may still split is planned on another graph: only exact derivations then.
    const splittable = prepared.treatment === 'none' && options.head !== 'keep' && plugin.head?.splitOutputTail !== undefined;
    const observe = options.observe === 'plan' && splittable ? 'exact' : options.observe ?? 'exact';
    const run = await runCalibration(graph, executor, rules, { ...options, observe }, imageSourceOf(plugin));
    const { ranges, observedRanges, rangeRules } = rangesFromCalibration(graph, run.calibration, rules);
    const head = headAfterCalibration(prepared, ranges, options.head === 'keep', plugin.head);
    keep = options.keepExecutor === true;
    return {
      calibrated: {
        prepared, ...head, ranges, observedRanges, rangeRules, calibration: run.calibration, stats: run.stats, activations: run.activations,
        backend: executor.backend, forwardSeconds: run.forwardSeconds, inputParams, warnings: [...prepared.warnings, ...run.warnings],
        calibratedInputs: calibratedInputsOf(graph, options),
        ...(run.keptInputs ? { keptInputs: run.keptInputs } : {}), overrides: prepared.overrides,
      },
      executor: keep ? executor : undefined,
    };
  } finally {
    if (!keep) executor.dispose();
  }
}

/** Passes the samples through, keeping the first `n` in `into`. */
async function* keeping(samples: AsyncIterable<ModelSample>, into: ModelSample[], n: number): AsyncGenerator<ModelSample> {
  for await (const x of samples) {
    if (into.length < n) into.push(x);
    yield x;
  }
}

export interface PlanForOptions {
  inputType?: IoType;
  outputType?: IoType;
  extraOutputs?: string[];
  /** Precision per node, overriding the recipe's (sensitivity variants). */
  precisionOf?: (node: IrNode) => Precision;
  inputRange?: [number, number];
  /**
   * int16 tensors take their observed calibration range times this (default 1). int16 has 256x finer
   * steps than int8, so a wider range costs little, while the bare observed extremes clip on inputs
   * calibration did not see (the accuracy search's SQNR target, accuracy.ts).
   */
  int16Headroom?: number;
}

const PRECISION_ORDER: readonly Precision[] = ['int8', 'int16', 'float'];

/** A tensor's calibrated float range, or undefined (ops/types.ts refusedPrecisions reads it). */
export type RangeOf = (tensor: string) => ActivationRange | undefined;

/**
 * The exact extremes calibration observed for a calibrated graph's activations, and a constant's own
 * extremes: what a node's refusedPrecisions decides from (not the chosen range: that is clipped, and
 * snapped to include 0, and a decomposition that needs one sign must see every value calibration saw).
 */
export function calibratedRangeOf(cal: Pick<CalibratedGraph, 'graph' | 'calibration'>): RangeOf {
  return (t) => {
    const data = cal.graph.tensors.get(t)?.data;
    if (data === undefined) {
      const r = cal.calibration.ranges.get(t);
      return r ? { min: r.observedMin, max: r.observedMax } : undefined;
    }
    return extremesOf(data as ArrayLike<number>);
  };
}

/** The exact extremes calibration observed per activation (the plan's `extremes`). */
function observedExtremes(cal: Pick<CalibratedGraph, 'calibration'>): Map<string, ActivationRange> {
  return new Map([...cal.calibration.ranges].map(([t, r]) => [t, { min: r.observedMin, max: r.observedMax }]));
}

/**
 * The precisions a node can be written in: its op's kernels, less those its inputs' calibrated ranges
 * rule out (with why). Without ranges (before calibration) only the kernels count.
 */
export function nodePrecisions(node: IrNode, rangeOf?: RangeOf): { allowed: readonly Precision[]; refused?: string } {
  const q = quantOf(node);
  const kernels = q.precisions ?? PRECISION_ORDER;
  const refusal = rangeOf && q.refusedPrecisions?.(node, rangeOf);
  if (!refusal) return { allowed: kernels };
  return { allowed: kernels.filter((p) => !refusal.precisions.includes(p)), refused: refusal.reason };
}

/**
 * The recipe's precision for a node when its op can be written in it, else the next wider one it can
 * (int8 -> int16 -> float): an op TFLite has no integer kernel for (Sqrt, Sin ...), or a Div whose
 * divisor's range holds 0, runs in float between DEQUANTIZE and QUANTIZE instead of stopping the
 * quantization.
 */
export function supportedPrecision(node: IrNode, requested: Precision, rangeOf?: RangeOf): Precision {
  const { allowed } = nodePrecisions(node, rangeOf);
  if (allowed.includes(requested)) return requested;
  return PRECISION_ORDER.slice(PRECISION_ORDER.indexOf(requested)).find((p) => allowed.includes(p)) ?? allowed[allowed.length - 1];
}

/** "Sqrt (2 nodes: a, b) in float: its TFLite kernel has no int8 version", one line per op type and reason. */
function widenedNotes(graph: Graph, requestedOf: (n: IrNode) => Precision, rangeOf: RangeOf): string[] {
  const byOp = new Map<string, { op: string; to: Precision; why: string; names: string[] }>();
  for (const n of graph.nodes) {
    const from = requestedOf(n);
    const to = supportedPrecision(n, from, rangeOf);
    if (to === from) continue;
    const refused = nodePrecisions(n, rangeOf).refused;
    const why = refused && supportedPrecision(n, from) !== to ? refused : `TFLite has no ${from} kernel for it`;
    const key = `${n.op} ${to} ${why}`;
    const e = byOp.get(key) ?? { op: n.op, to, why, names: [] };
    e.names.push(n.name);
    byOp.set(key, e);
  }
  return [...byOp.values()].map((e) => {
    const shown = e.names.length <= 3 ? e.names.join(', ') : `${e.names.slice(0, 3).join(', ')}, ...`;
    return `${e.op} (${e.names.length} node${e.names.length === 1 ? '' : 's'}: ${shown}) written in ${e.to}: ${e.why}`;
  });
}

/** How a tensor's range was chosen, as the plan's origin says it. */
function methodNote(cal: CalibratedGraph, recipe: RecipeResolver, t: string): string {
  const method = cal.calibratedInputs.includes(t) ? 'minmax (model input)' : recipe.methodFor(t);
  return cal.rangeRules.has(t) ? `${method}, ${cal.rangeRules.get(t)}` : method;
}

/** The plan of a calibrated graph under a recipe. */
export function planFor(cal: CalibratedGraph, recipe: RecipeResolver, options: PlanForOptions = {}): QuantPlan {
  const byName = new Map(cal.graph.nodes.map((n) => [n.name, n]));
  recipe = recipeWithPlugin(recipe, cal.overrides);
  const requested = (n: IrNode) => recipe.precisionFor(byName.get(n.name) ?? n);
  const rangeOf = calibratedRangeOf(cal);
  const plan = buildPlan(cal.graph, cal.ranges, {
    quantOf,
    precisionOf: options.precisionOf ?? ((n) => supportedPrecision(n, requested(n), rangeOf)),
    perChannelFor: (n) => recipe.perChannelFor(n.name),
    methodFor: (t) => methodNote(cal, recipe, t),
    inputParams: new Map(cal.graph.inputs.filter((i) => !cal.calibratedInputs.includes(i)).map((i) => [i, cal.inputParams])),
    inputRange: options.inputRange,
    inputType: options.inputType ?? 'int8',
    outputType: options.outputType,
    extraOutputs: options.extraOutputs,
    int16Ranges: widenedRanges(cal.observedRanges, options.int16Headroom ?? 1),
    extremes: observedExtremes(cal),
  });
  if (!options.precisionOf && plan.mode !== 'float') plan.notes.push(...widenedNotes(cal.graph, requested, rangeOf));
  return plan;
}

/** Every range times `factor` (about zero); the same map when the factor is 1. */
function widenedRanges(ranges: Map<string, ActivationRange>, factor: number): Map<string, ActivationRange> {
  if (factor === 1) return ranges;
  return new Map([...ranges].map(([k, r]) => [k, { min: r.min * factor, max: r.max * factor }]));
}

/** Emits a plan (with the metadata entries given) and checks the file: an invalid model is never returned. */
export function writePlan(graph: Graph, plan: QuantPlan, options: { metadata?: Record<string, Uint8Array>; description: string; where: string; check?: boolean }): Uint8Array {
  const model = emitPlan(graph, plan, { quantOf, metadata: options.metadata ?? {}, description: options.description });
  const tflite = writeTflite(model);
  if (options.check !== false) assertValidTflite(tflite, options.where);
  return tflite;
}

export { datasetInputs };
