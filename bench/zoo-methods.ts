// The zoo methods bench (issue 19 items 5 and 6): every model in ../shared/fixtures/zoo and YOLO11n,
// quantized with each fidelity method (default, equalize, bias correction, learned rounding,
// equalize + learned rounding, accuracy: { minSqnrDb: 30 }, and the same with prefer: 'latency'), against the library's float export of
// the same model, both run in LiteRT on coco128 images that no method saw; then, per method, how many
// models improve or get worse by more than 0.5 dB (per family), and whether the method should be a
// default by the rule: on by default only if it helps every family measured and hurts none.
//   npm run bench:zoo-methods [-- --methods default,equalize,...] [--only name,...] [--cells file.jsonl] [--reverse] [--render]
// Images (environment, for a loaded machine): ZOO_METHODS_CALIBRATION (default 16: coco128 1-N
// calibrate every column), ZOO_METHODS_COMPARISON (default 16: coco128 65-(64+N) measure),
// ZOO_METHODS_SELECTION (default 8) images from ZOO_METHODS_SELECTION_FIRST (default 17: after the
// calibration images) choose --min-sqnr's layers, and the ZOO_METHODS_CHECK (default 8) images after
// them check the choice (accuracy.holdout: a variant must reach 30 dB there too); never past 64, so
// never comparison images.
// Each finished cell (model x method) is appended to --cells (default: the OS temp folder) as it is
// done, and a run measures only the cells not in it yet: a stopped run resumes, and two runs (one
// with --reverse) can fill one table. The table goes to bench/RESULTS.md unless --only is given.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportFloatTflite, quantizeInt8, type QuantizeInt8Options } from '../lib/index.js';
import { cocoImages, compareOutputs, imageInputs, inputShapeOf, runOnInputs, zooModels, type OutputComparison, type TfliteOutputs, type ZooModel } from '../test/support/zoo.js';
import { resultsLog, writeResultsSection } from './results.js';

const METHODS = ['default', 'equalize', 'bias-correction', 'learned-rounding', 'equalize+learned-rounding', 'min-sqnr', 'min-sqnr-latency'] as const;
/** The accuracy-search columns (not fidelity methods: they raise precision). */
const SEARCHES: readonly Method[] = ['min-sqnr', 'min-sqnr-latency'];
type Method = (typeof METHODS)[number];
const flag = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const only = flag('--only')?.split(',');
const cellsFile = flag('--cells') ?? path.join(os.tmpdir(), 'zoo-methods-cells.jsonl');
const reverse = process.argv.includes('--reverse');
const renderOnly = process.argv.includes('--render');
const methods = (flag('--methods')?.split(',') ?? [...METHODS]) as Method[];
for (const m of methods) if (!METHODS.includes(m)) throw new Error(`--methods: '${m}' is not one of ${METHODS.join(', ')}`);
const imageCount = (name: string, fallback: number) => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n < 4 || n > 64) throw new Error(`${name}: expected a whole number of images from 4 to 64, got '${process.env[name]}'`);
  return n;
};
const CALIBRATION = cocoImages(1, imageCount('ZOO_METHODS_CALIBRATION', 16));
const COMPARISON = cocoImages(65, 64 + imageCount('ZOO_METHODS_COMPARISON', 16));
/** accuracy: { minSqnrDb } selects on these (calibration images), never on the comparison images. */
const SELECTION_FIRST = Number(process.env.ZOO_METHODS_SELECTION_FIRST ?? 17);
if (!Number.isInteger(SELECTION_FIRST) || SELECTION_FIRST < 1 || SELECTION_FIRST > 57) throw new Error(`ZOO_METHODS_SELECTION_FIRST: expected an image number from 1 to 57, got '${process.env.ZOO_METHODS_SELECTION_FIRST}'`);
const SELECTION_LAST = SELECTION_FIRST - 1 + imageCount('ZOO_METHODS_SELECTION', 8);
if (SELECTION_LAST > 64) throw new Error(`ZOO_METHODS_SELECTION_FIRST / ZOO_METHODS_SELECTION: the selection images end at ${SELECTION_LAST}, past 64 (65 on are the comparison images)`);
const SELECTION = cocoImages(SELECTION_FIRST, SELECTION_LAST);
const CHECK_LAST = SELECTION_LAST + imageCount('ZOO_METHODS_CHECK', 8);
if (CHECK_LAST > 64) throw new Error(`ZOO_METHODS_CHECK: the check images end at ${CHECK_LAST}, past 64 (65 on are the comparison images)`);
/** accuracy.holdout: the images that check --min-sqnr's choice (after the selection images). */
const CHECK = cocoImages(SELECTION_LAST + 1, CHECK_LAST);
/** The images of this run, as each cell records them. */
const IMAGES = `calibration 1-${CALIBRATION.length}, selection ${SELECTION_FIRST}-${SELECTION_LAST}, check ${SELECTION_LAST + 1}-${CHECK_LAST}, comparison 65-${64 + COMPARISON.length}`;
/** A change of the worst output's SQNR within this is 'unchanged'. */
const MARGIN_DB = 0.5;

