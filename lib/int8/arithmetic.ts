// Pure int8 quantization arithmetic, following the TensorFlow Lite 8-bit quantization spec
// (tensorflow/lite/g3doc/performance/quantization_spec.md):
//   real_value = (int8_value - zero_point) * scale
//   - activations / inputs: per-tensor, asymmetric, int8 in [-128, 127], zero point in [-128, 127];
//   - weights: per-axis (per output channel) or per-tensor, symmetric, int8 in [-127, 127], zero point 0;
//   - bias: int32, zero point 0, scale = input scale * weight scale (per channel);
//   - a few ops have fixed output parameters (LOGISTIC, TANH, SOFTMAX, LOG_SOFTMAX).
// Everything here is deterministic and side-effect free; the quantizer and its tests rely on that.

export const INT8_MIN = -128;
export const INT8_MAX = 127;
/** Symmetric weight range: -128 is excluded so that w and -w are both representable. */
export const WEIGHT_QMIN = -127;
export const WEIGHT_QMAX = 127;
export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

export interface QuantParams {
  scale: number;
  zeroPoint: number;
}

/** Fixed int8 output parameters the TFLite kernels require (quantization spec, "restriction" lines). */
export const LOGISTIC_INT8_OUTPUT: Readonly<QuantParams> = Object.freeze({ scale: 1 / 256, zeroPoint: -128 });
export const TANH_INT8_OUTPUT: Readonly<QuantParams> = Object.freeze({ scale: 1 / 128, zeroPoint: 0 });
export const SOFTMAX_INT8_OUTPUT: Readonly<QuantParams> = Object.freeze({ scale: 1 / 256, zeroPoint: -128 });
export const LOG_SOFTMAX_INT8_OUTPUT: Readonly<QuantParams> = Object.freeze({ scale: 16 / 256, zeroPoint: 127 });
/** The int16 (16x8) kernels' fixed outputs: symmetric, zero point 0, scale 1/32768 for LOGISTIC, TANH and SOFTMAX. */
export const LOGISTIC_INT16_OUTPUT: Readonly<QuantParams> = Object.freeze({ scale: 1 / 32768, zeroPoint: 0 });
export const TANH_INT16_OUTPUT: Readonly<QuantParams> = Object.freeze({ scale: 1 / 32768, zeroPoint: 0 });
export const SOFTMAX_INT16_OUTPUT: Readonly<QuantParams> = Object.freeze({ scale: 1 / 32768, zeroPoint: 0 });

export type QuantDType = 'int8' | 'int16';

/** Integer limits of activation tensors per dtype (int16 activations are symmetric: zero point 0). */
export const ACTIVATION_LIMITS: Readonly<Record<QuantDType, { qmin: number; qmax: number }>> = Object.freeze({
  int8: { qmin: INT8_MIN, qmax: INT8_MAX },
  int16: { qmin: -32768, qmax: 32767 },
});

export type FixedOutputOp = 'LOGISTIC' | 'TANH' | 'SOFTMAX' | 'LOG_SOFTMAX';

/** The one table of fixed output parameters: op -> dtype -> parameters the kernel requires. */
export const FIXED_OUTPUT_PARAMS: Readonly<Record<FixedOutputOp, Partial<Record<QuantDType, Readonly<QuantParams>>>>> = Object.freeze({
  LOGISTIC: { int8: LOGISTIC_INT8_OUTPUT, int16: LOGISTIC_INT16_OUTPUT },
  TANH: { int8: TANH_INT8_OUTPUT, int16: TANH_INT16_OUTPUT },
  SOFTMAX: { int8: SOFTMAX_INT8_OUTPUT, int16: SOFTMAX_INT16_OUTPUT },
  LOG_SOFTMAX: { int8: LOG_SOFTMAX_INT8_OUTPUT },
});

export function fixedOutputParams(op: FixedOutputOp, dtype: QuantDType): QuantParams {
  const p = FIXED_OUTPUT_PARAMS[op][dtype];
  if (!p) throw new Error(`${op} has no ${dtype} kernel with fixed output parameters`);
  return { ...p };
}

/**
 * Smallest activation scale we emit. A zero or denormal scale is rejected by kernels (XNNPACK checks
 * that scales are positive normal floats) and makes requantization multipliers meaningless, so a
 * degenerate range (all zeros, or a spread below this) gets this scale instead.
 */
export const MIN_ACTIVATION_SCALE = 1e-8;

