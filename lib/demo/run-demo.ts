// `yolo-int8 demo`: the whole pipeline offline, on the embedded demo detector and generated images.
// Calibration and test images come from lib/demo/synthetic.ts with fixed seeds, so two runs print
// the same table (latencies aside).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type * as tf from '@tensorflow/tfjs';
import { importModel } from '../graph/importers/index.js';
import { runDefaultPasses } from '../graph/passes/index.js';
import { createFloatExecutor } from '../graph/execute.js';
import type { Graph } from '../ir/graph.js';
import { quantizeInt8, exportFloatTflite, type QuantizeReport } from '../yolo/quantize.js';
import { writeFileAtomic } from '../util/fs.js';
import { decodeImage } from '../pipeline/image.js';
import { imageToInput } from '../pipeline/input.js';
import {
  evaluate, percentile, loadYoloModel, decodeModelOutputs, nonMaxSuppression, detectionsToOriginal, EVAL_NMS,
  matchImage, apPerClass, loadDataset, readYoloLabels, labelsToPixels, drawDetections,
  type ImageStats, type Detection, type YoloHeadSpec,
} from '../yolo/index.js';
import { DEMO_SEEDS, writeDataset } from './synthetic.js';
import { countImage, precisionRecall, DEMO_OPERATING_NMS, DEMO_SCORE_THRESHOLD, type OperatingPointCounts } from './operating-point.js';
import { DEMO_CLASS_NAMES, DEMO_HEAD, DEMO_INPUT_SIZE, demoModelDir, loadDemoModel } from './model.js';

export interface RunDemoOptions {
  /**
   * Folder for the generated images, the int8 model and the annotated PNG, kept. Default: a new temp
   * folder that is removed before runDemo returns (success or failure), so nothing is left behind.
   */
  outDir?: string;
  /** Progress of the long steps: 'generate', 'calibrate', 'evaluate float', 'evaluate int8'. */
  onProgress?: (step: string, done: number, total: number) => void;
  /** Human-readable lines (what is happening, the final table). */
  log?: (line: string) => void;
  /** Number of calibration images (default 64). */
  calibrationImages?: number;
  /** Number of labelled test images (default 64). */
  testImages?: number;
  /** The float detector (default: the embedded trained demo model, loadDemoModel()). */
  model?: tf.LayersModel;
  /**
   * How the float row is computed: 'litert-float-tflite' (default) exports the float graph to a
   * .tflite and runs it with LiteRT like the int8 model; 'tfjs-ir' runs the float IR on TF.js.
   */
  floatRuntime?: 'litert-float-tflite' | 'tfjs-ir';
}

export interface DemoModelRow {
  name: string;
  mAP50: number;
  mAP50_95: number;
  /**
   * At DEMO_OPERATING_NMS: detections that match a label (same class, IoU >= 0.5, each label once)
   * over all detections, and over all labels. A duplicate box on an object counts as a false positive.
   */
  precision: number;
  recall: number;
  latencyMs: { median: number; p90: number; mean: number };
  fileBytes: number;
}

export interface RunDemoResult {
  outDir: string;
  /** True when outDir was a temp folder, now removed (with the model and PNG it held). */
  removed: boolean;
  int8Model: string;
  testDataset: string;
  annotatedPng: string;
  /** How the float model was run: LiteRT on a float .tflite, or the float IR on TF.js. */
  floatRuntime: 'litert-float-tflite' | 'tfjs-ir';
  float: DemoModelRow;
  int8: DemoModelRow;
  /** Detections drawn into annotatedPng (int8 model, first test image, DEMO_OPERATING_NMS: score > 0.3, IoU 0.45). */
  detections: (Detection & { className: string })[];
  calibration: { samples: number; seconds: number; method: string };
  allInteger: boolean;
  table: string;
  seconds: number;
}

