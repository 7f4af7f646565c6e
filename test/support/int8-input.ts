// Test-side quantization of float inputs to int8, computed by hand (not through the library), with
// saturation: Int8Array.from(x, f) would wrap an out-of-range value (128 -> -128) instead of clamping.

/** round(x / scale) + zeroPoint, clamped to [-128, 127] (Math.round: the tests' values never sit on .5 ties that matter). */
export function int8Saturated(x: ArrayLike<number>, scale: number, zeroPoint: number): Int8Array {
  const q = new Int8Array(x.length);
  for (let i = 0; i < x.length; i++) q[i] = Math.max(-128, Math.min(127, Math.round(x[i] / scale) + zeroPoint));
  return q;
}

/** Values in [0, 1] as the int8 input at scale 1/255, zero point -128 (what a [0, 255] pixel becomes). */
export function int8FromUnit(x: ArrayLike<number>): Int8Array {
  const q = new Int8Array(x.length);
  for (let i = 0; i < x.length; i++) q[i] = Math.max(-128, Math.min(127, Math.round(x[i] * 255) - 128));
  return q;
}
