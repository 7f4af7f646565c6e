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
  onProgress?: (done: number, total: number) => void;
}

export interface TensorRange {
  /** Chosen clip range (the quantizer extends it to include 0 and nudges it). */
  min: number;
  max: number;
  method: CalibrationMethod;
  /** Exact extremes over all samples. */
  observedMin: number;
  observedMax: number;
}

export interface CalibrationResult {
  ranges: Map<string, TensorRange>;
  /** Number of samples actually run. */
  samples: number;
  /** Wall time of the whole calibration. */
  seconds: number;
  /** Part of `seconds` spent inside the observers (the rest is the forward passes and range selection). */
  observeSeconds: number;
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
  for (const name of opts.tensors) {
    if (observers.has(name)) throw new Error(`calibrate: tensor '${name}' is listed twice`);
    const method = typeof opts.method === 'function' ? opts.method(name) : opts.method;
    if (!CALIBRATION_METHODS.includes(method)) {
      throw new Error(`calibrate: unknown calibration method '${String(method)}' for tensor '${name}' (expected one of ${CALIBRATION_METHODS.join(', ')})`);
    }
    // Histograms cost a second (subsampled) pass and O(bins) memory: only build them when needed.
    const observer: Observer = method === 'minmax'
      ? { kind: 'minmax', obs: new MinMaxObserver(name) }
      : { kind: 'histogram', obs: new HistogramObserver(name, opts.histogram) };
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
  const missing = opts.tensors.filter((n) => !reported.has(n));
  if (missing.length > 0) {
    const shown = missing.slice(0, 10).map((n) => `'${n}'`).join(', ');
    throw new Error(
      `calibrate: ${missing.length} tensor(s) were never reported by the forward pass: ${shown}${missing.length > 10 ? ', ...' : ''} (check the tensor names)`,
    );
  }
  return { done, observeMs };
}

/** The clip range a tensor's method picks from what its observer saw. */
function rangeOf(method: CalibrationMethod, o: Observer, percentile: number): TensorRange {
  const mm = o.kind === 'minmax' ? o.obs : o.obs.minMax;
  // Zero-element tensors (e.g. an empty slice) have no values: any range is exact; use [0, 0].
  if (mm.count === 0) return { min: 0, max: 0, method, observedMin: 0, observedMax: 0 };
  let clip: ClipRange;
  if (o.kind === 'minmax') clip = { min: mm.min, max: mm.max };
  else {
    const h = o.obs.snapshot();
    clip = method === 'percentile' ? percentileRange(h, percentile) : method === 'mse' ? mseRange(h) : entropyRange(h);
  }
  return { min: clip.min, max: clip.max, method, observedMin: mm.min, observedMax: mm.max };
}

export async function calibrate<S extends CalibrationSample>(opts: CalibrateOptions<S>): Promise<CalibrationResult> {
  const t0 = performance.now();
  const { percentile } = checkOptions(opts);
  const observers = createObservers(opts);
  const { done, observeMs } = await observeSamples(opts, observers);
  const ranges = new Map<string, TensorRange>();
  for (const name of opts.tensors) {
    const { method, observer } = observers.get(name)!;
    ranges.set(name, rangeOf(method, observer, percentile));
  }
  return { ranges, samples: done, seconds: (performance.now() - t0) / 1000, observeSeconds: observeMs / 1000 };
}
