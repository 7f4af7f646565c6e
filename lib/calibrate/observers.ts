// Streaming activation observers for calibration. Each observer sees one tensor's values for one
// sample at a time (`observe(data)`), keeps O(1) (min/max) or O(bins) (histogram) state, and never
// keeps a reference to `data` (the executor may reuse or free the buffer right after the callback).
//
// Range selection from a histogram (all return a clip range [min, max] that the quantizer turns into
// int8 parameters with chooseActivationParams):
//   - percentile: two-sided quantiles of the observed distribution (e.g. 99.99% / 0.01%), linearly
//     interpolated inside the bin; drops rare outliers on both sides.
//   - mse: the [min, max] minimising the expected squared error of int8 quantization over the
//     histogram = clipping error of the mass outside the (nudged) range + rounding noise step^2/12
//     for the mass inside. Coarse-to-fine grid search over bin edges, O(1) per candidate via prefix sums.
//   - entropy: TensorRT's KL-divergence calibration adapted to asymmetric int8: for a candidate
//     window of bins (outlier mass folded into the edge bins) compare the reference distribution P
//     with its 256-level quantized version Q and keep the window with the smallest KL(P || Q).
//     Windows cover both ends independently (coarse-to-fine 2-D search), at least 256 bins wide.
//     Meant for bell-shaped / long-tailed activations: merging the bins of a flat histogram loses
//     nothing in the KL sense, so on uniform-like data entropy tends to keep the full range.
import { roundHalfAwayFromZero } from '../int8/arithmetic.js';
import type { ObserverKernels } from './observer-kernels.js';

/** Thrown when an activation contains NaN or ±Infinity (names the tensor and the sample). */
export class NonFiniteActivationError extends Error {
  constructor(
    readonly tensor: string,
    readonly sampleIndex: number | undefined,
    readonly elementIndex: number,
    readonly value: number,
  ) {
    super(
      `calibration: tensor '${tensor}' has a non-finite value (${value}) at element ${elementIndex}` +
        (sampleIndex !== undefined ? ` for calibration sample ${sampleIndex}` : '') +
        ' - the float model produces NaN/Inf on this input, so it cannot be calibrated',
    );
    this.name = 'NonFiniteActivationError';
  }
}

/**
 * Exact min and max of `data`. Math.min/Math.max propagate NaN, so a NaN anywhere makes the result
 * NaN and Infinity shows up as ±Infinity: the non-finite check costs nothing in the hot loop; only
 * then do we search for the offending element to report it. With `kernels`, the WebAssembly SIMD scan
 * does the loop where it can (same result bit for bit, see observer-kernels.ts).
 */
export function scanMinMax(data: Float32Array, tensor = 'tensor', sampleIndex?: number, kernels?: ObserverKernels | null): { min: number; max: number } {
  const n = data.length;
  const [mn, mx] = kernels?.minMax(data) ?? scalarMinMax(data);
  if (n > 0 && !(Number.isFinite(mn) && Number.isFinite(mx))) {
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(data[i])) throw new NonFiniteActivationError(tensor, sampleIndex, i, data[i]);
    }
  }
  return { min: mn, max: mx };
}

/** The scan in plain JavaScript: [min, max] (Infinity, -Infinity when empty; NaN propagates). */
export function scalarMinMax(data: Float32Array): [number, number] {
  let mn = Infinity;
  let mx = -Infinity;
  const n = data.length;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    mn = Math.min(mn, v);
    mx = Math.max(mx, v);
  }
  return [mn, mx];
}

/** Running min/max over every element of every sample. */
export class MinMaxObserver {
  min = Infinity;
  max = -Infinity;
  /** Number of elements seen. */
  count = 0;
  /** Number of observe() calls. */
  batches = 0;

  /** `kernels`: the WebAssembly loops to use (null or absent: the JavaScript ones; same results). */
  constructor(
    readonly name = 'tensor',
    private readonly kernels: ObserverKernels | null = null,
  ) {}

  observe(data: Float32Array, sampleIndex?: number): void {
    const r = scanMinMax(data, this.name, sampleIndex, this.kernels);
    this.update(r.min, r.max, data.length);
  }

  /** Fold in an already computed min/max (the histogram observer shares its scan). */
  update(min: number, max: number, count: number): void {
    if (count === 0) return;
    if (min < this.min) this.min = min;
    if (max > this.max) this.max = max;
    this.count += count;
    this.batches++;
  }
}

