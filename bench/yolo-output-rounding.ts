// What the int8 rounding of a YOLO file's outputs alone costs, without LiteRT's int8 arithmetic
// (issue 19, YOLO11n target). The float export with the head cut (`exportFloatTflite(source,
// { head: 'split' })`: the same outputs as the int8 file, in float) runs once per image on coco128
// 65-128; its outputs are then quantized and dequantized in JS with the int8 file's own output
// parameters (all outputs, box outputs only, class outputs only, one level at a time, clipping only,
// rounding only), decoded, NMS-ed and scored exactly as the evaluator does (lib/yolo). Noise rows
// (uniform noise far below an int8 step, several seeds) say how much a difference must be to be real.
//   npx tsx bench/yolo-output-rounding.ts --model=yolo11n [--int8=FILE] [--float=FILE] [--anchor-offsets=a,b,c] [--decode-only]
// Without --int8 / --float the files are made here (quantizeInt8 with default options, coco128 1-64).
import fs from 'node:fs';
import { exportFloatTflite, quantizeInt8 } from '../lib/yolo/quantize.js';
import { loadYoloModel } from '../lib/yolo/evaluate.js';
import { listImageFiles } from '../lib/quantize/dataset.js';
import { loadDataset, readYoloLabels, labelsToPixels } from '../lib/yolo/dataset.js';
import { decodeImage } from '../lib/pipeline/image.js';
import { imageToInput } from '../lib/pipeline/input.js';
import { nonMaxSuppression, detectionsToOriginal, EVAL_NMS } from '../lib/yolo/nms.js';
import { matchImage, apPerClass } from '../lib/yolo/metrics.js';
import { roundHalfAwayFromZero } from '../lib/int8/arithmetic.js';
import { mulberry32 } from '../lib/util/random.js';
import { COCO128_IMAGES, YOLO_SOURCES, flagValue } from './yolo-sources.js';

const images = COCO128_IMAGES;
const SOURCES = YOLO_SOURCES;
const arg = flagValue;

interface OutputParams {
  name: string;
  scale: number;
  zeroPoint: number;
}

/** One quantize-dequantize of x onto int8 with (scale, zp); `clip`/`round` switch each half off. */
function qdq(x: number, p: OutputParams, how: { clip: boolean; round: boolean }): number {
  let q = x / p.scale + p.zeroPoint;
  if (how.round) q = roundHalfAwayFromZero(x / p.scale) + p.zeroPoint;
  if (how.clip) q = Math.min(127, Math.max(-128, q));
  return (q - p.zeroPoint) * p.scale;
}

/** One evaluation image: the float file's outputs and what scoring needs. */
interface Run {
  outputs: Float32Array[];
  transform: Parameters<typeof detectionsToOriginal>[1];
  labels: ReturnType<typeof labelsToPixels>;
}

/** A variant: its label and what it does to output k's values. */
type Row = [string, (x: Float32Array, k: number) => Float32Array];

const mapped = (x: Float32Array, f: (v: number) => number) => Float32Array.from(x, f);

/** The rounding variants (all, boxes, classes, clip / round only, one output at a time) and the noise rows. */
function roundingRows(names: string[], params: OutputParams[]): Row[] {
  const rows: Row[] = [];
  const isBox = (k: number) => /box/i.test(names[k]);
  const qdqWhere = (label: string, pick: (k: number) => boolean, how = { clip: true, round: true }) =>
    rows.push([label, (x, k) => (pick(k) ? mapped(x, (v) => qdq(v, params[k], how)) : x)]);
  qdqWhere('int8 quantize-dequantize: all outputs', () => true);
  qdqWhere('  box outputs only', isBox);
  qdqWhere('  class outputs only', (k) => !isBox(k));
  qdqWhere('  all outputs, clipping only (no rounding)', () => true, { clip: true, round: false });
  qdqWhere('  all outputs, rounding only (no clipping)', () => true, { clip: false, round: true });
  names.forEach((n, k) => qdqWhere(`  ${n} only`, (j) => j === k));
  for (const [amp, seeds] of [[0.01, [1, 2, 3]], [0.5, [1, 2, 3]]] as const) {
    for (const seed of seeds) {
      const rand = mulberry32(seed);
      rows.push([`uniform noise +-${amp} int8 step on all outputs, seed ${seed}`, (x, k) => mapped(x, (v) => v + (rand() * 2 - 1) * amp * params[k].scale)]);
    }
  }
  return rows;
}

