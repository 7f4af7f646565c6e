// Benchmark (not a test): observer cost on a realistic activation set: the 195 activation tensors (50.1M floats) of
// YOLOv5n at 640x640 after the default passes (shapes counted from the real graph), filled with
// SiLU-of-Gaussian values. The float forward pass of that model costs ~0.2 s on the wasm backend.
//
// With --models [N]: on YOLOv5n and YOLOv8n over N coco128 images (default 32), in one run, (1) the
// observers' share of calibration when every activation is observed ('all') and when only what the
// plan needs is ('plan', quantizeInt8's default; observation-plan.ts), for mse (the default method)
// and minmax; (2) how many activation tensors change parameters when the histogram policy changes
// (bins, subsampling); written to bench/RESULTS.md.
//
// With --kernels [N]: on the same two models over N coco128 images (default 16), the observers of a
// default calibration (the tensors it observes, with its methods) fed every activation three ways in
// turn, in one run: the JavaScript loops, the WebAssembly kernels on the wasm heap in place, and the
// kernels on copies (what the cpu and tfjs-node backends get); observer time per image and whether the
// statistics are bit-identical; written to bench/RESULTS.md.
import fs from 'node:fs';
import path from 'node:path';
import { calibrate, type CalibrationMethod } from '../lib/calibrate/calibrate.js';
import { HistogramObserver, MinMaxObserver, type HistogramObserverOptions } from '../lib/calibrate/observers.js';
import { ObserverKernels } from '../lib/calibrate/observer-kernels.js';
import { calibrateGraph, planFor, prepareGraph, writePlan, type PreparedGraph } from '../lib/quantize/stages.js';
import { resolveRecipe } from '../lib/quantize/recipe.js';
import type { ObserveMode } from '../lib/quantize/observation-plan.js';
import { YOLO_PLUGIN } from '../lib/yolo/plugin.js';
import { elementCount } from '../lib/ir/graph.js';
import { gaussian } from '../test/support/random.js';
import { resultsLog, writeResultsSection } from './results.js';

const YOLOV5N_640_ACTIVATIONS: Record<string, number> = {
  '1x644x644x3': 1, '1x320x320x16': 2, '1x322x322x16': 1, '1x160x160x32': 5, '1x160x160x16': 9,
  '1x162x162x32': 1, '1x80x80x64': 9, '1x80x80x32': 22, '1x82x82x64': 2, '1x40x40x128': 13,
  '1x40x40x64': 39, '1x42x42x128': 2, '1x20x20x256': 11, '1x20x20x128': 26, '1x20x20x512': 1,
  '1x40x40x256': 1, '1x80x80x128': 1, '1x80x80x255': 1, '1x6400x3x85': 2, '1x6400x3x2': 9,
  '1x6400x3x81': 2, '1x6400x3x0': 1, '1x19200x85': 1, '1x40x40x255': 1, '1x1600x3x85': 2,
  '1x1600x3x2': 9, '1x1600x3x81': 2, '1x1600x3x0': 1, '1x4800x85': 1, '1x20x20x255': 1,
  '1x400x3x85': 2, '1x400x3x2': 9, '1x400x3x81': 2, '1x400x3x0': 1, '1x1200x85': 1, '1x25200x85': 1,
};

// Run: npx tsx bench/observers.ts   (prints one line per calibration method)

