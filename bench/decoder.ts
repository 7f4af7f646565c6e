// The JPEG decoder benchmark (issue 20, item 2): does decoding coco128 with libjpeg-turbo's arithmetic
// (what OpenCV, and so ultralytics, uses; lib/pipeline/jpeg-decoder.ts) instead of jpeg-js (jimp,
// the decoder before it) change mAP? Run: npx tsx bench/decoder.ts
// In one run it:
//   1. writes coco128 as jpeg-js decoded it, as lossless PNGs (Jimp.read, EXIF turned, as the old
//      decodeImage did), labels beside them: reading that folder gives exactly the old pixels;
//   2. counts how the two decoders' values differ (and, where `djpeg` from libjpeg-turbo is on the
//      PATH, how each differs from it), and times both decoders on the same files;
//   3. quantizes YOLOv5n (TF.js graph model) and YOLOv8n (dynamic-range .tflite) with default options
//      and images 1-64 of each folder, and evaluates float and int8 on images 65-128 of the same
//      folder (ultralytics-val settings) through LiteRT;
//   4. writes the tables into bench/RESULTS.md (between this benchmark's markers).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Jimp } from 'jimp';
import { resultsLog, writeResultsSection } from './results.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.resolve(root, '../shared/fixtures');
const coco = path.join(fixtures, 'coco128');

/** Packed RGB as jimp (jpeg-js) decodes a file: the decoder before libjpeg. */
async function jimpRgb(file: string): Promise<{ width: number; height: number; data: Uint8Array }> {
  const { rgbaToRgb } = await import('../lib/pipeline/image.js');
  const img = await Jimp.read(fs.readFileSync(file));
  return { width: img.bitmap.width, height: img.bitmap.height, data: rgbaToRgb(img.bitmap.data, img.bitmap.width * img.bitmap.height) };
}

