// Calibration data from the outside world: folders with junk in them, unreadable files, too few
// usable images, tensors of the wrong size or channel count, NaNs. Bad files are skipped and counted;
// a dataset too broken to trust is an error and nothing is written.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { quantizeInt8 } from '../../lib/yolo/quantize.js';
import { checkCalibrationCount } from '../../lib/quantize/dataset.js';
import { decodeImage } from '../../lib/pipeline/image.js';
import { initBackend } from '../../lib/graph/backend.js';
import { expectError, quantizeToFile } from './helpers.js';
import { tempDir, tinyInputs, writeTinyGraphModel, type TinyModel } from '../support/tiny-model.js';
import { mulberry32 as prng } from '../support/random.js';

// A minimal PNG encoder (8-bit, no interlace): lets the test write a real grayscale PNG, which jimp
// itself never produces.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
/** PNG of `channels` 1 (grayscale) or 3 (RGB), pixels row-major. */
function encodePng(width: number, height: number, channels: 1 | 3, pixels: Uint8Array): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 1 ? 0 : 2; // colour type: grey / truecolour
  const raw = Buffer.alloc(height * (1 + width * channels));
  for (let y = 0; y < height; y++) {
    raw[y * (1 + width * channels)] = 0; // filter: none
    Buffer.from(pixels.subarray(y * width * channels, (y + 1) * width * channels)).copy(raw, y * (1 + width * channels) + 1);
  }
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

function writeImages(dir: string, names: string[], seed: number, channels: 1 | 3 = 3): void {
  const rnd = prng(seed);
  for (const n of names) {
    const px = Uint8Array.from({ length: 8 * 8 * channels }, () => Math.floor(rnd() * 256));
    fs.writeFileSync(path.join(dir, n), encodePng(8, 8, channels, px));
  }
}
function writeJunk(dir: string, names: string[]): void {
  for (const n of names) fs.writeFileSync(path.join(dir, n), 'this is not an image\n');
}

