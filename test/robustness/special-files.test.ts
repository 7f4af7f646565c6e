// Hostile files where a model or an image is expected: devices, FIFOs, directories, symlink loops,
// files far over any plausible size, images whose header claims billions of pixels or whose data is
// cut short, and a metadata zip that inflates to gigabytes. Each must fail fast with one line naming
// the file and what was expected, and memory must stay bounded (issue 21, item 1).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { expect } from 'chai';
import { importModel } from '../../lib/graph/importers/index.js';
import { readModelInfoFromTflite } from '../../lib/graph/importers/model-info.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { decodeImage } from '../../lib/pipeline/image.js';
import { readRegularFile } from '../../lib/util/read-file.js';
import { tempDir } from '../support/tiny-model.js';
import { FIXTURES } from '../support/fixtures.js';

/** Runs `f`, expects it to throw a one-line message matching `re`, within `seconds`. */
async function expectQuickError(f: () => Promise<unknown> | unknown, re: RegExp, seconds = 5): Promise<string> {
  const t0 = performance.now();
  let message: string | undefined;
  try {
    await f();
  } catch (e) {
    message = (e as Error).message;
  }
  const took = (performance.now() - t0) / 1000;
  expect(message, 'expected an error').to.be.a('string');
  expect(message!).to.match(re);
  expect(message!.includes('\n'), 'one line').to.equal(false);
  expect(took, `took ${took.toFixed(1)} s`).to.be.lessThan(seconds);
  return message!;
}

/** A zip archive holding one deflated entry (the layout ultralytics appends to its .tflite files). */
function zipOf(name: string, deflated: Uint8Array, rawSize: number): Uint8Array {
  const n = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(8, 8); // deflate
  local.writeUInt32LE(deflated.length, 18);
  local.writeUInt32LE(rawSize >>> 0, 22);
  local.writeUInt16LE(n.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(deflated.length, 20);
  central.writeUInt32LE(rawSize >>> 0, 24);
  central.writeUInt16LE(n.length, 28);
  central.writeUInt32LE(0, 42); // local header offset
  const cdOffset = local.length + n.length + deflated.length;
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(1, 8);
  eocd.writeUInt16LE(1, 10);
  eocd.writeUInt32LE(central.length + n.length, 12);
  eocd.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, n, deflated, central, n, eocd]);
}

