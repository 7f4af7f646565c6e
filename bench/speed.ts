// Calibration speed against this machine's floor (issue 20): for YOLOv5n (TF.js graph model) and
// YOLOv8n (dynamic-range .tflite), with N calibration images, in one run:
//   floor     N single-thread LiteRT passes of the model's float export (inputs prepared beforehand);
//   quantize  quantizeInt8 wall time with default options on N images (decoded from disk as a user's
//             would be), its split (float passes, observers, time the passes waited for decoded
//             images - they are decoded ahead in a worker thread -, the rest) and peak RSS.
// Each (model, N) runs in a child process, so one run's peak RSS cannot hide in another's; in the
// child the quantization runs first (its peak is read before the floor allocates anything).
// Run: npm run bench:speed  [-- --n 64,300] [--models yolov5n,yolov8n]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resultsLog, writeResultsSection } from './results.js';

const thisFile = fileURLToPath(import.meta.url);
const fixtures = path.resolve(path.dirname(thisFile), '../../shared/fixtures');
const imageDir = path.join(fixtures, 'coco128/images');
const MODELS: Record<string, { label: string; source: string }> = {
  yolov5n: { label: 'YOLOv5n TF.js graph model', source: path.join(fixtures, 'yolov5n_web_model') },
  yolov8n: { label: 'YOLOv8n dynamic-range .tflite', source: path.join(fixtures, 'yolov8n/yolov8n_int8.tflite') },
};
/** Distinct prepared inputs the floor cycles through (a pass's time does not depend on the pixels). */
const FLOOR_INPUTS = 8;

interface ChildResult {
  model: string;
  n: number;
  quantizeSeconds: number;
  floorSeconds: number;
  forwardSeconds: number;
  observeSeconds: number | null;
  decodeSeconds: number | null;
  peakRssMiB: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+)\s+kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

/** N image paths: coco128's first 64 (sorted) for N <= 64, else all 128 cycled. */
function imageList(n: number): string[] {
  const all = fs.readdirSync(imageDir).filter((f) => f.endsWith('.jpg')).sort();
  const pool = n <= 64 ? all.slice(0, 64) : all;
  return Array.from({ length: n }, (_, i) => path.join(imageDir, pool[i % pool.length]));
}

async function floorSeconds(source: string, images: string[], n: number): Promise<number> {
  const { exportFloatTflite, TfliteRunner, imageToInput } = await import('../lib/index.js');
  const { tflite } = await exportFloatTflite(source);
  const runner = await TfliteRunner.load(tflite, { numThreads: 1 });
  try {
    const desc = runner.inputs[0];
    const inputs = [];
    for (const file of images.slice(0, FLOOR_INPUTS)) inputs.push((await imageToInput(file, desc)).data);
    await runner.run([inputs[0]]); // warm-up: the first run compiles
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await runner.run([inputs[i % inputs.length]]);
    return (performance.now() - t0) / 1000;
  } finally {
    runner.dispose();
  }
}

async function child(model: string, n: number): Promise<void> {
  const { quantizeInt8 } = await import('../lib/index.js');
  const { source } = MODELS[model];
  const images = imageList(n);
  const t0 = performance.now();
  const { report } = await quantizeInt8(source, { representativeDataset: images, numCalibrationSamples: n });
  const quantizeSeconds = (performance.now() - t0) / 1000;
  if (report.calibration.samples !== n) throw new Error(`calibrated on ${report.calibration.samples} samples, expected ${n}`);
  const peak = peakRssMiB();
  const cal = report.calibration;
  const result: ChildResult = {
    model, n, quantizeSeconds,
    floorSeconds: await floorSeconds(source, images, n),
    forwardSeconds: cal.forwardSeconds,
    observeSeconds: cal.observeSeconds ?? null,
    decodeSeconds: cal.decodeSeconds ?? null,
    peakRssMiB: peak,
  };
  console.log(`RESULT ${JSON.stringify(result)}`);
}

function row(r: ChildResult): string {
  const f = (x: number | null) => (x === null ? '-' : x.toFixed(1));
  const rest = r.quantizeSeconds - r.forwardSeconds - (r.decodeSeconds ?? 0);
  return `| ${MODELS[r.model].label} | ${r.n} | ${r.floorSeconds.toFixed(1)} | ${r.quantizeSeconds.toFixed(1)} | **${(r.quantizeSeconds / r.floorSeconds).toFixed(2)}x** | ` +
    `${f(r.forwardSeconds)} (observers ${f(r.observeSeconds)}) | ${f(r.decodeSeconds)} | ${rest.toFixed(1)} | ${r.peakRssMiB.toFixed(0)} |`;
}

async function main(): Promise<void> {
  const childModel = arg('--child-model');
  if (childModel) return child(childModel, Number(arg('--child-n')));
  if (!fs.existsSync(imageDir)) {
    console.log(`fixtures not found at ${fixtures}; nothing to measure`);
    return;
  }
  const ns = (arg('--n') ?? '64,300').split(',').map(Number);
  const models = (arg('--models') ?? 'yolov5n,yolov8n').split(',');
  const results: ChildResult[] = [];
  for (const model of models) {
    for (const n of ns) {
      const r = spawnSync(process.execPath, [...process.execArgv, thisFile, '--child-model', model, '--child-n', String(n)], { encoding: 'utf8', maxBuffer: 64 << 20 });
      const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (r.status !== 0 || !line) throw new Error(`${model} with ${n} images failed (status ${r.status}):\n${r.stderr.slice(-4000)}`);
      results.push(JSON.parse(line.slice(7)) as ChildResult);
      console.error(`  ${model} N=${n}: ${row(results[results.length - 1])}`);
    }
  }
  const { log, lines } = resultsLog();
  log('Default options, 2 vCPUs; the floor is N single-thread LiteRT float passes of the float export (same run, same child process).');
  log('Target: quantizeInt8 <= 1.6x the floor for N = 64 and 300 on both models; peak RSS <= 1 GB at 300 images.');
  log('');
  log('| model | N | floor (s) | quantizeInt8 (s) | ratio | float passes (s) | waiting for images (s) | rest (s) | peak RSS (MiB) |');
  log('|---|---|---|---|---|---|---|---|---|');
  for (const r of results) log(row(r));
  writeResultsSection('bench/speed.ts', 'npm run bench:speed', 'Calibration speed against the LiteRT floor', lines.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
