// Accuracy-aware precision selection (quantizeInt8's `accuracy` option): starting from the full int8
// model, raise the most sensitive layers (sensitivity.ts, raise-one to int16 by default) to int16
// first - the model stays full-integer while that suffices - then to float, until the drop against
// the float model on the validation set is within the target.
//
// The target is either
//   maxDrop:   points (0-100 scale) of the task metric's primary value below the float model, on a
//              labelled set (the plug-in's Metric, plugin.ts: mAP50-95 with lib/yolo's), or
//   minSqnrDb: output SQNR (dB) against the float model on validation inputs (any model).
// The search is cheap: raise the first 1, 2, 4, 8, ... layers of the ranking (batches in order of
// sensitivity) until the target is met, then bisect between the last two batch sizes. Each step is one
// plan + one file + one evaluation; calibration happened once.
import type { Graph, IrNode } from '../ir/graph.js';
import { medianLatencies } from '../runtime/latency.js';
import { nowSeconds } from '../util/clock.js';
import { modelInputShapes, modelSamples, plainImageSource, type ModelSample, type RepresentativeDataset } from './dataset.js';
import type { ImageSourceResolver, Metric, ScoredSet, ValidationSetSpec } from './plugin.js';
import type { Precision } from '../ops/types.js';
import { assertOneInput, supportedPrecision, type CalibratedGraph } from './stages.js';
import type { RecipeResolver } from './recipe.js';
import { firstInputs, rankLayers, SENSITIVITY_METHODS, type SensitivityMethod } from './sensitivity.js';
import { raisedPrecisions, summarize, VariantSession, type VariantSessionOptions } from './variants.js';

export interface AccuracyTarget {
  /** Largest allowed drop of the task metric (mAP50-95 with the YOLO plug-in) below the float model, in points (0-100 scale); needs a labelled `validation` set. */
  maxDrop?: number;
  /** Smallest allowed SQNR (dB) of every output against the float model on the `validation` inputs (instead of maxDrop). */
  minSqnrDb?: number;
  /**
   * maxDrop: a labelled dataset (a path the metric reads, or { images, labels?, offset?, limit? }).
   * minSqnrDb: inputs as for the representative dataset.
   */
  validation: string | ValidationSetSpec | RepresentativeDataset;
  /**
   * A second set of the same kind: the float, all-int8 and chosen models are measured on it and the
   * report gives both (report.measuredOn). The target is checked on `validation` only, but a variant
   * with raised layers is accepted only when it also scores above all-int8 here: on 64 images
   * mAP50-95 moves by up to a point when the rounding of one layer changes (bench/RESULTS.md), so a
   * raise that passes on the validation set alone may be luck. The report says when the holdout
   * confirmed a raise (measuredOn.confirmedRaises).
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
  /** The metric's primary value (maxDrop) or output SQNR dB (minSqnrDb). */
  value: number;
  /** Accepted: meets the target on the validation set (and, with a holdout, beats all-int8 there). */
  ok: boolean;
  /** With a holdout: the variant's value there, when it was asked (it met the target on validation). */
  holdout?: number;
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

/** A written variant and its value (the metric's primary value, or output SQNR dB). */
interface Measured {
  value: number;
  /** Accepted by the search (AccuracyTrial.ok). */
  passes: boolean;
  precisions: Map<string, Precision>;
  tflite: Uint8Array;
}

/** A holdout set, each file scored once: the report measures on it and raised variants must beat all-int8 on it. */
class HoldoutScores {
  private memo = new Map<Uint8Array, number>();
  /** Raised variants checked here (they met the target on validation). */
  checked = 0;

  constructor(
    readonly set: string,
    readonly images: number,
    private valueOf: (tflite: Uint8Array, label: string) => Promise<number>,
    readonly int8Tflite: () => Uint8Array,
  ) {}

  async value(tflite: Uint8Array, label: string): Promise<number> {
    let v = this.memo.get(tflite);
    if (v === undefined) this.memo.set(tflite, (v = await this.valueOf(tflite, `${label} (holdout)`)));
    return v;
  }

  /** Whether a raised variant scores above all-int8 on the holdout (a raise that is not luck on the validation set). */
  async confirms(tflite: Uint8Array, label: string): Promise<{ value: number; confirmed: boolean }> {
    this.checked++;
    const int8 = await this.value(this.int8Tflite(), 'all-int8');
    const value = await this.value(tflite, label);
    return { value, confirmed: value > int8 };
  }
}

/**
 * The variants the search writes and measures, each once: the first k16 layers of the ranking in
 * int16 and the first kf in float (kf <= k16 counts inside k16), with their carriers.
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
  ) {}

  /** Writes and scores a variant once; a raised one that meets the target is confirmed on the holdout (when given). */
  async measure(key: string, precisions: Map<string, Precision>, k16: number, kf: number): Promise<Measured> {
    let m = this.memo.get(key);
    if (!m) {
      const tflite = this.session.write(precisions);
      const label = `variant ${key}`;
      const value = await this.valueOf(tflite, label);
      const raised = k16 + kf > 0;
      const check = raised && this.ok(value) && this.holdout ? await this.holdout.confirms(tflite, label) : undefined;
      m = { value, passes: this.ok(value) && (check?.confirmed ?? true), precisions, tflite };
      this.memo.set(key, m);
      this.list.push({ int16: k16, float: kf, value, ok: m.passes, ...(check ? { holdout: check.value } : {}) });
      this.onTrial(this.list.length);
    }
    return m;
  }

