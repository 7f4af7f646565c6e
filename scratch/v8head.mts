// Which range choice for YOLOv8n's head outputs (the int8 graph's outputs) measures best?
import fs from 'node:fs';
import path from 'node:path';
const { prepareGraph, calibrateGraph, planFor, writePlan } = await import('../lib/quantize/stages.ts');
const { resolveRecipe } = await import('../lib/quantize/recipe.ts');
const { listImageFiles } = await import('../lib/quantize/dataset.ts');
const { evaluate } = await import('../lib/yolo/evaluate.ts');
const fx = '/work/shared/fixtures';
const images = `${fx}/coco128/images`;
const src = process.argv[2] ?? `${fx}/yolov8n/yolov8n_int8.tflite`;
const recipe = resolveRecipe({});
const prepared = await prepareGraph(src, {});
const { calibrated } = await calibrateGraph(prepared, recipe, { representativeDataset: listImageFiles(images).slice(0, 64), numCalibrationSamples: 64 });
const g = calibrated.graph;
const outs = new Set(g.outputs);
const variants: [string, (t: string) => boolean][] = [
  ['default (mse everywhere)', () => false],
  ['outputs minmax', (t) => outs.has(t)],
  ['all minmax', () => true],
];
const base = new Map(calibrated.ranges);
for (const [name, useObserved] of variants) {
  const ranges = new Map(base);
  for (const [t] of base) if (useObserved(t)) ranges.set(t, calibrated.observedRanges.get(t)!);
  const cal = { ...calibrated, ranges };
  const plan = planFor(cal, recipe, { outputType: 'int8' });
  const tflite = writePlan(g, plan, { headSpec: calibrated.headSpec, description: name, where: name });
  const f = `/tmp/v8head-${name.replace(/\W+/g, '_')}.tflite`;
  fs.writeFileSync(f, tflite);
  const r = await evaluate(f, { images, offset: 64, limit: 64 });
  console.log(name, r.mAP50.toFixed(4), r.mAP50_95.toFixed(4));
}
