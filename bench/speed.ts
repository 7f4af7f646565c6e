// Calibration speed against this machine's floor (issue 20): for YOLOv5n (TF.js graph model) and
// YOLOv8n (dynamic-range .tflite), with N calibration images, in one run:
//   floor     N single-thread LiteRT passes of the model's float export (inputs prepared beforehand);
//   quantize  quantizeInt8 wall time with default options on N images (decoded from disk as a user's
//             would be), its split (float passes, observers, time the passes waited for decoded
//             images - they are decoded ahead in a worker thread -, the rest) and peak RSS.
// --decode thread,worker runs each (model, N) once per mode, in that order, `--repeat` times (the modes
// alternate, so a change in the machine's load falls on both): decodeInWorker false / true. In-thread,
// "waiting for images" is the whole decode time and the float passes run alone; with the worker, the
// float passes share the machine with the decode (the per-image pass time shows what that costs).
// Each (model, N) runs in a child process, so one run's peak RSS cannot hide in another's; in the
// child the quantization runs first (its peak is read before the floor allocates anything).
// Run: npm run bench:speed  [-- --n 64,300] [--models yolov5n,yolov8n] [--decode worker] [--repeat 1]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
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

type DecodeMode = 'worker' | 'thread';

interface ChildResult {
  model: string;
  n: number;
  decode: DecodeMode;
  sha256: string;
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

async function child(model: string, n: number, decode: DecodeMode): Promise<void> {
  const { quantizeInt8 } = await import('../lib/index.js');
  const { source } = MODELS[model];
  const images = imageList(n);
  const t0 = performance.now();
  const { tflite, report } = await quantizeInt8(source, { representativeDataset: images, numCalibrationSamples: n, decodeInWorker: decode === 'worker' });
  const quantizeSeconds = (performance.now() - t0) / 1000;
  if (report.calibration.samples !== n) throw new Error(`calibrated on ${report.calibration.samples} samples, expected ${n}`);
  const peak = peakRssMiB();
  const cal = report.calibration;
  const result: ChildResult = {
    model, n, decode, sha256: createHash('sha256').update(tflite).digest('hex'), quantizeSeconds,
    floorSeconds: await floorSeconds(source, images, n),
    forwardSeconds: cal.forwardSeconds,
    observeSeconds: cal.observeSeconds ?? null,
    decodeSeconds: cal.decodeSeconds ?? null,
    peakRssMiB: peak,
  };
  console.log(`RESULT ${JSON.stringify(result)}`);
}

/** One (model, N, decode mode) in its own child process. */
function runChild(model: string, n: number, decode: DecodeMode): ChildResult {
  const args = [...process.execArgv, thisFile, '--child-model', model, '--child-n', String(n), '--child-decode', decode];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) throw new Error(`${model} with ${n} images (${decode}) failed (status ${r.status}):\n${r.stderr.slice(-4000)}`);
  const result = JSON.parse(line.slice(7)) as ChildResult;
  console.error(`  ${model} N=${n} ${decode}: ${row(result)} sha256 ${result.sha256.slice(0, 16)}`);
  return result;
}

function row(r: ChildResult): string {
  const f = (x: number | null) => (x === null ? '-' : x.toFixed(1));
  const rest = r.quantizeSeconds - r.forwardSeconds - (r.decodeSeconds ?? 0);
  return `| ${MODELS[r.model].label} | ${r.n} | ${r.decode} | ${r.floorSeconds.toFixed(1)} | ${r.quantizeSeconds.toFixed(1)} | **${(r.quantizeSeconds / r.floorSeconds).toFixed(2)}x** | ` +
    `${f(r.forwardSeconds)} (observers ${f(r.observeSeconds)}) | ${(1000 * r.forwardSeconds / r.n).toFixed(0)} | ${f(r.decodeSeconds)} | ${rest.toFixed(1)} | ${r.peakRssMiB.toFixed(0)} |`;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return Number.isInteger(mid) ? (sorted[mid - 1] + sorted[mid]) / 2 : sorted[Math.floor(mid)];
}

/**
 * Worker against in-thread decoding, per (model, N) run both ways: the median over the repeats of
 * worker / thread for the wall time and the float passes' time per image, and whether every run wrote
 * the same bytes.
 */
function modeComparison(results: ChildResult[]): string[] {
  const lines: string[] = [];
  for (const key of new Set(results.map((r) => `${r.model} ${r.n}`))) {
    const runs = results.filter((r) => `${r.model} ${r.n}` === key);
    const thread = runs.filter((r) => r.decode === 'thread');
    const worker = runs.filter((r) => r.decode === 'worker');
    if (!thread.length || !worker.length) continue;
    const ratio = (f: (r: ChildResult) => number) => (median(worker.map(f)) / median(thread.map(f))).toFixed(2);
    const same = new Set(runs.map((r) => r.sha256)).size === 1;
    lines.push('', `${MODELS[runs[0].model].label}, N = ${runs[0].n}, ${worker.length} + ${thread.length} runs: worker / in-thread (medians): ` +
      `quantizeInt8 ${ratio((r) => r.quantizeSeconds)}x, float passes per image ${ratio((r) => r.forwardSeconds)}x, ` +
      `ratio to the floor ${ratio((r) => r.quantizeSeconds / r.floorSeconds)}x; same file bytes: ${same ? 'yes' : 'NO'} (sha256 ${runs[0].sha256.slice(0, 16)}...)`);
  }
  return lines;
}

async function main(): Promise<void> {
  const childModel = arg('--child-model');
  if (childModel) return child(childModel, Number(arg('--child-n')), arg('--child-decode') as DecodeMode);
  if (!fs.existsSync(imageDir)) {
    console.log(`fixtures not found at ${fixtures}; nothing to measure`);
    return;
  }
  const ns = (arg('--n') ?? '64,300').split(',').map(Number);
  const models = (arg('--models') ?? 'yolov5n,yolov8n').split(',');
  const modes = (arg('--decode') ?? 'worker').split(',') as DecodeMode[];
  if (modes.some((m) => m !== 'worker' && m !== 'thread')) throw new Error(`--decode: worker and/or thread, got '${arg('--decode')}'`);
  const repeat = Number(arg('--repeat') ?? 1);
  const results: ChildResult[] = [];
  for (const model of models) {
    for (const n of ns) {
      for (let k = 0; k < repeat; k++) for (const decode of modes) results.push(runChild(model, n, decode));
    }
  }
  const { log, lines } = resultsLog();
  log('Default options, 2 vCPUs; the floor is N single-thread LiteRT float passes of the float export (same run, same child process).');
  log('Target: quantizeInt8 <= 1.6x the floor for N = 64 and 300 on both models; peak RSS <= 1 GB at 300 images.');
  log('');
  log('| model | N | decode | floor (s) | quantizeInt8 (s) | ratio | float passes (s) | per image (ms) | waiting for images (s) | rest (s) | peak RSS (MiB) |');
  log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) log(row(r));
  for (const line of modeComparison(results)) log(line);
  writeResultsSection('bench/speed.ts', 'npm run bench:speed', 'Calibration speed against the LiteRT floor', lines.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
