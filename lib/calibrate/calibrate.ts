// Calibration: run the float model over a representative dataset and pick an int8 clip range for
// every activation tensor. Streaming: each sample is forwarded once, every reported tensor is folded
// into its observer immediately and nothing of the sample is kept, so memory is O(tensors * bins)
// whatever the number of samples.
//
// The model is reached through a small interface (`forward(input, onTensor)`) so that any executor
// (TF.js float IR executor, a test double in pure JS) can drive it.
import {
  HistogramObserver,
  MinMaxObserver,
  NonFiniteActivationError,
  entropyRange,
  mseRange,
  percentileRange,
  type ClipRange,
  type HistogramObserverOptions,
} from './observers.js';
import { ObserverKernels } from './observer-kernels.js';

export type CalibrationMethod = 'minmax' | 'percentile' | 'mse' | 'entropy';

export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile', 'mse', 'entropy'];

/** Called by `forward` for each activation of one pass; `data` is only valid during the call. */
export type TensorCallback = (name: string, data: Float32Array) => void;

/** One calibration sample: the model input, or one array per input of a model with several. */
export type CalibrationSample = Float32Array | Float32Array[];

export interface CalibrateOptions<S extends CalibrationSample = CalibrationSample> {
  /** Names of the tensors to observe; reports for other names are ignored. */
  tensors: string[];
  /** Model inputs, one per sample (consumed lazily; only `numSamples` are taken). */
  samples: AsyncIterable<S> | Iterable<S>;
  numSamples: number;
  /** Runs the float model on one input and reports activations through `onTensor` before resolving. */
  forward: (input: S, onTensor: TensorCallback) => Promise<void>;
  /** One method for all tensors, or a per-tensor choice. */
  method: CalibrationMethod | ((tensorName: string) => CalibrationMethod);
  /** For 'percentile': two-sided percentile in (50, 100] (default 99.99). */
  percentile?: number;
  /** Histogram settings for the histogram-based methods. */
  histogram?: HistogramObserverOptions;
  /**
   * Tensors of `tensors` whose range is not observed but derived from other tensors' statistics
   * (exactly: the result equals what observing them gives) or given (the caller's plan does not read
   * it). Their activations may still be reported; they are ignored.
   */
  derived?: ReadonlyMap<string, RangeDerivation>;
  /**
   * The observers' WebAssembly loops (observer-kernels.ts; same statistics bit for bit, several times
   * faster). Default: kernels with a memory of their own (no in-place heap); null: the JavaScript loops.
   * Pass `ObserverKernels.create(heap)` to scan views on an executor's wasm heap in place.
   */
  kernels?: ObserverKernels | null;
  onProgress?: (done: number, total: number) => void;
}

/**
 * How a tensor's range follows from others without observing it.
 *   - same-values: the tensor holds `of`'s values in the same order every sample (a reshape): for the
 *     same method its range is `of`'s; a minmax tensor takes `of`'s extremes whatever `of`'s method.
 *   - extremes (minmax only): the tensor holds every value of the `of` tensors and `values` each
 *     sample, and nothing else (a concatenation): its extremes are theirs.
 *   - given: a stand-in range for a tensor whose range the caller does not need (parameters fixed by
 *     its op); `why` says so. No other derivation may read it.
 */
export type RangeDerivation =
  | { kind: 'same-values'; of: string }
  | { kind: 'extremes'; of: string[]; values: number[] }
  | { kind: 'given'; min: number; max: number; why: string };

export interface TensorRange {
  /** Chosen clip range (the quantizer extends it to include 0 and nudges it). */
  min: number;
  max: number;
  method: CalibrationMethod;
  /** Exact extremes over all samples. */
  observedMin: number;
  observedMax: number;
  /** How the range was derived instead of observed (absent: observed). */
  derived?: RangeDerivation['kind'];
}

export interface CalibrationResult {
  ranges: Map<string, TensorRange>;
  /** Number of samples actually run. */
  samples: number;
  /** Wall time of the whole calibration. */
  seconds: number;
  /** Part of `seconds` spent inside the observers (the rest is the forward passes and range selection). */
  observeSeconds: number;
  /** Number of tensors observed (the rest of `ranges` was derived). */
  observed: number;
}

type Observer = { kind: 'minmax'; obs: MinMaxObserver } | { kind: 'histogram'; obs: HistogramObserver };

function isAsyncIterable<T>(x: unknown): x is AsyncIterable<T> {
  return x != null && typeof (x as AsyncIterable<T>)[Symbol.asyncIterator] === 'function';
}

async function* takeSamples<S>(src: AsyncIterable<S> | Iterable<S>, n: number): AsyncGenerator<S> {
  if (n <= 0) return;
  let taken = 0;
  if (isAsyncIterable<S>(src)) {
    for await (const s of src) {
      yield s;
      if (++taken >= n) return; // `return` closes the source iterator (e.g. stops an image reader)
    }
  } else {
    for (const s of src) {
      yield s;
      if (++taken >= n) return;
    }
  }
}