/** One measured cell: a model quantized with one method, compared on the comparison images. */
interface Cell {
  model: string;
  method: Method;
  error?: string;
  outputs?: OutputComparison[];
  allInteger?: boolean;
  /** min-sqnr: SQNR reached on the selection and check images, layers raised (and how many to int16), the full-integer limit, why ops went to float. */
  selection?: {
    achievedDb: number; widened: number; int16: number; checkDb?: number; allInt16Db?: number; floatReasons?: Record<string, number>;
    /** Layers with split weights (two int8 terms), the all-int16 + all-split value, and the chosen file against the all-int8 variant (size, LiteRT latency). */
    split?: number; allSplitDb?: number; fileBytes?: { int8: number; chosen: number }; latencyMs?: { int8: number; chosen: number };
  };
  /** Report lines that say a method did not apply (no equalisable pairs, layers skipped). */
  notes?: string[];
  /** The coco128 images of this run (calibration, min-sqnr's selection and check, comparison): cells measured with other ZOO_METHODS_* counts are not comparable. */
  images?: string;
  seconds: number;
}

const firstLine = (e: unknown) => (e as Error).message.split('\n')[0].replace(/\|/g, '/').slice(0, 160);
const minDb = (c: OutputComparison[]) => Math.min(...c.map((o) => Number(o.sqnrDb)));
const fmtDb = (db: number) => (Number.isFinite(db) ? db.toFixed(1) : 'exact');

function optionsOf(method: Method): Partial<QuantizeInt8Options> {
  const rounding = { samples: Math.min(16, CALIBRATION.length) };
  switch (method) {
    case 'default': return {};
    case 'equalize': return { equalize: true };
    case 'bias-correction': return { biasCorrection: true };
    case 'learned-rounding': return { learnedRounding: rounding };
    case 'equalize+learned-rounding': return { equalize: true, learnedRounding: rounding };
    case 'min-sqnr': return { accuracy: { minSqnrDb: 30, validation: SELECTION, holdout: CHECK, writeBest: true, latencyImages: 1 } };
    // The same search raising layers to float only (int8 + float files: XNNPACK runs both in LiteRT).
    case 'min-sqnr-latency': return { accuracy: { minSqnrDb: 30, validation: SELECTION, holdout: CHECK, writeBest: true, latencyImages: 1, prefer: 'latency' } };
  }
}

