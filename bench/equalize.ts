// Cross-layer equalization on the zoo models that import (issue 19 item 2): output SQNR of the int8
// model against the float model (the library's float export, both run in LiteRT), without and with
// equalizeCrossLayer applied after the default passes.
//   npx tsx bench/equalize.ts [zoo-folder ...]
// Calibration: coco128 images 1-16 (inputs in [0, 1]); fidelity: images 17-24. Prints, per model, the
// pairs equalised and why the other layers were not, then per output: SQNR without / with equalization,
// plus the float graph's own change (equalised float vs float: rounding only), and top-1 agreement for
// a classifier (one output of shape [1, N]).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importModel } from '../lib/graph/importers/index.js';
import { equalizeCrossLayer, runDefaultPasses } from '../lib/graph/passes/index.js';
import { exportFloatTflite, quantizeInt8 } from '../lib/quantize/index.js';
import { listImageFiles } from '../lib/quantize/dataset.js';
import { compare, inputsFor, runAll } from './fidelity-helpers.js';
import type { Graph } from '../lib/ir/graph.js';

const fx = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/fixtures');
const MODELS: Record<string, string> = {
  'human-models-posenet': 'model.json',
  'pose-pose_landmark_lite': 'pose_landmark_lite.tflite',
  'hands-hand_landmark_lite': 'hand_landmark_lite.tflite',
  'human-models-blazeface': 'model.json',
  'nsfwjs-mobilenet_v2': 'model.json',
};
const images = listImageFiles(fx + '/coco128/images');
const calibration = images.slice(0, 16);
const fidelity = images.slice(16, 24);




function reasons(skipped: { reason: string }[]): string {
  const m = new Map<string, number>();
  for (const { reason } of skipped) {
    const key = reason.replace(/'[^']*'/g, "'.'").replace(/^\d+ output channels.*/, 'channel count mismatch');
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  return [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${v}x ${k}`).join('; ');
}

async function int8Outputs(graph: Graph, evalInputs: Float32Array[]): Promise<Float32Array[][]> {
  const { tflite } = await quantizeInt8(graph, { representativeDataset: calibration, numCalibrationSamples: 16 });
  return (await runAll(tflite, evalInputs)).outs;
}

async function measure(folder: string): Promise<void> {
  const t0 = performance.now();
  const graph = runDefaultPasses(await importModel(path.join(fx, 'zoo', folder, MODELS[folder])));
  const evalInputs = await inputsFor(fidelity, graph.tensors.get(graph.inputs[0])!.shape);
  const float = await runAll((await exportFloatTflite(graph)).tflite, evalInputs);
  const base = compare(float.outs, await int8Outputs(graph, evalInputs));
  const rows = float.names.map((name, k) => `| ${folder} | ${name} | ${base.sqnr[k].toFixed(1)}`);
  const top1 = [base.top1];
  for (const relu6 of ['skip', 'clip'] as const) {
    const { graph: equalized, report } = equalizeCrossLayer(graph, { relu6 });
    console.log(`\n${folder} (relu6 ${relu6}): ${report.pairs.length} pairs equalised, ${report.iterations} sweeps, converged ${report.converged}`);
    console.log(`  not equalised (${report.skipped.length} weighted layers): ${reasons(report.skipped)}`);
    const worst = [...report.pairs].sort((a, b) => b.spreadBefore.second - a.spreadBefore.second).slice(0, 2);
    for (const p of worst) {
      console.log(`  ${p.first} -> ${p.second}: range spread W1 out ${p.spreadBefore.first.toFixed(1)} -> ${p.spreadAfter.first.toFixed(1)}, W2 in ${p.spreadBefore.second.toFixed(1)} -> ${p.spreadAfter.second.toFixed(1)}`);
    }
    const fl = compare(float.outs, (await runAll((await exportFloatTflite(equalized)).tflite, evalInputs)).outs);
    const eq = report.pairs.length ? compare(float.outs, await int8Outputs(equalized, evalInputs)) : base;
    rows.forEach((_, k) => { rows[k] += ` | ${eq.sqnr[k].toFixed(1)} (float ${fl.sqnr[k].toFixed(0)})`; });
    top1.push(eq.top1);
  }
  for (const r of rows) console.log(`  ${r} |`);
  if (base.top1 !== undefined) console.log(`  top-1 agreement: ${top1.map((t) => `${(100 * t!).toFixed(0)} %`).join(' / ')}`);
  console.log(`  (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}

console.log('| model | output | int8 SQNR dB | equalised, relu6 skip (equalised float vs float dB) | equalised, relu6 clip (float vs float) |');
for (const folder of process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(MODELS)) await measure(folder);
