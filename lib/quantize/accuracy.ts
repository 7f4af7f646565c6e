// Accuracy-aware precision selection (quantizeInt8's `accuracy` option): starting from the full int8
// model, raise the most sensitive layers (sensitivity.ts, raise-one to int16 by default) until the
// drop against the float model on the validation set is within the target. Integer options come
// first: more and more of the ranked layers that have an int16 kernel go to int16 (up to all of
// them), and readers without an int16 kernel stay int8, so the model stays full-integer. When every
// such layer in int16 misses (16x8 keeps the weights int8), more and more of the ranked weighted
// layers also take split weights (split-weights.ts: two int8 weight terms, W_hi + W_lo, about 15-bit
// weights, still full-integer). Only when even that misses the target do ops go to float, each with
// its reason in the report: first the ranked layers without an int16 kernel, then - weights-limited
// models, where even split weights do not reach the target - the most sensitive int16 layers.
//
// The target is either
//   maxDrop:   points (0-100 scale) of the task metric's primary value below the float model, on a
//              labelled set (the plug-in's Metric, plugin.ts: mAP50-95 with lib/yolo's), or
//   minSqnrDb: output SQNR (dB) against the float model on validation inputs (any model): per output
//              the lower of the pooled SQNR and a bound from a log-normal model of per-image noise, so
//              a choice that passes on a few lucky images is not taken (lib/util/stats.ts).
// The search is cheap: raise the first 1, 2, 4, 8, ... layers of the ranking (batches in order of
// sensitivity) until the target is met, then bisect between the last two batch sizes. Each step is one
// plan + one file + one evaluation; calibration happened once.
import type { Graph, IrNode } from '../ir/graph.js';
import { medianLatencies } from '../runtime/latency.js';
import { nowSeconds } from '../util/clock.js';
import { modelInputShapes, modelSamples, plainImageSource, type ModelSample, type RepresentativeDataset } from './dataset.js';
import type { ImageSourceResolver, Metric, ScoredSet, ValidationSetSpec } from './plugin.js';
import type { Precision } from '../ops/types.js';
import { assertOneInput, calibratedRangeOf, nodePrecisions, type CalibratedGraph, type RangeOf } from './stages.js';
import type { RecipeResolver } from './recipe.js';
import { firstInputs, rankLayers, SENSITIVITY_METHODS, type SensitivityMethod } from './sensitivity.js';
import { kernelPrecisions, raisedPrecisions, summarize, VariantSession, type VariantSessionOptions } from './variants.js';
import { observePartialRanges, splitProblem, type PartialRanges } from './split-weights.js';

export interface AccuracyTarget {
  /** Largest allowed drop of the task metric (mAP50-95 with the YOLO plug-in) below the float model, in points (0-100 scale); needs a labelled `validation` set. */
  maxDrop?: number;
  /**
   * Smallest allowed SQNR (dB) of every output against the float model (instead of maxDrop), read on the
   * `validation` inputs as the lower of the pooled SQNR and its bound for images not measured
   * (pooledSqnrLowerBoundDb in lib/util/stats.ts: the pooled noise is a mean over images dominated by the
   * worst few, which a few validation images may not include).
   */
  minSqnrDb?: number;
  /**
   * maxDrop: a labelled dataset (a path the metric reads, or { images, labels?, offset?, limit? }).
   * minSqnrDb: inputs as for the representative dataset.
   */
  validation: string | ValidationSetSpec | RepresentativeDataset;
  /**
   * A second set of the same kind: the float, all-int8 and chosen models are measured on it and the
   * report gives both (report.measuredOn). A variant is chosen on `validation` and then checked here:
   * maxDrop: a variant with raised layers is accepted only when it also scores above all-int8 here (on
   * 64 images mAP50-95 moves by up to a point when the rounding of one layer changes, so a raise that
   * passes on the validation set alone may be luck); minSqnrDb: a variant is accepted only when it
   * also reaches the target here (a choice made at the edge of the target on a few images misses it on
   * others by 1-11 dB, bench/RESULTS.md), so the search raises more layers until both sets pass. The
   * report says how many variants the holdout checked (measuredOn.confirmedRaises).
   */
  holdout?: string | ValidationSetSpec | RepresentativeDataset;
  /** Ranking method (default 'raise-one', to int16). */
  method?: SensitivityMethod;
  /** Images for the ranking's SQNR (default 4: the first validation images). */
  rankImages?: number;
  /** When the target cannot be met even with every op in float: write the best model found instead of failing. */
  writeBest?: boolean;
  /** Images for the latency comparison (default 8, twice each, interleaved). */
  latencyImages?: number;
  /** Only these layers are candidates (an exact name, a `*` glob or a /regex/ on node or output names). */
  layers?: string;
}

export interface AccuracyTrial {
  int16: number;
  float: number;
  /** Layers with split weights (two int8 weight terms; split-weights.ts). */
  split: number;
  /** The metric's primary value (maxDrop) or output SQNR dB (minSqnrDb). */
  value: number;
  /** Accepted: meets the target on the validation set (and, with a holdout, beats all-int8 there). */
  ok: boolean;
  /** With a holdout: the variant's value there, when it was asked (it met the target on validation). */
  holdout?: number;
  /** Full-integer (no op in float). */
  fullInteger: boolean;
}