async function measureCell(m: ZooModel, method: Method, ref: TfliteOutputs, inputs: Float32Array[]): Promise<Cell> {
  const t0 = performance.now();
  const cell: Cell = { model: m.name, method, images: IMAGES, seconds: 0 };
  try {
    const result = await quantizeInt8(m.source, { representativeDataset: CALIBRATION, numCalibrationSamples: CALIBRATION.length, inputRange: m.inputRange, ...optionsOf(method) });
    const got = await runOnInputs(result.tflite, inputs, m.name, result.head);
    cell.outputs = compareOutputs(ref, got, m.classOutputs);
    cell.allInteger = result.report.allInteger;
    const a = result.report.accuracy;
    if (a) {
      const floatReasons: Record<string, number> = {};
      for (const f of a.floatOps) floatReasons[f.reason.split(':')[0]] = (floatReasons[f.reason.split(':')[0]] ?? 0) + 1;
      cell.selection = {
        achievedDb: a.achieved, widened: a.raisedLayers.length, int16: a.raisedLayers.filter((l) => l.precision === 'int16').length,
        checkDb: a.measuredOn?.chosen, allInt16Db: a.allInt16, floatReasons,
        split: a.splitLayers.length, allSplitDb: a.allSplit, fileBytes: { int8: a.fileBytes.int8, chosen: a.fileBytes.chosen }, latencyMs: { int8: a.latencyMs.int8, chosen: a.latencyMs.chosen },
      };
    }
    const notes = result.report.notes.filter((n) => /equaliz|learned rounding/i.test(n));
    if (notes.length) cell.notes = notes.map((n) => n.slice(0, 200));
  } catch (e) {
    cell.error = firstLine(e);
  }
  cell.seconds = (performance.now() - t0) / 1000;
  return cell;
}

function keptCells(): Cell[] {
  if (!fs.existsSync(cellsFile)) return [];
  return fs.readFileSync(cellsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Cell);
}
const has = (cells: Cell[], model: string, method: Method) => cells.some((c) => c.model === model && c.method === method);

/** Measures the cells of `m` not in the cells file yet (re-read before each, for a second run). */
async function measureModel(m: ZooModel): Promise<void> {
  const todo = () => methods.filter((k) => !has(keptCells(), m.name, k));
  if (!todo().length) return;
  let ref: TfliteOutputs;
  let inputs: Float32Array[];
  try {
    const float = (await exportFloatTflite(m.source)).tflite;
    inputs = await imageInputs(COMPARISON, await inputShapeOf(float), m.inputRange);
    ref = await runOnInputs(float, inputs, `${m.name} (float)`);
  } catch (e) {
    for (const method of todo()) append({ model: m.name, method, error: `float export: ${firstLine(e)}`, seconds: 0 });
    return;
  }
  for (const method of methods) {
    if (has(keptCells(), m.name, method)) continue;
    const cell = await measureCell(m, method, ref, inputs);
    append(cell);
    console.error(`${m.name} ${method}: ${cell.error ?? cell.outputs!.map((o) => fmtDb(o.sqnrDb)).join(' / ')} (${cell.seconds.toFixed(0)} s)`);
  }
}

function append(cell: Cell): void {
  fs.appendFileSync(cellsFile, `${JSON.stringify(cell, (_, v) => (v === Infinity ? 'Infinity' : v))}\n`);
}

/** Family for the default rule: the model's kind, YOLO11n on its own. */
const familyOf = (m: ZooModel) => (m.name === 'yolo11n' ? 'yolo' : m.kind);

function cellText(c: Cell | undefined): string {
  if (!c) return 'not measured';
  if (c.error || !c.outputs) return `error: ${c.error}`;
  const top1 = c.outputs.filter((o) => o.top1 !== undefined).map((o) => `${(100 * o.top1!).toFixed(0)} %`);
  let text = fmtDb(minDb(c.outputs)) + (top1.length ? ` (top-1 ${top1.join(' / ')})` : '');
  if (c.selection) {
    const s = c.selection;
    const check = s.checkDb !== undefined ? `, check ${fmtDb(s.checkDb)}` : '';
    const limit = (s.allInt16Db !== undefined ? `; all-int16 ${fmtDb(s.allInt16Db)}` : '') + (s.allSplitDb !== undefined ? `, + all split ${fmtDb(s.allSplitDb)}` : '');
    const split = s.split ? `, ${s.split} split` : '';
    const why = Object.entries(s.floatReasons ?? {}).map(([r, n]) => `${n} ${r}`).join(', ');
    text += `; ${minDb(c.outputs) >= 30 ? 'reaches' : 'misses'} 30 (selection ${fmtDb(s.achievedDb)}${check}); ${s.widened} widened (${s.int16} int16${split})${limit}; ${c.allInteger ? 'full-integer' : `float ops${why ? ` (${why})` : ''}`}`;
  }
  return text;
}

