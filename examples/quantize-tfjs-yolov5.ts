// Quantize the ultralytics YOLOv5n TF.js export (`--include tfjs`) to a full-integer int8 .tflite,
// calibrated on 64 COCO images, and print the report summary.
//
//   npx tsx examples/quantize-tfjs-yolov5.ts [out.tflite] [--num 64]
//
// In your own project import from 'yolo-int8' instead of '../lib/index.js'.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantizeInt8, formatQuantizeReport, writeFileAtomic } from '../lib/index.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/fixtures');
if (!fs.existsSync(fixtures)) {
  console.log(`skipped: the YOLOv5n fixtures are not there (${fixtures})`);
  process.exit(0);
}

const args = process.argv.slice(2);
const numAt = args.indexOf('--num');
const num = numAt >= 0 ? Number(args.splice(numAt, 2)[1]) : 64;
const out = args[0] ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-int8-')), 'y.tflite');

// Calibration: the first `num` coco128 images by name (images 65-128 are kept for evaluation).
const imagesDir = path.join(fixtures, 'coco128/images');
const calibration = fs.readdirSync(imagesDir).filter((f) => f.endsWith('.jpg')).sort().slice(0, num).map((f) => path.join(imagesDir, f));

const { tflite, report } = await quantizeInt8(path.join(fixtures, 'yolov5n_web_model'), {
  representativeDataset: calibration,
  numCalibrationSamples: calibration.length,
  onProgress: (step, done, total) => {
    if (step === 'calibrate' && (done === total || done % 16 === 0)) console.error(`calibrated ${done}/${total}`);
  },
});
await writeFileAtomic(out, tflite);
console.log(formatQuantizeReport(report));
console.log(`wrote ${out} (${tflite.length} bytes)`);
