// Accuracy-aware precision selection (quantizeInt8's `accuracy` option): starting from the full int8
// model, raise the most sensitive layers (sensitivity.ts, raise-one to int16 by default) to int16
// first - the model stays full-integer while that suffices - then to float, until the drop against
// the float model on the validation set is within the target.
//
// The target is either
//   maxDrop:   mAP50-95 points (0-100 scale) below the float model on a labelled YOLO set, or
//   minSqnrDb: output SQNR (dB) against the float model on validation inputs (any model).
// The search is cheap: raise the first 1, 2, 4, 8, ... layers of the ranking (batches in order of
// sensitivity) until the target is met, then bisect between the last two batch sizes. Each step is one
// plan + one file + one evaluation; calibration happened once.
import type { IrNode } from '../ir/graph.js';
import { medianLatencies } from '../runtime/latency.js';
import { nowSeconds } from '../util/clock.js';
import { datasetInputs, type RepresentativeDataset } from './dataset.js';
import { loadDataset } from '../yolo/dataset.js';
import type { Precision } from '../ops/types.js';
import type { CalibratedGraph } from './stages.js';
import type { RecipeResolver } from './recipe.js';
import { firstInputs, rankLayers, SENSITIVITY_METHODS, type SensitivityMethod } from './sensitivity.js';
import { LabelledSet, raisedPrecisions, summarize, VariantSession, type LabelledSetSpec, type VariantSessionOptions } from './variants.js';

export interface AccuracyTarget {
  /** Largest allowed mAP50-95 drop below the float model, in points (0-100 scale); needs a labelled `validation` set. */
  maxDrop?: number;
  /** Smallest allowed output SQNR (dB) against the float model on the `validation` inputs (instead of maxDrop). */
  minSqnrDb?: number;
  /**
   * maxDrop: a labelled dataset (as `evaluate` takes: folder, dataset root, yaml, list, glob, or
   * { images, labels?, offset?, limit? }). minSqnrDb: inputs as for the representative dataset.
   */
  validation: string | LabelledSetSpec | RepresentativeDataset;
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
  /** mAP50-95 (maxDrop) or output SQNR dB (minSqnrDb). */
  value: number;
  ok: boolean;
}

export interface AccuracyReport {
  metric: 'mAP50-95' | 'sqnr';
  /** 'mAP50-95 points below float' or 'dB output SQNR'. */
  unit: string;
  target: number;
  /** The float model's value (mAP50-95; Infinity for SQNR: the reference itself). */
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
  seconds: number;
}

function isSpec(v: unknown): v is LabelledSetSpec {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as LabelledSetSpec).images === 'string' && !(Symbol.iterator in (v as object)) && !(Symbol.asyncIterator in (v as object));
}

export function checkAccuracyTarget(a: AccuracyTarget): void {
  if (!a || typeof a !== 'object') throw new Error('quantizeInt8: accuracy must be { maxDrop | minSqnrDb, validation }');
  const hasDrop = a.maxDrop !== undefined;
  const hasSqnr = a.minSqnrDb !== undefined;
  if (hasDrop === hasSqnr) throw new Error('quantizeInt8: accuracy needs exactly one of maxDrop (mAP50-95 points) or minSqnrDb (dB)');
  if (hasDrop && !(typeof a.maxDrop === 'number' && Number.isFinite(a.maxDrop) && a.maxDrop >= 0)) {
    throw new Error(`quantizeInt8: accuracy.maxDrop must be a number >= 0 (mAP50-95 points below float), got ${a.maxDrop}`);
  }
  if (hasSqnr && !(typeof a.minSqnrDb === 'number' && Number.isFinite(a.minSqnrDb))) {
    throw new Error(`quantizeInt8: accuracy.minSqnrDb must be a finite number of dB, got ${a.minSqnrDb}`);
  }
  if (a.validation === undefined || a.validation === null) throw new Error('quantizeInt8: accuracy.validation is required (the images the drop is measured on)');
  if (hasDrop && typeof a.validation !== 'string' && !isSpec(a.validation)) {
    throw new Error('quantizeInt8: accuracy.maxDrop is measured as mAP50-95 on a labelled dataset: validation must be a dataset path or { images, labels?, offset?, limit? }');
  }
  if (hasDrop) {
    // The set must exist before calibration starts (listing it is cheap; images are read later).
    const spec = typeof a.validation === 'string' ? { images: a.validation } : (a.validation as LabelledSetSpec);
    try {
      loadDataset(spec.images, { labelsDir: spec.labels, purpose: 'evaluation' });
    } catch (e) {
      throw new Error(`quantizeInt8: accuracy.validation: ${(e as Error).message}`);
    }
  }
  if (a.method !== undefined && !SENSITIVITY_METHODS.includes(a.method)) throw new Error(`quantizeInt8: accuracy.method '${String(a.method)}' is not one of ${SENSITIVITY_METHODS.join(', ')}`);
}