function methodTable(models: ZooModel[], cells: Cell[]): string[] {
  const lines = [`| model | family | ${methods.join(' | ')} |`, `| --- | --- | ${methods.map(() => '---').join(' | ')} |`];
  for (const m of models) {
    const row = methods.map((k) => cellText(cells.find((c) => c.model === m.name && c.method === k)));
    lines.push(`| ${m.name} | ${familyOf(m)} | ${row.join(' | ')} |`);
  }
  return lines;
}

/** Per method against default: models better / worse by more than MARGIN_DB (worst output), per family. */
function decisionTable(models: ZooModel[], cells: Cell[]): string[] {
  const families = [...new Set(models.map(familyOf))];
  const lines = [
    `| method | measured | better > ${MARGIN_DB} dB | worse > ${MARGIN_DB} dB | top-1 lower | ${families.map((f) => `${f} (better / worse / n)`).join(' | ')} | default? |`,
    `| --- | --- | --- | --- | --- | ${families.map(() => '---').join(' | ')} | --- |`,
  ];
  for (const k of methods.filter((x) => x !== 'default' && !SEARCHES.includes(x))) {
    const pairs = models.flatMap((m) => {
      const base = cells.find((c) => c.model === m.name && c.method === 'default');
      const got = cells.find((c) => c.model === m.name && c.method === k);
      if (!base?.outputs || !got?.outputs) return [];
      const top1 = (c: Cell) => Math.min(...c.outputs!.map((o) => o.top1 ?? 1));
      return [{ family: familyOf(m), delta: minDb(got.outputs) - minDb(base.outputs), top1Lower: top1(got) < top1(base) }];
    });
    const better = (f?: string) => pairs.filter((p) => (!f || p.family === f) && p.delta > MARGIN_DB).length;
    const worse = (f?: string) => pairs.filter((p) => (!f || p.family === f) && (p.delta < -MARGIN_DB || p.top1Lower)).length;
    const measured = families.filter((f) => pairs.some((p) => p.family === f));
    const on = measured.length > 0 && measured.every((f) => better(f) > 0) && worse() === 0;
    const perFamily = families.map((f) => `${better(f)} / ${worse(f)} / ${pairs.filter((p) => p.family === f).length}`);
    lines.push(`| ${k} | ${pairs.length} | ${better()} | ${pairs.filter((p) => p.delta < -MARGIN_DB).length} | ${pairs.filter((p) => p.top1Lower).length} | ${perFamily.join(' | ')} | ${on ? 'on' : 'stays off'} |`);
  }
  return lines;
}