/** Why an op of the chosen model is in float. */
export interface FloatOpReason {
  node: string;
  op: string;
  reason: string;
}

export interface AccuracyReport {
  /** The task metric's name ('mAP50-95') or 'sqnr'. */
  metric: string;
  /** '<metric> points below float' or 'dB output SQNR'. */
  unit: string;
  target: number;
  /** The float model's value (the metric's; Infinity for SQNR: the reference itself). */
  float: number;
  int8: number;
  chosen: number;
  /** maxDrop: 100 x (float - chosen); minSqnrDb: chosen SQNR. */
  achieved: number;
  reached: boolean;
  /** The sensitivity ranking the search followed (worst first; empty when all-int8 met the target). */
  ranking: string[];
  ranked: boolean;
  /** Layers raised (in ranking order) and every op not in int8 in the chosen model (with carriers). */
  raisedLayers: { node: string; op: string; precision: Precision }[];
  notInt8: { node: string; op: string; precision: Precision }[];
  trials: AccuracyTrial[];
  /**
   * The value of the best full-integer variant the search tried: every ranked layer with an int16
   * kernel in int16 when it got that far (undefined when a smaller raise met the target). When it misses
   * the target, this is why the chosen model has float ops.
   */
  allInt16?: number;
  /**
   * Ranked weighted layers written with split weights (two int8 weight terms W_hi + W_lo and an int16
   * ADD, split-weights.ts): the file stays full-integer.
   */
  splitLayers: { node: string; op: string }[];
  /** The value of the full-integer variant with every splittable ranked layer split too, when tried (allInt16 missed). */
  allSplit?: number;
  /** Why split weights were not tried, when they were not (e.g. bias correction rewrites the weights they are computed from). */
  splitNotTried?: string;
  /** Every float op of the chosen model and why it is in float. */
  floatOps: FloatOpReason[];
  /** int16 tensors' range = observed calibration range x this (minSqnrDb: SQNR_INT16_HEADROOM; maxDrop: 1). */
  int16Headroom: number;
  latencyMs: { int8: number; chosen: number; ratio: number };
  fileBytes: { int8: number; chosen: number; ratio: number };
  fullInteger: boolean;
  validationImages: number;
  /** The set the choice was made on (and its values above were measured on). */
  selectedOn: string;
  /** With target.holdout: the same three models measured on the holdout set. */
  measuredOn?: HoldoutMeasurement;
  seconds: number;
}

/** The float, all-int8 and chosen models on the holdout set (maxDrop: metric values; minSqnrDb: dB). */
export interface HoldoutMeasurement {
  set: string;
  images: number;
  float: number;
  int8: number;
  chosen: number;
  /** As AccuracyReport.achieved, on this set. */
  achieved: number;
  /** Whether the chosen model meets the target on this set too. */
  reached: boolean;
  /** Variants with raised layers that met the target on validation and were then checked here (their raises had to beat all-int8 on this set); 0: the set did not take part in the choice. */
  confirmedRaises: number;
}

/** How a validation or holdout set reads in the report. */
export function describeSet(v: AccuracyTarget['validation']): string {
  if (typeof v === 'string') return v;
  if (isSpec(v)) {
    const from = (v.offset ?? 0) + 1;
    return v.limit !== undefined ? `${v.images} (images ${from}-${from + v.limit - 1} sorted by name)` : v.offset ? `${v.images} (from image ${from} sorted by name)` : v.images;
  }
  return Array.isArray(v) ? `${v.length} given inputs` : 'the given inputs';
}

function isSpec(v: unknown): v is ValidationSetSpec {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as ValidationSetSpec).images === 'string' && !(Symbol.iterator in (v as object)) && !(Symbol.asyncIterator in (v as object));
}

/** The labelled set of a maxDrop target (a path is the set's images). */
function validationSpec(target: AccuracyTarget): ValidationSetSpec {
  return typeof target.validation === 'string' ? { images: target.validation } : (target.validation as ValidationSetSpec);
}