/** A histogram snapshot: bin b covers [lo + b*binWidth, lo + (b+1)*binWidth). */
export interface Histogram {
  counts: Float64Array;
  lo: number;
  binWidth: number;
  /** Exact extremes of everything observed (the histogram may be subsampled). */
  observedMin: number;
  observedMax: number;
}

export interface HistogramObserverOptions {
  /** Number of bins (default 2048). */
  bins?: number;
  /**
   * Tensors with more elements than this are subsampled for the histogram (min/max stay exact):
   * contiguous blocks of `blockLength` elements at a regular stride, each weighted by the stride so
   * counts estimate the full tensor. Contiguous blocks cover all channels of the NHWC pixels they
   * touch, so a stride can never alias onto a subset of channels. Default 1 << 16 (64 images then
   * still give 4M histogram samples per tensor, 400 of them in a 0.01% tail); 0 = never.
   */
  maxSamplesPerObserve?: number;
  blockLength?: number;
}

/**
 * Fixed-bin streaming histogram whose range grows when a sample falls outside it.
 *
 * Growth is exact and deterministic: the new grid is the old one coarsened by an integer factor k
 * (new width = k * old width) and shifted by a whole number m of old bins, so every old bin lies
 * entirely inside one new bin (old bin i -> new bin floor((i + m) / k)) and its count moves without
 * any proportional splitting. The result equals a single-pass histogram over the final grid, up to
 * floating-point rounding of values lying exactly on bin edges. The price is resolution: after
 * growth the occupied part of the grid can be as small as bins / 2 (range methods crop to it).
 */
export class HistogramObserver {
  readonly bins: number;
  readonly maxSamplesPerObserve: number;
  readonly blockLength: number;
  readonly minMax: MinMaxObserver;
  private readonly kernels: ObserverKernels | null;
  private counts: Float64Array;
  private lo = 0;
  private binWidth = 0; // 0 = no data yet

  /** `kernels`: the WebAssembly loops to use (null: the JavaScript ones; same results). */
  constructor(
    readonly name = 'tensor',
    opts: HistogramObserverOptions = {},
    kernels: ObserverKernels | null = null,
  ) {
    this.bins = opts.bins ?? 2048;
    this.maxSamplesPerObserve = opts.maxSamplesPerObserve ?? 1 << 16;
    this.blockLength = opts.blockLength ?? 1024;
    if (!Number.isInteger(this.bins) || this.bins < 16) throw new Error(`HistogramObserver '${name}': bins must be an integer >= 16, got ${this.bins}`);
    if (!Number.isInteger(this.blockLength) || this.blockLength < 1) throw new Error(`HistogramObserver '${name}': blockLength must be a positive integer`);
    this.counts = new Float64Array(this.bins);
    this.kernels = kernels;
    this.minMax = new MinMaxObserver(name, this.kernels);
  }

  get min(): number {
    return this.minMax.min;
  }
  get max(): number {
    return this.minMax.max;
  }

  observe(data: Float32Array, sampleIndex?: number): void {
    const n = data.length;
    if (n === 0) return;
    const { min, max } = scanMinMax(data, this.name, sampleIndex, this.kernels);
    this.minMax.update(min, max, n);
    this.ensureRange(min, max);
    const { ranges, weight } = this.sampledRanges(n);
    if (this.kernels) {
      this.kernels.histogram(data, ranges, this.counts, this.lo, 1 / this.binWidth, weight);
      return;
    }
    for (const [start, end] of ranges) this.addRange(data, start, end, weight);
  }

  /**
   * The element ranges of an n-element observation that go into the histogram, and their weight:
   * everything at weight 1, or (n > maxSamplesPerObserve) contiguous blocks at a regular stride, each
   * element standing for `stride / block` elements.
   */
  private sampledRanges(n: number): { ranges: [number, number][]; weight: number } {
    const limit = this.maxSamplesPerObserve;
    if (limit <= 0 || n <= limit) return { ranges: [[0, n]], weight: 1 };
    const block = Math.min(this.blockLength, limit);
    const blocks = Math.max(1, Math.floor(limit / block));
    const step = Math.floor(n / blocks); // >= block because n > limit >= blocks * block
    const ranges: [number, number][] = [];
    for (let b = 0; b < blocks; b++) {
      const start = b * step;
      ranges.push([start, Math.min(start + block, n)]);
    }
    return { ranges, weight: step / block };
  }

  /** Copy of the current histogram. */
  snapshot(): Histogram {
    if (this.binWidth === 0) throw new Error(`HistogramObserver '${this.name}': no data observed`);
    return {
      counts: Float64Array.from(this.counts),
      lo: this.lo,
      binWidth: this.binWidth,
      observedMin: this.minMax.min,
      observedMax: this.minMax.max,
    };
  }

