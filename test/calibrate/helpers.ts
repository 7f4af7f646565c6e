// Deterministic random data for calibration tests.

import { mulberry32 } from '../../lib/util/random.js';

/** Deterministic floats in [0, 1) (mulberry32). */
export const rng = mulberry32;

/** Standard normal samples (Box-Muller). */
export function gaussian(n: number, seed: number, mean = 0, std = 1): Float32Array {
  const r = rng(seed);
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

export function uniform(n: number, seed: number, lo: number, hi: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** Mean squared error of int8 quantize-dequantize of `data` with the params chosen for [min, max]. */
export function int8RoundTripMse(data: Float32Array, min: number, max: number): number {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  const scale = Math.fround((hi - lo) / 255);
  const zp = Math.min(127, Math.max(-128, Math.round(-128 - lo / scale)));
  let se = 0;
  for (let i = 0; i < data.length; i++) {
    const q = Math.min(127, Math.max(-128, Math.round(data[i] / scale) + zp));
    const d = (q - zp) * scale - data[i];
    se += d * d;
  }
  return se / data.length;
}