async function synthetic(): Promise<void> {
  const tensors: { name: string; data: Float32Array }[] = [];
  // one SiLU(N(0, 2)) buffer per distinct shape, shared by the tensors of that shape (the observers
  // do not care that the values repeat; this keeps the setup cheap)
  let seed = 1;
  for (const [shape, count] of Object.entries(YOLOV5N_640_ACTIVATIONS)) {
    const n = shape.split('x').reduce((a, b) => a * Number(b), 1);
    const data = gaussian(n, seed++, 0, 2).map((x) => x / (1 + Math.exp(-x)));
    for (let i = 0; i < count; i++) tensors.push({ name: `${shape}#${i}`, data });
  }
  const totalFloats = tensors.reduce((a, t) => a + t.data.length, 0);
  console.log(`${tensors.length} activation tensors, ${totalFloats} floats per image (YOLOv5n at 640)`);
  console.log('| method | observers, wall (ms/image) | observers, CPU (ms/image) | ns/float | range selection, 195 tensors (ms) |');
  console.log('|---|---|---|---|---|');
  for (const method of ['minmax', 'percentile', 'mse', 'entropy'] as CalibrationMethod[]) {
    const samples = 3;
    let forwardMs = 0;
    let cpuMicros = 0;
    const res = await calibrate({
      tensors: tensors.map((t) => t.name),
      samples: Array.from({ length: samples }, () => new Float32Array(1)),
      numSamples: samples,
      // this "forward" does nothing but report: its time is the observers' time
      forward: async (_x, onTensor) => {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        for (const t of tensors) onTensor(t.name, t.data);
        const c = process.cpuUsage(c0);
        cpuMicros += c.user + c.system;
        forwardMs += performance.now() - t0;
      },
      method,
    });
    const perImage = res.observeSeconds / samples;
    const cpuPerImage = cpuMicros / 1e6 / samples;
    const selection = res.seconds - forwardMs / 1000;
    console.log(
      `| ${method} | ${(perImage * 1000).toFixed(1)} | ${(cpuPerImage * 1000).toFixed(1)} | ${((cpuPerImage * 1e9) / totalFloats).toFixed(2)} | ${(selection * 1000).toFixed(0)} |`,
    );
  }
  console.log('(the float forward pass of YOLOv5n at 640 costs about 200 ms on the wasm backend)');
}

const fixtures = path.resolve(import.meta.dirname, '../../shared/fixtures');
const MODELS: Record<string, string> = {
  'YOLOv5n TF.js graph model': path.join(fixtures, 'yolov5n_web_model'),
  'YOLOv8n dynamic-range .tflite': path.join(fixtures, 'yolov8n/yolov8n_int8.tflite'),
};

interface Run {
  observed: number;
  /** Values observed per image (the observers' work, independent of the machine's load). */
  floats: number;
  tensors: number;
  observeSeconds: number;
  seconds: number;
  params: Map<string, string>;
  tflite: Uint8Array;
}

/** quantizeInt8's calibration and plan (int8 outputs) with the observation mode and histogram policy given. */
async function calibrateWith(prepared: PreparedGraph, images: string[], method: CalibrationMethod, observe: ObserveMode, histogram?: HistogramObserverOptions): Promise<Run> {
  const recipe = resolveRecipe({ calibration: method });
  const { calibrated } = await calibrateGraph(prepared, recipe, { representativeDataset: images, numCalibrationSamples: images.length, observe, plannedOutputType: 'int8', histogram }, YOLO_PLUGIN);
  const plan = planFor(calibrated, recipe, { outputType: 'int8' });
  const params = new Map<string, string>();
  for (const t of plan.tensors.values()) if (t.role === 'activation' && t.scale) params.set(t.name, `${t.scale.join(',')} ${t.zeroPoint!.join(',')}`);
  const c = calibrated.calibration;
  let floats = 0;
  for (const [t, r] of c.ranges) if (!r.derived) floats += elementCount(calibrated.prepared.graph.tensors.get(t)!.shape);
  return { observed: c.observed, floats, tensors: c.ranges.size, observeSeconds: c.observeSeconds, seconds: c.seconds, params, tflite: writePlan(calibrated.graph, plan, { description: 'bench', where: 'bench/observers.ts' }) };
}

const changedParams = (a: Run, b: Run) => [...a.params].filter(([t, p]) => b.params.get(t) !== p).length;
const sameFile = (a: Run, b: Run) => Buffer.from(a.tflite).equals(Buffer.from(b.tflite));