  private addRange(data: Float32Array, start: number, end: number, weight: number): void {
    const counts = this.counts;
    const last = this.bins - 1;
    const lo = this.lo;
    const inv = 1 / this.binWidth;
    for (let i = start; i < end; i++) {
      // (data - lo) >= 0 by ensureRange, so `| 0` is floor; rounding can only push the top edge to `bins`.
      let k = ((data[i] - lo) * inv) | 0;
      if (k > last) k = last;
      else if (k < 0) k = 0;
      counts[k] += weight;
    }
  }

  private ensureRange(min: number, max: number): void {
    const N = this.bins;
    if (this.binWidth === 0) {
      this.lo = min;
      // A constant first sample gets a tiny grid around its value; later growth coarsens it exactly.
      let w = max > min ? (max - min) / N : (Math.max(Math.abs(min), 2 ** -20) * 2 ** -20) / N;
      // (max - min) / N * N can round below max; widen by ulps until the top edge covers max.
      while (this.lo + N * w < max) w *= 1 + 2 ** -40;
      this.binWidth = w;
      return;
    }
    const w = this.binWidth;
    const hi = this.lo + N * w;
    if (min >= this.lo && max <= hi) return;
    let m = min < this.lo ? Math.ceil((this.lo - min) / w) : 0;
    let newLo = this.lo - m * w;
    while (newLo > min) {
      m++;
      newLo = this.lo - m * w;
    }
    const target = Math.max(max, hi);
    let k = Math.max(2, Math.ceil((target - newLo) / (N * w)));
    // (after a constant first sample k can exceed 2^53, where k + 1 == k: grow multiplicatively)
    while (newLo + N * k * w < target) k = Math.max(k + 1, k * (1 + 2 ** -40));
    const old = this.counts;
    const next = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      const c = old[i];
      if (c !== 0) next[Math.min(N - 1, Math.floor((i + m) / k))] += c;
    }
    this.counts = next;
    this.lo = newLo;
    this.binWidth = k * w;
  }
}

// ---------------------------------------------------------------------------------------------
// Range selection

export interface ClipRange {
  min: number;
  max: number;
}

/** The occupied part of a histogram: bins [first, last] with any count. */
function occupied(h: Histogram): { first: number; last: number; total: number } {
  let first = -1;
  let last = -1;
  let total = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i];
    if (c > 0) {
      if (first < 0) first = i;
      last = i;
      total += c;
    }
  }
  return { first, last, total };
}

function clampToObserved(h: Histogram, r: ClipRange): ClipRange {
  const min = Math.min(Math.max(r.min, h.observedMin), h.observedMax);
  const max = Math.max(Math.min(r.max, h.observedMax), min);
  return { min, max };
}

/**
 * Two-sided percentile clip: min = the (100 - p)% quantile, max = the p% quantile, e.g. p = 99.99
 * keeps the central 99.98% of the mass. Linear interpolation inside a bin; p = 100 gives the observed
 * extremes.
 */
export function percentileRange(h: Histogram, percentile = 99.99): ClipRange {
  if (!(percentile > 50 && percentile <= 100)) throw new Error(`percentileRange: percentile must be in (50, 100], got ${percentile}`);
  if (percentile === 100) return { min: h.observedMin, max: h.observedMax };
  const { total } = occupied(h);
  if (total === 0) return { min: h.observedMin, max: h.observedMax };
  const tail = (total * (100 - percentile)) / 100;
  return clampToObserved(h, { min: quantileFromBelow(h, tail), max: quantileFromAbove(h, tail) });
}

/** Value below which `mass` of the histogram lies. */
function quantileFromBelow(h: Histogram, mass: number): number {
  let cum = 0;
  const c = h.counts;
  for (let i = 0; i < c.length; i++) {
    if (c[i] > 0 && cum + c[i] >= mass) return h.lo + (i + (mass - cum) / c[i]) * h.binWidth;
    cum += c[i];
  }
  return h.lo + c.length * h.binWidth;
}

/** Value above which `mass` of the histogram lies. */
function quantileFromAbove(h: Histogram, mass: number): number {
  let cum = 0;
  const c = h.counts;
  for (let i = c.length - 1; i >= 0; i--) {
    if (c[i] > 0 && cum + c[i] >= mass) return h.lo + (i + 1 - (mass - cum) / c[i]) * h.binWidth;
    cum += c[i];
  }
  return h.lo;
}

