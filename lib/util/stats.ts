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

/** ln(10) / 20: the dB cost of a unit of per-image SQNR variance when noise-to-signal ratios are log-normal. */
const LOGNORMAL_DB_PER_VARIANCE = Math.LN10 / 20;

/** A noise-free image (SQNR Infinity) counts as this many dB: float32's resolution is about 144 dB. */
export const NOISE_FREE_SQNR_DB = 150;

/**
 * A lower bound on the SQNR the same model gives pooled over images like these but not among them,
 * from per-image SQNRs (dB, one per image). Why not the pooled SQNR of the measured images: pooled
 * over images, the noise is a mean dominated by the worst few images, and a handful of images often
 * holds none of them (nsfwjs, all int8: 38.5 and 33.7 dB on two sets of 8 images, 24.5 on 16 others;
 * per image 14-58 dB). Model: per-image SQNR x ~ Normal(mu, sigma^2) in dB, i.e. a log-normal
 * noise-to-signal ratio, whose mean, in dB, is mu - (ln 10 / 20) sigma^2 (the expected pooled SQNR);
 * mu is taken `z` standard errors below the sample mean. Fewer than 2 images: the mean (no spread seen).
 */
export function pooledSqnrLowerBoundDb(perImageDb: readonly number[], z = 1): number {
  const x = perImageDb.map((d) => Math.min(d, NOISE_FREE_SQNR_DB));
  const n = x.length;
  if (n === 0) return NaN;
  const mean = x.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return mean;
  const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return mean - z * Math.sqrt(variance / n) - LOGNORMAL_DB_PER_VARIANCE * variance;
}