/** Observer share with every activation observed and with only what the plan needs, per model and method. */
async function observerShare(log: (s: string) => void, prepared: Map<string, PreparedGraph>, images: string[]): Promise<void> {
  log(`### Observers doing only what the plan needs (${images.length} images)`);
  log('');
  log('| model | method | tensors observed, all / plan | M values observed per image, all / plan | observers (s), all / plan | calibration (s), all / plan | observer share, all / plan | observer time plan/all | same file |');
  log('|---|---|---|---|---|---|---|---|---|');
  for (const [label, p] of prepared) {
    for (const method of ['mse', 'minmax'] as CalibrationMethod[]) {
      const all = await calibrateWith(p, images, method, 'all');
      const plan = await calibrateWith(p, images, method, 'plan');
      const pct = (r: Run) => `${((100 * r.observeSeconds) / r.seconds).toFixed(1)} %`;
      const mega = (r: Run) => (r.floats / 1e6).toFixed(1);
      log(`| ${label} | ${method} | ${all.observed} / ${plan.observed} of ${all.tensors} | ${mega(all)} / ${mega(plan)} | ${all.observeSeconds.toFixed(2)} / ${plan.observeSeconds.toFixed(2)} | ${all.seconds.toFixed(1)} / ${plan.seconds.toFixed(1)} | ${pct(all)} / ${pct(plan)} | ${(plan.observeSeconds / all.observeSeconds).toFixed(2)} | ${sameFile(all, plan) ? 'yes' : 'NO'} |`);
    }
  }
  log('');
}

const POLICIES: Record<string, HistogramObserverOptions> = {
  '1024 bins': { bins: 1024 },
  '8192 bins': { bins: 8192 },
  'no subsampling': { maxSamplesPerObserve: 0 },
};

/** How many activation tensors change parameters (mse, the default) when the histogram policy changes. */
async function histogramPolicy(log: (s: string) => void, prepared: Map<string, PreparedGraph>, images: string[]): Promise<void> {
  log(`### Histogram policy against today's (2048 bins, 64 Ki values per observation in blocks of 1024; mse; ${images.length} images)`);
  log('');
  log(`| model | policy | activation tensors with other parameters | same file |`);
  log('|---|---|---|---|');
  for (const [label, p] of prepared) {
    const today = await calibrateWith(p, images, 'mse', 'plan');
    for (const [name, histogram] of Object.entries(POLICIES)) {
      const other = await calibrateWith(p, images, 'mse', 'plan', histogram);
      log(`| ${label} | ${name} | ${changedParams(today, other)} of ${today.params.size} | ${sameFile(today, other) ? 'yes' : 'no'} |`);
    }
  }
  log('');
}

async function models(n: number): Promise<void> {
  const { log, lines } = resultsLog();
  const dir = path.join(fixtures, 'coco128/images');
  const images = fs.readdirSync(dir).sort().slice(0, n).map((f) => path.join(dir, f));
  const prepared = new Map<string, PreparedGraph>();
  for (const [label, source] of Object.entries(MODELS)) prepared.set(label, await prepareGraph(source, {}, YOLO_PLUGIN));
  await observerShare(log, prepared, images);
  await histogramPolicy(log, prepared, images.slice(0, Math.min(8, n)));
  writeResultsSection('bench/observers.ts --models', `npx tsx bench/observers.ts --models ${n}`, 'Observers: only what the plan needs; histogram policy', lines.join('\n'));
}

type AnyObserver = MinMaxObserver | HistogramObserver;
const KERNEL_WAYS = ['JavaScript', 'kernels in place', 'kernels on copies'] as const;

/** One observer per observed tensor of a default calibration, of the kind its method needs. */
function observersFor(ranges: Map<string, { method: CalibrationMethod; derived?: string }>, kernels: ObserverKernels | null): Map<string, AnyObserver> {
  const out = new Map<string, AnyObserver>();
  for (const [name, r] of ranges) {
    if (r.derived) continue;
    out.set(name, r.method === 'minmax' ? new MinMaxObserver(name, kernels) : new HistogramObserver(name, {}, kernels));
  }
  return out;
}

