// Summary statistics of measured values (latencies, errors).

/** Linear-interpolated percentile (numpy's default), p in [0, 100]; NaN for no values. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = ((s.length - 1) * p) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** ln(10) / 20: the dB cost of a unit of variance of per-image noise power (dB) when it is log-normal. */
const LOGNORMAL_DB_PER_VARIANCE = Math.LN10 / 20;

/** One image's output signal and noise power (sums of squares). */
export interface ImageError {
  signal: number;
  noise: number;
}

/**
 * A lower bound on the SQNR the same model gives pooled over images like these but not among them.
 * Why not the pooled SQNR of the measured images, 10 log10(sum signal / sum noise): the noise is a
 * mean over images dominated by the worst few, and a handful of images often holds none of them
 * (nsfwjs, all int8: 38.5 and 33.7 dB on two sets of 8 images, 24.5 on 16 others). Model: each
 * image's noise power is log-normal, i.e. 10 log10(noise) ~ Normal(mu, sigma^2) dB, whose mean, in dB,
 * is mu + (ln 10 / 20) sigma^2; mu is taken `z` standard errors above the sample mean, and the signal
 * is the sample's mean signal (noise, not signal, is what varies with the quantization: per-image SQNRs
 * spread with the signal too - BlazeFace's scores 1000x from image to image at an even noise - which
 * the pooled value weighs by signal). Fewer than 2 noisy images: the pooled SQNR (no spread seen).
 */
export function pooledSqnrLowerBoundDb(images: readonly ImageError[], z = 1): number {
  const n = images.length;
  if (n === 0) return NaN;
  const signal = images.reduce((a, e) => a + e.signal, 0) / n;
  // Noise-free images (identical outputs) are a point mass at 0 beside the log-normal: they scale the
  // mean noise by the share of noisy images.
  const noiseDb = images.filter((e) => e.noise > 0).map((e) => 10 * Math.log10(e.noise));
  const k = noiseDb.length;
  if (k < 2) return 10 * Math.log10((n * signal) / images.reduce((a, e) => a + e.noise, 0));
  const mean = noiseDb.reduce((a, b) => a + b, 0) / k;
  const variance = noiseDb.reduce((a, b) => a + (b - mean) ** 2, 0) / (k - 1);
  const noiseBoundDb = mean + z * Math.sqrt(variance / k) + LOGNORMAL_DB_PER_VARIANCE * variance + 10 * Math.log10(k / n);
  return 10 * Math.log10(signal) - noiseBoundDb;
}

/** The smallest and largest of some values ({Infinity, -Infinity} for none). */
export function extremesOf(values: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    min = Math.min(min, values[i]);
    max = Math.max(max, values[i]);
  }
  return { min, max };
}