describe('hostile files where a model or an image is expected', function () {
  this.timeout(60_000);
  const dir = tempDir('special-files-');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses a character device (/dev/zero) as a model, by name, before reading', async () => {
    await expectQuickError(() => importModel('/dev/zero'), /\/dev\/zero: .*character device; a regular file was expected/);
    await expectQuickError(() => TfliteRunner.load('/dev/zero'), /\/dev\/zero: the model file is a character device/);
    expect(() => readRegularFile('/dev/zero', 'label file', 1000)).to.throw(/\/dev\/zero: the label file is a character device/);
  });

  it('refuses a FIFO as a model or an image without blocking', async () => {
    const fifo = path.join(dir, 'model.tflite');
    execFileSync('mkfifo', [fifo]);
    await expectQuickError(() => importModel(fifo), /model\.tflite: .*FIFO \(named pipe\); a regular file was expected/);
    await expectQuickError(() => TfliteRunner.load(fifo), /FIFO/);
    await expectQuickError(() => decodeImage(fifo), /the image file is a FIFO/);
  });

  it('refuses a directory as an image, a symlink loop and a missing file, naming each', async () => {
    await expectQuickError(() => decodeImage(dir), /the image file is a directory/);
    const loop = path.join(dir, 'loop.jpg');
    fs.symlinkSync(loop, loop);
    await expectQuickError(() => decodeImage(loop), /loop\.jpg: cannot read the image file: too many levels of symbolic links/);
    await expectQuickError(() => TfliteRunner.load(path.join(dir, 'none.tflite')), /none\.tflite: cannot read the model file: no such file$/);
    // A symlink to a device is followed and refused as the device.
    const toZero = path.join(dir, 'zero.jpg');
    fs.symlinkSync('/dev/zero', toZero);
    await expectQuickError(() => decodeImage(toZero), /zero\.jpg: the image file is a character device/);
  });

  it('refuses a file over the size limit without reading it (a sparse 5 GiB model)', async () => {
    const big = path.join(dir, 'big.tflite');
    fs.closeSync(fs.openSync(big, 'w'));
    fs.truncateSync(big, 5 * 2 ** 30);
    const rss0 = process.memoryUsage().rss;
    await expectQuickError(() => TfliteRunner.load(big), /big\.tflite: the model file is 5\.0 GiB, over the limit of 4\.0 GiB/);
    expect(process.memoryUsage().rss - rss0).to.be.lessThan(100 * 2 ** 20);
  });

  it('refuses an image whose header claims 30000x30000 pixels, and truncated PNG and JPEG data', async () => {
    // A PNG signature and an IHDR chunk claiming 30000x30000 RGB, then an IEND: 57 bytes in all.
    const ihdr = Buffer.alloc(25);
    ihdr.writeUInt32BE(13, 0);
    ihdr.write('IHDR', 4);
    ihdr.writeUInt32BE(30000, 8);
    ihdr.writeUInt32BE(30000, 12);
    ihdr[16] = 8;
    ihdr[17] = 2;
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr, Buffer.from([0, 0, 0, 0]), Buffer.from('IEND'), Buffer.alloc(4)]);
    const rss0 = process.memoryUsage().rss;
    await expectQuickError(() => decodeImage(new Uint8Array(png), 'bomb.png'), /bomb\.png: the PNG header says 30000x30000 pixels, over the limit of 67108864 pixels/);
    expect(process.memoryUsage().rss - rss0).to.be.lessThan(100 * 2 ** 20);
    const jpegFile = path.join(FIXTURES, 'images', fs.readdirSync(path.join(FIXTURES, 'images')).find((f) => f.endsWith('.jpg'))!);
    const jpeg = new Uint8Array(fs.readFileSync(jpegFile));
    await expectQuickError(() => decodeImage(jpeg.subarray(0, jpeg.length >> 1), 'half.jpg'), /half\.jpg: the JPEG data is truncated/);
    const whole = await decodeImage(jpeg, 'whole.jpg');
    expect(whole.width * whole.height).to.be.greaterThan(0);
    await expectQuickError(() => decodeImage(new Uint8Array(png.subarray(0, 40)), 'cut.png'), /cut\.png: the PNG data is truncated/);
  });

  it('does not inflate a metadata zip bomb appended to a .tflite', () => {
    // 1 GiB of zeros in 1 MiB: sixteen full-flushed deflate segments of 64 MiB each, then an empty
    // final block (full flush makes each segment decodable after any other). Ultralytics' real
    // metadata is a few KiB; inflating this whole would take over 1 GiB (and a string V8 refuses).
    const segment = zlib.deflateRawSync(Buffer.alloc(64 * 2 ** 20), { finishFlush: zlib.constants.Z_FULL_FLUSH });
    const chunk = Buffer.concat([...Array<Buffer>(16).fill(segment), zlib.deflateRawSync(Buffer.alloc(0))]);
    const raw = 2 ** 30;
    const model = new Uint8Array(fs.readFileSync(path.join(FIXTURES, 'yolov8n', fs.readdirSync(path.join(FIXTURES, 'yolov8n')).find((f) => f.endsWith('.tflite'))!)));
    const bomb = Buffer.concat([model, zipOf('metadata.txt', chunk, raw)]);
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    expect(readModelInfoFromTflite(new Uint8Array(bomb), 'bomb.tflite')).to.equal(undefined);
    expect(performance.now() - t0).to.be.lessThan(5000);
    expect(process.memoryUsage().rss - rss0).to.be.lessThan(200 * 2 ** 20);
  });
});
