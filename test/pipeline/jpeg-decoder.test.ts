// JPEG decoding with libjpeg-turbo's arithmetic (lib/pipeline/jpeg-decoder.ts through decodeImage):
// the pixels equal libjpeg-turbo's djpeg (hashes of djpeg 2.1.5's output recorded below, and a live
// comparison where djpeg is on the PATH), gray and progressive files decode, EXIF orientation turns
// the image as the EXIF specification's table says, a damaged file is an error naming it and
// libjpeg's reason, and the decoder works again after it.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Jimp } from 'jimp';
import encodeJpeg, { init as initJpegEncoder } from '@jsquash/jpeg/encode.js';
import { decodeImage } from '../../lib/pipeline/image.js';
import { decodeJpegLibjpeg } from '../../lib/pipeline/jpeg-decoder.js';
import { jpegExifOrientation } from '../../lib/pipeline/exif-orientation.js';

const require = createRequire(import.meta.url);
const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures');
// sha256 of the packed RGB that libjpeg-turbo 2.1.5's `djpeg -pnm` writes for each file (gray
// expanded to R = G = B), recorded on the development machine.
const DJPEG_SHA256: Record<string, string> = {
  'images/bus.jpg': 'e8c11e7a7a688f702248c945bee11e2982f3da93654c143fe45f8380f3630cf0',
  'images/zidane.jpg': 'eecf91cfd4101dc21e41c96d22e4ea3ccb2756dd7b7332e4585c7fa36c34a30c',
  'coco128/images/000000000086.jpg': 'e14d758f196ea77e70c951b7d349608e89354bf37cc5680bc0f76b837a9e04ed',
};

let encoderReady: Promise<void> | undefined;

/** A JPEG of packed RGB written by mozjpeg's encoder (the test's own files: progressive or baseline). */
async function writeJpeg(rgb: Uint8Array, width: number, height: number, options: { progressive: boolean; quality?: number; gray?: boolean }): Promise<Uint8Array> {
  encoderReady ??= initJpegEncoder(await WebAssembly.compile(fs.readFileSync(require.resolve('@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm'))));
  await encoderReady;
  const rgba = new Uint8ClampedArray(width * height * 4).fill(255);
  for (let i = 0; i < width * height; i++) rgba.set(rgb.subarray(3 * i, 3 * i + 3), 4 * i);
  const image = { data: rgba, width, height, colorSpace: 'srgb' } as ImageData;
  const colorSpace = options.gray ? { color_space: 1 } : {}; // mozjpeg's JCS_GRAYSCALE
  return new Uint8Array(await encodeJpeg(image, { progressive: options.progressive, baseline: !options.progressive, quality: options.quality ?? 95, ...colorSpace }));
}

function segment(marker: number, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff]), body]);
}

/**
 * A 4-component (CMYK, Adobe APP14 transform 0) baseline JPEG whose four components all hold the
 * gray JPEG's one: its frame lists four components on its quantization table, and its single scan
 * is repeated as four one-component scans (a sequential JPEG may code components in separate scans).
 */
function cmykFromGray(gray: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [Buffer.from([0xff, 0xd8]), segment(0xee, Buffer.from('Adobe\0\x64\0\0\0\0\0', 'latin1'))];
  for (let p = 2; p < gray.length; ) {
    const marker = gray[p + 1];
    const len = (gray[p + 2] << 8) | gray[p + 3];
    const body = gray.subarray(p + 4, p + 2 + len);
    if (marker === 0xc0) {
      const comps = [1, 2, 3, 4].flatMap((id) => [id, body[7], body[8]]); // same sampling, same table
      parts.push(segment(0xc0, Buffer.concat([body.subarray(0, 5), Buffer.from([4, ...comps])])));
    } else if (marker === 0xda) {
      const data = gray.subarray(p + 2 + len, gray.lastIndexOf(0xd9) - 1);
      for (const id of [1, 2, 3, 4]) parts.push(segment(0xda, Buffer.from([1, id, body[2], body[3], body[4], body[5]])), data);
      break;
    } else if (marker !== 0xe0) parts.push(segment(marker, body));
    p += 2 + len;
  }
  return Buffer.concat([...parts, Buffer.from([0xff, 0xd9])]);
}

/** An APP1 EXIF segment holding only IFD0's orientation tag, in big- or little-endian TIFF. */
function exifSegment(orientation: number, bigEndian: boolean): Uint8Array {
  const tiff = new DataView(new ArrayBuffer(26));
  const le = !bigEndian;
  tiff.setUint16(0, bigEndian ? 0x4d4d : 0x4949);
  tiff.setUint16(2, 42, le);
  tiff.setUint32(4, 8, le); // IFD0 right after the header
  tiff.setUint16(8, 1, le); // one entry
  tiff.setUint16(10, 0x0112, le); // Orientation
  tiff.setUint16(12, 3, le); // SHORT
  tiff.setUint32(14, 1, le); // count 1
  tiff.setUint16(18, orientation, le); // value, left-aligned in its 4 bytes
  tiff.setUint32(22, 0, le); // no next IFD
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), Buffer.from(tiff.buffer)]);
  const head = Buffer.from([0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff]);
  return Buffer.concat([head, body]);
}

