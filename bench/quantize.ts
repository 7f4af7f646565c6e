// The quantization benchmark (issue: quantizeInt8 on YOLOv5n). One command:
//   npm run bench            (= npx tsx bench/quantize.ts)
// In one run it:
//   1. quantizes the real YOLOv5n (TF.js graph model, and the float .tflite) with coco128 images
//      1-64, each in a child process so peak RSS is that quantization's alone; times the 64 float
//      forward passes alone (the floor) in the same child;
//   2. checks the same inputs and options give a byte-identical file;
//   3. evaluates float, official int8 and ours on images 65-128 through LiteRT, side by side, and
//      prints mAP, latency and size ratios against the official int8 model;
//   4. writes the tables into bench/RESULTS.md (between the markers of this benchmark).
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resultsLog, writeResultsSection } from './results.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.resolve(root, '../shared/fixtures');
const images = path.join(fixtures, 'coco128/images');

interface ChildResult {
  out: string;
  seconds: number;
  floorSeconds: number;
  peakRssMB: number;
  bytes: number;
  sha256: string;
  method: string;
  allInteger: boolean;
  quantizeOps: number;
  backend: string;
  /** Seconds of bias correction inside `seconds` (0 when off). */
  biasSeconds: number;
  biasPasses: number;
}

/** Child: quantize one model and time the float forward passes alone. */
async function child(source: string, method: string, out: string): Promise<void> {
  const { quantizeInt8 } = await import('../lib/yolo/quantize.js');
  const { listImageFiles, datasetInputs } = await import('../lib/quantize/dataset.js');
  const { importModel } = await import('../lib/graph/importers/index.js');
  const { runDefaultPasses } = await import('../lib/graph/passes/index.js');
  const { createFloatExecutor } = await import('../lib/graph/execute.js');
  const files = listImageFiles(images).slice(0, 64);
  // The floor first (a fresh process state for both measurements would need two children; measuring
  // it first keeps the quantization's own peak RSS and timing unaffected by it): the same 64 images
  // through the float graph, streamed exactly as calibration does, with nothing observed.
  const graph = runDefaultPasses(await importModel(source));
  const exec = await createFloatExecutor(graph);
  const stats = { used: 0, skipped: [] };
  let floorSeconds = 0;
  for await (const x of datasetInputs(files, graph.tensors.get(graph.inputs[0])!.shape, stats)) {
    const tf0 = performance.now();
    await exec.stream(x, { fetch: [] });
    floorSeconds += (performance.now() - tf0) / 1000;
  }
  exec.dispose();

  const t0 = performance.now();
  // '<method>+bc': with bias correction (its default settings), '<method>' alone: without.
  const [calibration, bc] = method.split('+');
  const { tflite, report } = await quantizeInt8(source, {
    representativeDataset: files,
    numCalibrationSamples: 64,
    calibration: calibration as 'minmax',
    biasCorrection: bc === 'bc',
  });
  const seconds = (performance.now() - t0) / 1000;
  fs.writeFileSync(out, tflite);
  const result: ChildResult = {
    out,
    seconds,
    floorSeconds,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    bytes: tflite.length,
    sha256: crypto.createHash('sha256').update(tflite).digest('hex'),
    method,
    allInteger: report.allInteger,
    quantizeOps: report.quantizeOps,
    backend: report.backend,
    biasSeconds: report.biasCorrection?.seconds ?? 0,
    biasPasses: report.biasCorrection?.passes ?? 0,
  };
  console.log('RESULT ' + JSON.stringify(result));
}

function runChild(source: string, method: string, out: string): ChildResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', source, method, out], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) throw new Error(`quantize child failed (${source}, ${method}):\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(line.slice(7));
}

