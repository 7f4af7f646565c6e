// The one clock stage timings are read from (reports give seconds per stage).

/** Seconds on the monotonic clock (performance.now()): only differences mean anything. */
export function nowSeconds(): number {
  return performance.now() / 1000;
}