function targetLines(models: ZooModel[], cells: Cell[]): string[] {
  const cellOf = (m: ZooModel, k: Method) => cells.find((c) => c.model === m.name && c.method === k);
  const base = models.filter((m) => cellOf(m, 'default')?.outputs);
  const at30 = base.filter((m) => minDb(cellOf(m, 'default')!.outputs!) >= 30);
  const sel = models.filter((m) => cellOf(m, 'min-sqnr')?.outputs);
  const reach = sel.filter((m) => minDb(cellOf(m, 'min-sqnr')!.outputs!) >= 30);
  const fullInt = reach.filter((m) => cellOf(m, 'min-sqnr')!.allInteger);
  const lat = models.filter((m) => cellOf(m, 'min-sqnr-latency')?.outputs);
  const latReach = lat.filter((m) => minDb(cellOf(m, 'min-sqnr-latency')!.outputs!) >= 30);
  const ratio = (m: ZooModel, k: Method) => {
    const l = cellOf(m, k)?.selection?.latencyMs;
    return l ? l.chosen / l.int8 : undefined;
  };
  const ratios = (k: Method) => lat.map((m) => ratio(m, k)).filter((r): r is number => r !== undefined).sort((a, b) => a - b);
  const median = (r: number[]) => (r.length ? r[(r.length - 1) >> 1].toFixed(1) + 'x' : '-');
  // The issue's rule for classifiers: a class output is judged by top-1 agreement (>= 99 %), every other output by SQNR.
  const byRule = (k: Method) => (m: ZooModel) => cellOf(m, k)!.outputs!.every((o) => (o.top1 !== undefined ? o.top1 >= 0.99 : Number(o.sqnrDb) >= 30));
  const ruleDefault = base.filter(byRule('default'));
  const ruleSel = sel.filter(byRule('min-sqnr'));
  return [
    `Defaults: ${at30.length} of ${base.length} measured reach >= 30 dB on every output (${at30.map((m) => m.name).join(', ') || 'none'}); with class outputs judged by top-1 agreement >= 99 % instead (the issue's rule for classifiers): ${ruleDefault.length} of ${base.length} (${ruleDefault.map((m) => m.name).join(', ') || 'none'}).`,
    `--min-sqnr 30: ${reach.length} of ${sel.length} measured reach 30 dB on the comparison images (${ruleSel.length} with class outputs judged by top-1); ${fullInt.length} of those ${reach.length} full-integer (${sel.length ? ((100 * fullInt.length) / sel.length).toFixed(0) : '-'} % of measured; target 80 %).`,
    ...(lat.length
      ? [`--min-sqnr 30 --prefer latency: ${latReach.length} of ${lat.length} measured reach 30 dB; LiteRT latency against all-int8, median over those models: ${median(ratios('min-sqnr-latency'))} (full-integer search on the same models: ${median(ratios('min-sqnr'))}).`]
      : []),
  ];
}

const cellsBefore = keptCells();
const models = zooModels().filter((m) => !only || only.includes(m.name));
if (!renderOnly) for (const m of reverse ? [...models].reverse() : models) await measureModel(m);
const cells = keptCells().filter((c) => models.some((m) => m.name === c.model));
for (const c of cells) for (const o of c.outputs ?? []) o.sqnrDb = Number(o.sqnrDb);
const { log, lines } = resultsLog();
log(`calibration: coco128 1-${CALIBRATION.length} for every column (ZOO_METHODS_CALIBRATION; learned rounding reads ${Math.min(16, CALIBRATION.length)}; --min-sqnr 30 selects on ${SELECTION_FIRST}-${SELECTION_LAST} and checks on ${SELECTION_LAST + 1}-${CHECK_LAST}); comparison: coco128 65-${64 + COMPARISON.length} (ZOO_METHODS_COMPARISON), int8 file against the library's float export, both in LiteRT. Each cell: SQNR dB of the worst output (top-1 agreement for class outputs).`);
log('');
for (const l of methodTable(models, cells)) log(l);
log('');
log(`Decision per method against default (worst output's SQNR, better / worse by more than ${MARGIN_DB} dB; a lower top-1 agreement counts as worse). Rule: a method is on by default only if it makes at least one model of every family measured better and no model worse.`);
log('');
for (const l of decisionTable(models, cells)) log(l);
log('');
for (const l of targetLines(models, cells)) log(l);
log(`\n(${cells.reduce((a, c) => a + c.seconds, 0).toFixed(0)} s of measuring in all; ${cells.length - cellsBefore.filter((c) => models.some((m) => m.name === c.model)).length} cells in this run)`);
if (!only) writeResultsSection('bench/zoo-methods.ts', 'npm run bench:zoo-methods', 'Zoo: fidelity methods on every model (issue 19 items 5 and 6)', lines.join('\n'));