/**
 * Chooses the precision of every node for the accuracy target. Throws when the target cannot be met
 * even with every op in float (unless writeBest).
 */
export async function selectForAccuracy(
  cal: CalibratedGraph,
  recipe: RecipeResolver,
  target: AccuracyTarget,
  options: VariantSessionOptions & { onProgress?: (step: string, done: number, total: number) => void },
): Promise<{ precisions: Map<string, Precision>; report: AccuracyReport }> {
  const t0 = nowSeconds();
  checkAccuracyTarget(target);
  const progress = options.onProgress ?? (() => {});
  const graph = cal.graph;
  const inputShape = graph.tensors.get(graph.inputs[0])!.shape;
  const useMap = target.maxDrop !== undefined;

  let set: LabelledSet | undefined;
  let validation: Float32Array[];
  if (useMap) {
    const spec = typeof target.validation === 'string' ? { images: target.validation } : (target.validation as LabelledSetSpec);
    set = await LabelledSet.load(spec, [inputShape[1], inputShape[2]]);
    validation = set.floatInputs(Math.max(target.rankImages ?? 4, target.latencyImages ?? 8));
  } else {
    const v = isSpec(target.validation) ? target.validation.images : (target.validation as RepresentativeDataset);
    validation = [];
    for await (const x of datasetInputs(v, inputShape, { used: 0, skipped: [] })) validation.push(x);
    if (validation.length === 0) throw new Error('quantizeInt8: accuracy.validation gave no inputs');
  }
  const rankInputs = useMap ? validation.slice(0, target.rankImages ?? 4) : validation;
  const session = await VariantSession.create(cal, recipe, rankInputs, options);
  const sqnrSession = useMap ? undefined : session;

  const base = (n: IrNode) => session.basePrecision(n);
  // The ranking (worst first), only when the int8 model misses the target.
  let order: IrNode[] = [];
  let n = 0;
  const rank = async () => {
    const { ranked } = await rankLayers(session, target.method ?? 'raise-one', 'int16', (d, t) => progress('sensitivity', d, t), target.layers);
    order = ranked.map((r) => r.node);
    n = order.length;
  };

  const floatValue = set ? (await set.score(session.floatTflite, 'float reference')).mAP50_95 : Infinity;
  const okOf = (value: number) => (useMap ? 100 * (floatValue - value) <= target.maxDrop! + 1e-9 : value >= target.minSqnrDb!);
  const trials: AccuracyTrial[] = [];
  const memo = new Map<string, { value: number; precisions: Map<string, Precision>; tflite: Uint8Array }>();
  const configOf = (k16: number, kf: number): Map<string, Precision> => {
    const raised = new Map<string, Precision>();
    for (let i = 0; i < Math.max(k16, kf); i++) raised.set(order[i].name, i < kf ? 'float' : 'int16');
    return raisedPrecisions(graph, base, raised);
  };
  const measure = async (key: string, precisions: Map<string, Precision>, k16: number, kf: number) => {
    let m = memo.get(key);
    if (!m) {
      const tflite = session.write(precisions);
      const value = set ? (await set.score(tflite, `variant ${key}`)).mAP50_95 : (await sqnrSession!.outputError(tflite)).sqnrDb;
      m = { value, precisions, tflite };
      memo.set(key, m);
      trials.push({ int16: k16, float: kf, value, ok: okOf(value) });
      progress('accuracy', trials.length, trials.length + 1);
    }
    return m;
  };
  const trial = (k16: number, kf: number) => measure(`${k16}/${kf}`, configOf(k16, kf), k16, kf);

  /** Smallest k in 1..n with ok(k), by doubling then bisecting (assumes more raised is not worse). */
  const search = async (f: (k: number) => Promise<{ value: number }>): Promise<number | undefined> => {
    let lo = 0;
    let hi = 0;
    for (let k = 1; ; k = Math.min(n, 2 * k)) {
      if (okOf((await f(k)).value)) {
        hi = k;
        break;
      }
      lo = k;
      if (k === n) return undefined;
    }
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (okOf((await f(mid)).value)) hi = mid;
      else lo = mid;
    }
    return hi;
  };

  const int8 = await trial(0, 0);
  let chosen = int8;
  let k16 = 0;
  let kf = 0;
  let reached = okOf(int8.value);
  if (!reached) await rank();
  if (!reached && n > 0) {
    const a = await search((k) => trial(k, 0));
    if (a !== undefined) {
      k16 = a;
      chosen = await trial(a, 0);
      reached = true;
    } else {
      const b = await search((k) => trial(n, k));
      if (b !== undefined) {
        k16 = n;
        kf = b;
        chosen = await trial(n, b);
        reached = true;
      }
    }
  }
  if (!reached) {
    // Every op in float (the conversions at the model input and outputs stay).
    const allFloat = await measure('all-float', new Map(graph.nodes.map((x) => [x.name, 'float' as Precision])), n, n);
    if (okOf(allFloat.value)) {
      chosen = allFloat;
      k16 = kf = n;
      reached = true;
    } else {
      const better = (a: number, b: number) => a > b;
      const best = [...memo.values()].reduce((x, y) => (better(y.value, x.value) ? y : x));
      const what = useMap
        ? `a drop of at most ${target.maxDrop} mAP50-95 points below float (${floatValue.toFixed(4)}) cannot be reached: with every op in float the drop is ${(100 * (floatValue - allFloat.value)).toFixed(2)} points`
        : `an output SQNR of ${target.minSqnrDb} dB cannot be reached: with every op in float it is ${allFloat.value.toFixed(2)} dB`;
      if (!target.writeBest) throw new Error(`quantizeInt8: accuracy: ${what} (best found ${useMap ? (100 * (floatValue - best.value)).toFixed(2) + ' points' : best.value.toFixed(2) + ' dB'}; nothing written; accuracy.writeBest writes the best model anyway)`);
      chosen = best;
      const t = trials.find((x) => x.value === best.value)!;
      k16 = t.int16;
      kf = t.float;
    }
  }

  // Cost against all-int8, measured in this run.
  const latencyInputs = validation.slice(0, target.latencyImages ?? 8);
  const [latInt8, latChosen] = chosen === int8 ? await medianLatencies([int8.tflite], latencyInputs, 2).then((l) => [l[0], l[0]]) : await medianLatencies([int8.tflite, chosen.tflite], latencyInputs, 2);
  const raisedLayers = order.slice(0, Math.max(k16, kf)).map((x, i) => ({ node: x.name, op: x.op, precision: (i < kf ? 'float' : 'int16') as Precision }));
  const byName = new Map(graph.nodes.map((x) => [x.name, x]));
  const notInt8 = [...chosen.precisions].filter(([, p]) => p !== 'int8').map(([node, precision]) => ({ node, op: byName.get(node)!.op, precision }));
  const achieved = useMap ? 100 * (floatValue - chosen.value) : chosen.value;
  const s = summarize(chosen.precisions);
  return {
    precisions: chosen.precisions,
    report: {
      metric: useMap ? 'mAP50-95' : 'sqnr',
      unit: useMap ? 'mAP50-95 points below float' : 'dB output SQNR',
      target: useMap ? target.maxDrop! : target.minSqnrDb!,
      float: floatValue,
      int8: int8.value,
      chosen: chosen.value,
      achieved,
      reached,
      ranking: order.map((x) => x.name),
      ranked: order.length > 0,
      raisedLayers,
      notInt8,
      trials,
      latencyMs: { int8: latInt8, chosen: latChosen, ratio: latChosen / latInt8 },
      fileBytes: { int8: int8.tflite.length, chosen: chosen.tflite.length, ratio: chosen.tflite.length / int8.tflite.length },
      fullInteger: s.float === 0,
      validationImages: set ? set.count : validation.length,
      seconds: nowSeconds() - t0,
    },
  };
}

