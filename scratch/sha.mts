import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
const root = process.argv[2];
const { quantizeInt8, exportFloatTflite } = await import(path.join(root, 'lib/index.ts'));
const fx = '/work/shared/fixtures';
const imgs = fs.readdirSync(`${fx}/coco128/images`).sort().slice(0, 4).map((f) => `${fx}/coco128/images/${f}`);
const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex').slice(0, 16);
for (const [name, src, extra] of [
  ['v5n', `${fx}/yolov5n_web_model/model.json`, {}],
  ['v5n-uint8io', `${fx}/yolov5n_web_model/model.json`, { inputType: 'uint8', outputType: 'float32' }],
  ['v8n', `${fx}/yolov8n/yolov8n_int8.tflite`, {}],
  ['pose', `${fx}/yolov8n-pose_hand_web_model/model.json`, {}],
] as const) {
  const r = await quantizeInt8(src, { representativeDataset: imgs, ...extra });
  console.log(name, sha(r.tflite), r.tflite.length, r.report.notes.filter((n: string) => n.includes('requantized')).length);
}
const f = await exportFloatTflite(`${fx}/yolov5n_web_model/model.json`);
console.log('float', sha(f.tflite), f.tflite.length);
