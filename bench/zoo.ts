// The zoo bench (issue 18 item 6, issue 19 item 6): every model in ../shared/fixtures/zoo and YOLO11n,
// quantized with default options (calibration: coco128 images 1-64 at the model's input size and
// range), against the library's float export of the same model, both run in LiteRT on images 65-128.
//   npm run bench:zoo [-- --only name,...] [--rows file.jsonl [--reverse] [--render]]
// Per model: imported, all-integer, ops kept in float, output SQNR per output, top-1 agreement of class
// outputs, LiteRT latency (median) and file size against the float export. The fidelity methods
// (equalize, bias correction, learned rounding, --min-sqnr 30) are compared in bench/zoo-methods.ts.
// YOLO11n, once it quantizes, also gets mAP on 65-128 against the official full-integer file.
// The table goes to bench/RESULTS.md (section "Zoo") unless --only is given. --rows keeps each model's
// measured row in a file as it is done and measures only the models not in it yet, so that several
// runs (e.g. two at once on a shared machine, each with --only) can fill one table.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportFloatTflite, importModel, quantizeInt8, evaluate, type QuantizeInt8Options } from '../lib/index.js';
import { cocoImages, compareOutputs, imageInputs, inputShapeOf, runOnInputs, zooModels, YOLO11N_SOURCE, type OutputComparison, type TfliteOutputs, type ZooModel } from '../test/support/zoo.js';
import { FIXTURES } from '../test/support/fixtures.js';
import { resultsLog, writeResultsSection } from './results.js';

const flag = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const only = flag('--only')?.split(',');
const rowsFile = flag('--rows');
/** --reverse: measure in reverse order (a second run on the same --rows file meets the first one halfway). */
const reverse = process.argv.includes('--reverse');
/** --render: measure nothing; models missing from --rows are listed as not measured. */
const renderOnly = process.argv.includes('--render');
const CALIBRATION = cocoImages(1, 64);
const COMPARISON = cocoImages(65, 128);

interface Row {
  model: ZooModel;
  /** undefined: not measured (--render). */
  imported?: boolean;
  error?: string;
  allInteger?: boolean;
  floatOps?: string[];
  outputs?: OutputComparison[];
  ms?: { int8: number; float: number };
  bytes?: { int8: number; float: number };
  map?: string;
  seconds: number;
}

const fmtDb = (c: OutputComparison[]) => c.map((o) => (Number.isFinite(o.sqnrDb) ? o.sqnrDb.toFixed(1) : 'exact')).join(' / ');
const minDb = (c: OutputComparison[]) => Math.min(...c.map((o) => o.sqnrDb));
const firstLine = (e: unknown) => (e as Error).message.split('\n')[0].replace(/\|/g, '/').slice(0, 160);

async function quantized(m: ZooModel, extra: Partial<QuantizeInt8Options>, ref: TfliteOutputs, inputs: Float32Array[]) {
  const result = await quantizeInt8(m.source, { representativeDataset: CALIBRATION, numCalibrationSamples: CALIBRATION.length, inputRange: m.inputRange, ...extra });
  const got = await runOnInputs(result.tflite, inputs, m.name, result.head);
  return { result, got, outputs: compareOutputs(ref, got, m.classOutputs) };
}

/** YOLO11n: mAP50 / mAP50-95 on coco128 65-128 of the int8 file and of the official full-integer file. */
async function yoloMap(tflite: Uint8Array): Promise<string> {
  const file = path.join(os.tmpdir(), `bench-zoo-yolo11n-${process.pid}.tflite`);
  fs.writeFileSync(file, tflite);
  try {
    const opts = { images: path.join(FIXTURES, 'coco128/images'), offset: 64, limit: 64 };
    const ours = await evaluate(file, opts);
    const official = await evaluate(YOLO11N_SOURCE, opts);
    return `mAP50 / mAP50-95 on coco128 65-128: ${ours.mAP50.toFixed(4)} / ${ours.mAP50_95.toFixed(4)} (official full-integer file ${official.mAP50.toFixed(4)} / ${official.mAP50_95.toFixed(4)})`;
  } finally {
    fs.rmSync(file, { force: true });
  }
}

async function measure(m: ZooModel): Promise<Row> {
  const t0 = performance.now();
  const row: Row = { model: m, imported: false, seconds: 0 };
  try {
    await importModel(m.source);
    row.imported = true;
    const float = (await exportFloatTflite(m.source)).tflite;
    const inputs = await imageInputs(COMPARISON, await inputShapeOf(float), m.inputRange);
    const ref = await runOnInputs(float, inputs, `${m.name} (float)`);
    const { result, got, outputs } = await quantized(m, {}, ref, inputs);
    row.allInteger = result.report.allInteger;
    row.floatOps = result.report.precision.notInt8.map((n) => `${n.op} ${n.node}${n.precision === 'int16' ? ' (int16)' : ''}`);
    row.outputs = outputs;
    row.ms = { int8: got.medianMs, float: ref.medianMs };
    row.bytes = { int8: result.tflite.length, float: float.length };
    if (m.source === YOLO11N_SOURCE) row.map = await yoloMap(result.tflite);
  } catch (e) {
    row.error = firstLine(e);
  }
  row.seconds = (performance.now() - t0) / 1000;
  return row;
}