/**
 * Round half away from zero, like C's std::round / TfLiteRound (JS Math.round rounds half up:
 * Math.round(-2.5) = -2, std::round(-2.5) = -3). Uses trunc so that values just below .5 are not
 * pushed over by the `+ 0.5` rounding error.
 */
export function roundHalfAwayFromZero(x: number): number {
  const t = Math.trunc(x);
  const frac = x - t; // exact in binary floating point
  if (frac >= 0.5) return t + 1;
  if (frac <= -0.5) return t - 1;
  return t === 0 ? 0 : t; // normalise -0 to 0
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

function assertFiniteNumber(what: string, x: number): void {
  if (!Number.isFinite(x)) throw new Error(`${what} must be a finite number, got ${x}`);
}

/**
 * Asymmetric activation parameters for an observed range [min, max], as the TFLite calibrator
 * computes them (tools/optimize GetAsymmetricQuantizationParams): the range is first extended to
 * contain 0 (zero padding and ReLU outputs must be exact), scale = (max - min) / (qmax - qmin), and
 * the zero point is the integer nearest to qmin - min / scale, clamped into [qmin, qmax]. Because the
 * zero point is an integer, 0.0 is exactly representable; the range actually covered is
 * `nudgedRange(params)`, which is [min, max] shifted by less than half a step.
 * The scale is rounded to float32 because that is what the TFLite file stores.
 * Degenerate ranges (min == max == 0, or a spread below MIN_ACTIVATION_SCALE per step) get
 * scale MIN_ACTIVATION_SCALE so that the tensor is still valid and 0 stays exact.
 */
export function chooseActivationParams(
  min: number,
  max: number,
  opts: { qmin?: number; qmax?: number } = {},
): QuantParams {
  const qmin = opts.qmin ?? INT8_MIN;
  const qmax = opts.qmax ?? INT8_MAX;
  assertFiniteNumber('chooseActivationParams: min', min);
  assertFiniteNumber('chooseActivationParams: max', max);
  if (!Number.isInteger(qmin) || !Number.isInteger(qmax) || qmax <= qmin) {
    throw new Error(`chooseActivationParams: need integers qmin < qmax, got qmin=${qmin} qmax=${qmax}`);
  }
  if (min > max) throw new Error(`chooseActivationParams: min (${min}) > max (${max})`);
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  // A dead tensor (every value 0: a ReLU that never fires) keeps 0 exact at any scale; it takes the
  // [0, 1] parameters, so requantization ratios into and out of it stay where XNNPACK accepts them
  // (the 1e-8 floor gave ratios of 1e4 and more, and LiteRT refused CenterNet and the age model).
  if (hi - lo === 0) return chooseActivationParams(0, 1, opts);
  let scale = Math.fround((hi - lo) / (qmax - qmin));
  if (!(scale >= MIN_ACTIVATION_SCALE)) {
    // Degenerate: keep 0 exact at the position the (tiny) range suggests.
    scale = Math.fround(MIN_ACTIVATION_SCALE);
  }
  const zeroPointFromMin = qmin - lo / scale;
  const zeroPoint = clamp(roundHalfAwayFromZero(zeroPointFromMin), qmin, qmax);
  return { scale, zeroPoint };
}

/**
 * int16 activation parameters (TFLite's 16x8 scheme): symmetric, zero point 0, scale =
 * max(|min|, |max|) / 32767 in float32; a degenerate range gets MIN_ACTIVATION_SCALE.
 */
export function chooseInt16ActivationParams(min: number, max: number): QuantParams {
  assertFiniteNumber('chooseInt16ActivationParams: min', min);
  assertFiniteNumber('chooseInt16ActivationParams: max', max);
  if (min > max) throw new Error(`chooseInt16ActivationParams: min (${min}) > max (${max})`);
  // A dead tensor: the [-1, 1] scale (see chooseActivationParams).
  if (min === 0 && max === 0) return chooseInt16ActivationParams(-1, 1);
  let scale = Math.fround(Math.max(Math.abs(min), Math.abs(max)) / ACTIVATION_LIMITS.int16.qmax);
  if (!(scale >= MIN_ACTIVATION_SCALE)) scale = Math.fround(MIN_ACTIVATION_SCALE);
  return { scale, zeroPoint: 0 };
}

/** Activation parameters of a calibrated range for a dtype: asymmetric int8, symmetric int16. */
export function chooseParamsFor(dtype: QuantDType, min: number, max: number): QuantParams {
  return dtype === 'int16' ? chooseInt16ActivationParams(min, max) : chooseActivationParams(min, max);
}

/** Quantizes a float array into a new integer array of the dtype (saturating, one rounding rule). */
export function quantizeArray(x: ArrayLike<number>, p: QuantParams, dtype: QuantDType): Int8Array | Int16Array {
  const { qmin, qmax } = ACTIVATION_LIMITS[dtype];
  const out = dtype === 'int16' ? new Int16Array(x.length) : new Int8Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = quantizeValue(x[i], p.scale, p.zeroPoint, qmin, qmax);
  return out;
}

/** The real range an (asymmetric) parameter set can represent: [(qmin - zp) * s, (qmax - zp) * s]. */
export function nudgedRange(
  params: QuantParams,
  opts: { qmin?: number; qmax?: number } = {},
): { min: number; max: number } {
  const qmin = opts.qmin ?? INT8_MIN;
  const qmax = opts.qmax ?? INT8_MAX;
  return { min: (qmin - params.zeroPoint) * params.scale, max: (qmax - params.zeroPoint) * params.scale };
}

/**
 * q = clamp(round(x / scale) + zp, qmin, qmax). Saturates (never wraps); rounding is half away from
 * zero as in TFLite's reference Quantize. NaN has no integer image and is rejected.
 */
export function quantizeValue(
  x: number,
  scale: number,
  zeroPoint: number,
  qmin: number = INT8_MIN,
  qmax: number = INT8_MAX,
): number {
  if (Number.isNaN(x)) throw new Error('quantizeValue: cannot quantize NaN');
  if (!(scale > 0)) throw new Error(`quantizeValue: scale must be > 0, got ${scale}`);
  const r = x / scale;
  // ±Infinity and huge values saturate; rounding first keeps the in-range path exact.
  if (r >= qmax - zeroPoint + 1) return qmax;
  if (r <= qmin - zeroPoint - 1) return qmin;
  return clamp(roundHalfAwayFromZero(r) + zeroPoint, qmin, qmax);
}

/**
 * Per-tensor symmetric weight scale: max|w| / 127 (float32). An all-zero tensor gets scale 1
 * (any positive scale represents it exactly; 0 would be an invalid TFLite scale).
 */
export function perTensorSymmetricScale(weights: Float32Array): number {
  let maxAbs = 0;
  for (let i = 0; i < weights.length; i++) {
    const a = Math.abs(weights[i]);
    if (!(a <= 3.4028234663852886e38)) throw new Error(`perTensorSymmetricScale: weight ${i} is not finite (${weights[i]})`);
    if (a > maxAbs) maxAbs = a;
  }
  return maxAbs > 0 ? Math.fround(maxAbs / WEIGHT_QMAX) : 1;
}

function checkShapeAxis(fn: string, length: number, shape: readonly number[], axis: number): { outer: number; channels: number; inner: number } {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`${fn}: bad shape [${shape.join(',')}]`);
    n *= d;
  }
  if (n !== length) throw new Error(`${fn}: shape [${shape.join(',')}] has ${n} elements but the data has ${length}`);
  if (!Number.isInteger(axis) || axis < 0 || axis >= shape.length) {
    throw new Error(`${fn}: axis ${axis} out of range for shape [${shape.join(',')}]`);
  }
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  let inner = 1;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return { outer, channels: shape[axis], inner };
}

