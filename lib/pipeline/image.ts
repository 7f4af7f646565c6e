// Image decoding: JPEG / PNG (and whatever else jimp reads) into packed 8-bit RGB.
import { Jimp } from 'jimp';
import { MAX_IMAGE_PIXELS, checkImageHeader } from './image-header.js';
import { READ_LIMITS, readRegularFile } from '../util/read-file.js';

/** A packed, row-major 8-bit RGB image (3 bytes per pixel, no row padding). */
export interface RgbImage {
  width: number;
  height: number;
  /** length = width * height * 3 */
  data: Uint8Array;
}

/**
 * Decodes an image file or its bytes into RGB.
 * jimp expands grayscale, palette and 16-bit PNGs to 8-bit RGBA; the alpha channel is dropped
 * (not composited), which is what OpenCV's imread(IMREAD_COLOR) does for the YOLOv5 tools.
 */
export async function decodeImage(source: string | Uint8Array, label?: string, maxPixels: number = MAX_IMAGE_PIXELS): Promise<RgbImage> {
  const name = label ?? (typeof source === 'string' ? source : 'image bytes');
  let bytes: Buffer;
  if (typeof source === 'string') {
    const read = readRegularFile(source, 'image file', READ_LIMITS.image);
    bytes = Buffer.from(read.buffer, read.byteOffset, read.byteLength);
  } else {
    bytes = Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  }
  checkImageHeader(bytes, name, maxPixels);
  let img;
  try {
    img = await Jimp.read(bytes);
  } catch (e) {
    throw new Error(`${name}: cannot decode the image (expected a JPEG or PNG): ${(e as Error).message}`);
  }
  const { width, height, data: rgba } = img.bitmap;
  return { width, height, data: rgbaToRgb(rgba, width * height) };
}

/** Drops the alpha byte of each pixel. */
export function rgbaToRgb(rgba: Uint8Array | Buffer, pixels: number): Uint8Array {
  if (rgba.length < pixels * 4) throw new Error(`rgbaToRgb: expected ${pixels * 4} bytes of RGBA, got ${rgba.length}`);
  const out = new Uint8Array(pixels * 3);
  for (let i = 0, j = 0; i < pixels; i++, j += 4) {
    out[i * 3] = rgba[j];
    out[i * 3 + 1] = rgba[j + 1];
    out[i * 3 + 2] = rgba[j + 2];
  }
  return out;
}

/** Pixels / 255 as float32 NHWC data (the [0,1] input of the float YOLOv5 exports). */
export function rgbToFloat(img: RgbImage): Float32Array {
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = img.data[i] / 255;
  return out;
}