/** Checks an accuracy target before the long work starts; `metric` is the plug-in's (maxDrop needs one). */
export function checkAccuracyTarget(a: AccuracyTarget, metric: Metric | undefined): void {
  const name = metric?.name ?? 'task metric';
  if (!a || typeof a !== 'object') throw new Error('quantizeInt8: accuracy must be { maxDrop | minSqnrDb, validation }');
  const hasDrop = a.maxDrop !== undefined;
  const hasSqnr = a.minSqnrDb !== undefined;
  if (hasDrop === hasSqnr) throw new Error(`quantizeInt8: accuracy needs exactly one of maxDrop (${name} points) or minSqnrDb (dB)`);
  if (hasDrop && !metric) throw new Error('quantizeInt8: accuracy.maxDrop needs a task metric, and this quantizer has none (no plug-in metric); use minSqnrDb');
  if (hasDrop && !(typeof a.maxDrop === 'number' && Number.isFinite(a.maxDrop) && a.maxDrop >= 0)) {
    throw new Error(`quantizeInt8: accuracy.maxDrop must be a number >= 0 (${name} points below float), got ${a.maxDrop}`);
  }
  if (hasSqnr && !(typeof a.minSqnrDb === 'number' && Number.isFinite(a.minSqnrDb))) {
    throw new Error(`quantizeInt8: accuracy.minSqnrDb must be a finite number of dB, got ${a.minSqnrDb}`);
  }
  if (a.validation === undefined || a.validation === null) throw new Error('quantizeInt8: accuracy.validation is required (the images the drop is measured on)');
  if (hasDrop && typeof a.validation !== 'string' && !isSpec(a.validation)) {
    throw new Error(`quantizeInt8: accuracy.maxDrop is measured as ${name} on a labelled dataset: validation must be a dataset path or { images, labels?, offset?, limit? }`);
  }
  if (hasDrop && a.holdout !== undefined && typeof a.holdout !== 'string' && !isSpec(a.holdout)) {
    throw new Error(`quantizeInt8: accuracy.holdout must be a labelled set like validation (a dataset path or { images, labels?, offset?, limit? })`);
  }
  if (hasDrop) {
    // The sets must exist before calibration starts (listing them is cheap; images are read later).
    for (const [key, set] of [['validation', a.validation], ['holdout', a.holdout]] as const) {
      if (set === undefined) continue;
      try {
        metric!.check(validationSpec({ ...a, validation: set }));
      } catch (e) {
        throw new Error(`quantizeInt8: accuracy.${key}: ${(e as Error).message}`);
      }
    }
  }
  if (a.method !== undefined && !SENSITIVITY_METHODS.includes(a.method)) throw new Error(`quantizeInt8: accuracy.method '${String(a.method)}' is not one of ${SENSITIVITY_METHODS.join(', ')}`);
}

/** The validation data: the metric's labelled set (maxDrop) and float inputs for ranking and latency. */
async function loadValidation(
  target: AccuracyTarget,
  graph: Graph,
  metric: Metric | undefined,
  resolve: ImageSourceResolver,
  inputRange: [number, number] | undefined,
): Promise<{ set?: ScoredSet; inputs: ModelSample[] }> {
  if (target.maxDrop !== undefined) {
    assertOneInput(graph, 'accuracy.maxDrop (a metric scored on images)');
    const inputShape = graph.tensors.get(graph.inputs[0])!.shape;
    const set = await metric!.load(validationSpec(target), [inputShape[1], inputShape[2]]);
    return { set, inputs: set.floatInputs(Math.max(target.rankImages ?? 4, target.latencyImages ?? 8)).map((x) => [x]) };
  }
  const v = isSpec(target.validation) ? target.validation.images : (target.validation as RepresentativeDataset);
  const inputs: ModelSample[] = [];
  // Image files map onto the model's input range as the calibration images do (a [-1, 1] model fed
  // [0, 1] pixels would be selected on inputs it never sees).
  for await (const x of modelSamples(v, modelInputShapes(graph), { used: 0, skipped: [] }, resolve, inputRange)) inputs.push(x);
  if (inputs.length === 0) throw new Error('quantizeInt8: accuracy.validation gave no inputs');
  return { inputs };
}

/**
 * minSqnrDb's int16 range factor: 4x the observed calibration range costs 12 dB of int16's ~90 dB of
 * resolution and keeps unseen images from clipping (face_detection_short_range, all layers in int16,
 * on coco128 17-24 after calibrating on 1-16: 11.2 dB with the bare range, 25.0 dB with 4x; bench/RESULTS.md).
 */
export const SQNR_INT16_HEADROOM = 4;

/** A written variant and its value (the metric's primary value, or output SQNR dB). */
interface Measured {
  value: number;
  /** Accepted by the search (AccuracyTrial.ok). */
  passes: boolean;
  precisions: Map<string, Precision>;
  /** The ranked layers raised (with their precision), in ranking order. */
  raised: Map<string, Precision>;
  /** The raised layers written with split weights. */
  split: ReadonlySet<string>;
  tflite: Uint8Array;
}

/**
 * A holdout set, each file scored once: the report measures on it, and variants that meet the target
 * on validation are checked on it (`accepts`: maxDrop, a raise must beat all-int8 there; minSqnrDb,
 * the target must hold there too).
 */
class HoldoutScores {
  private memo = new Map<Uint8Array, number>();
  /** Variants checked here (they met the target on validation). */
  checked = 0;

  constructor(
    readonly set: string,
    readonly images: number,
    private valueOf: (tflite: Uint8Array, label: string) => Promise<number>,
    readonly int8Tflite: () => Uint8Array,
    private accepts: (value: number, int8: () => Promise<number>) => Promise<boolean>,
  ) {}

  async value(tflite: Uint8Array, label: string): Promise<number> {
    let v = this.memo.get(tflite);
    if (v === undefined) this.memo.set(tflite, (v = await this.valueOf(tflite, `${label} (holdout)`)));
    return v;
  }