/** Per output: the int8 parameters, the range they hold, the float range seen and the share clipped. */
function printRanges(model: string, names: string[], params: OutputParams[], runs: Run[]): void {
  console.log(`${model}: outputs (int8 file's parameters; float range observed on images 65-128)`);
  names.forEach((n, k) => {
    let [lo, hi, clipped, total] = [Infinity, -Infinity, 0, 0];
    const p = params[k];
    const [qlo, qhi] = [(-128 - p.zeroPoint) * p.scale, (127 - p.zeroPoint) * p.scale];
    for (const r of runs) {
      for (const v of r.outputs[k]) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
        if (v < qlo || v > qhi) clipped++;
      }
      total += r.outputs[k].length;
    }
    console.log(`| ${n} | ${p.scale.toPrecision(4)} | ${p.zeroPoint} | [${qlo.toFixed(2)}, ${qhi.toFixed(2)}] | [${lo.toFixed(2)}, ${hi.toFixed(2)}] | ${((clipped / total) * 100).toFixed(3)} % |`);
  });
}

async function main(): Promise<void> {
  const model = arg('model') ?? 'yolo11n';
  // --decode-only: the float outputs' row alone (what the decode itself scores; no int8 file needed).
  const decodeOnly = process.argv.includes('--decode-only');
  const floatBytes = arg('float') ? fs.readFileSync(arg('float')!) : (await exportFloatTflite(SOURCES[model], { head: 'split' })).tflite;
  const int8Bytes = decodeOnly
    ? floatBytes
    : arg('int8')
      ? fs.readFileSync(arg('int8')!)
      : (await quantizeInt8(SOURCES[model], { representativeDataset: listImageFiles(images).slice(0, 64), numCalibrationSamples: 64 })).tflite;
  const floatModel = await loadYoloModel(new Uint8Array(floatBytes));
  const int8Model = await loadYoloModel(new Uint8Array(int8Bytes));
  const params: OutputParams[] = int8Model.runner.outputs.map((o) => ({ name: o.name, scale: o.scale!, zeroPoint: o.zeroPoint! }));
  const names = floatModel.runner.outputs.map((o) => o.name);
  if (names.join() !== params.map((p) => p.name).join()) throw new Error(`outputs differ: float ${names.join()} / int8 ${params.map((p) => p.name).join()}`);
  // --anchor-offsets=a,b,c: decode with these per-level anchor offsets instead of the file's (a v8
  // spec; e.g. the 0.3477,0.4219,0.5 that the probe read on YOLO11n before it fitted a line).
  const levels = (floatModel.head as unknown as { levels?: { anchorOffset: number }[] }).levels;
  const offsets = arg('anchor-offsets')?.split(',').map(Number);
  if (offsets) levels?.forEach((l, i) => (l.anchorOffset = offsets[i]));
  console.log(`decode: ${JSON.stringify(levels?.map((l) => l.anchorOffset))} anchor offsets`);

  const runs: Run[] = [];
  for (const item of loadDataset(images).items.slice(64, 128)) {
    const img = await decodeImage(item.image);
    const input = await imageToInput(img, floatModel.runner.inputs[0]);
    const { outputs } = await floatModel.forward(input);
    runs.push({ outputs, transform: input.transform, labels: labelsToPixels(readYoloLabels(item.labels), img.width, img.height) });
  }
  const score = (change: Row[1]) => {
    const stats = runs.map((r) => {
      const { rows, numClasses, evalNms } = floatModel.decode(r.outputs.map(change));
      return matchImage(detectionsToOriginal(nonMaxSuppression(rows, numClasses, evalNms ?? EVAL_NMS), r.transform), r.labels);
    });
    const ap = apPerClass(stats);
    return { mAP50: ap.mAP50, mAP50_95: ap.mAP50_95 };
  };
  if (!decodeOnly) printRanges(model, names, params, runs);
  const rows: Row[] = [['float outputs (no change)', (x) => x], ...(decodeOnly ? [] : roundingRows(names, params))];
  console.log('\n| variant | mAP50 | mAP50-95 | points vs float outputs |\n|---|---|---|---|');
  let base = NaN;
  for (const [label, change] of rows) {
    const s = score(change);
    if (Number.isNaN(base)) base = s.mAP50_95;
    console.log(`| ${label} | ${s.mAP50.toFixed(4)} | ${s.mAP50_95.toFixed(4)} | ${((s.mAP50_95 - base) * 100).toFixed(2)} |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