/** libjpeg-turbo's djpeg output as packed RGB (gray expanded), or undefined without djpeg. */
function djpegRgb(file: string): Uint8Array | undefined {
  let pnm: Buffer;
  try {
    pnm = execFileSync('djpeg', ['-pnm', file], { maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
  const header = pnm.subarray(0, 64).toString('latin1').match(/^P([56])\s+(\d+)\s+(\d+)\s+255\s/);
  if (!header) return undefined;
  const pixels = Number(header[2]) * Number(header[3]);
  const body = pnm.subarray(header[0].length);
  if (header[1] === '6') return new Uint8Array(body);
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = body[i];
  return rgb;
}

interface Differences {
  values: number;
  differ: number;
  maxAbs: number;
}

function addDifferences(acc: Differences, a: Uint8Array, b: Uint8Array): void {
  if (a.length !== b.length) throw new Error(`decoders disagree on the size (${a.length} against ${b.length} values)`);
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > 0) acc.differ++;
    if (d > acc.maxAbs) acc.maxAbs = d;
  }
  acc.values += a.length;
}

function describe(d: Differences | undefined): string {
  if (!d) return 'n/a (no djpeg on the PATH)';
  return `${((100 * d.differ) / d.values).toFixed(1)} % of values differ, max ${d.maxAbs}`;
}

/** The old decoder's dataset: every image as a PNG of jpeg-js's pixels, labels copied. Returns timings. */
async function writeJpegJsDataset(files: string[], out: string, log: (s: string) => void): Promise<void> {
  const { decodeImage } = await import('../lib/pipeline/image.js');
  fs.mkdirSync(path.join(out, 'images'), { recursive: true });
  fs.cpSync(path.join(coco, 'labels'), path.join(out, 'labels'), { recursive: true });
  const vsOld: Differences = { values: 0, differ: 0, maxAbs: 0 };
  let vsDjpegNew: Differences | undefined = { values: 0, differ: 0, maxAbs: 0 };
  let vsDjpegOld: Differences | undefined = { values: 0, differ: 0, maxAbs: 0 };
  let msNew = 0, msOld = 0;
  for (const file of files) {
    let t = performance.now();
    const now = await decodeImage(file);
    msNew += performance.now() - t;
    t = performance.now();
    const old = await jimpRgb(file);
    msOld += performance.now() - t;
    addDifferences(vsOld, now.data, old.data);
    const ref = djpegRgb(file);
    if (ref && vsDjpegNew && vsDjpegOld) {
      addDifferences(vsDjpegNew, now.data, ref);
      addDifferences(vsDjpegOld, old.data, ref);
    } else vsDjpegNew = vsDjpegOld = undefined;
    const rgba = new Uint8Array(old.width * old.height * 4).fill(255);
    for (let i = 0; i < old.width * old.height; i++) rgba.set(old.data.subarray(3 * i, 3 * i + 3), 4 * i);
    const png = path.join(out, 'images', path.basename(file).replace(/\.[^.]+$/, '.png'));
    await new Jimp({ data: Buffer.from(rgba), width: old.width, height: old.height }).write(png as `${string}.png`);
  }
  log(`${files.length} coco128 images, ${vsOld.values} RGB values:`);
  log(`- libjpeg (new) against jpeg-js (old): ${describe(vsOld)}`);
  log(`- libjpeg (new) against libjpeg-turbo's djpeg: ${describe(vsDjpegNew)}`);
  log(`- jpeg-js (old) against libjpeg-turbo's djpeg: ${describe(vsDjpegOld)}`);
  log(`- decode time in this run (file to packed RGB, one thread): libjpeg ${(msNew / files.length).toFixed(1)} ms per image, jpeg-js ${(msOld / files.length).toFixed(1)} ms per image (${(msOld / msNew).toFixed(2)}x)`);
}

interface Row {
  model: string;
  decoder: string;
  mAP50: number;
  mAP50_95: number;
}

/**
 * Calibration sets: images 1-64 and three near-copies of it (one or two images left out). Dropping
 * one calibration image moves YOLOv8n's int8 mAP50-95 by about a point here, so one calibration per
 * decoder cannot tell a decoder's effect from that noise; the mean over the four can better.
 */
const CALIBRATION_WINDOWS: [number, number][] = [[0, 64], [0, 63], [1, 64], [2, 64]];

async function quantizeAndEvaluate(name: string, source: string, floatFile: string, dataset: string, decoder: string, outDir: string): Promise<Row[]> {
  const { quantizeInt8 } = await import('../lib/yolo/quantize.js');
  const { listImageFiles } = await import('../lib/quantize/dataset.js');
  const { evaluate } = await import('../lib/yolo/evaluate.js');
  const images = path.join(dataset, 'images');
  const rows: Row[] = [];
  const float = await evaluate(floatFile, { images, offset: 64, limit: 64 });
  rows.push({ model: `${name} float`, decoder, mAP50: float.mAP50, mAP50_95: float.mAP50_95 });
  const int8: Row[] = [];
  for (const [from, to] of CALIBRATION_WINDOWS) {
    const calib = listImageFiles(images).slice(from, to);
    const { tflite } = await quantizeInt8(source, { representativeDataset: calib, numCalibrationSamples: calib.length });
    const file = path.join(outDir, `${name}-${decoder.split(' ')[0]}-${from}-${to}.tflite`);
    fs.writeFileSync(file, tflite);
    const r = await evaluate(file, { images, offset: 64, limit: 64 });
    int8.push({ model: `${name} int8, calibration images ${from + 1}-${to}`, decoder, mAP50: r.mAP50, mAP50_95: r.mAP50_95 });
    console.log(`${name} int8 ${from + 1}-${to} / ${decoder}: mAP50 ${r.mAP50.toFixed(4)}, mAP50-95 ${r.mAP50_95.toFixed(4)}`);
  }
  const mean = (k: 'mAP50' | 'mAP50_95'): number => int8.reduce((a, r) => a + r[k], 0) / int8.length;
  rows.push(...int8, { model: `${name} int8, mean of the ${int8.length} calibrations`, decoder, mAP50: mean('mAP50'), mAP50_95: mean('mAP50_95') });
  return rows;
}

async function main(): Promise<void> {
  if (!fs.existsSync(coco)) {
    console.log(`(skipped: ${coco} not found; the benchmark needs the coco128 fixtures)`);
    return;
  }
  const { listImageFiles } = await import('../lib/quantize/dataset.js');
  const { exportFloatTflite } = await import('../lib/yolo/quantize.js');
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-int8-bench-decoder-'));
  const { log, lines } = resultsLog();
  log('### Pixels');
  log('');
  const jpegJs = path.join(outDir, 'coco128-jpeg-js');
  await writeJpegJsDataset(listImageFiles(path.join(coco, 'images')), jpegJs, log);

  const v8Float = path.join(outDir, 'yolov8n-float32.tflite');
  fs.writeFileSync(v8Float, (await exportFloatTflite(path.join(fixtures, 'yolov8n/yolov8n_int8.tflite'), { head: 'keep' })).tflite);
  const models = [
    { name: 'YOLOv5n', source: path.join(fixtures, 'yolov5n_web_model'), floatFile: path.join(fixtures, 'yolov5n/yolov5n-fp16.tflite') },
    { name: 'YOLOv8n', source: path.join(fixtures, 'yolov8n/yolov8n_int8.tflite'), floatFile: v8Float },
  ];
  const rows: Row[] = [];
  for (const m of models) {
    rows.push(...(await quantizeAndEvaluate(m.name, m.source, m.floatFile, jpegJs, 'jpeg-js (old)', outDir)));
    rows.push(...(await quantizeAndEvaluate(m.name, m.source, m.floatFile, coco, 'libjpeg (new)', outDir)));
  }
  log('');
  log('### mAP on coco128 images 65-128, default options, calibration images decoded the same way (four calibration sets)');
  log('');
  log('| model | decoder | mAP50 | mAP50-95 | mAP50-95 new - old (points) |');
  log('|---|---|---|---|---|');
  for (const r of rows) {
    const old = rows.find((o) => o.model === r.model && o.decoder !== r.decoder);
    const delta = r.decoder.startsWith('libjpeg') && old ? (100 * (r.mAP50_95 - old.mAP50_95)).toFixed(2) : '';
    log(`| ${r.model} | ${r.decoder} | ${r.mAP50.toFixed(4)} | ${r.mAP50_95.toFixed(4)} | ${delta} |`);
  }
  fs.rmSync(outDir, { recursive: true, force: true });
  writeResultsSection('bench/decoder.ts', 'npx tsx bench/decoder.ts', 'JPEG decoder: libjpeg-turbo arithmetic against jpeg-js (coco128)', lines.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
