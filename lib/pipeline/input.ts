// Image -> model input for any image model input (float32 / uint8 / int8 NHWC), and type guards
// for what callers pass to a model (typed arrays and tf.Tensor objects).
import { decodeImage, type RgbImage } from './image.js';
import { letterbox, type LetterboxOptions, type LetterboxTransform } from './letterbox.js';
import { pixelsToInput, type TensorQuantization } from './quantize.js';
import { imageLayoutOf, toChannelsFirst } from './layout.js';

/** What the pipeline needs to know about a model input (TfliteRunner.inputs[i] satisfies it). */
export interface InputDescription extends TensorQuantization {
  name: string;
  dtype: string;
  shape: number[];
}

export type ModelInputArray = Float32Array | Int8Array | Uint8Array | Int16Array;

export interface PreparedInput {
  /** The tensor data in the input's own dtype and layout (NHWC, or NCHW for a channels-first input). */
  data: ModelInputArray;
  transform: LetterboxTransform;
  /** The letterboxed RGB image that was converted. */
  image: RgbImage;
}

/** The [height, width] of an RGB image input, NHWC [1,H,W,3] or channels first [1,3,H,W]; throws a clear error otherwise. */
export function imageInputSize(desc: InputDescription): [number, number] {
  const layout = imageLayoutOf(desc.shape);
  if (!layout || layout.channels !== 3) {
    throw new Error(`input '${desc.name}' has shape [${desc.shape.join(',')}]; an RGB image input [1,H,W,3] (or channels first, [1,3,H,W]) was expected`);
  }
  return [layout.height, layout.width];
}

/**
 * Decodes an image, letterboxes it to the input's H x W (pad 114, centred) and converts it to the
 * input's dtype: float32 pixel/255, or the input's own int8/uint8 quantization of pixel/255; a
 * channels-first input gets the three planes R, G, B.
 */
export async function imageToInput(
  source: string | Uint8Array | RgbImage,
  input: InputDescription,
  options: Omit<LetterboxOptions, 'size'> & { maxPixels?: number } = {},
): Promise<PreparedInput> {
  const size = imageInputSize(input);
  if (input.dtype !== 'float32' && input.dtype !== 'int8' && input.dtype !== 'uint8') {
    throw new TypeError(`input '${input.name}' has dtype ${input.dtype}; image inputs must be float32, uint8 or int8`);
  }
  const { maxPixels, ...letterboxOptions } = options;
  const img = isRgbImage(source) ? source : await decodeImage(source, undefined, maxPixels);
  // A fixed-size model cannot take stride-aligned minimal padding: always fill the whole frame.
  const { image, transform } = letterbox(img, { ...letterboxOptions, mode: 'fixed', size });
  const pixels = imageLayoutOf(input.shape)!.layout === 'nchw' ? toChannelsFirst(image.data, 3) : image.data;
  return { data: pixelsToInput(pixels, input), transform, image };
}

function isRgbImage(x: unknown): x is RgbImage {
  return typeof x === 'object' && x !== null && !(x instanceof Uint8Array) && 'data' in x && 'width' in x && 'height' in x;
}

/** The duck-typed part of a tf.Tensor this module relies on (no tfjs import needed). */
interface TensorLike {
  dtype: string;
  shape: number[];
  dataSync(): ArrayLike<number>;
}

function isTensorLike(x: unknown): x is TensorLike {
  return (
    typeof x === 'object' && x !== null && typeof (x as TensorLike).dtype === 'string' &&
    Array.isArray((x as TensorLike).shape) && typeof (x as TensorLike).dataSync === 'function'
  );
}

function typedArrayDType(a: unknown): string | undefined {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array) return 'uint8';
  if (a instanceof Float64Array) return 'float64';
  return undefined;
}

const ARRAY_NAME: Record<string, string> = { float32: 'Float32Array', int32: 'Int32Array', int8: 'Int8Array', uint8: 'Uint8Array' };

function describeExpected(d: InputDescription): string {
  const q = d.scale !== undefined ? `, scale ${d.scale}, zero point ${d.zeroPoint ?? 0}` : '';
  return `${d.dtype} [${d.shape.join(',')}]${q}`;
}

function conversionHint(expected: string, got: string): string {
  if ((expected === 'int8' || expected === 'uint8') && (got === 'float32' || got === 'float64')) {
    return ' This is a quantized input: convert [0,1] floats with quantizeInput(x, runner.inputs[i]), ' +
      'or pixels with pixelsToInput() / a whole image with imageToInput() from \'yolo-int8\'.';
  }
  if (expected === 'float32') {
    return ' This is a float input: pass pixel/255 values in a Float32Array (imageToInput() from \'yolo-int8\' does it), ' +
      'or dequantize integers with dequantize(q, scale, zeroPoint).';
  }
  if ((expected === 'int8' && got === 'uint8') || (expected === 'uint8' && got === 'int8')) {
    return ' int8 and uint8 differ by 128 in zero point: convert with pixelsToInput() / quantizeInput() from \'yolo-int8\' using this input\'s quantization.';
  }
  return '';
}

/**
 * Checks what a caller passes for one model input (a typed array or a tf.Tensor) and returns the
 * typed array to feed LiteRT. Wrong dtype or shape throws an error naming the input, the expected
 * dtype/shape/quantization, what was given, and the pipeline function that converts.
 */
export function toModelInput(data: unknown, input: InputDescription, label = 'model'): ModelInputArray | Int32Array {
  const where = `${label}: input '${input.name}'`;
  const expected = describeExpected(input);
  const count = input.shape.reduce((a, b) => a * b, 1);
  if (isTensorLike(data)) {
    const got = data.dtype;
    // tf.Tensor dtypes: float32, int32, bool, complex64, string. int8/uint8 models need int32 tensors holding the
    // integer values at best, but they are ambiguous, so only exact float32 -> float32 and int32 -> int32 pass.
    if (got !== input.dtype) {
      throw new TypeError(
        `${where} expects ${expected}, got a tf.Tensor of dtype ${got} with shape [${data.shape.join(',')}].` +
          conversionHint(input.dtype, got),
      );
    }
    if (!sameShape(data.shape, input.shape)) {
      throw new RangeError(`${where} expects ${expected}, got a tf.Tensor with shape [${data.shape.join(',')}]`);
    }
    const values = data.dataSync();
    return input.dtype === 'float32' ? Float32Array.from(values) : Int32Array.from(values);
  }
  const got = typedArrayDType(data);
  if (got === undefined) {
    const what = data === null || data === undefined ? String(data) : (data as object).constructor?.name ?? typeof data;
    throw new TypeError(`${where} expects ${expected} in a ${ARRAY_NAME[input.dtype] ?? input.dtype}, got ${what}.`);
  }
  if (got !== input.dtype) {
    throw new TypeError(
      `${where} expects ${expected} in a ${ARRAY_NAME[input.dtype] ?? input.dtype}, got a ${ARRAY_NAME[got] ?? got}(${(data as ArrayLike<number>).length}).` +
        conversionHint(input.dtype, got),
    );
  }
  const n = (data as ArrayLike<number>).length;
  if (n !== count) {
    throw new RangeError(`${where} expects ${expected} = ${count} elements, got ${n}`);
  }
  return data as ModelInputArray | Int32Array;
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
