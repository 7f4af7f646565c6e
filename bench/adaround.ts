// Learned rounding (issue 19 item 3) and cross-layer equalization on the zoo: output SQNR of the int8
// model against the float model (the library's float export, both run in LiteRT) with default options,
// with `equalize`, with `learnedRounding`, and with both.
//   npx tsx bench/adaround.ts [zoo-folder ...]        (npm run bench:adaround: the zoo models below, then YOLO)
//   npx tsx bench/adaround.ts --yolo                  (YOLOv5n and YOLOv8n only)
// Calibration: coco128 images 1-16 (inputs in [0, 1]); fidelity: images 17-24 (not used for
// calibration nor for learned rounding). Prints per model and output the SQNR of each variant, top-1
// agreement for a classifier (one [1, N] output), and learned rounding's own per-layer summary.
// YOLO (--yolo): YOLOv5n (TF.js) and YOLOv8n (yolov8n_int8.tflite), calibration coco128 images 1-64,
// mAP50-95 on images 65-128 in LiteRT, the same variants (a variant whose file is byte-identical to
// the default is not evaluated again).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportFloatTflite, quantizeInt8, type QuantizeInt8Options } from '../lib/quantize/index.js';
import { listImageFiles } from '../lib/quantize/dataset.js';
import { importModel } from '../lib/graph/importers/index.js';
import { runDefaultPasses } from '../lib/graph/passes/index.js';
import { compare, inputsFor, runAll } from './fidelity-helpers.js';

const fx = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/fixtures');
const manifest = JSON.parse(fs.readFileSync(path.join(fx, 'zoo/manifest.json'), 'utf8')) as { folder: string; file: string }[];
const DEFAULT_MODELS = ['human-models-posenet', 'hands-hand_landmark_lite', 'human-models-blazeface', 'nsfwjs-mobilenet_v2'];
const images = listImageFiles(fx + '/coco128/images');
const calibration = images.slice(0, 16);
const fidelity = images.slice(16, 24);
const VARIANTS: [string, Partial<QuantizeInt8Options>][] = [
  ['default', {}],
  ['equalize', { equalize: true }],
  ['learned rounding', { learnedRounding: true }],
  ['both', { equalize: true, learnedRounding: true }],
];




async function measure(folder: string): Promise<void> {
  const entry = manifest.find((m) => m.folder === folder);
  if (!entry) throw new Error(`bench/adaround: no zoo model '${folder}'`);
  const file = path.join(fx, 'zoo', folder, entry.file);
  const source = file.endsWith('model.json') ? path.dirname(file) : file;
  const graph = runDefaultPasses(await importModel(source));
  const evalInputs = await inputsFor(fidelity, graph.tensors.get(graph.inputs[0])!.shape);
  const float = await runAll((await exportFloatTflite(source)).tflite, evalInputs);
  const cells: string[][] = float.names.map(() => []);
  const top1: string[] = [];
  for (const [label, extra] of VARIANTS) {
    const t0 = performance.now();
    const { tflite, report } = await quantizeInt8(source, { representativeDataset: calibration, numCalibrationSamples: 16, ...extra });
    const r = compare(float.outs, (await runAll(tflite, evalInputs)).outs);
    r.sqnr.forEach((s, k) => cells[k].push(s.toFixed(1)));
    if (r.top1 !== undefined) top1.push(`${(100 * r.top1).toFixed(0)} %`);
    const lr = report.learnedRounding;
    const summary = lr ? lr.applied ? learnedSummary(lr.layers) : `not applied: ${lr.reason}` : '';
    console.error(`${folder} ${label}: ${((performance.now() - t0) / 1000).toFixed(1)} s${lr ? ` (learned rounding ${report.timings.learnedRoundingSeconds?.toFixed(1)} s; ${summary})` : ''}`);
  }
  float.names.forEach((name, k) => console.log(`| ${folder} | ${name} | ${cells[k].join(' | ')} |`));
  if (top1.length) console.log(`| ${folder} | top-1 agreement | ${top1.join(' | ')} |`);
}

/** Layers changed and the median per-layer SQNR gain on held-out rows. */
function learnedSummary(layers: { channelsChanged: number; heldOutSqnrBeforeDb: number; heldOutSqnrAfterDb: number; fitSqnrBeforeDb: number; fitSqnrAfterDb: number }[]): string {
  const gains = layers.map((l) => l.heldOutSqnrAfterDb - l.heldOutSqnrBeforeDb).filter(Number.isFinite).sort((a, b) => a - b);
  const fit = layers.map((l) => l.fitSqnrAfterDb - l.fitSqnrBeforeDb).filter(Number.isFinite).sort((a, b) => a - b);
  const med = (xs: number[]) => (xs.length ? xs[Math.floor(xs.length / 2)] : 0);
  return `${layers.filter((l) => l.channelsChanged > 0).length} of ${layers.length} layers changed; median layer SQNR gain fitted ${med(fit).toFixed(2)} dB, held out ${med(gains).toFixed(2)} dB`;
}

/** YOLOv5n / YOLOv8n: mAP50-95 on coco128 65-128 of each variant (calibration 1-64). */
async function measureYolo(): Promise<void> {
  const { quantizeInt8: quantizeYolo, exportFloatTflite: exportYolo } = await import('../lib/yolo/quantize.js');
  const { evaluate } = await import('../lib/yolo/evaluate.js');
  const dir = fx + '/coco128/images';
  const sources: [string, string][] = [['YOLOv5n', path.join(fx, 'yolov5n_web_model')], ['YOLOv8n', path.join(fx, 'yolov8n/yolov8n_int8.tflite')]];
  console.log(`\n| model | float | ${VARIANTS.map(([l]) => l).join(' | ')} |`);
  console.log(`|---|---|${VARIANTS.map(() => '---').join('|')}|`);
  for (const [name, source] of sources) {
    const score = async (tflite: Uint8Array) => (await evaluate(tflite, { images: dir, offset: 64, limit: 64 })).mAP50_95;
    const cells = [(await score((await exportYolo(source)).tflite)).toFixed(4)];
    let base: Uint8Array | undefined;
    for (const [label, extra] of VARIANTS) {
      const t0 = performance.now();
      const { tflite, report } = await quantizeYolo(source, { representativeDataset: calibrationYolo, numCalibrationSamples: 64, ...extra });
      const same = base !== undefined && Buffer.from(base).equals(Buffer.from(tflite));
      base ??= tflite;
      cells.push(same ? `${cells[1]} (same file)` : (await score(tflite)).toFixed(4));
      const lr = report.learnedRounding;
      console.error(`${name} ${label}: ${((performance.now() - t0) / 1000).toFixed(1)} s${lr ? ` (learned rounding ${report.timings.learnedRoundingSeconds?.toFixed(1)} s; ${lr.applied ? learnedSummary(lr.layers) : lr.reason})` : ''}`);
    }
    console.log(`| ${name} | ${cells.join(' | ')} |`);
  }
}
const calibrationYolo = images.slice(0, 64);

const yoloOnly = process.argv.includes('--yolo');
const folders = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (!yoloOnly) {
  console.log(`| model | output | ${VARIANTS.map(([l]) => `${l} dB`).join(' | ')} |`);
  console.log(`|---|---|${VARIANTS.map(() => '---').join('|')}|`);
  for (const folder of folders.length ? folders : DEFAULT_MODELS) await measure(folder);
}
if (yoloOnly || folders.length === 0) await measureYolo();
