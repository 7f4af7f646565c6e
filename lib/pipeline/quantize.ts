// Float <-> integer conversion of model inputs and outputs with a tensor's own quantization
// (TFLite affine quantization: real = scale * (q - zeroPoint)).
import { roundHalfAwayFromZero } from '../int8/arithmetic.js';

export type QuantizedDType = 'int8' | 'uint8' | 'int16';

/** How one tensor is quantized: what TfliteRunner.inputs[i] / outputs[i] carry (the dtype with the parameters). */
export interface TensorQuantization {
  dtype: string;
  scale?: number;
  zeroPoint?: number;
  /** Tensor name, for error messages. */
  name?: string;
  /**
   * Model inputs: the float range pixels 0..255 map to, as the file records it (quantizeInt8's
   * inputRange); absent means [0, 1], pixel / 255.
   */
  inputRange?: readonly [number, number];
  /**
   * Model inputs: the per-channel mean/std the file applies itself as its first op (recorded by
   * quantizeInt8's inputNormalization; the input then takes pixels, inputRange [0, 255]).
   */
  inputNormalization?: RecordedNormalization;
}

/** The metadata entry in which quantizeInt8 records a model input range other than [0, 1]. */
export const INPUT_RANGE_METADATA = 'yolo_int8_input_range';

/** The entry's bytes: JSON { "range": [lo, hi] }. */
export function encodeInputRange(range: readonly [number, number]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ range: [range[0], range[1]] }));
}

/** The recorded range, or undefined when the bytes do not hold a valid [lo, hi] with lo < hi. */
export function decodeInputRange(bytes: Uint8Array): [number, number] | undefined {
  try {
    const r = (JSON.parse(new TextDecoder().decode(bytes)) as { range?: unknown }).range;
    if (Array.isArray(r) && r.length === 2 && r.every(Number.isFinite) && r[0] < r[1]) return [r[0], r[1]];
  } catch {
    // not JSON: treated as no record
  }
  return undefined;
}

/**
 * The metadata entry in which quantizeInt8 records a per-channel mean/std (pixel units) it wrote as
 * the graph's first op: informative only, the file takes pixels 0..255 (its input range entry says so).
 */
export const INPUT_NORMALIZATION_METADATA = 'yolo_int8_input_normalization';

/** Mean and std in pixel units 0..255, one per channel or one for all: model input = (pixel - mean) / std. */
export interface RecordedNormalization {
  mean?: number[];
  std?: number[];
}

/** The entry's bytes: JSON { "mean": [...], "std": [...] } (either may be absent). */
export function encodeInputNormalization(n: RecordedNormalization): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ mean: n.mean, std: n.std }));
}

const isNumberList = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every(Number.isFinite);

/** The recorded normalisation, or undefined when the bytes do not hold number lists. */
export function decodeInputNormalization(bytes: Uint8Array): RecordedNormalization | undefined {
  try {
    const r = JSON.parse(new TextDecoder().decode(bytes)) as { mean?: unknown; std?: unknown };
    if ((r.mean !== undefined && !isNumberList(r.mean)) || (r.std !== undefined && !isNumberList(r.std))) return undefined;
    if (r.mean === undefined && r.std === undefined) return undefined;
    return { ...(r.mean ? { mean: r.mean as number[] } : {}), ...(r.std ? { std: r.std as number[] } : {}) };
  } catch {
    return undefined; // not JSON: treated as no record
  }
}

const isPixelRange = (r: readonly [number, number] | undefined) => r === undefined || (r[0] === 0 && r[1] === 1);

const RANGE: Record<QuantizedDType, [number, number]> = { int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767] };

function quantizedParams(p: TensorQuantization, fn: string): { dtype: QuantizedDType; scale: number; zeroPoint: number } {
  const where = p.name ? `tensor '${p.name}'` : 'tensor';
  if (p.dtype !== 'int8' && p.dtype !== 'uint8' && p.dtype !== 'int16') {
    throw new TypeError(`${fn}: ${where} has dtype ${p.dtype}; only int8, uint8 and int16 tensors are quantized`);
  }
  if (p.scale === undefined || !(p.scale > 0) || !Number.isFinite(p.scale)) {
    throw new TypeError(`${fn}: ${where} (${p.dtype}) has no valid quantization scale (got ${p.scale})`);
  }
  const zeroPoint = p.zeroPoint ?? 0;
  const [lo, hi] = RANGE[p.dtype];
  if (!Number.isInteger(zeroPoint) || zeroPoint < lo || zeroPoint > hi) {
    throw new TypeError(`${fn}: ${where} has zero point ${zeroPoint}, outside the ${p.dtype} range [${lo}, ${hi}]`);
  }
  return { dtype: p.dtype, scale: p.scale, zeroPoint };
}

