// The refactoring safety net: quantizes every fixture source that yolo-int8 handles with default
// options (plus an int16 and a float recipe) and exports each as float32, then prints the sha256 of
// every written file. Run it before and after a refactor: equal tables prove "no behaviour change".
//   npx tsx scripts/sha256-table.ts [--out table.json] [--only name,...]
// Calibration: the first 16 coco128 images (the dataset holds 16 images, so every option is the default).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { quantizeInt8, exportFloatTflite } from '../lib/index.js';

const fixtures = path.resolve(import.meta.dirname, '../../shared/fixtures');
const root = path.resolve(import.meta.dirname, '..');
const SOURCES: Record<string, string> = {
  'yolov5n-tfjs': path.join(fixtures, 'yolov5n_web_model'),
  'yolov5n-fp16-tflite': path.join(fixtures, 'yolov5n/yolov5n-fp16.tflite'),
  'yolov8n-dynamic-range': path.join(fixtures, 'yolov8n/yolov8n_int8.tflite'),
  'yolov8n-full-integer': path.join(fixtures, 'yolov8n/yolov8n_full_integer_quant.tflite'),
  'yolov8n-darts-tfjs': path.join(fixtures, 'yolov8n_darts_web_model'),
  'yolov8n-pose-tfjs': path.join(fixtures, 'yolov8n-pose_hand_web_model'),
  'demo-detector': path.join(root, 'models/demo/model.json'),
};
const VARIANTS = ['default', 'int16', 'float', 'float-export'] as const;

const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

async function main() {
  const args = process.argv.slice(2);
  const out = args.includes('--out') ? args[args.indexOf('--out') + 1] : undefined;
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : undefined;
  const images = fs.readdirSync(path.join(fixtures, 'coco128/images')).sort().slice(0, 16).map((f) => path.join(fixtures, 'coco128/images', f));
  const table: Record<string, Record<string, string>> = {};
  for (const [name, source] of Object.entries(SOURCES)) {
    if (only && !only.includes(name)) continue;
    table[name] = {};
    for (const v of VARIANTS) {
      const t0 = Date.now();
      let bytes: Uint8Array;
      if (v === 'float-export') bytes = (await exportFloatTflite(source)).tflite;
      else {
        const recipe = v === 'default' ? undefined : { precision: v as 'int16' | 'float' };
        bytes = (await quantizeInt8(source, { representativeDataset: images, ...(recipe ? { recipe } : {}) })).tflite;
      }
      table[name][v] = sha(bytes);
      console.log(`${name.padEnd(24)} ${v.padEnd(13)} ${table[name][v]} ${String(bytes.length).padStart(9)} B ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  }
  if (out) fs.writeFileSync(out, JSON.stringify(table, null, 2) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
