// Evaluates the float (fp16-weights) and the official int8 YOLOv5n TFLite exports on coco128
// images 65-128 (sorted by name) with ultralytics-val settings, through LiteRT, and prints a table.
// Run: npx tsx bench/eval.ts [--offset 64] [--limit 64] [extra.tflite ...]
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { evaluate, type EvaluateResult } from '../lib/yolo/evaluate.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.resolve(root, '../shared/fixtures');

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

async function main(): Promise<void> {
  if (!fs.existsSync(fixtures)) {
    console.log(`fixtures not found at ${fixtures}; nothing to evaluate`);
    return;
  }
  const offset = arg('--offset', 64);
  const limit = arg('--limit', 64);
  const extra = process.argv.slice(2).filter((a, i, all) => a.endsWith('.tflite') && !all[i - 1]?.startsWith('--'));
  const models = [
    path.join(fixtures, 'yolov5n/yolov5n-fp16.tflite'),
    path.join(fixtures, 'yolov5n/yolov5n-int8.tflite'),
    ...extra,
  ];
  const images = path.join(fixtures, 'coco128/images');
  console.log(`coco128 images ${offset + 1}-${offset + limit} (sorted by name); conf 0.001, IoU 0.6, max 300, multi-label; letterbox 640 pad 114`);
  const rows: [string, EvaluateResult][] = [];
  for (const m of models) {
    const r = await evaluate(m, { images, offset, limit });
    rows.push([path.basename(m), r]);
  }
  const header = '| model | images | mAP50 | mAP50-95 | latency median (ms) | latency p90 (ms) | size (bytes) |';
  console.log(header);
  console.log('|---|---|---|---|---|---|---|');
  for (const [name, r] of rows) {
    console.log(
      `| ${name} | ${r.images} | ${r.mAP50.toFixed(4)} | ${r.mAP50_95.toFixed(4)} | ${r.latencyMs.median.toFixed(1)} | ${r.latencyMs.p90.toFixed(1)} | ${r.fileBytes} |`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
