// What an encoded image claims before it is decoded: its format and pixel size, and whether its data
// is complete. A 69-byte PNG can claim 30000x30000 pixels, and decoders allocate what the header says
// (gigabytes) and then fill the missing data with zeros without a word: the header is checked first.
//   PNG: IHDR width/height at bytes 16..24; the stream must end with an IEND chunk.
//   JPEG: the first SOFn segment's height/width; the stream must contain an EOI marker (FFD9).
//   BMP: BITMAPINFOHEADER width/height at bytes 18..26 (height negative for top-down rows).
//   GIF: logical screen width/height at bytes 6..10.

export interface ImageHeader {
  format: 'png' | 'jpeg' | 'bmp' | 'gif';
  width: number;
  height: number;
}

/** Default limit on decoded pixels (8192 x 8192, 200 MB of RGBA); callers may raise it. */
export const MAX_IMAGE_PIXELS = 8192 * 8192;

function pngHeader(b: Uint8Array, v: DataView): ImageHeader | string {
  if (b.length < 24 || String.fromCharCode(...b.subarray(12, 16)) !== 'IHDR') return 'the PNG has no IHDR header';
  // A complete PNG ends with the 12-byte IEND chunk (length 0, 'IEND', CRC); some writers append bytes.
  let iend = false;
  for (let i = b.length - 8; i >= Math.max(24, b.length - 1024) && !iend; i--) iend = b[i] === 0x49 && b[i + 1] === 0x45 && b[i + 2] === 0x4e && b[i + 3] === 0x44;
  if (!iend) return 'the PNG data is truncated (no IEND chunk at its end)';
  return { format: 'png', width: v.getUint32(16), height: v.getUint32(20) };
}

/** The first start-of-frame segment's size; markers are walked by their lengths. */
function jpegHeader(b: Uint8Array, v: DataView): ImageHeader | string {
  let size: { width: number; height: number } | undefined;
  let scan = -1;
  for (let p = 2; p + 4 <= b.length; ) {
    if (b[p] !== 0xff) return `the JPEG is damaged (no marker at byte ${p})`;
    const marker = b[p + 1];
    if (marker === 0xff) { p++; continue; } // fill byte
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { p += 2; continue; }
    if (marker === 0xd9) break;
    const len = v.getUint16(p + 2);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof && p + 9 <= b.length) size = { height: v.getUint16(p + 5), width: v.getUint16(p + 7) };
    if (marker === 0xda) {
      scan = p; // start of scan: entropy-coded data follows; the end is checked below
      break;
    }
    p += 2 + len;
  }
  if (!size) return 'the JPEG has no frame header (SOF)';
  if (scan < 0) return 'the JPEG has no image data (no start-of-scan segment)';
  // After the first scan FFD9 can only be the end-of-image marker (entropy-coded 0xFF bytes are
  // followed by 00 or a restart marker); an EXIF thumbnail's own EOI before it does not count.
  let eoi = false;
  for (let i = b.length - 2; i > scan && !eoi; i--) eoi = b[i] === 0xff && b[i + 1] === 0xd9;
  if (!eoi) return 'the JPEG data is truncated (no end-of-image marker)';
  return { format: 'jpeg', ...size };
}

/**
 * The header of a PNG, JPEG, BMP or GIF, a string saying what is wrong with it, or undefined for
 * other formats (left to the decoder).
 */
export function readImageHeader(b: Uint8Array): ImageHeader | string | undefined {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return pngHeader(b, v);
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) return jpegHeader(b, v);
  if (b.length >= 26 && b[0] === 0x42 && b[1] === 0x4d) return { format: 'bmp', width: Math.abs(v.getInt32(18, true)), height: Math.abs(v.getInt32(22, true)) };
  if (b.length >= 10 && String.fromCharCode(...b.subarray(0, 3)) === 'GIF') return { format: 'gif', width: v.getUint16(6, true), height: v.getUint16(8, true) };
  return undefined;
}

/** Throws, naming the image, when its header is damaged, its data truncated or its size over the limit. */
export function checkImageHeader(b: Uint8Array, name: string, maxPixels: number = MAX_IMAGE_PIXELS): void {
  // A NaN or negative limit would compare false and so let every size through.
  if (!(Number.isFinite(maxPixels) && maxPixels >= 1)) throw new RangeError(`${name}: maxPixels must be a positive number of pixels, got ${maxPixels}`);
  const h = readImageHeader(b);
  if (typeof h === 'string') throw new Error(`${name}: ${h}`);
  if (!h) return;
  if (h.width < 1 || h.height < 1) throw new Error(`${name}: the ${h.format.toUpperCase()} header says ${h.width}x${h.height} pixels; an image has at least 1x1`);
  if (h.width * h.height > maxPixels) {
    throw new Error(`${name}: the ${h.format.toUpperCase()} header says ${h.width}x${h.height} pixels, over the limit of ${maxPixels} pixels (raise it with --max-pixels, or the maxPixels option)`);
  }
}