/**
 * Per-channel symmetric scales along `axis` (e.g. 3 = output channel of a TF HWIO Conv2D filter,
 * 0 = output channel of a TFLite OHWI filter): max|w[..., c, ...]| / 127, as float32. All-zero
 * channels get scale 1 (see perTensorSymmetricScale).
 */
export function perChannelSymmetricScales(weights: Float32Array, shape: readonly number[], axis: number): Float32Array {
  const { outer, channels, inner } = checkShapeAxis('perChannelSymmetricScales', weights.length, shape, axis);
  const maxAbs = new Float64Array(channels);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      let m = maxAbs[c];
      for (let i = 0; i < inner; i++) {
        const a = Math.abs(weights[base + i]);
        if (!(a <= 3.4028234663852886e38)) {
          throw new Error(`perChannelSymmetricScales: weight ${base + i} (channel ${c}) is not finite (${weights[base + i]})`);
        }
        if (a > m) m = a;
      }
      maxAbs[c] = m;
    }
  }
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) scales[c] = maxAbs[c] > 0 ? maxAbs[c] / WEIGHT_QMAX : 1;
  return scales;
}

/** How far w / step may be from an integer and still count as on the step's grid (float32 products of integers stay far inside). */
const GRID_TOLERANCE = 1e-3;
/** Steps tried below the smallest non-zero |w|: the smallest integer on the grid may be 2, 3 or 4. */
const GRID_DIVISORS = [1, 2, 3, 4];