/** Occupied bins of `h` merged down to at most `maxBins` bins (exact integer-factor merge). */
function croppedBins(h: Histogram, maxBins: number): { counts: Float64Array; lo: number; width: number } | null {
  const { first, last, total } = occupied(h);
  if (total === 0) return null;
  const span = last - first + 1;
  const factor = Math.ceil(span / maxBins);
  const n = Math.ceil(span / factor);
  const counts = new Float64Array(n);
  for (let i = first; i <= last; i++) counts[Math.floor((i - first) / factor)] += h.counts[i];
  return { counts, lo: h.lo + first * h.binWidth, width: h.binWidth * factor };
}

// Prefix sums over bins of count, count*E[x] and count*E[x^2], with the values uniform inside a bin.
interface Moments {
  c: Float64Array;
  s1: Float64Array;
  s2: Float64Array;
}
function prefixMoments(counts: Float64Array, lo: number, width: number): Moments {
  const n = counts.length;
  const c = new Float64Array(n + 1);
  const s1 = new Float64Array(n + 1);
  const s2 = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const a = lo + i * width;
    const b = a + width;
    const k = counts[i];
    c[i + 1] = c[i] + k;
    s1[i + 1] = s1[i] + (k * (a + b)) / 2;
    s2[i + 1] = s2[i] + (k * (a * a + a * b + b * b)) / 3;
  }
  return { c, s1, s2 };
}

// (asymmetric int8 params for [a, b], inlined from chooseActivationParams to keep the search cheap)
function nudged(a: number, b: number, qmin: number, qmax: number): { lo: number; hi: number; step: number } {
  const lo0 = Math.min(a, 0);
  const hi0 = Math.max(b, 0);
  const step = (hi0 - lo0) / (qmax - qmin);
  if (!(step > 0)) return { lo: 0, hi: 0, step: 0 };
  let zp = roundHalfAwayFromZero(qmin - lo0 / step);
  zp = Math.min(Math.max(zp, qmin), qmax);
  return { lo: (qmin - zp) * step, hi: (qmax - zp) * step, step };
}

/** Expected squared quantization error (summed over the mass) for clip edges at bins i and j. */
function mseAt(m: Moments, lo: number, width: number, i: number, j: number, qmin: number, qmax: number): number {
  const n = m.c.length - 1;
  const q = nudged(lo + i * width, lo + j * width, qmin, qmax);
  // below: sum over bins [0, i) of (x - q.lo)^2 ; above: bins [j, n) of (x - q.hi)^2
  const cb = m.c[i];
  const below = m.s2[i] - 2 * q.lo * m.s1[i] + q.lo * q.lo * cb;
  const ca = m.c[n] - m.c[j];
  const s1a = m.s1[n] - m.s1[j];
  const s2a = m.s2[n] - m.s2[j];
  const above = s2a - 2 * q.hi * s1a + q.hi * q.hi * ca;
  const inside = ((m.c[j] - m.c[i]) * q.step * q.step) / 12;
  return Math.max(below, 0) + Math.max(above, 0) + inside;
}

/** Candidate bin-edge indices for the lower and upper clip (a side that cannot include 0 stays put). */
function clipCandidates(lo: number, width: number, n: number): { iMax: number; jMin: number } {
  // lower edge i in [0, iMax], upper edge j in [jMin, n]; edges on the far side of 0 would be moved to
  // 0 by the zero extension anyway, so they are not candidates.
  const zeroPos = -lo / width; // position of 0 in bin units
  const iMax = Math.max(0, Math.min(n, Math.floor(zeroPos)));
  const jMin = Math.min(n, Math.max(0, Math.ceil(zeroPos)));
  return { iMax, jMin };
}

/** Coarse-to-fine search of the (i, j) grid, minimising `cost`; deterministic (ties keep the first). */
function gridSearch(
  iRange: [number, number],
  jRange: [number, number],
  coarseSteps: number,
  valid: (i: number, j: number) => boolean,
  cost: (i: number, j: number) => number,
): { i: number; j: number } {
  let best = { i: iRange[0], j: jRange[1], v: Infinity };
  let [i0, i1] = iRange;
  let [j0, j1] = jRange;
  let step = Math.max(1, Math.ceil(Math.max(i1 - i0, j1 - j0) / coarseSteps));
  for (;;) {
    for (let i = i0; i <= i1; i += step) {
      for (let j = j1; j >= j0; j -= step) {
        if (!valid(i, j)) continue;
        const v = cost(i, j);
        if (v < best.v) best = { i, j, v };
      }
    }
    if (step === 1) break;
    i0 = Math.max(iRange[0], best.i - step);
    i1 = Math.min(iRange[1], best.i + step);
    j0 = Math.max(jRange[0], best.j - step);
    j1 = Math.min(jRange[1], best.j + step);
    step = Math.max(1, Math.floor(step / 8));
  }
  return best;
}