describe('robustness: calibration datasets', function () {
  this.timeout(120_000);
  let m: TinyModel;
  let images: string;
  let outDir: string;
  let out: string;

  before(async () => {
    await initBackend('cpu');
    m = writeTinyGraphModel();
  });
  beforeEach(() => {
    images = tempDir('robust-img-');
    outDir = tempDir('robust-out-');
    out = path.join(outDir, 'm.tflite');
  });
  const opts = (representativeDataset: Parameters<typeof quantizeInt8>[1]['representativeDataset'], numCalibrationSamples?: number) =>
    ({ representativeDataset, numCalibrationSamples, backend: 'cpu' as const });

  it('non-image and unreadable files are skipped and counted in the report warnings; other extensions are ignored', async () => {
    writeImages(images, ['a.png', 'b.png', 'c.png', 'd.png', 'e.png', 'f.png'], 3);
    writeJunk(images, ['broken1.jpg', 'broken2.png', 'notes.txt']);
    fs.mkdirSync(path.join(images, 'folder.jpg')); // a directory with an image name is not an image: not listed
    const { report } = await quantizeInt8(m.dir, opts(images, 100));
    expect(report.calibration.samples).to.equal(6);
    expect(report.calibration.skipped.map((s) => path.basename(s.file))).to.deep.equal(['broken1.jpg', 'broken2.png']);
    const w = report.warnings.find((x) => x.includes('calibration file(s) skipped'));
    expect(w, report.warnings.join('\n')).to.match(/^2 calibration file\(s\) skipped: /);
  });

  it('a directory where fewer than half of the expected samples can be read is an error, and nothing is written', async () => {
    writeImages(images, ['z1.png'], 4);
    writeJunk(images, ['a.jpg', 'b.jpg', 'c.jpg']);
    await expectError(
      () => quantizeToFile(m.dir, out, opts(images, 4)),
      'representative dataset: only 1 of 4 image files could be read, fewer than half of the 4 samples expected (at least 2 needed)',
      '3 file(s) skipped',
    );
    expect(fs.readdirSync(outDir)).to.deep.equal([]);
  });

  it('bad files are tolerated while enough good ones remain for the requested count', async () => {
    writeImages(images, ['z1.png', 'z2.png'], 5);
    writeJunk(images, ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg', 'e.jpg', 'f.jpg']);
    await quantizeToFile(m.dir, out, opts(images, 2)); // 2 of 8 files usable, 2 asked for
    expect(fs.existsSync(out)).to.equal(true);
  });

  it('a directory with no usable image, no image at all, or that does not exist', async () => {
    writeJunk(images, ['a.jpg', 'b.png', 'c.jpeg']);
    await expectError(() => quantizeToFile(m.dir, out, opts(images, 10)),
      'representative dataset: none of the 3 image file(s) could be used for calibration; 3 file(s) skipped, e.g. ');
    const empty = tempDir('robust-empty-');
    fs.writeFileSync(path.join(empty, 'labels.txt'), '0 0.5 0.5 0.1 0.1\n');
    await expectError(() => quantizeToFile(m.dir, out, opts(empty)), `representative dataset: '${empty}': no images found (expected an images folder`);
    await expectError(() => quantizeToFile(m.dir, out, opts(path.join(empty, 'nope'))), 'nope\': no such file or folder (expected an images folder');
    expect(fs.readdirSync(outDir)).to.deep.equal([]);
  });

  it('zero calibration samples: an empty iterable, or numCalibrationSamples 0', async () => {
    await expectError(() => quantizeToFile(m.dir, out, opts([])), 'representative dataset: the list is empty (zero calibration samples)');
    await expectError(() => quantizeToFile(m.dir, out, opts(new Set<Float32Array>())), 'it yielded no samples (zero calibration samples)');
    await expectError(() => quantizeToFile(m.dir, out, opts((async function* () {})())), 'zero calibration samples');
    await expectError(() => quantizeToFile(m.dir, out, opts(tinyInputs(2), 0)), 'numCalibrationSamples must be >= 1, got 0');
    expect(fs.readdirSync(outDir)).to.deep.equal([]);
  });

  it('tensors of the wrong channel count or input size say what they look like', async () => {
    const gray = new Float32Array(8 * 8); // a [1,8,8,1] array for an RGB model
    await expectError(() => quantizeToFile(m.dir, out, opts([gray])),
      'representative dataset item 0: 64 values, but the model input [1,8,8,3] needs 192 (that is 1 channel(s) at 8x8; the model takes 3)');
    const small = new Float32Array(4 * 4 * 3); // a 4x4 RGB image for an 8x8 model
    await expectError(() => quantizeToFile(m.dir, out, opts([...tinyInputs(2), small])),
      'representative dataset item 2: 48 values', '(that is a 4x4 input; the model takes 8x8)');
    const t = tf.zeros([1, 8, 8, 1]);
    await expectError(() => quantizeToFile(m.dir, out, opts([t as unknown as Float32Array])),
      'representative dataset item 0: tensor shape [1,8,8,1] does not match the model input [1,8,8,3]');
    t.dispose();
    expect(fs.readdirSync(outDir)).to.deep.equal([]);
  });

  it('NaN or infinite input values name the sample and element', async () => {
    const x = tinyInputs(3);
    x[1][3] = NaN;
    await expectError(() => quantizeToFile(m.dir, out, opts(x)), 'representative dataset item 1: value NaN at element 3; calibration inputs must be finite');
    x[1][3] = 0.5;
    x[2][0] = Infinity;
    await expectError(() => quantizeToFile(m.dir, out, opts(x)), 'item 2: value Infinity at element 0');
    expect(fs.readdirSync(outDir)).to.deep.equal([]);
  });

  it('a grayscale PNG is decoded to RGB (r = g = b) and used', async () => {
    const px = Uint8Array.from({ length: 64 }, (_, i) => i * 4);
    fs.writeFileSync(path.join(images, 'gray.png'), encodePng(8, 8, 1, px));
    const img = await decodeImage(path.join(images, 'gray.png'));
    expect(img.width).to.equal(8);
    for (let i = 0; i < 64; i++) expect([img.data[3 * i], img.data[3 * i + 1], img.data[3 * i + 2]]).to.deep.equal([i * 4, i * 4, i * 4]);
    writeImages(images, ['rgb.png'], 9);
    const { report } = await quantizeInt8(m.dir, opts(images));
    expect(report.calibration.samples).to.equal(2);
    expect(report.calibration.skipped).to.deep.equal([]);
  });

  it('checkCalibrationCount: the half rule, on its own', () => {
    const s = (used: number, skipped: number, files?: number) => ({ used, skipped: Array.from({ length: skipped }, (_, i) => ({ file: `f${i}`, reason: `r${i}` })), files });
    expect(() => checkCalibrationCount(s(50, 50, 100), 100)).to.not.throw(); // exactly half
    expect(() => checkCalibrationCount(s(49, 51, 100), 100)).to.throw('only 49 of 100 image files could be read, fewer than half of the 100 samples expected (at least 50 needed); 51 file(s) skipped, e.g. r0; r1');
    expect(() => checkCalibrationCount(s(10, 90, 100), 10)).to.not.throw(); // asked for 10, got 10
    // A directory smaller than the request: half of its files, rounded up.
    expect(() => checkCalibrationCount(s(2, 3, 5), 100)).to.throw('fewer than half of the 5 samples expected (at least 3 needed)');
    expect(() => checkCalibrationCount(s(3, 2, 5), 100)).to.not.throw();
    expect(() => checkCalibrationCount(s(0, 0), 8)).to.throw('zero calibration samples');
    expect(() => checkCalibrationCount(s(1, 0), 8)).to.not.throw(); // tensors: any positive count
  });
});