function isCalibrationSample(x: unknown): x is CalibrationSample {
  return x instanceof Float32Array || (Array.isArray(x) && x.length > 0 && x.every((a) => a instanceof Float32Array));
}

/** Options checked before any sample runs, with the percentile's default. */
function checkOptions<S extends CalibrationSample>(opts: CalibrateOptions<S>): { percentile: number } {
  if (!Number.isInteger(opts.numSamples) || opts.numSamples < 1) {
    throw new Error(`calibrate: numSamples must be a positive integer, got ${opts.numSamples}`);
  }
  if (!Array.isArray(opts.tensors) || opts.tensors.length === 0) throw new Error('calibrate: no tensors to observe (opts.tensors is empty)');
  const percentile = opts.percentile ?? 99.99;
  if (!(percentile > 50 && percentile <= 100)) throw new Error(`calibrate: percentile must be in (50, 100], got ${percentile}`);
  return { percentile };
}

/** One observer per tensor, of the kind its method needs. */
function createObservers<S extends CalibrationSample>(opts: CalibrateOptions<S>): Map<string, { method: CalibrationMethod; observer: Observer }> {
  const observers = new Map<string, { method: CalibrationMethod; observer: Observer }>();
  const kernels = opts.kernels === undefined ? ObserverKernels.create() : opts.kernels;
  const listed = new Set<string>();
  for (const name of opts.tensors) {
    if (listed.has(name)) throw new Error(`calibrate: tensor '${name}' is listed twice`);
    listed.add(name);
    const method = typeof opts.method === 'function' ? opts.method(name) : opts.method;
    if (!CALIBRATION_METHODS.includes(method)) {
      throw new Error(`calibrate: unknown calibration method '${String(method)}' for tensor '${name}' (expected one of ${CALIBRATION_METHODS.join(', ')})`);
    }
    if (opts.derived?.has(name)) continue;
    // Histograms cost a second (subsampled) pass and O(bins) memory: only build them when needed.
    const observer: Observer = method === 'minmax'
      ? { kind: 'minmax', obs: new MinMaxObserver(name, kernels) }
      : { kind: 'histogram', obs: new HistogramObserver(name, opts.histogram, kernels) };
    observers.set(name, { method, observer });
  }
  return observers;
}