/** The table the demo prints (same columns as `yolo-int8 eval`). */
export function formatDemoTable(rows: DemoModelRow[]): string {
  const header = ['model', 'mAP50', 'mAP50-95', `precision@${DEMO_SCORE_THRESHOLD}`, `recall@${DEMO_SCORE_THRESHOLD}`, 'latency median', 'latency p90', 'size'];
  const cells = rows.map((r) => [
    r.name,
    r.mAP50.toFixed(3),
    r.mAP50_95.toFixed(3),
    r.precision.toFixed(3),
    r.recall.toFixed(3),
    `${r.latencyMs.median.toFixed(2)} ms`,
    `${r.latencyMs.p90.toFixed(2)} ms`,
    Number.isFinite(r.fileBytes) ? `${(r.fileBytes / 1000).toFixed(1)} KB` : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** Precision and recall of a .tflite detector on a labelled dataset at DEMO_OPERATING_NMS, run with LiteRT. */
async function precisionRecallTflite(model: string, datasetYaml: string): Promise<{ precision: number; recall: number }> {
  const yolo = await loadYoloModel(model);
  try {
    const acc: OperatingPointCounts = { truePositives: 0, detections: 0, labels: 0 };
    for (const item of loadDataset(datasetYaml).items) {
      const img = await decodeImage(item.image);
      const { detections } = await yolo.detect(item.image, DEMO_OPERATING_NMS);
      countImage(acc, detections, labelsToPixels(readYoloLabels(item.labels), img.width, img.height));
    }
    return precisionRecall(acc);
  } finally {
    yolo.runner.dispose();
  }
}

/** The head spec the demo graph carries: the importer's, or DEMO_HEAD when the importer did not set one. */
function ensureHead(graph: Graph): YoloHeadSpec {
  // The layers importer may not copy the model's userDefinedMetadata head into the graph; the demo
  // model's head is known here, so quantizeInt8 still splits the graph at the per-level sigmoids.
  // With the class names, so the int8 file names its classes ('square', not 'class 1').
  const named: YoloHeadSpec = { ...DEMO_HEAD, classNames: [...DEMO_CLASS_NAMES] };
  if (graph.meta.headSpec?.kind !== DEMO_HEAD.kind) graph.meta.headSpec = named;
  return graph.meta.headSpec as YoloHeadSpec;
}

/**
 * Float-model evaluation on the TF.js IR executor, with exactly the decode / NMS / mAP code that
 * evaluate() uses for .tflite models, so the two rows of the table differ only by the model.
 */
async function evaluateFloatIr(
  graph: Graph,
  head: YoloHeadSpec,
  datasetYaml: string,
  onProgress: (done: number, total: number) => void,
): Promise<Omit<DemoModelRow, 'name' | 'fileBytes'>> {
  const exec = await createFloatExecutor(graph);
  try {
    const inputName = graph.inputs[0];
    const inputDesc = { name: inputName, dtype: 'float32', shape: graph.tensors.get(inputName)!.shape };
    const infos = graph.outputs.map((name) => ({ name, shape: graph.tensors.get(name)!.shape }));
    const { items } = loadDataset(datasetYaml);
    const stats: ImageStats[] = [];
    const times: number[] = [];
    const acc: OperatingPointCounts = { truePositives: 0, detections: 0, labels: 0 };
    for (const [i, item] of items.entries()) {
      const img = await decodeImage(item.image);
      const input = await imageToInput(img, inputDesc);
      const t0 = performance.now();
      const out = await exec.run(input.data as Float32Array);
      times.push(performance.now() - t0);
      const { rows, numClasses } = decodeModelOutputs(graph.outputs.map((n) => out[n]), infos, [inputDesc.shape[1], inputDesc.shape[2]], head);
      const dets = detectionsToOriginal(nonMaxSuppression(rows, numClasses, EVAL_NMS), input.transform);
      const labels = labelsToPixels(readYoloLabels(item.labels, numClasses), img.width, img.height);
      stats.push(matchImage(dets, labels));
      countImage(acc, detectionsToOriginal(nonMaxSuppression(rows, numClasses, DEMO_OPERATING_NMS), input.transform), labels);
      onProgress(i + 1, items.length);
    }
    const ap = apPerClass(stats);
    return {
      mAP50: ap.mAP50,
      mAP50_95: ap.mAP50_95,
      ...precisionRecall(acc),
      latencyMs: { median: percentile(times, 50), p90: percentile(times, 90), mean: times.reduce((a, b) => a + b, 0) / times.length },
    };
  } finally {
    exec.dispose();
  }
}

function dirBytes(dir: string): number {
  return fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

type Progress = NonNullable<RunDemoOptions['onProgress']>;

/** The float row: the graph exported as float32 .tflite and run in LiteRT (or, on request, the IR on TF.js). */
async function evaluateFloat(options: RunDemoOptions, floatGraph: Graph, head: ReturnType<typeof ensureHead>, outDir: string, testYaml: string, progress: Progress): Promise<{ row: DemoModelRow; runtime: RunDemoResult['floatRuntime'] }> {
  // The same graph as the int8 model, so the two rows differ only by quantization.
  if (options.floatRuntime !== 'tfjs-ir') {
    const floatPath = path.join(outDir, 'demo-float.tflite');
    const exported = await exportFloatTflite(floatGraph);
    await writeFileAtomic(floatPath, exported.tflite);
    const r = await evaluate(floatPath, { images: testYaml, onProgress: (d, t) => progress('evaluate float', d, t) });
    const pr = await precisionRecallTflite(floatPath, testYaml);
    return { row: { name: 'float32 (.tflite)', mAP50: r.mAP50, mAP50_95: r.mAP50_95, ...pr, latencyMs: r.latencyMs, fileBytes: r.fileBytes }, runtime: 'litert-float-tflite' };
  }
  const r = await evaluateFloatIr(floatGraph, head, testYaml, (d, t) => progress('evaluate float', d, t));
  return { row: { name: 'float32 (TF.js)', ...r, fileBytes: options.model ? NaN : dirBytes(demoModelDir()) }, runtime: 'tfjs-ir' };
}

/** The int8 model's detections on the first test image, drawn with the demo's class names. */
async function annotate(int8Model: string, image: string, png: string): Promise<Detection[]> {
  const yolo = await loadYoloModel(int8Model);
  let detections: Detection[];
  try {
    detections = (await yolo.detect(image, DEMO_OPERATING_NMS)).detections;
  } finally {
    yolo.runner.dispose();
  }
  await drawDetections(image, detections, png, [...DEMO_CLASS_NAMES]);
  return detections;
}

/** The embedded demo model unless the caller gave one. */
async function demoModel(options: RunDemoOptions): Promise<NonNullable<RunDemoOptions['model']>> {
  if (options.model) return options.model;
  const dir = demoModelDir();
  if (!fs.existsSync(path.join(dir, 'model.json'))) {
    throw new Error(`the embedded demo model is missing (${path.join(dir, 'model.json')}); reinstall yolo-int8`);
  }
  return loadDemoModel();
}

export async function runDemo(options: RunDemoOptions = {}): Promise<RunDemoResult> {
  if (options.outDir !== undefined) {
    fs.mkdirSync(options.outDir, { recursive: true });
    return runDemoIn(options.outDir, false, options);
  }
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-int8-demo-'));
  try {
    return await runDemoIn(temp, true, options);
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
}

/** The demo with its files in `outDir`; `temporary`: the caller removes outDir afterwards. */
async function runDemoIn(outDir: string, temporary: boolean, options: RunDemoOptions): Promise<RunDemoResult> {
  const t0 = performance.now();
  const log = options.log ?? (() => {});
  const progress = options.onProgress ?? (() => {});
  const numCalib = options.calibrationImages ?? 64;
  const numTest = options.testImages ?? 64;
  const model = await demoModel(options);

  log(`demo: writing ${numCalib} calibration and ${numTest} test images (${DEMO_INPUT_SIZE}x${DEMO_INPUT_SIZE} synthetic shapes) to ${outDir}`);
  progress('generate', 0, 2);
  const calib = await writeDataset(path.join(outDir, 'calibration'), { count: numCalib, seed: DEMO_SEEDS.calibration, size: DEMO_INPUT_SIZE, split: 'calib' });
  progress('generate', 1, 2);
  const test = await writeDataset(path.join(outDir, 'test'), { count: numTest, seed: DEMO_SEEDS.test, size: DEMO_INPUT_SIZE, split: 'test' });
  progress('generate', 2, 2);

  // Two imports: quantizeInt8 runs its passes on the graph it is given, the float run gets its own.
  const floatGraph = runDefaultPasses(await importModel(model, { label: 'demo model' }));
  const head = ensureHead(floatGraph);
  const quantGraph = await importModel(model, { label: 'demo model' });
  ensureHead(quantGraph);

  log(`demo: quantizing to int8 (${numCalib} calibration images)`);
  const { tflite, report } = await quantizeInt8(quantGraph, {
    representativeDataset: calib.imagesDir,
    numCalibrationSamples: numCalib,
    onProgress: (step, done, total) => {
      if (step === 'calibrate') progress('calibrate', done, total);
    },
  });
  const int8Model = path.join(outDir, 'demo-int8.tflite');
  await writeFileAtomic(int8Model, tflite);

  log('demo: evaluating the float model');
  const { row: floatRow, runtime: floatRuntime } = await evaluateFloat(options, floatGraph, head, outDir, test.yamlPath, progress);
  log('demo: evaluating the int8 model');
  const r8 = await evaluate(int8Model, { images: test.yamlPath, onProgress: (d, t) => progress('evaluate int8', d, t) });
  const pr8 = await precisionRecallTflite(int8Model, test.yamlPath);
  const int8Row: DemoModelRow = { name: 'int8 (.tflite)', mAP50: r8.mAP50, mAP50_95: r8.mAP50_95, ...pr8, latencyMs: r8.latencyMs, fileBytes: r8.fileBytes };
  const annotatedPng = path.join(outDir, 'detections.png');
  const detections = await annotate(int8Model, test.files[0], annotatedPng);

  const table = formatDemoTable([floatRow, int8Row]);
  const seconds = (performance.now() - t0) / 1000;
  logSummary(log, { numTest, testYaml: test.yamlPath, floatRuntime, table, int8Model, allInteger: report.allInteger, annotatedPng, detections: detections.length, seconds, temporary });
  return {
    outDir,
    removed: temporary,
    int8Model,
    testDataset: test.yamlPath,
    annotatedPng,
    floatRuntime,
    float: floatRow,
    int8: int8Row,
    detections: detections.map((d) => ({ ...d, className: DEMO_CLASS_NAMES[d.classId] ?? `class ${d.classId}` })),
    calibration: summarizeCalibration(report),
    allInteger: report.allInteger,
    table,
    seconds,
  };
}

function logSummary(log: (s: string) => void, s: { numTest: number; testYaml: string; floatRuntime: RunDemoResult['floatRuntime']; table: string; int8Model: string; allInteger: boolean; annotatedPng: string; detections: number; seconds: number; temporary: boolean }): void {
  log('');
  log(`${s.numTest} test images (${s.testYaml}); float model run with ${s.floatRuntime === 'tfjs-ir' ? 'TF.js' : 'LiteRT'}, int8 with LiteRT`);
  log(s.table);
  log(
    `mAP: ultralytics val settings (conf ${EVAL_NMS.confThreshold}, NMS IoU ${EVAL_NMS.iouThreshold}); precision / recall: ` +
      `score > ${DEMO_SCORE_THRESHOLD}, NMS IoU ${DEMO_OPERATING_NMS.iouThreshold}, a detection is correct when it matches an unmatched label of its class at IoU >= 0.5`,
  );
  log('');
  log(`int8 model: ${s.int8Model} (all tensors integer: ${s.allInteger ? 'yes' : 'no'})`);
  log(`annotated test image: ${s.annotatedPng} (${s.detections} detections)`);
  if (s.temporary) log(`(a temporary folder, removed now: 'yolo-int8 demo --out <dir>' keeps the images, the model and the picture)`);
  log(`done in ${s.seconds.toFixed(1)} s`);
}

function summarizeCalibration(report: QuantizeReport): RunDemoResult['calibration'] {
  return { samples: report.calibration.samples, seconds: report.calibration.seconds, method: report.calibration.method };
}