/**
 * The step of the integer grid the channel's values lie on (every value an integer multiple of it,
 * at most 127 steps from zero), or undefined when they lie on none: weights dequantized from an int8
 * source (a per-tensor int8 file imported as float) lie on the source's grid.
 */
export function channelGridStep(values: ArrayLike<number>): number | undefined {
  let smallest = Infinity;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]);
    if (a > 0 && a < smallest) smallest = a;
  }
  if (!Number.isFinite(smallest)) return undefined;
  return GRID_DIVISORS.map((d) => smallest / d).find((step) => {
    for (let i = 0; i < values.length; i++) {
      const k = values[i] / step;
      if (Math.abs(k) > WEIGHT_QMAX + GRID_TOLERANCE || Math.abs(k - Math.round(k)) > GRID_TOLERANCE) return false;
    }
    return true;
  });
}

/**
 * Per-channel weight scales that keep weights lying on an int8 grid exact: where the symmetric scale
 * (max|w| / 127) would round a channel's values but they lie on a grid of step g with at most m steps
 * from zero (channelGridStep), the channel takes g / floor(127 / m), so every value is an integer
 * number of steps and the weights are written without error (the largest exact scale that uses at
 * least half the int8 range). Why: re-quantizing a per-tensor int8 source per channel would otherwise
 * round its values a second time onto a finer grid that does not contain them. Channels that the
 * symmetric scale already writes exactly keep it (the same bytes as before for per-channel sources).
 */
export function gridExactScales(weights: Float32Array, shape: readonly number[], axis: number, symmetric: Float32Array): Float32Array {
  const { outer, channels, inner } = checkShapeAxis('gridExactScales', weights.length, shape, axis);
  const out = Float32Array.from(symmetric);
  for (let c = 0; c < channels; c++) {
    const values = new Float32Array(outer * inner);
    for (let o = 0; o < outer; o++) values.set(weights.subarray((o * channels + c) * inner, (o * channels + c + 1) * inner), o * inner);
    if (writesExactly(values, symmetric[c])) continue;
    const step = channelGridStep(values);
    if (step === undefined) continue;
    let steps = 0;
    for (const v of values) steps = Math.max(steps, Math.round(Math.abs(v) / step));
    const scale = Math.fround(step / Math.floor(WEIGHT_QMAX / steps));
    if (writesExactly(values, scale)) out[c] = scale;
  }
  return out;
}

/** The per-channel weight scales a plan writes: symmetric, kept exact for weights already on an int8 grid. */
export function perChannelWeightScales(weights: Float32Array, shape: readonly number[], axis: number): Float32Array {
  return gridExactScales(weights, shape, axis, perChannelSymmetricScales(weights, shape, axis));
}

/** Whether int8 quantization with `scale` gives back every value (within float32 precision). */
function writesExactly(values: Float32Array, scale: number): boolean {
  for (const v of values) {
    const q = quantizeValue(v, scale, 0, WEIGHT_QMIN, WEIGHT_QMAX);
    if (Math.abs(q * scale - v) > GRID_TOLERANCE * scale) return false;
  }
  return true;
}

/**
 * int8 weights, q = clamp(round(w / scale[c]), -127, 127) with round half away from zero.
 * Pass a one-element `scales` (and any axis) for per-tensor quantization.
 */
export function quantizeWeightsPerChannel(
  weights: Float32Array,
  shape: readonly number[],
  axis: number,
  scales: ArrayLike<number>,
): Int8Array {
  const { outer, channels, inner } = checkShapeAxis('quantizeWeightsPerChannel', weights.length, shape, axis);
  if (scales.length !== channels && scales.length !== 1) {
    throw new Error(`quantizeWeightsPerChannel: ${scales.length} scales for ${channels} channels on axis ${axis}`);
  }
  for (let c = 0; c < scales.length; c++) {
    if (!(scales[c] > 0) || !Number.isFinite(scales[c])) throw new Error(`quantizeWeightsPerChannel: scale ${c} must be a positive finite number, got ${scales[c]}`);
  }
  const out = new Int8Array(weights.length);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const s = scales.length === 1 ? scales[0] : scales[c];
      const base = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) out[base + i] = quantizeValue(weights[base + i], s, 0, WEIGHT_QMIN, WEIGHT_QMAX);
    }
  }
  return out;
}