  /** Whether a variant that met the target on validation is accepted on the holdout too. */
  async confirms(tflite: Uint8Array, label: string): Promise<{ value: number; confirmed: boolean }> {
    this.checked++;
    const value = await this.value(tflite, label);
    return { value, confirmed: await this.accepts(value, () => this.value(this.int8Tflite(), 'all-int8')) };
  }
}

/**
 * The variants the search writes and measures, each once. Full-integer variants: the first k ranked
 * layers that have an int16 kernel in int16. Variants with float ops: every such layer in int16, the
 * first m ranked layers without an int16 kernel in float, and the first kf int16 layers in float
 * instead. Readers of a raised output that have no int16 kernel stay int8 (converted back there).
 */
class Trials {
  readonly list: AccuracyTrial[] = [];
  private memo = new Map<string, Measured>();
  /** The ranking (worst first); empty until ranked. */
  order: IrNode[] = [];

  constructor(
    readonly session: VariantSession,
    private valueOf: (tflite: Uint8Array, label: string) => Promise<number>,
    readonly ok: (value: number) => boolean,
    private onTrial: (count: number) => void,
    private holdout?: HoldoutScores,
    /** Whether the all-int8 model is checked on the holdout too (minSqnrDb: the target must hold there). */
    private checkInt8 = false,
    /** Whether variants may use split weights. */
    private splitWeights = true,
  ) {}

  private splittable?: IrNode[];

  /** Ranked layers with an int16 kernel (worst first). */
  get int16Layers(): IrNode[] {
    return this.order.filter((n) => kernelPrecisions(n).includes('int16'));
  }

  /** Ranked int16 layers that can take split weights (worst first; none when split weights are off). */
  get splitLayers(): IrNode[] {
    if (!this.splitWeights) return [];
    return (this.splittable ??= this.int16Layers.filter((n) => splitProblem(this.session.graph, n) === undefined));
  }

  /** Ranked layers without an int16 kernel (worst first): raising them means float. */
  get noInt16Layers(): IrNode[] {
    return this.order.filter((n) => !kernelPrecisions(n).includes('int16'));
  }

  /** Writes and scores a variant once; one that meets the target is checked on the holdout (when given). */
  async measure(key: string, raised: Map<string, Precision>, precisions?: Map<string, Precision>, split: ReadonlySet<string> = new Set()): Promise<Measured> {
    let m = this.memo.get(key);
    if (!m) {
      precisions ??= raisedPrecisions(this.session.graph, (n) => this.session.basePrecision(n), raised, 'int8');
      const tflite = this.session.write(precisions, false, split);
      const label = `variant ${key}`;
      const value = await this.valueOf(tflite, label);
      const counts = summarize(precisions);
      const checked = (raised.size > 0 || this.checkInt8) && this.ok(value) && this.holdout ? await this.holdout.confirms(tflite, label) : undefined;
      m = { value, passes: this.ok(value) && (checked?.confirmed ?? true), precisions, raised, split, tflite };
      this.memo.set(key, m);
      const raisedTo = [...raised.values()];
      this.list.push({
        int16: raisedTo.filter((p) => p === 'int16').length, float: raisedTo.filter((p) => p === 'float').length, split: split.size,
        value, ok: m.passes, ...(checked ? { holdout: checked.value } : {}), fullInteger: counts.float === 0,
      });
      this.onTrial(this.list.length);
    }
    return m;
  }

  /** The first k int16-capable ranked layers in int16: full-integer. */
  integer(k: number): Promise<Measured> {
    return this.measure(`int16 ${k}`, new Map(this.int16Layers.slice(0, k).map((n) => [n.name, 'int16' as Precision])));
  }

  /** Observes the splittable layers' partial sums on calibration inputs (once; without inputs their ranges come from a bound). */
  async observeSplit(inputs: (() => AsyncIterable<ModelSample>) | undefined): Promise<void> {
    if (this.session.splitRanges || !inputs || this.splitLayers.length === 0) return;
    this.session.splitRanges = await observePartialRanges(this.session.cal, new Set(this.splitLayers.map((n) => n.name)), inputs());
  }

  /** Every int16-capable ranked layer in int16, the first k splittable ones with split weights: full-integer. */
  integerSplit(k: number): Promise<Measured> {
    const raised = new Map(this.int16Layers.map((n) => [n.name, 'int16' as Precision]));
    return this.measure(`split ${k}`, raised, undefined, new Set(this.splitLayers.slice(0, k).map((n) => n.name)));
  }

  /** Every int16-capable ranked layer in int16, except the first kf (float), and the first m without an int16 kernel in float. */
  withFloat(m: number, kf: number): Promise<Measured> {
    const raised = new Map<string, Precision>();
    const noInt16 = new Set(this.noInt16Layers.slice(0, m).map((n) => n.name));
    const int16 = new Set(this.int16Layers.map((n) => n.name));
    const floated = new Set(this.int16Layers.slice(0, kf).map((n) => n.name));
    for (const n of this.order) {
      if (noInt16.has(n.name) || floated.has(n.name)) raised.set(n.name, 'float');
      else if (int16.has(n.name)) raised.set(n.name, 'int16');
    }
    return this.measure(`float ${m}/${kf}`, raised);
  }