/**
 * The clip range minimising expected int8 quantization MSE over the histogram (see file header).
 * qmin/qmax default to the int8 activation range.
 */
export function mseRange(h: Histogram, opts: { qmin?: number; qmax?: number; maxBins?: number } = {}): ClipRange {
  const qmin = opts.qmin ?? -128;
  const qmax = opts.qmax ?? 127;
  const hb = croppedBins(h, opts.maxBins ?? 2048);
  if (!hb) return { min: h.observedMin, max: h.observedMax };
  const n = hb.counts.length;
  const m = prefixMoments(hb.counts, hb.lo, hb.width);
  const { iMax, jMin } = clipCandidates(hb.lo, hb.width, n);
  const best = gridSearch(
    [0, iMax],
    [jMin, n],
    128,
    (i, j) => j > i,
    (i, j) => mseAt(m, hb.lo, hb.width, i, j, qmin, qmax),
  );
  return clampToObserved(h, { min: hb.lo + best.i * hb.width, max: hb.lo + best.j * hb.width });
}

/**
 * KL(P || Q) for the window of bins [i, j): P = the histogram restricted to the window with the mass
 * outside folded into the edge bins; Q = the window (without the folded mass) merged into `levels`
 * chunks and spread evenly over each chunk's non-empty bins of P. Empty Q where P has mass gets a
 * small floor (the smoothing TensorRT-style implementations use) instead of an infinite divergence.
 */
function klDivergenceForWindow(counts: Float64Array, i: number, j: number, levels: number, prefix: Float64Array): number {
  const W = j - i;
  const total = prefix[counts.length];
  const leftOut = prefix[i];
  const rightOut = total - prefix[j];
  const sliced = prefix[j] - prefix[i];
  if (sliced <= 0) return Infinity;
  const eps = 1e-4;
  let kl = 0;
  for (let l = 0; l < levels; l++) {
    const a = i + Math.floor((l * W) / levels);
    const b = i + Math.floor(((l + 1) * W) / levels);
    // chunk mass (no outliers) and number of bins where P is non-zero
    let nonEmpty = 0;
    for (let k = a; k < b; k++) {
      const p = counts[k] + (k === i ? leftOut : 0) + (k === j - 1 ? rightOut : 0);
      if (p > 0) nonEmpty++;
    }
    if (nonEmpty === 0) continue;
    const qEach = (prefix[b] - prefix[a]) / nonEmpty / sliced;
    for (let k = a; k < b; k++) {
      const pc = counts[k] + (k === i ? leftOut : 0) + (k === j - 1 ? rightOut : 0);
      if (pc <= 0) continue;
      const p = pc / total;
      const q = qEach > 0 ? qEach : eps / sliced;
      kl += p * Math.log(p / q);
    }
  }
  return kl;
}

/**
 * Entropy (KL-divergence) calibration adapted to asymmetric int8 (see file header). Windows are at
 * least `levels` (256) bins wide; a histogram with fewer occupied bins cannot be clipped meaningfully
 * and returns the observed range.
 */
export function entropyRange(h: Histogram, opts: { levels?: number; maxBins?: number } = {}): ClipRange {
  const levels = opts.levels ?? 256;
  const hb = croppedBins(h, opts.maxBins ?? 2048);
  if (!hb) return { min: h.observedMin, max: h.observedMax };
  const n = hb.counts.length;
  if (n <= levels) return { min: h.observedMin, max: h.observedMax };
  const prefix = new Float64Array(n + 1);
  for (let k = 0; k < n; k++) prefix[k + 1] = prefix[k] + hb.counts[k];
  const { iMax, jMin } = clipCandidates(hb.lo, hb.width, n);
  const best = gridSearch(
    [0, Math.min(iMax, n - levels)],
    [Math.max(jMin, levels), n],
    32,
    (i, j) => j - i >= levels,
    (i, j) => klDivergenceForWindow(hb.counts, i, j, levels, prefix),
  );
  return clampToObserved(h, { min: hb.lo + best.i * hb.width, max: hb.lo + best.j * hb.width });
}
