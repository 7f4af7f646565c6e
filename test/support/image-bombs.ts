// Image files that claim more than they hold, for the hostile-input tests and scripts/hostile-cases.ts:
// a decoder that trusts the header allocates gigabytes for a file of a few dozen bytes.

/** A PNG signature + IHDR claiming width x height RGB pixels, and no image data. */
export function pngBomb(width: number, height: number): Uint8Array {
  const b = new Uint8Array(33);
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const v = new DataView(b.buffer);
  v.setUint32(16, width);
  v.setUint32(20, height);
  b.set([8, 2, 0, 0, 0], 24);
  return b;
}

/** A JPEG with SOI and a baseline SOF0 claiming width x height (3 components), then nothing. */
export function jpegBomb(width: number, height: number): Uint8Array {
  return Uint8Array.from([0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, height >> 8, height & 255, width >> 8, width & 255, 3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1, 0xff, 0xd9]);
}