/**
 * Quantizes float values (e.g. pixels/255) for an int8 or uint8 tensor:
 * q = clamp(round(x / scale) + zeroPoint) — saturating, never wrapping (unlike Int8Array.from).
 */
export function quantizeInput(x: ArrayLike<number>, params: TensorQuantization): Int8Array | Uint8Array | Int16Array {
  const { dtype, scale, zeroPoint } = quantizedParams(params, 'quantizeInput');
  const [lo, hi] = RANGE[dtype];
  const out = dtype === 'int8' ? new Int8Array(x.length) : dtype === 'int16' ? new Int16Array(x.length) : new Uint8Array(x.length);
  const inv = 1 / scale;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    // NaN maps to the zero point rather than silently to 0.
    const q = Number.isNaN(v) ? zeroPoint : roundHalfAwayFromZero(v * inv) + zeroPoint;
    out[i] = q < lo ? lo : q > hi ? hi : q;
  }
  return out;
}

/**
 * Float input values (in the model's float input range) in an input tensor's own dtype: a float32
 * input takes them as they are, an int8 / uint8 / int16 input gets them quantized with its parameters.
 */
export function floatToInput(x: Float32Array, params: TensorQuantization): Float32Array | Int8Array | Uint8Array | Int16Array {
  return params.dtype === 'float32' ? x : quantizeInput(x, params);
}

/** f = scale * (q - zeroPoint). Float32 inputs are returned as they are. */
export function dequantize(q: ArrayLike<number>, scale: number, zeroPoint: number): Float32Array {
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = scale * (q[i] - zeroPoint);
  return out;
}

/** Dequantizes a model output with its tensor description (a float32 output is passed through). */
export function dequantizeOutput(data: ArrayLike<number>, params: TensorQuantization): Float32Array {
  if (params.dtype === 'float32') return data instanceof Float32Array ? data : Float32Array.from(data);
  const { scale, zeroPoint } = quantizedParams(params, 'dequantizeOutput');
  return dequantize(data, scale, zeroPoint);
}

/** True when scale is 1/255 to float32 precision (the scale of a [0,1] image input). */
function isPixelScale(scale: number): boolean {
  return Math.abs(scale * 255 - 1) < 1e-6;
}

/**
 * Converts 8-bit pixels into an input tensor whose float meaning is pixel/255 (or the input's
 * recorded range: lo + (hi - lo) x pixel / 255).
 * Fast exact paths: int8 with scale 1/255 and zero point -128 is p - 128; uint8 with scale 1/255
 * and zero point 0 is p itself. Anything else goes through quantizeInput (float32: pixel/255).
 */
export function pixelsToInput(pixels: Uint8Array, params: TensorQuantization): Float32Array | Int8Array | Uint8Array | Int16Array {
  if (!isPixelRange(params.inputRange)) {
    // (hi - lo) x p first, as calibration computes it: exact for integer ranges such as [0, 255].
    const [lo, hi] = params.inputRange!;
    return floatToInput(Float32Array.from(pixels, (p) => ((hi - lo) * p) / 255 + lo), params);
  }
  if (params.dtype === 'float32') {
    const out = new Float32Array(pixels.length);
    for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] / 255;
    return out;
  }
  const { dtype, scale, zeroPoint } = quantizedParams(params, 'pixelsToInput');
  if (isPixelScale(scale)) {
    if (dtype === 'int8' && zeroPoint === -128) {
      const out = new Int8Array(pixels.length);
      for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] - 128;
      return out;
    }
    if (dtype === 'uint8' && zeroPoint === 0) return pixels.slice();
  }
  const x = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) x[i] = pixels[i] / 255;
  return quantizeInput(x, params);
}
