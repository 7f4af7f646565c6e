import { expect } from 'chai';
import {
  chooseInt16ActivationParams,
  chooseParamsFor,
  fixedOutputParams,
  quantizeArray,
  quantizeBias64,
  INT32_MAX,
  INT32_MIN,
  LOGISTIC_INT8_OUTPUT,
  LOG_SOFTMAX_INT8_OUTPUT,
  MIN_ACTIVATION_SCALE,
  SOFTMAX_INT8_OUTPUT,
  TANH_INT8_OUTPUT,
  chooseActivationParams,
  minWeightScalesForBias,
  nudgedRange,
  channelGridStep,
  gridExactScales,
  perChannelSymmetricScales,
  perChannelWeightScales,
  perTensorSymmetricScale,
  quantizeBias,
  quantizeValue,
  quantizeWeightsPerChannel,
  roundHalfAwayFromZero,
  snapRangeOutward,
} from '../../lib/int8/arithmetic.js';
import { dequantizeValue, multiplyByQuantizedMultiplier, quantizeMultiplier } from '../support/tflite-arithmetic.js';

import { applyRangeRule } from '../../lib/quantize/range-rules.js';
const f32 = Math.fround;

describe('quantize/math', () => {
  describe('roundHalfAwayFromZero', () => {
    it('rounds halves away from zero like std::round (unlike Math.round)', () => {
      expect(roundHalfAwayFromZero(2.5)).to.equal(3);
      expect(roundHalfAwayFromZero(-2.5)).to.equal(-3);
      expect(Math.round(-2.5)).to.equal(-2); // the JS behaviour we must not use
      expect(roundHalfAwayFromZero(-0.5)).to.equal(-1);
      expect(roundHalfAwayFromZero(0.5)).to.equal(1);
      expect(roundHalfAwayFromZero(1.4999)).to.equal(1);
      expect(roundHalfAwayFromZero(-1.5001)).to.equal(-2);
      expect(Object.is(roundHalfAwayFromZero(-0.2), 0)).to.equal(true);
    });
    it('does not round the largest double below 0.5 up (floor(x + 0.5) would)', () => {
      const justBelowHalf = 0.49999999999999994;
      expect(Math.floor(justBelowHalf + 0.5)).to.equal(1);
      expect(roundHalfAwayFromZero(justBelowHalf)).to.equal(0);
      expect(roundHalfAwayFromZero(-justBelowHalf)).to.equal(0);
    });
  });

  describe('chooseActivationParams / nudgedRange', () => {
    it('[-1, 2] -> scale 3/255, zero point -43 (hand computed: -128 - (-1)/(3/255) = -128 + 85)', () => {
      const p = chooseActivationParams(-1, 2);
      expect(p.scale).to.equal(f32(3 / 255));
      expect(p.zeroPoint).to.equal(-43);
      const r = nudgedRange(p);
      // (-128 + 43) * 3/255 = -1 and (127 + 43) * 3/255 = 2: this range needs no nudging
      expect(r.min).to.be.closeTo(-1, 1e-6);
      expect(r.max).to.be.closeTo(2, 1e-6);
    });
    it('nudges [-0.3, 1] so that 0 is exact: zp = round(-128 + 58.846) = -69', () => {
      const p = chooseActivationParams(-0.3, 1);
      expect(p.scale).to.equal(f32(1.3 / 255));
      expect(p.zeroPoint).to.equal(-69);
      const r = nudgedRange(p);
      expect(r.min).to.be.closeTo((-59 * 1.3) / 255, 1e-7); // -0.300784
      expect(r.max).to.be.closeTo((196 * 1.3) / 255, 1e-7); // 0.999216
      expect(r.max - r.min).to.be.closeTo(1.3, 1e-6);
      expect(quantizeValue(0, p.scale, p.zeroPoint)).to.equal(-69);
      expect(dequantizeValue(quantizeValue(0, p.scale, p.zeroPoint), p.scale, p.zeroPoint)).to.equal(0);
    });
    it('extends one-sided ranges to include 0', () => {
      const pos = chooseActivationParams(2, 5); // -> [0, 5]
      expect(pos.scale).to.equal(f32(5 / 255));
      expect(pos.zeroPoint).to.equal(-128);
      const neg = chooseActivationParams(-4, -1); // -> [-4, 0]: zp = -128 + 255
      expect(neg.scale).to.equal(f32(4 / 255));
      expect(neg.zeroPoint).to.equal(127);
      expect(nudgedRange(neg).max).to.equal(0);
    });
    it('symmetric [-1, 1]: zp = round(-128 + 1 / f32(2/255)) = round(-0.5000075) = -1', () => {
      // float32(2/255) = 0.0078431377 is slightly above 2/255, so 1/scale = 127.49998 and the
      // zero point lands just below -0.5: -1 (nudged range [-0.99216, 1.00784]).
      const p = chooseActivationParams(-1, 1);
      expect(p.scale).to.equal(f32(2 / 255));
      expect(p.zeroPoint).to.equal(-1);
      expect(nudgedRange(p).min).to.be.closeTo(-127 * f32(2 / 255), 1e-9);
    });
    it('handles degenerate ranges: a dead tensor takes the [0, 1] parameters, a tiny range a small positive scale, 0 exact', () => {
      const z = chooseActivationParams(0, 0);
      expect(z).to.deep.equal(chooseActivationParams(0, 1));
      expect(z.zeroPoint).to.equal(-128);
      expect(chooseActivationParams(0, 1e-12).scale).to.equal(f32(MIN_ACTIVATION_SCALE));
      const tiny = chooseActivationParams(-1e-12, 1e-12);
      expect(tiny.scale).to.be.greaterThan(0);
      expect(tiny.zeroPoint).to.be.within(-128, 127);
      expect(dequantizeValue(quantizeValue(0, tiny.scale, tiny.zeroPoint), tiny.scale, tiny.zeroPoint)).to.equal(0);
    });
    it('rejects NaN, infinite and inverted ranges with a clear error', () => {
      expect(() => chooseActivationParams(NaN, 1)).to.throw(/min must be a finite number/);
      expect(() => chooseActivationParams(0, Infinity)).to.throw(/max must be a finite number/);
      expect(() => chooseActivationParams(2, 1)).to.throw(/min \(2\) > max \(1\)/);
    });
    it('supports other integer ranges (uint8 [0, 255])', () => {
      const p = chooseActivationParams(-1, 2, { qmin: 0, qmax: 255 });
      expect(p.zeroPoint).to.equal(85);
      expect(nudgedRange(p, { qmin: 0, qmax: 255 }).min).to.be.closeTo(-1, 1e-6);
    });
  });

  describe('quantizeValue / dequantizeValue', () => {
    it('rounds half away from zero and adds the zero point', () => {
      expect(quantizeValue(1.25, 0.5, 0)).to.equal(3); // 2.5 -> 3
      expect(quantizeValue(-1.25, 0.5, 0)).to.equal(-3); // -2.5 -> -3
      expect(quantizeValue(1.25, 0.5, 10)).to.equal(13);
      expect(dequantizeValue(13, 0.5, 10)).to.equal(1.5);
    });
    it('saturates instead of wrapping (1e9, -1e9, ±Infinity)', () => {
      expect(quantizeValue(1e9, 0.1, 0)).to.equal(127);
      expect(quantizeValue(-1e9, 0.1, 0)).to.equal(-128);
      expect(quantizeValue(Infinity, 0.1, 5)).to.equal(127);
      expect(quantizeValue(-Infinity, 0.1, 5)).to.equal(-128);
      expect(quantizeValue(1e9, 1, 0, INT32_MIN, INT32_MAX)).to.equal(1e9);
      expect(quantizeValue(1e12, 1, 0, INT32_MIN, INT32_MAX)).to.equal(INT32_MAX);
      expect(quantizeValue(-1e12, 1, 0, INT32_MIN, INT32_MAX)).to.equal(INT32_MIN);
      // near the edge: 127.4 rounds to 127, 127.6 saturates to 127, -128.6 to -128
      expect(quantizeValue(127.6, 1, 0)).to.equal(127);
      expect(quantizeValue(-128.6, 1, 0)).to.equal(-128);
    });
    it('rejects NaN and non-positive scales', () => {
      expect(() => quantizeValue(NaN, 1, 0)).to.throw(/NaN/);
      expect(() => quantizeValue(1, 0, 0)).to.throw(/scale must be > 0/);
    });
  });

  describe('symmetric weights', () => {
    it('per-channel scales = max|w| / 127 along the axis, zero channels get scale 1', () => {
      // shape [2, 3], axis 1: channel c = column c
      const w = new Float32Array([1, -2, 0, -0.5, 1, 0]);
      const s = perChannelSymmetricScales(w, [2, 3], 1);
      expect(Array.from(s)).to.deep.equal([f32(1 / 127), f32(2 / 127), 1]);
      const q = quantizeWeightsPerChannel(w, [2, 3], 1, s);
      // 1/(1/127) = 127; -2/(2/127) = -127; -0.5/(1/127) = -63.5 -> -64; 1/(2/127) = 63.5 -> 64
      expect(Array.from(q)).to.deep.equal([127, -127, 0, -64, 64, 0]);
    });
    it('axis 0 and HWIO axis 3 pick the right slices', () => {
      const w0 = new Float32Array([0.5, -0.25, 3, 1.5]); // shape [2,2], axis 0: rows
      expect(Array.from(perChannelSymmetricScales(w0, [2, 2], 0))).to.deep.equal([f32(0.5 / 127), f32(3 / 127)]);
      // HWIO [1,1,2,3]: element index = i*3 + o
      const w3 = new Float32Array([0.1, -4, 2, -0.3, 1, -6]);
      expect(Array.from(perChannelSymmetricScales(w3, [1, 1, 2, 3], 3))).to.deep.equal([f32(0.3 / 127), f32(4 / 127), f32(6 / 127)]);
    });
    it('per-tensor scale and saturation at ±127 (never -128)', () => {
      expect(perTensorSymmetricScale(new Float32Array([0.5, -2.54, 1]))).to.equal(f32(2.54 / 127));
      expect(perTensorSymmetricScale(new Float32Array([0, 0]))).to.equal(1);
      // (values exactly representable in float32 so the halves are real halves)
      const q = quantizeWeightsPerChannel(new Float32Array([100, -100, 0.75, -1.25]), [4], 0, [0.5]);
      expect(Array.from(q)).to.deep.equal([127, -127, 2, -3]); // 1.5 -> 2 ; -2.5 -> -3
    });
    it('weights on an int8 grid (a dequantized per-tensor source) keep an exact scale: g / floor(127 / m)', () => {
      // A per-tensor int8 source with step 0.5 (exact in float32): column 0 holds -3..5 steps (m = 5), column 1 holds
      // 2 and -4 steps (smallest |w| is 2 steps: step found as 1 / 2), column 2 is off any grid (0.71 / 0.3 x d is no integer for d = 1..4; 0.3 and 0.7 would be: 3 and 7 steps of 0.1).
      const w = new Float32Array([2.5, 1, 0.3, -1.5, -2, 0.71]); // shape [2, 3], axis 1
      expect(channelGridStep([2.5, -1.5])).to.equal(0.5);
      expect(channelGridStep([1, -2])).to.equal(1); // smallest |w| = 1, and -2 = -2 x 1
      expect(channelGridStep([1.5, 2.5])).to.equal(0.5); // 1.5 is not a multiple of 2.5 / 1; of 1.5 / 3 = 0.5 it is
      expect(channelGridStep([0.3, 0.71])).to.equal(undefined);
      expect(channelGridStep([0.3, 0.7])).to.be.closeTo(0.1, 1e-9);
      expect(channelGridStep([0, 0])).to.equal(undefined);
      expect(channelGridStep([1, 200])).to.equal(undefined); // 200 steps: not an int8 grid
      const symmetric = perChannelSymmetricScales(w, [2, 3], 1); // 2.5/127, 2/127, 0.71/127
      const s = gridExactScales(w, [2, 3], 1, symmetric);
      // column 0: step 0.5, m = 5 steps -> 0.5 / floor(127 / 5) = 0.5 / 25; column 1: step 1, m = 2 -> 1 / 63;
      // column 2 keeps the symmetric scale.
      expect(Array.from(s)).to.deep.equal([f32(0.5 / 25), f32(1 / 63), symmetric[2]]);
      const q = quantizeWeightsPerChannel(w, [2, 3], 1, s);
      expect(Array.from(q)).to.deep.equal([125, 63, 54, -75, -126, 127]); // 5 x 25, 1 x 63, 0.3 / (0.71/127) = 53.7; -3 x 25, -2 x 63
      // Exact where a grid was found: q x scale gives the weights back.
      for (const i of [0, 1, 3, 4]) expect(q[i] * s[i % 3]).to.be.closeTo(w[i], 1e-6 * Math.abs(w[i]));
      // The symmetric scale rounds column 0 (2.5 -> 127, -1.5 -> -76.2 -> -76: -1.496..., not -1.5).
      const qs = quantizeWeightsPerChannel(w, [2, 3], 1, symmetric);
      expect(Math.abs(qs[3] * symmetric[0] - w[3])).to.be.greaterThan(1e-3);
    });
    it('channels the symmetric scale already writes exactly keep it (per-channel int8 sources, float models)', () => {
      // Column 0: 127 and -64 steps of 1/64 (m = 127): max/127 = 1/64 is the grid itself. Column 1: float values off any grid.
      const w = new Float32Array([127 / 64, 0.123, -1, -0.456]);
      const sym = perChannelSymmetricScales(w, [2, 2], 1);
      expect(Array.from(perChannelWeightScales(w, [2, 2], 1))).to.deep.equal(Array.from(sym));
    });
    it('rejects shape/scale mismatches and non-finite weights', () => {
      expect(() => perChannelSymmetricScales(new Float32Array(5), [2, 3], 1)).to.throw(/has 6 elements but the data has 5/);
      expect(() => perChannelSymmetricScales(new Float32Array(6), [2, 3], 2)).to.throw(/axis 2 out of range/);
      expect(() => quantizeWeightsPerChannel(new Float32Array(6), [2, 3], 1, [1, 1])).to.throw(/2 scales for 3 channels/);
      expect(() => perTensorSymmetricScale(new Float32Array([1, NaN]))).to.throw(/weight 1 is not finite/);
    });
  });

  describe('bias', () => {
    it('int32 with scale = input scale * weight scale, rounded half away from zero, saturated', () => {
      const bias = new Float32Array([0.5, -0.3, 1e6, 0.0025]);
      const q = quantizeBias(bias, 0.02, [0.1, 0.05, 1e-9, 0.5]);
      // 0.5 / 0.002 = 250 ; -0.3 / 0.001 = -300 ; 1e6 / 2e-11 overflows ; 0.0025 / 0.01 = 0.25 -> 0
      expect(Array.from(q)).to.deep.equal([250, -300, INT32_MAX, 0]);
      const half = quantizeBias(new Float32Array([0.375, -0.375]), 0.25, [1]); // 1.5 -> 2, -1.5 -> -2
      expect(Array.from(half)).to.deep.equal([2, -2]);
    });
    it('minWeightScalesForBias raises tiny weight scales so the bias fits in int32', () => {
      const bias = new Float32Array([1e6, 0.5]);
      const ws = minWeightScalesForBias(bias, 0.02, new Float32Array([1e-9, 0.05]));
      expect(ws[1]).to.equal(f32(0.05));
      expect(ws[0]).to.be.greaterThan(1e-9);
      const q = quantizeBias(bias, 0.02, ws);
      expect(Math.abs(q[0])).to.be.lessThan(INT32_MAX);
      const back = q[0] * f32(f32(0.02) * ws[0]);
      expect(Math.abs(back - 1e6) / 1e6).to.be.lessThan(1e-6);
    });
  });

  describe('quantizeMultiplier', () => {
    it('matches hand-computed TFLite values', () => {
      expect(quantizeMultiplier(0.5)).to.deep.equal({ multiplier: 2 ** 30, shift: 0 });
      expect(quantizeMultiplier(1)).to.deep.equal({ multiplier: 2 ** 30, shift: 1 });
      expect(quantizeMultiplier(0.75)).to.deep.equal({ multiplier: 1610612736, shift: 0 });
      // 0.1 = 0.8 * 2^-3 ; 0.8 * 2^31 = 1717986918.4
      expect(quantizeMultiplier(0.1)).to.deep.equal({ multiplier: 1717986918, shift: -3 });
      expect(quantizeMultiplier(3)).to.deep.equal({ multiplier: 1610612736, shift: 2 });
      expect(quantizeMultiplier(0)).to.deep.equal({ multiplier: 0, shift: 0 });
    });
    it('carries a significand that rounds up to 2^31 into the exponent', () => {
      // q = 1 - 2^-34 -> q * 2^31 = 2^31 - 1/8 -> rounds to 2^31 -> {2^30, shift + 1}
      expect(quantizeMultiplier(1 - 2 ** -34)).to.deep.equal({ multiplier: 2 ** 30, shift: 1 });
    });
    it('flushes multipliers below 2^-32 to zero and saturates shifts above 30', () => {
      expect(quantizeMultiplier(2 ** -32)).to.deep.equal({ multiplier: 2 ** 30, shift: -31 });
      expect(quantizeMultiplier(2 ** -33)).to.deep.equal({ multiplier: 0, shift: 0 });
      expect(quantizeMultiplier(2 ** 31)).to.deep.equal({ multiplier: INT32_MAX, shift: 30 });
      expect(() => quantizeMultiplier(-1)).to.throw(/>= 0/);
    });
    it('integer requantization with it is within 1 of round(x * m) (reference fixed-point arithmetic)', () => {
      expect(multiplyByQuantizedMultiplier(100, 1717986918, -3)).to.equal(10);
      expect(multiplyByQuantizedMultiplier(-100, 1717986918, -3)).to.equal(-10);
      expect(multiplyByQuantizedMultiplier(1001, 2 ** 30, 0)).to.equal(501); // 500.5 rounds up
      let seed = 12345;
      const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      for (let t = 0; t < 2000; t++) {
        const m = 2 ** (rand() * 20 - 16); // 1.5e-5 .. 16
        const x = Math.round((rand() * 2 - 1) * 100000);
        const { multiplier, shift } = quantizeMultiplier(m);
        const got = multiplyByQuantizedMultiplier(x, multiplier, shift);
        expect(Math.abs(got - x * m), `x=${x} m=${m}`).to.be.at.most(1);
      }
    });
  });

  it('fixed int8 output parameters from the TFLite quantization spec', () => {
    expect(LOGISTIC_INT8_OUTPUT).to.deep.equal({ scale: 1 / 256, zeroPoint: -128 });
    expect(TANH_INT8_OUTPUT).to.deep.equal({ scale: 1 / 128, zeroPoint: 0 });
    expect(SOFTMAX_INT8_OUTPUT).to.deep.equal({ scale: 1 / 256, zeroPoint: -128 });
    expect(LOG_SOFTMAX_INT8_OUTPUT).to.deep.equal({ scale: 16 / 256, zeroPoint: 127 });
    // LOGISTIC output covers [0, 255/256]: sigmoid's range
    expect(nudgedRange(LOGISTIC_INT8_OUTPUT)).to.deep.equal({ min: 0, max: 255 / 256 });
  });
});

