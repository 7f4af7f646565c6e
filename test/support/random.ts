// Seeded random numbers for tests: every run, and every failure, reproduces exactly.
import { mulberry32 } from '../../lib/util/random.js';

export { mulberry32 };

/**
 * The linear congruential generator (Numerical Recipes' constants) several tests were written with:
 * floats in [0, 1). Kept beside mulberry32 because those tests' tolerances were set on its numbers.
 */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** Standard normal samples (Box-Muller over mulberry32). */
export function gaussian(n: number, seed: number, mean = 0, std = 1): Float32Array {
  const r = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - r();
    const v = r();
    const m = Math.sqrt(-2 * Math.log(u));
    out[i] = mean + std * m * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = mean + std * m * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** Uniform samples in [lo, hi) (mulberry32). */
export function uniform(n: number, seed: number, lo: number, hi: number): Float32Array {
  const r = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}
