// Which model inputs take images, and in which layout: NHWC [1,H,W,C] (TF, TFLite) or channels-first
// NCHW [1,C,H,W] (PyTorch exports such as NanoDet), with 3 (RGB) or 1 (gray) channels. Everything
// that turns an image into a model input (the representative dataset, imageToInput) asks here.

export interface ImageLayout {
  layout: 'nhwc' | 'nchw';
  height: number;
  width: number;
  channels: 1 | 3;
}

const isChannelCount = (d: number): d is 1 | 3 => d === 1 || d === 3;
const isSize = (d: number) => Number.isInteger(d) && d > 0;

/**
 * The image layout of an input shape, or undefined when images cannot feed it (another rank, a batch
 * other than 1, an unknown size, a channel count other than 1 or 3). NHWC wins when both readings fit
 * ([1,3,8,3]): it is the layout of every TF and TFLite model.
 */
export function imageLayoutOf(shape: readonly number[]): ImageLayout | undefined {
  if (shape.length !== 4 || shape[0] !== 1) return undefined;
  const [, a, b, c] = shape;
  if (isChannelCount(c) && isSize(a) && isSize(b)) return { layout: 'nhwc', height: a, width: b, channels: c };
  if (isChannelCount(a) && isSize(b) && isSize(c)) return { layout: 'nchw', height: b, width: c, channels: a };
  return undefined;
}

/** Interleaved H x W x C values as C planes of H x W (NHWC -> NCHW), in the same array type. */
export function toChannelsFirst<T extends Float32Array | Uint8Array>(hwc: T, channels: number): T {
  const out = new (hwc.constructor as new (n: number) => T)(hwc.length);
  const plane = hwc.length / channels;
  for (let p = 0; p < plane; p++) {
    for (let ch = 0; ch < channels; ch++) out[ch * plane + p] = hwc[p * channels + ch];
  }
  return out;
}
