// EXIF orientation of a JPEG and the pixel transform it asks for. Cameras store the sensor's rows and
// record how the picture is to be turned in EXIF tag 0x0112 (values 1-8, TIFF 6.0 / EXIF 2.3); OpenCV's
// imread (so ultralytics) and jimp both apply it, so an image decoded here is turned the same way.
import type { RgbImage } from './image.js';

const ORIENTATION_TAG = 0x0112;

/** The IFD0 orientation value of a TIFF block ("II" or "MM" byte order), or 1 when absent or damaged. */
function tiffOrientation(tiff: Uint8Array): number {
  if (tiff.length < 8) return 1;
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return 1;
  const v = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  if (v.getUint16(2, little) !== 42) return 1;
  const ifd = v.getUint32(4, little);
  if (ifd < 8 || ifd + 2 > tiff.length) return 1;
  const entries = v.getUint16(ifd, little);
  for (let i = 0, e = ifd + 2; i < entries && e + 12 <= tiff.length; i++, e += 12) {
    if (v.getUint16(e, little) !== ORIENTATION_TAG) continue;
    const value = v.getUint16(e + 8, little); // a SHORT, left-aligned in the 4-byte value field
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

/** The orientation (1-8) in a JPEG's first EXIF APP1 segment; 1 when there is none. */
export function jpegExifOrientation(b: Uint8Array): number {
  for (let p = 2; p + 4 <= b.length && b[p] === 0xff; ) {
    const marker = b[p + 1];
    if (marker === 0xda || marker === 0xd9) break; // start of scan: no metadata after it
    if (marker === 0xff || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      p += marker === 0xff ? 1 : 2;
      continue;
    }
    const len = (b[p + 2] << 8) | b[p + 3];
    const body = b.subarray(p + 4, Math.min(b.length, p + 2 + len));
    const isExif = marker === 0xe1 && body.length > 6 && String.fromCharCode(...body.subarray(0, 6)) === 'Exif\0\0';
    if (isExif) return tiffOrientation(body.subarray(6));
    p += 2 + len;
  }
  return 1;
}

/**
 * The image as it is to be shown for an EXIF orientation: 2 mirrors, 3 turns 180 degrees, 4 flips,
 * 5 transposes, 6 turns 90 degrees clockwise, 7 transverses, 8 turns 90 degrees counter-clockwise.
 */
export function applyOrientation(img: RgbImage, orientation: number): RgbImage {
  if (orientation <= 1 || orientation > 8) return img;
  const { width: w, height: h, data } = img;
  const swap = orientation >= 5;
  const outW = swap ? h : w;
  const outH = swap ? w : h;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      // The source pixel (sx, sy) shown at (x, y).
      let sx = x, sy = y;
      if (orientation === 2) sx = w - 1 - x;
      else if (orientation === 3) { sx = w - 1 - x; sy = h - 1 - y; }
      else if (orientation === 4) sy = h - 1 - y;
      else if (orientation === 5) { sx = y; sy = x; }
      else if (orientation === 6) { sx = y; sy = h - 1 - x; }
      else if (orientation === 7) { sx = w - 1 - y; sy = h - 1 - x; }
      else { sx = w - 1 - y; sy = x; }
      const s = (sy * w + sx) * 3, d = (y * outW + x) * 3;
      out[d] = data[s];
      out[d + 1] = data[s + 1];
      out[d + 2] = data[s + 2];
    }
  }
  return { width: outW, height: outH, data: out };
}