function tableLines(rows: Row[]): string[] {
  const lines = [
    '| model | kind | imported | all-integer | ops kept in float | output SQNR dB (each output) | top-1 | latency ms int8 / float | size KiB int8 / float |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const head = `| ${r.model.name} | ${r.model.kind} | ${r.imported === undefined ? '-' : r.imported ? 'yes' : 'no'}`;
    if (r.error || !r.outputs) {
      lines.push(`${head} | - | - | ${r.imported === undefined ? r.error : `fails: ${r.error}`} | - | - | - |`);
      continue;
    }
    const top1 = r.outputs.filter((o) => o.top1 !== undefined).map((o) => `${(100 * o.top1!).toFixed(0)} %`).join(' / ') || '-';
    const ms = `${r.ms!.int8.toFixed(1)} / ${r.ms!.float.toFixed(1)} (${(r.ms!.int8 / r.ms!.float).toFixed(2)}x)`;
    const kb = `${(r.bytes!.int8 / 1024).toFixed(0)} / ${(r.bytes!.float / 1024).toFixed(0)} (${(r.bytes!.int8 / r.bytes!.float).toFixed(2)}x)`;
    const floatOps = r.floatOps!.length ? r.floatOps!.join(', ') : 'none';
    lines.push(`${head} | ${r.allInteger ? 'yes' : 'no'} | ${floatOps} | ${fmtDb(r.outputs)} | ${top1} | ${ms} | ${kb} |`);
  }
  return lines;
}

function summaryLines(rows: Row[]): string[] {
  const ok = rows.filter((r) => r.outputs);
  const at30 = ok.filter((r) => minDb(r.outputs!) >= 30).length;
  const measured = rows.filter((r) => r.imported !== undefined);
  return [
    '',
    `${measured.length < rows.length ? `${rows.length - measured.length} of ${rows.length} not measured; ` : ''}` +
    `${measured.filter((r) => r.imported).length} of ${measured.length} import; ${ok.length} quantize, pass check and run in LiteRT; ` +
      `${ok.filter((r) => r.allInteger).length} full-integer; ${at30} with every output at >= 30 dB.`,
    ...rows.filter((r) => r.map).map((r) => `${r.model.name}: ${r.map}`),
  ];
}

const { log, lines } = resultsLog();
log(`calibration: coco128 1-64 at each model's input size and range (the range its package feeds); comparison: 65-128, int8 file against the library's float export, both in LiteRT (one thread; latency is the median over the 64 comparison runs, on a machine shared with other jobs: indicative); fidelity methods: bench/zoo-methods.ts`);
log('');
/** Rows measured earlier (--rows), by model name. */
function keptRows(): Map<string, Row> {
  if (!rowsFile || !fs.existsSync(rowsFile)) return new Map();
  const rows = fs.readFileSync(rowsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
  return new Map(rows.map((r) => [r.model.name, r]));
}
const rows: Row[] = [];
const models = zooModels();
for (const m of reverse ? [...models].reverse() : models) {
  if (only && !only.includes(m.name)) continue;
  const kept = keptRows().get(m.name);
  if (kept || renderOnly) {
    rows.push(kept ?? { model: m, error: 'not measured in this run (stopped for time)', seconds: 0 });
    continue;
  }
  const row = await measure(m);
  rows.push(row);
  if (rowsFile) fs.appendFileSync(rowsFile, `${JSON.stringify(row, (_, v) => (v === Infinity ? 'Infinity' : v))}\n`);
  console.error(`${m.name}: ${row.error ?? fmtDb(row.outputs!)} (${row.seconds.toFixed(0)} s)`);
}
for (const r of rows) for (const o of r.outputs ?? []) o.sqnrDb = Number(o.sqnrDb);
rows.sort((a, b) => models.findIndex((m) => m.name === a.model.name) - models.findIndex((m) => m.name === b.model.name));
for (const l of [...tableLines(rows), ...summaryLines(rows)]) log(l);
log(`\n(${rows.reduce((a, r) => a + r.seconds, 0).toFixed(0)} s in all)`);
if (!only) writeResultsSection('bench/zoo.ts', 'npm run bench:zoo', 'Zoo: every model, default options, against its float export (issues 18 and 19)', lines.join('\n'));