  /** The best variant measured (the highest value). */
  best(): Measured {
    return [...this.memo.values()].reduce((x, y) => (y.value > x.value ? y : x));
  }
}

/** Smallest k in 1..n with ok(k), by doubling then bisecting (assumes more raised is not worse). */
async function smallestPassing(n: number, ok: (k: number) => Promise<boolean>): Promise<number | undefined> {
  let lo = 0;
  let hi = 0;
  for (let k = 1; ; k = Math.min(n, 2 * k)) {
    if (await ok(k)) {
      hi = k;
      break;
    }
    lo = k;
    if (k === n) return undefined;
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (await ok(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** What the search chose and whether it meets the target; `allInt16`: the full-integer variant with every int16-capable layer raised, when tried. */
interface Choice {
  chosen: Measured;
  reached: boolean;
  allInt16?: Measured;
  /** The full-integer variant with every splittable ranked layer split as well, when tried. */
  allSplit?: Measured;
  /** The chosen model is every op in float (the last resort). */
  allFloat?: boolean;
}

/**
 * Integer options first: the ranked int16-capable layers to int16 (1, 2, 4, ... then bisect, up to all
 * of them), then with all of them in int16 the ranked weighted layers with split weights (1, 2, 4, ...
 * up to all); only when that misses the target, the layers without an int16 kernel to float, then the
 * most sensitive int16 layers to float as well. `rank` fills trials.order first.
 */
async function raiseUntilMet(trials: Trials, int8: Measured, rank: () => Promise<void>, calibrationInputs?: () => AsyncIterable<ModelSample>): Promise<Choice> {
  if (int8.passes) return { chosen: int8, reached: true };
  await rank();
  const n16 = trials.int16Layers.length;
  const a = n16 > 0 ? await smallestPassing(n16, async (k) => (await trials.integer(k)).passes) : undefined;
  if (a !== undefined) return { chosen: await trials.integer(a), reached: true };
  const allInt16 = n16 > 0 ? await trials.integer(n16) : undefined;
  const nSplit = trials.splitLayers.length;
  await trials.observeSplit(calibrationInputs);
  const sp = nSplit > 0 ? await smallestPassing(nSplit, async (k) => (await trials.integerSplit(k)).passes) : undefined;
  if (sp !== undefined) return { chosen: await trials.integerSplit(sp), reached: true, allInt16 };
  const allSplit = nSplit > 0 ? await trials.integerSplit(nSplit) : undefined;
  const nNo = trials.noInt16Layers.length;
  const m = nNo > 0 ? await smallestPassing(nNo, async (k) => (await trials.withFloat(k, 0)).passes) : undefined;
  if (m !== undefined) return { chosen: await trials.withFloat(m, 0), reached: true, allInt16, allSplit };
  const kf = n16 > 0 ? await smallestPassing(n16, async (k) => (await trials.withFloat(nNo, k)).passes) : undefined;
  if (kf !== undefined) return { chosen: await trials.withFloat(nNo, kf), reached: true, allInt16, allSplit };
  return { chosen: int8, reached: false, allInt16, allSplit };
}

/**
 * The last resort: every op in float (the conversions at the model input and outputs stay); when even
 * that misses the target, the best variant found (target.writeBest) or an error saying so.
 */
async function fallBackToFloat(trials: Trials, target: AccuracyTarget, describe: DescribeValue, choice: Choice): Promise<Choice> {
  const graph = trials.session.graph;
  const everyFloat = new Map(graph.nodes.map((x) => [x.name, 'float' as Precision]));
  const allFloat = await trials.measure('all-float', new Map(trials.order.map((x) => [x.name, 'float' as Precision])), everyFloat);
  if (allFloat.passes) return { chosen: allFloat, reached: true, allInt16: choice.allInt16, allSplit: choice.allSplit, allFloat: true };
  const best = trials.best();
  if (!target.writeBest) {
    const why = trials.ok(allFloat.value) ? describe.unconfirmed() : describe.unreachable(allFloat.value);
    throw new Error(`quantizeInt8: accuracy: ${why} (best found ${describe.achieved(best.value)}; nothing written; accuracy.writeBest writes the best model anyway)`);
  }
  return { chosen: best, reached: false, allInt16: choice.allInt16, allSplit: choice.allSplit, allFloat: best === allFloat };
}

/**
 * Why each float op of the chosen model is in float: its kernels (or the recipe) before any search, no
 * int16 kernel, weights-limited (every int16-capable layer in int16, and every splittable one with
 * split weights, missed the target), or every op in float as the last resort.
 */
function floatOpReasons(graph: Graph, base: (n: IrNode) => Precision, rangeOf: RangeOf, choice: Choice, describe: DescribeValue): FloatOpReason[] {
  const { chosen } = choice;
  const split = choice.allSplit ? `, and with split weights (two int8 terms) on every splittable one as well ${describe.achieved(choice.allSplit.value)}` : '';
  const allInt16 = choice.allInt16 ? `with every ranked layer that has an int16 kernel in int16 (full-integer) the model reaches ${describe.achieved(choice.allInt16.value)}${split}, short of the target` : 'no full-integer variant was tried';
  const out: FloatOpReason[] = [];
  for (const n of graph.nodes) {
    if (chosen.precisions.get(n.name) !== 'float') continue;
    const kernels = kernelPrecisions(n);
    let reason: string;
    const refused = nodePrecisions(n, rangeOf).refused;
    if (base(n) === 'float' && refused) reason = refused;
    else if (base(n) === 'float') reason = kernels.includes('int8') ? 'the recipe puts it in float' : `its op has no integer kernel (${kernels.join(', ')})`;
    else if (choice.allFloat) reason = `every op in float (last resort): ${allInt16}, and no mix of int16 and float layers met the target`;
    else if (!kernels.includes('int16')) reason = `no int16 kernel (its op supports ${kernels.join(', ')}): ${allInt16}`;
    else reason = `weights-limited: ${allInt16}; int16 activations keep int8 weights (16x8)${choice.allSplit ? ' and even split weights fall short' : ''}, so this layer's weights go to float`;
    out.push({ node: n.name, op: n.op, reason });
  }
  return out;
}

/** How values read in errors, for the target's kind. */
interface DescribeValue {
  unreachable(allFloat: number): string;
  /** Every variant that met the target on validation, every op in float included, scored no better than all-int8 on the holdout. */
  unconfirmed(): string;
  achieved(value: number): string;
}

const UNCONFIRMED = 'no variant that meets the target on the validation set (every op in float included) scores above all-int8 on the holdout set, so no raise is shown to help';

function describeValues(target: AccuracyTarget, metricName: string, floatValue: number): DescribeValue {
  if (target.maxDrop !== undefined) {
    return {
      unreachable: (v) => `a drop of at most ${target.maxDrop} ${metricName} points below float (${floatValue.toFixed(4)}) cannot be reached: with every op in float the drop is ${(100 * (floatValue - v)).toFixed(2)} points`,
      unconfirmed: () => UNCONFIRMED,
      achieved: (v) => (100 * (floatValue - v)).toFixed(2) + ' points',
    };
  }
  return {
    unreachable: (v) => `an output SQNR of ${target.minSqnrDb} dB cannot be reached: with every op in float it is ${v.toFixed(2)} dB`,
    unconfirmed: () => UNCONFIRMED,
    achieved: (v) => v.toFixed(2) + ' dB',
  };
}

/**
 * Chooses the precision of every node for the accuracy target. Throws when the target cannot be met
 * even with every op in float (unless writeBest). `metric` is the plug-in's (maxDrop), `resolve` how
 * a validation path is read (minSqnrDb).
 */
export async function selectForAccuracy(
  cal: CalibratedGraph,
  recipe: RecipeResolver,
  target: AccuracyTarget,
  options: VariantSessionOptions & {
    onProgress?: (step: string, done: number, total: number) => void;
    metric?: Metric;
    resolveImages?: ImageSourceResolver;
    /** Why split weights may not be used (undefined: they may). */
    noSplitWeights?: string;
    /** Calibration inputs the split layers' partial sums are observed on (without them: a bound, split-weights.ts). */
    calibrationInputs?: () => AsyncIterable<ModelSample>;
  },
): Promise<{ precisions: Map<string, Precision>; splitWeights: ReadonlySet<string>; splitRanges?: PartialRanges; report: AccuracyReport; int16Headroom: number }> {
  const t0 = nowSeconds();
  const { metric } = options;
  checkAccuracyTarget(target, metric);
  const progress = options.onProgress ?? (() => {});
  const { set, inputs } = await loadValidation(target, cal.graph, metric, options.resolveImages ?? plainImageSource, options.inputRange);
  // minSqnrDb: int16 tensors get headroom beyond their observed calibration range (an SQNR target is
  // missed on other images when an int16 tensor clips there; int16's finer steps make it cheap).
  const int16Headroom = set ? 1 : SQNR_INT16_HEADROOM;
  const session = await VariantSession.create(cal, recipe, set ? inputs.slice(0, target.rankImages ?? 4) : inputs, { ...options, int16Headroom });
  const primary = metric?.primary ?? '';
  const valueOf = set
    ? async (tflite: Uint8Array, label: string) => (await set.score(tflite, label))[primary]
    : async (tflite: Uint8Array) => (await session.outputError(tflite)).worstSqnrBoundDb;
  const floatValue = set ? await valueOf(session.floatTflite, 'float reference') : Infinity;
  const ok = set ? (value: number) => 100 * (floatValue - value) <= target.maxDrop! + 1e-9 : (value: number) => value >= target.minSqnrDb!;
  let int8: Measured | undefined;
  const holdout = target.holdout === undefined ? undefined : await holdoutScores(cal, recipe, { ...target, validation: target.holdout }, { ...options, int8Tflite: () => int8!.tflite });
  const trials = new Trials(session, valueOf, ok, (count) => progress('accuracy', count, count + 1), holdout, !set, options.noSplitWeights === undefined);
  // The ranking (worst first), only when the int8 model misses the target.
  const rank = async () => {
    const { ranked } = await rankLayers(session, target.method ?? 'raise-one', 'int16', (d, t) => progress('sensitivity', d, t), target.layers, 'int8');
    trials.order = ranked.map((r) => r.node);
  };
  int8 = await trials.integer(0);
  let choice = await raiseUntilMet(trials, int8, rank, options.calibrationInputs);
  const describe = describeValues(target, metric?.name ?? '', floatValue);
  if (!choice.reached) choice = await fallBackToFloat(trials, target, describe, choice);
  const floatOps = floatOpReasons(cal.graph, (n) => session.basePrecision(n), calibratedRangeOf(cal), choice, describe);
  const report = await accuracyReport(cal, target, { metricName: metric?.name, floatValue, int8, choice, trials, inputs, validationImages: set ? set.count : inputs.length, floatOps, int16Headroom });
  const measuredOn = holdout ? await measureHoldout(holdout, target, set ? session.floatTflite : undefined, int8.tflite, choice.chosen.tflite) : undefined;
  const splitNotTried = options.noSplitWeights !== undefined && choice.allInt16 ? { splitNotTried: options.noSplitWeights } : {};
  return {
    precisions: choice.chosen.precisions, splitWeights: choice.chosen.split, ...(session.splitRanges ? { splitRanges: session.splitRanges } : {}),
    report: { ...report, ...splitNotTried, ...(measuredOn ? { measuredOn } : {}), seconds: nowSeconds() - t0 }, int16Headroom,
  };
}

/** The holdout set read once (`target.validation` is the holdout here), scoring files with the target's measure. */
async function holdoutScores(
  cal: CalibratedGraph,
  recipe: RecipeResolver,
  target: AccuracyTarget,
  ctx: VariantSessionOptions & { metric?: Metric; resolveImages?: ImageSourceResolver; int8Tflite: () => Uint8Array },
): Promise<HoldoutScores> {
  const { set, inputs } = await loadValidation({ ...target, rankImages: 0, latencyImages: 0 }, cal.graph, ctx.metric, ctx.resolveImages ?? plainImageSource, ctx.inputRange);
  let valueOf: (tflite: Uint8Array, label: string) => Promise<number>;
  if (set) {
    const primary = ctx.metric!.primary;
    valueOf = async (tflite, label) => (await set.score(tflite, label))[primary];
  } else {
    const session = await VariantSession.create(cal, recipe, inputs, ctx);
    valueOf = async (tflite) => (await session.outputError(tflite)).worstSqnrBoundDb;
  }
  // maxDrop: a raise must beat all-int8 here; minSqnrDb: the target must hold here too.
  const accepts = set ? async (v: number, int8: () => Promise<number>) => v > (await int8()) : async (v: number) => v >= target.minSqnrDb!;
  return new HoldoutScores(describeSet(target.validation), set ? set.count : inputs.length, valueOf, ctx.int8Tflite, accepts);
}

/** The float (maxDrop; SQNR's reference is the float model itself), all-int8 and chosen models on the holdout set. */
async function measureHoldout(h: HoldoutScores, target: AccuracyTarget, floatTflite: Uint8Array | undefined, int8Tflite: Uint8Array, chosenTflite: Uint8Array): Promise<HoldoutMeasurement> {
  const float = floatTflite ? await h.value(floatTflite, 'float reference') : Infinity;
  const int8 = await h.value(int8Tflite, 'all-int8');
  const chosen = await h.value(chosenTflite, 'chosen');
  const achieved = floatTflite ? 100 * (float - chosen) : chosen;
  const reached = floatTflite ? achieved <= target.maxDrop! + 1e-9 : chosen >= target.minSqnrDb!;
  return { set: h.set, images: h.images, float, int8, chosen, achieved, reached, confirmedRaises: h.checked };
}

/** The report of a choice, with its cost against all-int8 measured in this run (latency, size). */
async function accuracyReport(
  cal: CalibratedGraph,
  target: AccuracyTarget,
  r: { metricName?: string; floatValue: number; int8: Measured; choice: Choice; trials: Trials; inputs: ModelSample[]; validationImages: number; floatOps: FloatOpReason[]; int16Headroom: number },
): Promise<Omit<AccuracyReport, 'seconds'>> {
  const { int8, choice, trials } = r;
  const { chosen } = choice;
  const useMetric = target.maxDrop !== undefined;
  const latencyInputs = r.inputs.slice(0, target.latencyImages ?? 8);
  const [latInt8, latChosen] = chosen === int8 ? await medianLatencies([int8.tflite], latencyInputs, 2).then((l) => [l[0], l[0]]) : await medianLatencies([int8.tflite, chosen.tflite], latencyInputs, 2);
  const order = trials.order;
  const byName = new Map(cal.graph.nodes.map((x) => [x.name, x]));
  const raisedLayers = [...chosen.raised].map(([node, precision]) => ({ node, op: byName.get(node)!.op, precision }));
  const notInt8 = [...chosen.precisions].filter(([, p]) => p !== 'int8').map(([node, precision]) => ({ node, op: byName.get(node)!.op, precision }));
  return {
    metric: useMetric ? r.metricName! : 'sqnr',
    unit: useMetric ? `${r.metricName} points below float` : 'dB output SQNR',
    target: useMetric ? target.maxDrop! : target.minSqnrDb!,
    float: r.floatValue,
    int8: int8.value,
    chosen: chosen.value,
    achieved: useMetric ? 100 * (r.floatValue - chosen.value) : chosen.value,
    reached: choice.reached,
    ranking: order.map((x) => x.name),
    ranked: order.length > 0,
    raisedLayers,
    notInt8,
    trials: trials.list,
    ...(choice.allInt16 ? { allInt16: choice.allInt16.value } : {}),
    splitLayers: [...chosen.split].map((node) => ({ node, op: byName.get(node)!.op })),
    ...(choice.allSplit ? { allSplit: choice.allSplit.value } : {}),
    floatOps: r.floatOps,
    int16Headroom: r.int16Headroom,
    latencyMs: { int8: latInt8, chosen: latChosen, ratio: latChosen / latInt8 },
    fileBytes: { int8: int8.tflite.length, chosen: chosen.tflite.length, ratio: chosen.tflite.length / int8.tflite.length },
    fullInteger: summarize(chosen.precisions).float === 0,
    validationImages: r.validationImages,
    selectedOn: describeSet(target.validation),
  };
}

/** Lines for the quantize report. */
export function formatAccuracyReport(a: AccuracyReport): string {
  const v = (x: number) => (a.metric === 'sqnr' ? (Number.isFinite(x) ? `${x.toFixed(2)} dB` : 'inf') : x.toFixed(4));
  const lines = [
    `accuracy target: ${a.metric === 'sqnr' ? `output SQNR >= ${a.target} dB (pooled, and its lower bound for unseen images)` : `at most ${a.target} ${a.metric} points below float`} on ${a.validationImages} validation images: ${a.reached ? 'reached' : 'NOT reached (best model written)'}`,
    `  float ${v(a.float)}, all-int8 ${v(a.int8)}, chosen ${v(a.chosen)}${a.metric === 'sqnr' ? '' : ` (${a.achieved.toFixed(2)} points below float)`}`,
    `  layers raised (${a.raisedLayers.length}): ${a.raisedLayers.map((l) => `${l.node} -> ${l.precision}`).join(', ') || 'none'}`,
    `  ops not int8 (with the readers that carry a raised output): ${a.notInt8.length}; ${a.fullInteger ? 'still full-integer' : 'float ops present'}`,
    `  cost vs all-int8 (LiteRT, this run): latency ${a.latencyMs.chosen.toFixed(1)} ms vs ${a.latencyMs.int8.toFixed(1)} ms (${a.latencyMs.ratio.toFixed(2)}x), size ${a.fileBytes.chosen} vs ${a.fileBytes.int8} bytes (${a.fileBytes.ratio.toFixed(3)}x)`,
    `  ${a.trials.length} variants evaluated in ${a.seconds.toFixed(1)} s; chosen on ${a.selectedOn}`,
  ];
  if (a.allInt16 !== undefined) lines.push(`  full-integer limit: every ranked layer with an int16 kernel in int16 gives ${v(a.allInt16)}${a.allSplit !== undefined ? `; with split weights on every splittable one too ${v(a.allSplit)}` : ''}`);
  if (a.splitLayers.length) {
    const shown = a.splitLayers.length <= 5 ? a.splitLayers.map((l) => `${l.node} (${l.op})`).join(', ') : `${a.splitLayers.slice(0, 5).map((l) => `${l.node} (${l.op})`).join(', ')}, ...`;
    lines.push(`  split weights (W = W_hi + W_lo, two int8 terms and an int16 ADD; still full-integer) on ${a.splitLayers.length} layer(s): ${shown}`);
  }
  if (a.splitNotTried) lines.push(`  split weights not tried: ${a.splitNotTried}`);
  if (a.int16Headroom !== 1) lines.push(`  int16 tensors take ${a.int16Headroom}x their observed calibration range (so that other images do not clip them)`);
  for (const [reason, ops] of groupBy(a.floatOps, (f) => f.reason)) {
    const names = ops.length <= 3 ? ops.map((f) => `${f.node} (${f.op})`).join(', ') : `${ops.slice(0, 3).map((f) => `${f.node} (${f.op})`).join(', ')}, ...`;
    lines.push(`  in float, ${ops.length} op(s) [${names}]: ${reason}`);
  }
  const h = a.measuredOn;
  if (h) {
    const rule = a.metric === 'sqnr' ? 'variant(s) that met the target on validation had to meet it here too' : 'raised variant(s) had to beat all-int8 here';
    lines.push(
      `  checked on the holdout ${h.set} (${h.images} images, ${h.confirmedRaises ? `${h.confirmedRaises} ${rule} to be accepted, so this is not an unbiased measure` : 'not used for the choice'}): float ${v(h.float)}, all-int8 ${v(h.int8)}, chosen ${v(h.chosen)}` +
        `${a.metric === 'sqnr' ? '' : ` (${h.achieved.toFixed(2)} points below float)`}: target ${h.reached ? 'met' : 'NOT met'} there`,
    );
  }
  return lines.join('\n');
}

function groupBy<T>(items: T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of items) out.set(key(x), [...(out.get(key(x)) ?? []), x]);
  return out;
}

export { firstInputs };