function withExif(jpeg: Uint8Array, orientation: number, bigEndian: boolean): Uint8Array {
  return Buffer.concat([jpeg.subarray(0, 2), exifSegment(orientation, bigEndian), jpeg.subarray(2)]);
}

const RED = [230, 20, 20], GREEN = [20, 200, 20], BLUE = [20, 20, 230], WHITE = [250, 250, 250];
type Color = number[];

/** A 32x16 image of four 16x8 quadrants: red, green on top; blue, white below. */
function quadrants(): Uint8Array {
  const rgb = new Uint8Array(32 * 16 * 3);
  for (let y = 0; y < 16; y++) for (let x = 0; x < 32; x++) rgb.set(y < 8 ? (x < 16 ? RED : GREEN) : x < 16 ? BLUE : WHITE, (y * 32 + x) * 3);
  return rgb;
}

/** The colour 2 pixels in from each corner: top-left, top-right, bottom-left, bottom-right. */
function corners(img: { width: number; height: number; data: Uint8Array }): Color[] {
  const at = (x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));
  return [at(2, 2), at(img.width - 3, 2), at(2, img.height - 3), at(img.width - 3, img.height - 3)];
}

function expectColors(got: Color[], want: Color[], what: string): void {
  for (let k = 0; k < want.length; k++) {
    for (let c = 0; c < 3; c++) expect(Math.abs(got[k][c] - want[k][c]), `${what}: corner ${k} channel ${c} (${got[k]} against ${want[k]})`).to.be.at.most(12);
  }
}

function sha256(data: Uint8Array): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

