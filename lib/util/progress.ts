// Throughput and time left of a running stage, for progress callbacks (the CLI bar prints them).

/** Throughput and time left of a running stage (what onProgress callbacks receive as a 4th argument). */
export interface ProgressRate {
  /** Items (images) per second so far. */
  perSecond: number;
  /** Estimated seconds left at that rate. */
  etaSeconds: number;
}

/** Rate and time left after `done` of `total` items in `elapsedSeconds` (undefined before the first item). */
export function progressRate(done: number, total: number, elapsedSeconds: number): ProgressRate | undefined {
  if (!(done > 0) || !(elapsedSeconds > 0)) return undefined;
  const perSecond = done / elapsedSeconds;
  return { perSecond, etaSeconds: Math.max(0, total - done) / perSecond };
}

