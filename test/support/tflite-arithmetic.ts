// TFLite's integer arithmetic modelled in JS, for tests that reason about what the int8 kernels
// compute (requantization by a fixed-point multiplier); the quantizer itself never needs it.
import { INT32_MAX, INT32_MIN, roundHalfAwayFromZero } from '../../lib/int8/arithmetic.js';

/** The real value of a quantized value q: (q - zeroPoint) * scale. */
export function dequantizeValue(q: number, scale: number, zeroPoint: number): number {
  return (q - zeroPoint) * scale;
}

/**
 * Fixed-point form of a positive real multiplier, as TFLite's QuantizeMultiplier: m = q * 2^shift
 * with q in [0.5, 1) stored as round(q * 2^31) (int32, Q0.31), shift the exponent (positive = left).
 * Tiny multipliers (shift < -31) flush to {0, 0}; shift > 30 saturates (single-rounding kernels).
 */
export function quantizeMultiplier(realMultiplier: number): { multiplier: number; shift: number } {
  if (!(realMultiplier >= 0) || !Number.isFinite(realMultiplier)) {
    throw new Error(`quantizeMultiplier: multiplier must be finite and >= 0, got ${realMultiplier}`);
  }
  if (realMultiplier === 0) return { multiplier: 0, shift: 0 };
  // frexp: realMultiplier = q * 2^shift, q in [0.5, 1)
  let shift = Math.floor(Math.log2(realMultiplier)) + 1;
  let q = realMultiplier / 2 ** shift;
  // log2 can be off by one at exact powers of two / near them; fix up exactly.
  while (q >= 1) { q /= 2; shift++; }
  while (q < 0.5) { q *= 2; shift--; }
  let qFixed = roundHalfAwayFromZero(q * 2 ** 31);
  if (qFixed === 2 ** 31) { qFixed /= 2; shift++; }
  if (shift < -31) return { multiplier: 0, shift: 0 };
  if (shift > 30) return { multiplier: INT32_MAX, shift: 30 };
  return { multiplier: qFixed, shift };
}

/**
 * x * multiplier * 2^shift with TFLite's reference (double-rounding) integer arithmetic:
 * SaturatingRoundingDoublingHighMul(x * 2^max(shift,0), multiplier) then a rounding right shift by
 * max(-shift, 0). BigInt keeps it exact.
 */
export function multiplyByQuantizedMultiplier(x: number, multiplier: number, shift: number): number {
  const leftShift = shift > 0 ? shift : 0;
  const rightShift = shift > 0 ? 0 : -shift;
  const a = BigInt(Math.trunc(x)) << BigInt(leftShift);
  // left-shifted value is int32 in TFLite; saturate like the kernels would not (caller's contract)
  const b = BigInt(multiplier);
  let high: bigint;
  if (a === BigInt(INT32_MIN) && b === BigInt(INT32_MIN)) {
    high = BigInt(INT32_MAX);
  } else {
    const ab = a * b;
    const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
    // C++ integer division truncates toward zero; BigInt division does too.
    high = (ab + nudge) / (1n << 31n);
  }
  if (rightShift === 0) return Number(high);
  // RoundingDivideByPOT: round half away from zero.
  const mask = (1n << BigInt(rightShift)) - 1n;
  const remainder = high & mask;
  const threshold = (mask >> 1n) + (high < 0n ? 1n : 0n);
  return Number((high >> BigInt(rightShift)) + (remainder > threshold ? 1n : 0n));
}