function hasDjpeg(): boolean {
  try {
    execFileSync('djpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('pipeline: JPEG decoding with libjpeg-turbo arithmetic', function () {
  this.timeout(120_000);

  it('gives the pixels of libjpeg-turbo 2.1.5 djpeg (colour and gray files)', async function () {
    if (!fs.existsSync(FIXTURES)) this.skip();
    for (const [file, hash] of Object.entries(DJPEG_SHA256)) {
      const img = await decodeImage(path.join(FIXTURES, file));
      expect(sha256(img.data), file).to.equal(hash);
    }
    const gray = await decodeImage(path.join(FIXTURES, 'coco128/images/000000000086.jpg'));
    expect([gray.width, gray.height]).to.deep.equal([512, 640]);
  });

  it('equals djpeg on progressive and baseline files of its own (where djpeg is installed)', async function () {
    if (!hasDjpeg()) this.skip();
    const rgb = new Uint8Array(40 * 24 * 3).map((_, i) => (i * 37 + ((i / 120) | 0) * 11) & 255);
    for (const progressive of [true, false]) {
      const jpeg = await writeJpeg(rgb, 40, 24, { progressive });
      const djpeg = execFileSync('djpeg', ['-ppm'], { input: jpeg });
      const img = await decodeImage(jpeg, 'own.jpg');
      expect(Buffer.from(img.data).equals(djpeg.subarray(djpeg.length - img.data.length)), `progressive ${progressive}`).to.equal(true);
    }
  });

  it('decodes a progressive JPEG within 4 levels of jpeg-js (an independent decoder)', async () => {
    const rgb = new Uint8Array(64 * 48 * 3);
    for (let y = 0; y < 48; y++) for (let x = 0; x < 64; x++) rgb.set([(x * 4) & 255, (y * 5) & 255, ((x ^ y) * 3) & 255], (y * 64 + x) * 3);
    const jpeg = await writeJpeg(rgb, 64, 48, { progressive: true, quality: 90 });
    expect(Buffer.from(jpeg).indexOf(Buffer.from([0xff, 0xc2])), 'an SOF2 (progressive) frame').to.be.above(0);
    const ours = await decodeImage(jpeg, 'progressive.jpg');
    const theirs = (await Jimp.read(Buffer.from(jpeg))).bitmap;
    expect([ours.width, ours.height]).to.deep.equal([theirs.width, theirs.height]);
    let maxDiff = 0;
    for (let i = 0; i < 64 * 48; i++) for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(ours.data[3 * i + c] - theirs.data[4 * i + c]));
    expect(maxDiff).to.be.at.most(4);
  });

  it('turns the image by its EXIF orientation, as the EXIF table says (both byte orders)', async () => {
    const jpeg = await writeJpeg(quadrants(), 32, 16, { progressive: false });
    // Corners TL, TR, BL, BR for each orientation, from the EXIF 2.3 table (0th row / 0th column).
    const expected: Record<number, { size: [number, number]; colors: Color[] }> = {
      1: { size: [32, 16], colors: [RED, GREEN, BLUE, WHITE] },
      2: { size: [32, 16], colors: [GREEN, RED, WHITE, BLUE] },
      3: { size: [32, 16], colors: [WHITE, BLUE, GREEN, RED] },
      4: { size: [32, 16], colors: [BLUE, WHITE, RED, GREEN] },
      5: { size: [16, 32], colors: [RED, BLUE, GREEN, WHITE] },
      6: { size: [16, 32], colors: [BLUE, RED, WHITE, GREEN] },
      7: { size: [16, 32], colors: [WHITE, GREEN, BLUE, RED] },
      8: { size: [16, 32], colors: [GREEN, WHITE, RED, BLUE] },
    };
    for (const bigEndian of [true, false]) {
      for (const [o, want] of Object.entries(expected)) {
        const file = withExif(jpeg, Number(o), bigEndian);
        expect(jpegExifOrientation(file)).to.equal(Number(o));
        const img = await decodeImage(file, `orientation-${o}.jpg`);
        expect([img.width, img.height], `orientation ${o}`).to.deep.equal(want.size);
        expectColors(corners(img), want.colors, `orientation ${o}${bigEndian ? ' (MM)' : ' (II)'}`);
      }
    }
    // No EXIF, and an orientation value outside 1-8: as stored.
    expect(jpegExifOrientation(jpeg)).to.equal(1);
    expectColors(corners(await decodeImage(withExif(jpeg, 9, true), 'nine.jpg')), expected[1].colors, 'orientation 9');
  });

  it('a damaged table is an error naming the file and libjpeg reason; the next file decodes', async function () {
    if (!fs.existsSync(FIXTURES)) this.skip();
    const bus = fs.readFileSync(path.join(FIXTURES, 'images/bus.jpg'));
    const damaged = Buffer.from(bus);
    // A Huffman table whose 16 code counts add up to more than 256 codes (the markers stay walkable,
    // so the header check lets it through and libjpeg refuses it).
    const dht = bus.indexOf(Buffer.from([0xff, 0xc4]));
    damaged.fill(255, dht + 5, dht + 21);
    const g = globalThis as { self?: unknown; location?: unknown };
    const hadSelf = 'self' in globalThis;
    // LiteRT's loader defines `self`; the decoder's glue then sets self.location, which must not stay.
    if (!hadSelf) g.self = globalThis;
    try {
      let message = '';
      await decodeImage(damaged, 'damaged.jpg').catch((e: Error) => (message = e.message));
      expect(message).to.equal('damaged.jpg: cannot decode the image (expected a JPEG or PNG): libjpeg: Bogus Huffman table definition');
      const img = await decodeImage(bus, 'bus.jpg'); // a fresh codec instance after the failure
      expect(sha256(img.data)).to.equal(DJPEG_SHA256['images/bus.jpg']);
      expect('location' in globalThis, 'a location global left behind').to.equal(false);
    } finally {
      if (!hadSelf) delete g.self;
    }
  });

  it('a CMYK JPEG, which libjpeg gives no RGB for, is decoded by jpeg-js (Adobe inverted CMYK)', async () => {
    // 16x16 gray, left 8 columns 60, right 8 columns 200: flat 8x8 blocks, so the values survive.
    const rgb = new Uint8Array(16 * 16 * 3);
    for (let i = 0; i < 256; i++) rgb.fill(i % 16 < 8 ? 60 : 200, 3 * i, 3 * i + 3);
    const cmyk = cmykFromGray(await writeJpeg(rgb, 16, 16, { progressive: false, gray: true }));
    let refused = '';
    await decodeJpegLibjpeg(cmyk).catch((e: Error) => (refused = e.message));
    expect(refused).to.match(/^libjpeg: Unsupported color conversion request/);
    const img = await decodeImage(cmyk, 'cmyk.jpg');
    expect([img.width, img.height]).to.deep.equal([16, 16]);
    // Stored s on all four channels; Adobe CMYK is inverted (c = 255 - s) and jpeg-js gives
    // 255 - (c + c (255 - c) / 255), truncated: s = 60 -> 14, s = 200 -> 156.
    for (let i = 0; i < 256; i++) {
      for (let ch = 0; ch < 3; ch++) expect(img.data[3 * i + ch], `pixel ${i}`).to.be.within(i % 16 < 8 ? 13 : 155, i % 16 < 8 ? 15 : 157);
    }
  });
});