/**
 * Bias values: q[c] = round(b[c] / (inputScale * weightScale[c])) with zero point 0, saturated to the
 * integer type. The bias scale is computed in float32 like TFLite (float input_scale * float weight_scale).
 */
function quantizeBiasInto<T extends Int32Array | BigInt64Array>(
  fn: string,
  out: T,
  bias: Float32Array,
  inputScale: number,
  weightScales: ArrayLike<number>,
  limit: [number, number],
  store: (out: T, c: number, q: number) => void,
): T {
  if (weightScales.length !== bias.length && weightScales.length !== 1) {
    throw new Error(`${fn}: ${weightScales.length} weight scales for ${bias.length} bias values`);
  }
  if (!(inputScale > 0)) throw new Error(`${fn}: input scale must be > 0, got ${inputScale}`);
  for (let c = 0; c < bias.length; c++) {
    const ws = weightScales.length === 1 ? weightScales[0] : weightScales[c];
    const s = Math.fround(Math.fround(inputScale) * Math.fround(ws));
    if (!(s > 0)) throw new Error(`${fn}: bias scale for channel ${c} is ${s} (input scale ${inputScale} * weight scale ${ws})`);
    store(out, c, quantizeValue(bias[c], s, 0, limit[0], limit[1]));
  }
  return out;
}

/**
 * int32 bias of int8 kernels. Saturation only happens for pathological tiny weight scales;
 * `minWeightScalesForBias` avoids it.
 */
export function quantizeBias(bias: Float32Array, inputScale: number, weightScales: ArrayLike<number>): Int32Array {
  return quantizeBiasInto('quantizeBias', new Int32Array(bias.length), bias, inputScale, weightScales, [INT32_MIN, INT32_MAX], (o, c, q) => {
    o[c] = q;
  });
}

/** int64 bias of the 16x8 kernels (int16 activations); values stay inside 2^53, exact in doubles. */
export function quantizeBias64(bias: Float32Array, inputScale: number, weightScales: ArrayLike<number>): BigInt64Array {
  return quantizeBiasInto('quantizeBias64', new BigInt64Array(bias.length), bias, inputScale, weightScales, [-(2 ** 53), 2 ** 53], (o, c, q) => {
    o[c] = BigInt(q);
  });
}

/**
 * Weight scales raised where needed so that bias / (inputScale * weightScale) fits in int32 (what
 * the TFLite converter does when a channel's weights are tiny but its bias is not). Returns a copy.
 */
export function minWeightScalesForBias(bias: Float32Array, inputScale: number, weightScales: Float32Array): Float32Array {
  const out = Float32Array.from(weightScales);
  for (let c = 0; c < bias.length; c++) {
    // Keep a margin below INT32_MAX so float32 rounding of the scale product cannot overflow.
    const needed = Math.abs(bias[c]) / (inputScale * (INT32_MAX / 2));
    if (out[c] < needed) out[c] = Math.fround(needed * (1 + 1e-6));
  }
  return out;
}

/**
 * Widens [min, max] outward to a coarse grid: multiples of 2^(floor(log2(span)) - gridBits), i.e.
 * between 1/2^gridBits and 1/2^(gridBits+1) of the span. Float results differ in the last bits between
 * TF.js backends (XNNPACK wasm vs plain JS) and thread schedules; snapping the calibrated range makes
 * the chosen int8 parameters - and so the written file - identical unless a bound happens to sit
 * within that tiny difference of a grid line. The range grows by less than 2/2^gridBits of its span.
 */
export function snapRangeOutward(min: number, max: number, gridBits = 8): { min: number; max: number } {
  assertFiniteNumber('snapRangeOutward: min', min);
  assertFiniteNumber('snapRangeOutward: max', max);
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  const span = hi - lo;
  if (!(span > 0)) return { min: lo, max: hi };
  const grid = 2 ** (Math.floor(Math.log2(span)) - gridBits);
  return { min: Math.floor(lo / grid) * grid, max: Math.ceil(hi / grid) * grid };
}

