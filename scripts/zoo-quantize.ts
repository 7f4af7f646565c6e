// Quantizes every zoo model (../shared/fixtures/zoo) and YOLO11n with default options on 16 coco128
// images, loads the file in LiteRT and runs it once: one line per model, ok (ops, int8 share, time)
// or the first line of its error. A status sweep for issue notes, not a test.
//   npx tsx scripts/zoo-quantize.ts [--only name,...]
import fs from 'node:fs';
import path from 'node:path';
import { quantizeInt8, TfliteRunner } from '../lib/index.js';

const fixtures = path.resolve(import.meta.dirname, '../../shared/fixtures');
const zoo = path.join(fixtures, 'zoo');
const images = fs.readdirSync(path.join(fixtures, 'coco128/images')).filter((f) => f.endsWith('.jpg')).sort().slice(0, 16).map((f) => path.join(fixtures, 'coco128/images', f));
const manifest = JSON.parse(fs.readFileSync(path.join(zoo, 'manifest.json'), 'utf8')) as { folder: string; file: string }[];
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1].split(',') : undefined;
const models = [...manifest.map((m) => ({ name: m.folder, file: path.join(zoo, m.folder, m.file) })), { name: 'yolo11n', file: path.join(fixtures, 'yolo11n/yolo11n_full_integer_quant.tflite') }];
let ok = 0;
for (const m of models) {
  if (only && !only.includes(m.name)) continue;
  const t0 = performance.now();
  try {
    const { tflite, report } = await quantizeInt8(m.file.endsWith('model.json') ? path.dirname(m.file) : m.file, { representativeDataset: images, numCalibrationSamples: 16 });
    const runner = await TfliteRunner.load(tflite, { label: m.name });
    await runner.run(runner.inputs.map((d) => new Int8Array(d.shape.reduce((a, b) => a * b, 1))) as never);
    runner.dispose();
    ok++;
    const p = report.precision;
    console.log(`ok    ${m.name}: ${p.int8} int8 / ${p.int16} int16 / ${p.float} float ops, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } catch (e) {
    console.log(`ERROR ${m.name}: ${(e as Error).message.split('\n')[0].slice(0, 220)}`);
  }
}
console.log(`${ok} of ${models.filter((m) => !only || only.includes(m.name)).length} quantize and run in LiteRT`);