/** Forwards every sample once, folding each reported tensor into its observer. */
async function observeSamples<S extends CalibrationSample>(opts: CalibrateOptions<S>, observers: ReadonlyMap<string, { observer: Observer }>): Promise<{ done: number; observeMs: number }> {
  let done = 0;
  let observeMs = 0;
  const reported = new Set<string>();
  let callbackError: unknown = undefined;
  for await (const input of takeSamples(opts.samples, opts.numSamples)) {
    if (!isCalibrationSample(input)) {
      throw new Error(`calibrate: sample ${done} is not a Float32Array or a list of them (got ${Object.prototype.toString.call(input)})`);
    }
    const sampleIndex = done;
    const onTensor: TensorCallback = (name, data) => {
      const o = observers.get(name);
      if (!o) return;
      reported.add(name);
      const t = performance.now();
      try {
        o.observer.obs.observe(data, sampleIndex);
      } catch (e) {
        // Remember it in case `forward` swallows exceptions thrown by the callback.
        callbackError ??= e;
        throw e;
      } finally {
        observeMs += performance.now() - t;
      }
    };
    try {
      await opts.forward(input, onTensor);
    } catch (e) {
      if (e instanceof NonFiniteActivationError) throw e;
      throw new Error(`calibrate: forward pass failed on calibration sample ${sampleIndex}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
    if (callbackError !== undefined) throw callbackError;
    done++;
    opts.onProgress?.(done, opts.numSamples);
  }
  if (done === 0) {
    throw new Error(`calibrate: the calibration dataset produced no samples (asked for ${opts.numSamples}); provide at least one representative input`);
  }
  const missing = [...observers.keys()].filter((n) => !reported.has(n));
  if (missing.length > 0) {
    const shown = missing.slice(0, 10).map((n) => `'${n}'`).join(', ');
    throw new Error(
      `calibrate: ${missing.length} tensor(s) were never reported by the forward pass: ${shown}${missing.length > 10 ? ', ...' : ''} (check the tensor names)`,
    );
  }
  return { done, observeMs };
}

/** A tensor's range and how many values it was taken from (0: an empty tensor, whose range is [0, 0]). */
interface CountedRange {
  range: TensorRange;
  count: number;
}

/** The clip range a tensor's method picks from what its observer saw. */
function observedRange(method: CalibrationMethod, o: Observer, percentile: number): CountedRange {
  const mm = o.kind === 'minmax' ? o.obs : o.obs.minMax;
  // Zero-element tensors (e.g. an empty slice) have no values: any range is exact; use [0, 0].
  if (mm.count === 0) return { range: { min: 0, max: 0, method, observedMin: 0, observedMax: 0 }, count: 0 };
  let clip: ClipRange;
  if (o.kind === 'minmax') clip = { min: mm.min, max: mm.max };
  else {
    const h = o.obs.snapshot();
    clip = method === 'percentile' ? percentileRange(h, percentile) : method === 'mse' ? mseRange(h) : entropyRange(h);
  }
  return { range: { min: clip.min, max: clip.max, method, observedMin: mm.min, observedMax: mm.max }, count: mm.count };
}

/** The extremes of the sources' values and of `values` (as a minmax observer over all of them gives). */
function extremesRange(name: string, sources: CountedRange[], values: readonly number[]): CountedRange {
  let min = Infinity;
  let max = -Infinity;
  let count = 0;
  for (const s of sources) {
    if (s.count === 0) continue;
    min = Math.min(min, s.range.observedMin);
    max = Math.max(max, s.range.observedMax);
    count += s.count;
  }
  for (const v of values) {
    if (!Number.isFinite(v)) throw new Error(`calibrate: the derivation of '${name}' lists a non-finite value (${v})`);
    min = Math.min(min, v);
    max = Math.max(max, v);
    count++;
  }
  if (count === 0) return { range: { min: 0, max: 0, method: 'minmax', observedMin: 0, observedMax: 0, derived: 'extremes' }, count: 0 };
  return { range: { min, max, method: 'minmax', observedMin: min, observedMax: max, derived: 'extremes' }, count };
}

/** A derived tensor's range from its sources' (`source` resolves one; see RangeDerivation). */
function derivedRange(name: string, method: CalibrationMethod, d: RangeDerivation, source: (tensor: string) => CountedRange): CountedRange {
  if (d.kind === 'given') {
    if (!(Number.isFinite(d.min) && Number.isFinite(d.max) && d.min <= d.max)) throw new Error(`calibrate: the given range of '${name}' [${d.min}, ${d.max}] is not a finite range`);
    return { range: { min: d.min, max: d.max, method, observedMin: d.min, observedMax: d.max, derived: 'given' }, count: 1 };
  }
  if (d.kind === 'same-values') {
    const s = source(d.of);
    if (s.range.method === method) return { range: { ...s.range, derived: 'same-values' }, count: s.count };
    if (method !== 'minmax') {
      throw new Error(`calibrate: '${name}' (${method}) cannot take the range of '${d.of}' (${s.range.method}): only a minmax tensor takes another method's extremes`);
    }
    const e = extremesRange(name, [s], []);
    return { range: { ...e.range, derived: 'same-values' }, count: e.count };
  }
  if (method !== 'minmax') throw new Error(`calibrate: '${name}' uses ${method}: only minmax ranges follow from their sources' extremes`);
  return extremesRange(name, d.of.map(source), d.values);
}

/** Every listed tensor's range: observed ones from their observers, derived ones from their sources' (any order). */
function resolveRanges(opts: Pick<CalibrateOptions, 'tensors' | 'derived' | 'method'>, observers: ReadonlyMap<string, { method: CalibrationMethod; observer: Observer }>, percentile: number): Map<string, TensorRange> {
  const resolved = new Map<string, CountedRange>();
  const resolving = new Set<string>();
  const methodOf = (name: string) => (typeof opts.method === 'function' ? opts.method(name) : opts.method);
  const resolve = (name: string, reader?: string): CountedRange => {
    const o = observers.get(name);
    const d = opts.derived?.get(name);
    const via = reader === undefined ? '' : ` (a source of '${reader}')`;
    if (reader !== undefined && d?.kind === 'given') throw new Error(`calibrate: tensor '${name}'${via} has a given range: no derivation may read it`);
    const known = resolved.get(name);
    if (known) return known;
    if (!o && !d) throw new Error(`calibrate: tensor '${name}'${via} is neither observed nor derived`);
    if (resolving.has(name)) throw new Error(`calibrate: the derivation of tensor '${name}' depends on itself`);
    resolving.add(name);
    const r = o ? observedRange(o.method, o.observer, percentile) : derivedRange(name, methodOf(name), d!, (src) => resolve(src, name));
    resolving.delete(name);
    resolved.set(name, r);
    return r;
  };
  return new Map(opts.tensors.map((name) => [name, resolve(name).range]));
}

export async function calibrate<S extends CalibrationSample>(opts: CalibrateOptions<S>): Promise<CalibrationResult> {
  const t0 = performance.now();
  const { percentile } = checkOptions(opts);
  const observers = createObservers(opts);
  const { done, observeMs } = await observeSamples(opts, observers);
  const ranges = resolveRanges(opts, observers, percentile);
  return { ranges, samples: done, seconds: (performance.now() - t0) / 1000, observeSeconds: observeMs / 1000, observed: observers.size };
}
