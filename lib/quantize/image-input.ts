// One image file as a model input: decoded, letterboxed to the input's size (ultralytics' fixed
// letterbox, pad 114) and mapped to the input's float range. Shared by the in-thread reader and the
// decode worker (decode-worker.ts), so both give the same values.
import { decodeImage } from '../pipeline/image.js';
import { toChannelsFirst, type ImageLayout } from '../pipeline/layout.js';
import { letterbox } from '../pipeline/letterbox.js';

/** A pixel 0..255 as the model input's float value: [0, 1] by default, the input range when given. */
export function pixelValue(p: number, range: readonly [number, number] = [0, 1]): number {
  // (hi - lo) x p first: exact for integer ranges, so [0, 255] gives the pixel itself and [0, 1] gives p / 255.
  return ((range[1] - range[0]) * p) / 255 + range[0];
}

/**
 * One gray channel from packed RGB, as OpenCV's cvtColor(RGB2GRAY) weighs it (ITU-R BT.601 luma:
 * 0.299 R + 0.587 G + 0.114 B, rounded to a pixel), for models with a 1-channel image input.
 */
export function grayInput(rgb: Uint8Array, range?: readonly [number, number]): Float32Array {
  const out = new Float32Array(rgb.length / 3);
  for (let i = 0; i < out.length; i++) {
    out[i] = pixelValue(Math.round(0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2]), range);
  }
  return out;
}

/** What an image file becomes: the input's layout, size and channels (3, or 1 as gray), its float range. */
export interface ImageInputSpec extends ImageLayout {
  inputRange?: readonly [number, number];
  /** The largest image (width x height) decoded; larger headers are refused before decoding. */
  maxPixels?: number;
}

/** The file decoded, letterboxed and mapped to the model input (throws the decoder's one-line error). */
export async function imageFileInput(file: string, spec: ImageInputSpec): Promise<Float32Array> {
  const img = await decodeImage(file, undefined, spec.maxPixels);
  const { image } = letterbox(img, { size: [spec.height, spec.width], mode: 'fixed' });
  let hwc: Float32Array;
  if (spec.channels === 1) hwc = grayInput(image.data, spec.inputRange);
  else {
    hwc = new Float32Array(image.data.length);
    for (let i = 0; i < hwc.length; i++) hwc[i] = pixelValue(image.data[i], spec.inputRange);
  }
  return spec.layout === 'nchw' ? toChannelsFirst(hwc, spec.channels) : hwc;
}