function fmt(x: number, d = 4): string {
  return x.toFixed(d);
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3], process.argv[4], process.argv[5]);
  if (!fs.existsSync(fixtures)) {
    console.log(`(skipped: ${fixtures} not found; the benchmark needs the YOLOv5n fixtures)`);
    return;
  }
  const methods = (process.argv.find((a) => a.startsWith('--methods='))?.slice(10) ?? 'mse,mse+bc,minmax,percentile').split(',');
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-int8-bench-'));
  const webModel = path.join(fixtures, 'yolov5n_web_model');
  const fp16 = path.join(fixtures, 'yolov5n/yolov5n-fp16.tflite');
  const official = path.join(fixtures, 'yolov5n/yolov5n-int8.tflite');
  const { log, lines } = resultsLog();

  log('### Quantization of YOLOv5n at 640 with coco128 images 1-64');
  log('');
  log('| source | method | total time (s) | 64 float passes alone (s) | ratio to floor | peak RSS (MB) | bytes | all integer | QUANTIZE ops |');
  log('|---|---|---|---|---|---|---|---|---|');
  const runs: { name: string; r: ChildResult }[] = [];
  for (const [label, src] of [['TF.js graph model', webModel], ['float .tflite', fp16]] as const) {
    for (const m of label === 'float .tflite' ? [methods[0]] : methods) {
      const out = path.join(outDir, `yolov5n-${label.startsWith('TF') ? 'tfjs' : 'tflite'}-${m}.tflite`);
      const r = runChild(src, m, out);
      runs.push({ name: path.basename(out), r });
      log(`| ${label} | ${m} | ${fmt(r.seconds, 1)} | ${fmt(r.floorSeconds, 1)} | ${fmt(r.seconds / r.floorSeconds, 2)} | ${fmt(r.peakRssMB, 0)} | ${r.bytes} | ${r.allInteger} | ${r.quantizeOps} |`);
    }
  }
  for (const { name, r } of runs) {
    if (r.biasSeconds > 0) log(`\n${name}: bias correction took ${fmt(r.biasSeconds, 1)} s of the ${fmt(r.seconds, 1)} s (${r.biasPasses} integer-model passes)`);
  }
  // Reproducibility: the first configuration again.
  const again = runChild(webModel, methods[0], path.join(outDir, 'again.tflite'));
  const same = again.sha256 === runs[0].r.sha256;
  log('');
  log(`reproducible: quantizing again with the same inputs and options gives ${same ? 'a byte-identical file' : 'A DIFFERENT FILE'} (sha256 ${again.sha256.slice(0, 16)}...)`);

  const { evaluate } = await import('../lib/yolo/evaluate.js');
  log('');
  log('### Accuracy and speed on coco128 images 65-128 (LiteRT, wasm/XNNPACK, same run)');
  log('');
  log('| model | mAP50 | mAP50-95 | latency median (ms) | latency p90 (ms) | size (bytes) | latency / official | size / official |');
  log('|---|---|---|---|---|---|---|---|');
  const models: [string, string][] = [
    ['yolov5n-fp16.tflite (float reference)', fp16],
    ['yolov5n-int8.tflite (official converter)', official],
    ...runs.map(({ name, r }) => [`${name} (yolo-int8)`, r.out] as [string, string]),
  ];
  const results = [];
  for (const [name, file] of models) results.push({ name, r: await evaluate(file, { images, offset: 64, limit: 64 }) });
  const off = results[1].r;
  for (const { name, r } of results) {
    log(
      `| ${name} | ${fmt(r.mAP50)} | ${fmt(r.mAP50_95)} | ${fmt(r.latencyMs.median, 1)} | ${fmt(r.latencyMs.p90, 1)} | ${r.fileBytes} | ` +
        `${fmt(r.latencyMs.median / off.latencyMs.median, 2)} | ${fmt(r.fileBytes / off.fileBytes, 3)} |`,
    );
  }
  const float = results[0].r.mAP50_95;
  log('');
  for (const { name, r } of results.slice(2)) {
    log(`- ${name}: ${fmt((float - r.mAP50_95) * 100, 2)} mAP50-95 points below float; ${fmt((r.mAP50_95 - off.mAP50_95) * 100, 2)} points above the official int8`);
  }
  writeResultsSection('bench/quantize.ts', 'npm run bench', 'quantizeInt8 on YOLOv5n', lines.join('\n'));
  fs.rmSync(outDir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
