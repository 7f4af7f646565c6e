// Bias-correction variants (issue 11 point 5), one family per run:
//   npx tsx bench/bias-correction.ts <v5|v8> off one-shot:8 sequential:8 local:8 [local:32 ...]
// Calibrates once (coco128 images 1-64, default recipe: mse), writes the default plan ('off') and each
// '<mode>:<samples>' variant of it, measures the residual mean error after correction (one more
// one-shot measurement of the corrected plan, not applied), and evaluates mAP on images 65-128.
// Prints one line per variant (bench/RESULTS.md, section 'Bias correction', has the numbers).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareGraph, calibrateGraph, planFor, writePlan } from '../lib/quantize/stages.js';
import { resolveRecipe } from '../lib/quantize/recipe.js';
import { correctBiases, type BiasCorrectionSettings } from '../lib/quantize/bias-correction.js';
import { correctionInputs, listImageFiles, modelInputShapes } from '../lib/quantize/dataset.js';
import { evaluate } from '../lib/yolo/evaluate.js';
import { YOLO_PLUGIN } from '../lib/yolo/plugin.js';
const fx = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/fixtures');
const files = listImageFiles(fx + '/coco128/images').slice(0, 64);
const fam = process.argv[2];
const src = fam === 'v8' ? fx + '/yolov8n/yolov8n_int8.tflite' : fx + '/yolov5n_web_model';
const variants = process.argv.slice(3); // e.g. off one-shot:8 sequential:8
const recipe = resolveRecipe({});
const prepared = await prepareGraph(src, {}, YOLO_PLUGIN);
const { calibrated: cal, executor } = await calibrateGraph(prepared, recipe, { representativeDataset: files, numCalibrationSamples: 64, keepExecutor: true }, YOLO_PLUGIN);
const graph = cal.graph;
const base = planFor(cal, recipe, { outputType: 'int8' });
const write = (p: typeof base) => writePlan(graph, p, { description: 'x', where: 'x', check: false });
const inputs = correctionInputs(files, modelInputShapes(graph), undefined)!;
for (const v of variants) {
  let plan = base;
  let info = '';
  if (v !== 'off') {
    const [mode, n] = v.split(':');
    const settings = { mode, samples: Number(n) } as BiasCorrectionSettings;
    const t0 = performance.now();
    const r = await correctBiases(base, graph, { floatExec: executor!, inputs, write, settings });
    plan = r.plan;
    const secs = (performance.now() - t0) / 1000;
    // residual: measure (one-shot, no use of its corrections) on the corrected plan
    const chk = await correctBiases(plan, graph, { floatExec: executor!, inputs, write, settings: { mode: 'one-shot', samples: Number(n) } });
    info = `bc ${secs.toFixed(1)}s passes ${r.report.passes} err before ${r.report.meanAbsErrorSteps.toFixed(3)} corr ${r.report.meanAbsCorrectionOutputSteps.toFixed(3)} out steps (${r.report.meanAbsCorrectionBiasSteps.toFixed(0)} bias steps); residual after ${chk.report.meanAbsErrorSteps.toFixed(3)}; first layers residual ${chk.report.perLayer.slice(0, 4).map((l) => l.errorSteps.toFixed(3)).join(' ')}`;
  }
  const file = path.join(os.tmpdir(), `bias-correction-${fam}-${v.replace(/:/g, '-')}.tflite`);
  fs.writeFileSync(file, writePlan(graph, plan, { metadata: cal.fileMetadata, description: 'x', where: 'x' }));
  const e = await evaluate(file, { images: fx + '/coco128/images', offset: 64, limit: 64 });
  fs.rmSync(file);
  console.log(`${fam} ${v}: mAP50 ${e.mAP50.toFixed(4)} mAP50-95 ${e.mAP50_95.toFixed(4)} ${info}`);
}
executor?.dispose();