/** Whether two observers saw the same statistics, bit for bit (extremes, count, histogram). */
function sameStatistics(a: AnyObserver, b: AnyObserver): boolean {
  const mm = (o: AnyObserver) => (o instanceof HistogramObserver ? o.minMax : o);
  if (![mm(a).min, mm(a).max, mm(a).count].every((v, i) => Object.is(v, [mm(b).min, mm(b).max, mm(b).count][i]))) return false;
  if (!(a instanceof HistogramObserver && b instanceof HistogramObserver) || mm(a).count === 0) return true;
  const [x, y] = [a.snapshot(), b.snapshot()];
  return x.lo === y.lo && x.binWidth === y.binWidth && Buffer.from(x.counts.buffer).equals(Buffer.from(y.counts.buffer));
}

/** Observer time per image of the three ways (interleaved per tensor, order rotated per image). */
async function kernelRow(label: string, p: PreparedGraph, images: string[]): Promise<string> {
  const recipe = resolveRecipe({});
  const { calibrated, executor } = await calibrateGraph(p, recipe, { representativeDataset: images, numCalibrationSamples: images.length, keepInputs: images.length, keepExecutor: true }, YOLO_PLUGIN);
  const ex = executor!;
  try {
    const ranges = calibrated.calibration.ranges;
    const kernelSets = [null, ObserverKernels.create(ex.heapMemory()), ObserverKernels.create()];
    const sets = kernelSets.map((k) => observersFor(ranges, k));
    const ms = [0, 0, 0];
    let values = 0;
    let inPlace = 0;
    let reports = 0;
    for (const [sample, input] of calibrated.keptInputs!.entries()) {
      await ex.stream(input, {
        fetch: [],
        onTensor: (name, data) => {
          if (!sets[0].has(name)) return;
          values += data.length;
          reports++;
          if (kernelSets[1]!.onHeap(data)) inPlace++;
          for (let j = 0; j < 3; j++) {
            const w = (j + sample) % 3;
            const t0 = performance.now();
            sets[w].get(name)!.observe(data, sample);
            ms[w] += performance.now() - t0;
          }
        },
      });
    }
    const same = [...sets[0]].every(([name, o]) => sameStatistics(o, sets[1].get(name)!) && sameStatistics(o, sets[2].get(name)!));
    const per = ms.map((m) => m / images.length);
    return `| ${label} | ${sets[0].size} | ${(values / images.length / 1e6).toFixed(1)} | ${inPlace} of ${reports} | ${per.map((m) => m.toFixed(1)).join(' | ')} | ${(per[0] / per[1]).toFixed(2)}x | ${(per[0] / per[2]).toFixed(2)}x | ${same ? 'yes' : 'NO'} |`;
  } finally {
    ex.dispose();
  }
}

async function kernelBench(n: number): Promise<void> {
  const { log, lines } = resultsLog();
  const dir = path.join(fixtures, 'coco128/images');
  const images = fs.readdirSync(dir).sort().slice(0, n).map((f) => path.join(dir, f));
  log(`### Observers' WebAssembly kernels against the JavaScript loops (default calibration, mse; ${images.length} images)`);
  log('');
  log(`| model | tensors observed | M values per image | views read in place | ${KERNEL_WAYS.map((w) => `${w} (ms/image)`).join(' | ')} | speed-up in place | speed-up on copies | same statistics |`);
  log('|---|---|---|---|---|---|---|---|---|---|');
  for (const [label, source] of Object.entries(MODELS)) log(await kernelRow(label, await prepareGraph(source, {}, YOLO_PLUGIN), images));
  log('');
  writeResultsSection('bench/observers.ts --kernels', `npx tsx bench/observers.ts --kernels ${n}`, "Observers' WebAssembly kernels", lines.join('\n'));
}

async function main(): Promise<void> {
  const k = process.argv.indexOf('--kernels');
  if (k >= 0) {
    const n = Number(process.argv[k + 1] ?? 16);
    if (!(Number.isInteger(n) && n >= 1)) throw new Error(`bench/observers.ts: --kernels takes a number of images, got '${process.argv[k + 1]}'`);
    return kernelBench(n);
  }
  const i = process.argv.indexOf('--models');
  if (i < 0) return synthetic();
  const n = Number(process.argv[i + 1] ?? 32);
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`bench/observers.ts: --models takes a number of images, got '${process.argv[i + 1]}'`);
  return models(n);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