/** Lines for the quantize report. */
export function formatAccuracyReport(a: AccuracyReport): string {
  const v = (x: number) => (a.metric === 'sqnr' ? (Number.isFinite(x) ? `${x.toFixed(2)} dB` : 'inf') : x.toFixed(4));
  const lines = [
    `accuracy target: ${a.metric === 'sqnr' ? `output SQNR >= ${a.target} dB` : `at most ${a.target} mAP50-95 points below float`} on ${a.validationImages} validation images: ${a.reached ? 'reached' : 'NOT reached (best model written)'}`,
    `  float ${v(a.float)}, all-int8 ${v(a.int8)}, chosen ${v(a.chosen)}${a.metric === 'sqnr' ? '' : ` (${a.achieved.toFixed(2)} points below float)`}`,
    `  layers raised (${a.raisedLayers.length}): ${a.raisedLayers.map((l) => `${l.node} -> ${l.precision}`).join(', ') || 'none'}`,
    `  ops not int8 (with the readers that carry a raised output): ${a.notInt8.length}; ${a.fullInteger ? 'still full-integer' : 'float ops present'}`,
    `  cost vs all-int8 (LiteRT, this run): latency ${a.latencyMs.chosen.toFixed(1)} ms vs ${a.latencyMs.int8.toFixed(1)} ms (${a.latencyMs.ratio.toFixed(2)}x), size ${a.fileBytes.chosen} vs ${a.fileBytes.int8} bytes (${a.fileBytes.ratio.toFixed(3)}x)`,
    `  ${a.trials.length} variants evaluated in ${a.seconds.toFixed(1)} s`,
  ];
  return lines.join('\n');
}

export { firstInputs };