describe('snapRangeOutward', () => {
  it('widens to multiples of 2^(floor(log2 span) - 8)', () => {
    // span 3 -> floor(log2 3) = 1 -> grid 2^-7 = 0.0078125
    const r = snapRangeOutward(-1.001, 1.999);
    expect(r.min).to.equal(-1.0078125);
    expect(r.max).to.equal(2);
  });
  it('includes 0 and never narrows', () => {
    const r = snapRangeOutward(0.5, 0.7);
    expect(r.min).to.equal(0);
    expect(r.max).to.be.at.least(0.7);
    expect(r.max - 0.7).to.be.below(0.7 / 128);
  });
  it('maps values that differ in the last bits to the same range', () => {
    const a = snapRangeOutward(-0.812345678, 6.123456789);
    const b = snapRangeOutward(-0.812345678 * (1 + 1e-7), 6.123456789 * (1 - 1e-7));
    expect(a).to.deep.equal(b);
  });
  it('keeps a zero range zero', () => {
    expect(snapRangeOutward(0, 0)).to.deep.equal({ min: 0, max: 0 });
  });
});

describe('quantize/math: int16 (16x8) and the fixed-output table', () => {
  it('int16 activations are symmetric: zero point 0, scale max|range| / 32767 (float32)', () => {
    expect(chooseInt16ActivationParams(-3, 1)).to.deep.equal({ scale: Math.fround(3 / 32767), zeroPoint: 0 });
    expect(chooseInt16ActivationParams(0.5, 2)).to.deep.equal({ scale: Math.fround(2 / 32767), zeroPoint: 0 });
    expect(chooseInt16ActivationParams(0, 0).scale).to.equal(Math.fround(1 / 32767));
    expect(chooseInt16ActivationParams(0, 1e-12).scale).to.equal(Math.fround(MIN_ACTIVATION_SCALE));
    expect(chooseParamsFor('int8', -3, 1)).to.deep.equal(chooseActivationParams(-3, 1));
  });

  it('quantizeArray saturates to the dtype', () => {
    expect(Array.from(quantizeArray([0, 1, -1, 100], { scale: 1 / 32767, zeroPoint: 0 }, 'int16'))).to.deep.equal([0, 32767, -32767, 32767]);
    expect(Array.from(quantizeArray([0, 1, -2], { scale: 1 / 127, zeroPoint: 0 }, 'int8'))).to.deep.equal([0, 127, -128]);
  });

  it('quantizeBias64: the same rule as the int32 bias, beyond int32', () => {
    const b = Float32Array.of(0.5, -1.25, 3e4);
    const q = quantizeBias64(b, 1e-4, [1e-3, 2e-3, 1e-6]);
    const s = (w: number) => Math.fround(Math.fround(1e-4) * Math.fround(w));
    expect(Array.from(q, Number)).to.deep.equal([Math.round(0.5 / s(1e-3)), -Math.round(1.25 / s(2e-3)), Math.round(3e4 / s(1e-6))]);
    expect(Number(q[2])).to.be.above(2 ** 31); // would saturate as int32
    expect(Array.from(quantizeBias(b.subarray(0, 2), 1e-4, [1e-3, 2e-3]))).to.deep.equal(Array.from(q.subarray(0, 2), Number));
  });

  it('fixed output parameters per op and dtype; an op without an int16 table entry is an error', () => {
    expect(fixedOutputParams('LOGISTIC', 'int8')).to.deep.equal({ scale: 1 / 256, zeroPoint: -128 });
    expect(fixedOutputParams('LOGISTIC', 'int16')).to.deep.equal({ scale: 1 / 32768, zeroPoint: 0 });
    expect(fixedOutputParams('TANH', 'int8')).to.deep.equal({ scale: 1 / 128, zeroPoint: 0 });
    expect(fixedOutputParams('SOFTMAX', 'int16')).to.deep.equal({ scale: 1 / 32768, zeroPoint: 0 });
    expect(() => fixedOutputParams('LOG_SOFTMAX', 'int16')).to.throw('LOG_SOFTMAX has no int16 kernel with fixed output parameters');
  });

  it("applyRangeRule: 'keep-observed-max' keeps the observed top and calibration's bottom", () => {
    // mse chose [-25.125, 0.125] where [-32.75, 2.375] was observed (YOLOv8n level 0 class logits).
    expect(applyRangeRule('keep-observed-max', { min: -25.125, max: 0.125 }, { min: -32.75, max: 2.375 }, 'score-logits')).to.deep.equal({ min: -25.125, max: 2.375, rule: 'score-logits: top kept at the observed max' });
    // A choice above the observed top (e.g. a user-widened range) is kept.
    expect(applyRangeRule('keep-observed-max', { min: -4, max: 3 }, { min: -5, max: 2 })).to.include({ min: -4, max: 3 });
    // Without a reason the rule names itself.
    expect(applyRangeRule('keep-observed-max', { min: 0, max: 1 }, { min: 0, max: 2 }).rule).to.equal('keep-observed-max: top kept at the observed max');
    expect(() => applyRangeRule('probabilities' as never, { min: 0, max: 1 }, { min: 0, max: 1 })).to.throw("unknown range rule 'probabilities'");
    expect(() => applyRangeRule('toString' as never, { min: 0, max: 1 }, { min: 0, max: 1 })).to.throw("unknown range rule 'toString'");
  });
});
