// Using yolo-int8 from your own tool: quantize with a progress callback, act on the report
// (all-integer check, warnings, per-tensor parameters), write the file, then evaluate it.
//
//   npx tsx examples/embed-in-a-tool.ts [model] [--num 32] [--eval 8]
//
// In your own project import from 'yolo-int8' instead of '../lib/index.js'.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantizeInt8, evaluate, writeFileAtomic, type QuantizeReport } from '../lib/index.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/fixtures');
if (!fs.existsSync(fixtures)) {
  console.log(`skipped: the fixtures are not there (${fixtures})`);
  process.exit(0);
}
const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args.splice(i, 2)[1]) : fallback;
};
const num = option('--num', 32);
const evalImages = option('--eval', 8);
const model = args[0] ?? path.join(fixtures, 'yolov5n_web_model');

// A progress callback: your tool decides how to show it (here: one line per 25 %).
let lastQuarter = -1;
function onProgress(step: string, done: number, total: number): void {
  const quarter = Math.floor((4 * done) / total);
  if (step === 'calibrate' && quarter !== lastQuarter) {
    lastQuarter = quarter;
    console.error(`[my-tool] calibration ${done}/${total}`);
  }
}

const started = Date.now();
const { tflite, report } = await quantizeInt8(model, {
  representativeDataset: path.join(fixtures, 'coco128/images'), // sorted by name, first `num` used
  numCalibrationSamples: num,
  calibration: 'minmax',
  onProgress,
});

// The report is plain data: check what matters to your tool before shipping the file.
function check(r: QuantizeReport): string[] {
  const problems: string[] = [];
  if (!r.allInteger) problems.push(`float tensors left: ${r.floatTensors.slice(0, 3).join(', ')}`);
  if (r.inputs.some((t) => t.dtype !== 'int8')) problems.push('input is not int8');
  return problems.concat(r.warnings);
}
const problems = check(report);
const widest = [...report.tensors].sort((a, b) => b.scale - a.scale)[0];

const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'my-tool-')), 'model-int8.tflite');
await writeFileAtomic(out, tflite);
console.log(`quantized ${report.source} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${report.calibration.samples} calibration images, ` +
  `${Object.values(report.ops).reduce((a, b) => a + b, 0)} ops, ${tflite.length} bytes, all integer: ${report.allInteger}`);
console.log(`YOLO head: ${report.head.treatment}; widest tensor range: ${widest.tensor} [${widest.min.toFixed(2)}, ${widest.max.toFixed(2)}]`);
console.log(problems.length ? `problems: ${problems.join('; ')}` : 'problems: none');

// Evaluate on images the calibration did not see (coco128 images 65..).
const result = await evaluate(out, { images: path.join(fixtures, 'coco128/config.yaml'), offset: 64, limit: evalImages });
console.log(`mAP50 ${result.mAP50.toFixed(3)} mAP50-95 ${result.mAP50_95.toFixed(3)} on ${result.images} images, ` +
  `median latency ${result.latencyMs.median.toFixed(1)} ms`);
