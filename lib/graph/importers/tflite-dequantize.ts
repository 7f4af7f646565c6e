// Dequantization of integer TFLite tensors for the importer: a dynamic-range or full-integer model
// becomes the float graph it approximates. Real values follow the TFLite affine scheme
// real = scale * (q - zero_point), with one (scale, zero point) per tensor or one per slice along
// the tensor's quantized_dimension.
import { TensorType, dtypeName, type TfliteTensor } from '../../tflite/model.js';

/** Integer tensor types whose values are affine-quantized reals when they carry scales. */
export const QUANTIZED_INTEGER_TYPES: ReadonlySet<number> = new Set([TensorType.INT8, TensorType.UINT8, TensorType.INT16]);

/** Value range of each quantized type (TFLite requires the zero point inside it). */
const TYPE_RANGE: Partial<Record<number, [number, number]>> = {
  [TensorType.INT8]: [-128, 127],
  [TensorType.UINT8]: [0, 255],
  [TensorType.INT16]: [-32768, 32767],
};

export interface AffineParams {
  scale: number[];
  zeroPoint: number[];
  /** The channel axis for per-channel parameters; null when one pair covers the whole tensor. */
  axis: number | null;
}

/**
 * The tensor's quantization parameters, checked against its shape and type. `where` names the
 * file and tensor in errors (e.g. "model.tflite: constant tensor 'w'").
 */
export function affineParamsOf(t: TfliteTensor, where: string): AffineParams {
  const q = t.quantization;
  const kind = `${dtypeName(t.type)} [${t.shape}]`;
  if (!q || q.scale.length === 0) throw new Error(`${where} (${kind}) has no quantization scales, so its real values are unknown`);
  const { scale, zeroPoint } = q;
  if (zeroPoint.length !== scale.length) {
    throw new Error(`${where} (${kind}) has ${scale.length} quantization scales but ${zeroPoint.length} zero points; they must match`);
  }
  scale.forEach((s, k) => {
    if (!Number.isFinite(s) || s <= 0) throw new Error(`${where} (${kind}) has quantization scale ${s} at index ${k}; scales must be finite and > 0`);
  });
  const range = TYPE_RANGE[t.type];
  zeroPoint.forEach((z, k) => {
    if (!Number.isInteger(z) || (range && (z < range[0] || z > range[1]))) {
      throw new Error(`${where} (${kind}) has zero point ${z} at index ${k}; expected an integer${range ? ` in [${range[0]}, ${range[1]}]` : ''}`);
    }
  });
  if (scale.length === 1) return { scale: [...scale], zeroPoint: [...zeroPoint], axis: null };
  const axis = q.quantizedDimension;
  if (!Number.isInteger(axis) || axis < 0 || axis >= t.shape.length) {
    throw new Error(`${where} (${kind}) is quantized per channel along axis ${axis}, which is out of range for rank ${t.shape.length}`);
  }
  if (t.shape[axis] !== scale.length) {
    throw new Error(`${where} (${kind}) has ${scale.length} per-channel scales along axis ${axis}, which has length ${t.shape[axis]}`);
  }
  return { scale: [...scale], zeroPoint: [...zeroPoint], axis };
}

/**
 * real = scale * (q - zero point), per tensor or per slice along `params.axis` of `shape`
 * (row-major). Computed in float32 like TFLite's DEQUANTIZE kernel.
 */
export function dequantizeAffine(values: ArrayLike<number>, shape: readonly number[], params: AffineParams): Float32Array {
  const out = new Float32Array(values.length);
  if (params.axis === null) {
    const s = Math.fround(params.scale[0]);
    const z = params.zeroPoint[0];
    for (let i = 0; i < values.length; i++) out[i] = s * (values[i] - z);
    return out;
  }
  // Elements of one channel repeat every `inner` values, and the channels cycle every `inner * channels`.
  let inner = 1;
  for (let d = params.axis + 1; d < shape.length; d++) inner *= shape[d];
  const channels = shape[params.axis];
  const scale = params.scale.map(Math.fround);
  for (let i = 0; i < values.length; i++) {
    const c = Math.floor(i / inner) % channels;
    out[i] = scale[c] * (values[i] - params.zeroPoint[c]);
  }
  return out;
}

/** The real interval an integer tensor with per-tensor parameters can represent. */
export function representableRange(type: number, params: AffineParams): [number, number] | undefined {
  const range = TYPE_RANGE[type];
  if (!range || params.axis !== null) return undefined;
  const [s, z] = [params.scale[0], params.zeroPoint[0]];
  return [s * (range[0] - z), s * (range[1] - z)];
}