  trial(k16: number, kf: number): Promise<Measured> {
    const raised = new Map<string, Precision>();
    for (let i = 0; i < Math.max(k16, kf); i++) raised.set(this.order[i].name, raisedTo(this.order[i], i, kf));
    const precisions = raisedPrecisions(this.session.graph, (n) => this.session.basePrecision(n), raised);
    return this.measure(`${k16}/${kf}`, precisions, k16, kf);
  }

  /** The best variant measured (the highest value). */
  best(): Measured {
    return [...this.memo.values()].reduce((x, y) => (y.value > x.value ? y : x));
  }
}

/**
 * The precision the i-th ranked layer is raised to when the first kf go to float and the rest to
 * int16: an op without an int16 kernel (HardSwish, PReLU) goes to float instead.
 */
function raisedTo(node: IrNode, i: number, kf: number): Precision {
  return supportedPrecision(node, i < kf ? 'float' : 'int16');
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

/** What the search chose: the variant, how many ranked layers it raises to int16 / float, whether it meets the target. */
interface Choice {
  chosen: Measured;
  k16: number;
  kf: number;
  reached: boolean;
}

/** Raises ranked layers to int16 while that suffices, then to float; `rank` fills trials.order first. */
async function raiseUntilMet(trials: Trials, int8: Measured, rank: () => Promise<void>): Promise<Choice> {
  if (int8.passes) return { chosen: int8, k16: 0, kf: 0, reached: true };
  await rank();
  const n = trials.order.length;
  if (n === 0) return { chosen: int8, k16: 0, kf: 0, reached: false };
  const passes = async (k16: number, kf: number) => (await trials.trial(k16, kf)).passes;
  const a = await smallestPassing(n, (k) => passes(k, 0));
  if (a !== undefined) return { chosen: await trials.trial(a, 0), k16: a, kf: 0, reached: true };
  const b = await smallestPassing(n, (k) => passes(n, k));
  if (b !== undefined) return { chosen: await trials.trial(n, b), k16: n, kf: b, reached: true };
  return { chosen: int8, k16: 0, kf: 0, reached: false };
}

/**
 * The last resort: every op in float (the conversions at the model input and outputs stay); when even
 * that misses the target, the best variant found (target.writeBest) or an error saying so.
 */
async function fallBackToFloat(trials: Trials, target: AccuracyTarget, describe: DescribeValue): Promise<Choice> {
  const graph = trials.session.graph;
  const n = trials.order.length;
  const allFloat = await trials.measure('all-float', new Map(graph.nodes.map((x) => [x.name, 'float' as Precision])), n, n);
  if (allFloat.passes) return { chosen: allFloat, k16: n, kf: n, reached: true };
  const best = trials.best();
  if (!target.writeBest) {
    const why = trials.ok(allFloat.value) ? describe.unconfirmed() : describe.unreachable(allFloat.value);
    throw new Error(`quantizeInt8: accuracy: ${why} (best found ${describe.achieved(best.value)}; nothing written; accuracy.writeBest writes the best model anyway)`);
  }
  const t = trials.list.find((x) => x.value === best.value)!;
  return { chosen: best, k16: t.int16, kf: t.float, reached: false };
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
  options: VariantSessionOptions & { onProgress?: (step: string, done: number, total: number) => void; metric?: Metric; resolveImages?: ImageSourceResolver },
): Promise<{ precisions: Map<string, Precision>; report: AccuracyReport }> {
  const t0 = nowSeconds();
  const { metric } = options;
  checkAccuracyTarget(target, metric);
  const progress = options.onProgress ?? (() => {});
  const { set, inputs } = await loadValidation(target, cal.graph, metric, options.resolveImages ?? plainImageSource, options.inputRange);
  const session = await VariantSession.create(cal, recipe, set ? inputs.slice(0, target.rankImages ?? 4) : inputs, options);
  const primary = metric?.primary ?? '';
  const valueOf = set
    ? async (tflite: Uint8Array, label: string) => (await set.score(tflite, label))[primary]
    : async (tflite: Uint8Array) => (await session.outputError(tflite)).worstSqnrDb;
  const floatValue = set ? await valueOf(session.floatTflite, 'float reference') : Infinity;
  const ok = set ? (value: number) => 100 * (floatValue - value) <= target.maxDrop! + 1e-9 : (value: number) => value >= target.minSqnrDb!;
  let int8: Measured | undefined;
  const holdout = target.holdout === undefined ? undefined : await holdoutScores(cal, recipe, { ...target, validation: target.holdout }, { ...options, int8Tflite: () => int8!.tflite });
  const trials = new Trials(session, valueOf, ok, (count) => progress('accuracy', count, count + 1), holdout);
  // The ranking (worst first), only when the int8 model misses the target.
  const rank = async () => {
    const { ranked } = await rankLayers(session, target.method ?? 'raise-one', 'int16', (d, t) => progress('sensitivity', d, t), target.layers);
    trials.order = ranked.map((r) => r.node);
  };
  int8 = await trials.trial(0, 0);
  let choice = await raiseUntilMet(trials, int8, rank);
  if (!choice.reached) choice = await fallBackToFloat(trials, target, describeValues(target, metric?.name ?? '', floatValue));
  const report = await accuracyReport(cal, target, { metricName: metric?.name, floatValue, int8, choice, trials, inputs, validationImages: set ? set.count : inputs.length });
  const measuredOn = holdout ? await measureHoldout(holdout, target, set ? session.floatTflite : undefined, int8.tflite, choice.chosen.tflite) : undefined;
  return { precisions: choice.chosen.precisions, report: { ...report, ...(measuredOn ? { measuredOn } : {}), seconds: nowSeconds() - t0 } };
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
    valueOf = async (tflite) => (await session.outputError(tflite)).worstSqnrDb;
  }
  return new HoldoutScores(describeSet(target.validation), set ? set.count : inputs.length, valueOf, ctx.int8Tflite);
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
  r: { metricName?: string; floatValue: number; int8: Measured; choice: Choice; trials: Trials; inputs: ModelSample[]; validationImages: number },
): Promise<Omit<AccuracyReport, 'seconds'>> {
  const { int8, choice, trials } = r;
  const { chosen, k16, kf } = choice;
  const useMetric = target.maxDrop !== undefined;
  const latencyInputs = r.inputs.slice(0, target.latencyImages ?? 8);
  const [latInt8, latChosen] = chosen === int8 ? await medianLatencies([int8.tflite], latencyInputs, 2).then((l) => [l[0], l[0]]) : await medianLatencies([int8.tflite, chosen.tflite], latencyInputs, 2);
  const order = trials.order;
  const raisedLayers = order.slice(0, Math.max(k16, kf)).map((x, i) => ({ node: x.name, op: x.op, precision: raisedTo(x, i, kf) }));
  const byName = new Map(cal.graph.nodes.map((x) => [x.name, x]));
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
    `accuracy target: ${a.metric === 'sqnr' ? `output SQNR >= ${a.target} dB` : `at most ${a.target} ${a.metric} points below float`} on ${a.validationImages} validation images: ${a.reached ? 'reached' : 'NOT reached (best model written)'}`,
    `  float ${v(a.float)}, all-int8 ${v(a.int8)}, chosen ${v(a.chosen)}${a.metric === 'sqnr' ? '' : ` (${a.achieved.toFixed(2)} points below float)`}`,
    `  layers raised (${a.raisedLayers.length}): ${a.raisedLayers.map((l) => `${l.node} -> ${l.precision}`).join(', ') || 'none'}`,
    `  ops not int8 (with the readers that carry a raised output): ${a.notInt8.length}; ${a.fullInteger ? 'still full-integer' : 'float ops present'}`,
    `  cost vs all-int8 (LiteRT, this run): latency ${a.latencyMs.chosen.toFixed(1)} ms vs ${a.latencyMs.int8.toFixed(1)} ms (${a.latencyMs.ratio.toFixed(2)}x), size ${a.fileBytes.chosen} vs ${a.fileBytes.int8} bytes (${a.fileBytes.ratio.toFixed(3)}x)`,
    `  ${a.trials.length} variants evaluated in ${a.seconds.toFixed(1)} s; chosen on ${a.selectedOn}`,
  ];
  const h = a.measuredOn;
  if (h) {
    lines.push(
      `  measured on the holdout ${h.set} (${h.images} images, ${h.confirmedRaises ? `${h.confirmedRaises} raised variant(s) had to beat all-int8 here to be accepted, so this is not an unbiased measure` : 'not used for the choice'}): float ${v(h.float)}, all-int8 ${v(h.int8)}, chosen ${v(h.chosen)}` +
        `${a.metric === 'sqnr' ? '' : ` (${h.achieved.toFixed(2)} points below float)`}: target ${h.reached ? 'met' : 'NOT met'} there`,
    );
  }
  return lines.join('\n');
}

export { firstInputs };
