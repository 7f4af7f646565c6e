// What mixed precision costs (issue: quantization plan, precision per layer). `npm run bench:precision`.
// For YOLOv5n (TF.js graph model) and YOLOv8n (yolov8n_int8.tflite), one calibration on coco128 images
// 1-64 (default options) and from the same statistics the plans:
//   - all int8 (the default, full-integer);
//   - head int16: the convs that produce the outputs raised to int16 (16x8);
//   - head float: the same convs in float;
//   - all int16;
//   - all float (every op float; int8 I/O converted at the boundary).
// Each is evaluated on images 65-128 in LiteRT (mAP50-95), with latency interleaved across the models
// of one family and size, as ratios to all-int8 in the same run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { interleavedLatency, resultsLog, writeResultsSection } from './results.js';
import type { Graph, IrNode } from '../lib/ir/graph.js';
import type { Precision } from '../lib/ops/types.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.resolve(root, '../shared/fixtures');
const images = path.join(fixtures, 'coco128/images');

/** The weighted nodes that feed the graph outputs (walking back through ops that copy values). */
function headConvs(graph: Graph): Set<string> {
  const producer = new Map<string, IrNode>();
  for (const n of graph.nodes) for (const o of n.outputs) producer.set(o, n);
  const out = new Set<string>();
  const visit = (t: string) => {
    const n = producer.get(t);
    if (!n) return;
    if (n.op === 'Conv2D' || n.op === 'DepthwiseConv2D' || n.op === 'FullyConnected') out.add(n.name);
    else for (const i of n.inputs) if (!graph.tensors.get(i)?.data) visit(i);
  };
  for (const o of graph.outputs) visit(o);
  return out;
}

async function main(): Promise<void> {
  const v5 = path.join(fixtures, 'yolov5n_web_model/model.json');
  const v8 = path.join(fixtures, 'yolov8n/yolov8n_int8.tflite');
  if (!fs.existsSync(v5)) {
    console.log('(skipped: ../shared/fixtures not found)');
    return;
  }
  const { prepareGraph, calibrateGraph, planFor, writePlan } = await import('../lib/quantize/stages.js');
  const { YOLO_PLUGIN } = await import('../lib/yolo/plugin.js');
  const { resolveRecipe } = await import('../lib/quantize/recipe.js');
  const { listImageFiles } = await import('../lib/quantize/dataset.js');
  const { evaluate } = await import('../lib/yolo/evaluate.js');
  const { planPrecisionSummary } = await import('../lib/quantize/plan.js');
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-int8-bench-precision-'));
  const calib = listImageFiles(images).slice(0, 64);
  const evalImages = listImageFiles(images).slice(64, 128);
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
  for (const [family, source] of [['YOLOv5n', v5], ['YOLOv8n', v8]] as const) {
    if (!fs.existsSync(source) || (only && only !== family)) continue;
    const { log, lines } = resultsLog();
    log('Calibration once per model (coco128 images 1-64, mse); every variant is planned from the same statistics.');
    log('Evaluation on images 65-128 in LiteRT; latency interleaved across the variants of one model.');
    const recipe = resolveRecipe({});
    const t0 = performance.now();
    const prepared = await prepareGraph(source, {}, YOLO_PLUGIN);
    const { calibrated } = await calibrateGraph(prepared, recipe, { representativeDataset: calib, numCalibrationSamples: 64 }, YOLO_PLUGIN);
    const calibSeconds = (performance.now() - t0) / 1000;
    const head = headConvs(calibrated.graph);
    const variants: [string, (n: IrNode) => Precision][] = [
      ['all int8 (default)', () => 'int8'],
      [`head int16 (${head.size} convs)`, (n) => (head.has(n.name) ? 'int16' : 'int8')],
      [`head float (${head.size} convs)`, (n) => (head.has(n.name) ? 'float' : 'int8')],
      ['all int16 (16x8)', () => 'int16'],
      ['all float', () => 'float'],
    ];
    const files: { name: string; file: string; bytes: number; summary: string; planSeconds: number }[] = [];
    for (const [name, precisionOf] of variants) {
      const tp = performance.now();
      const plan = planFor(calibrated, recipe, { precisionOf, outputType: 'int8' });
      const tflite = writePlan(calibrated.graph, plan, { metadata: calibrated.fileMetadata, description: name, where: name });
      const planSeconds = (performance.now() - tp) / 1000;
      const file = path.join(outDir, `${family}-${files.length}.tflite`);
      fs.writeFileSync(file, tflite);
      const s = planPrecisionSummary(plan);
      files.push({ name, file, bytes: tflite.length, summary: `${s.int8}/${s.int16}/${s.float}`, planSeconds });
    }
    const results: Awaited<ReturnType<typeof evaluate>>[] = [];
    for (const f of files) results.push(await evaluate(f.file, { images, offset: 64, limit: 64 }));
    const latency = await interleavedLatency(files.map((f) => f.file), evalImages);
    log('');
    log(`### ${family} (calibration ${calibSeconds.toFixed(1)} s; plan + write per variant ${Math.min(...files.map((f) => f.planSeconds)).toFixed(1)}-${Math.max(...files.map((f) => f.planSeconds)).toFixed(1)} s)`);
    log('');
    log('| variant | ops int8/int16/float | mAP50 | mAP50-95 | latency median (ms) | latency / all-int8 | size (bytes) | size / all-int8 |');
    log('|---|---|---|---|---|---|---|---|');
    files.forEach((f, k) => {
      log(
        `| ${f.name} | ${f.summary} | ${results[k].mAP50.toFixed(4)} | ${results[k].mAP50_95.toFixed(4)} | ${latency[k].median.toFixed(1)} | ` +
          `${(latency[k].median / latency[0].median).toFixed(2)} | ${f.bytes} | ${(f.bytes / files[0].bytes).toFixed(3)} |`,
      );
    });
    // One section per family, written as soon as it is measured (`--only=YOLOv8n` reruns one).
    writeResultsSection(`bench/precision.ts ${family}`, 'npm run bench:precision', `Mixed precision on ${family}: what int16 and float layers cost`, lines.join('\n'));
  }
  fs.rmSync(outDir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
