// The YOLO11n benchmark (issue 18: YOLO11n, its C2PSA attention). `npm run bench:yolo11`; alone:
//   npx tsx bench/yolo11.ts [--configs=default,int16-attention] [--no-write]
// There is no float YOLO11n file: the official full-integer one is both the source (dequantized at
// import) and the baseline. In one run it:
//   1. writes the float reference: our float32 export of the official file's dequantized weights;
//   2. quantizes the official file with coco128 images 1-64 for each configuration (the first is the
//      default options) and, without --configs, checks that quantizing again gives a byte-identical file;
//   3. evaluates the float reference, the official full-integer file and ours on images 65-128 in
//      LiteRT, with ultralytics-val settings for v8-style heads (conf 0.001, IoU 0.7, 300 boxes);
//   4. writes the tables into bench/RESULTS.md (between this benchmark's markers).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resultsLog, writeResultsSection, yoloAccuracyTable } from './results.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.resolve(root, '../shared/fixtures');
const images = path.join(fixtures, 'coco128/images');
const official = path.join(fixtures, 'yolo11n/yolo11n_full_integer_quant.tflite');

const fmt = (x: number, d = 4): string => x.toFixed(d);

/** Named option sets; 'default' is quantizeInt8's defaults. */
const CONFIGS: Record<string, Record<string, unknown>> = {
  default: {},
  'bias-correction': { biasCorrection: true },
  // The C2PSA attention in 16x8, by its node names in this file (onnx2tf's): q·kᵀ, its scaling, the
  // 400-way softmax (int8's fixed output step 1/256 is above the mean weight 1/400) and attn·v.
  'int16-attention': {
    recipe: { overrides: [{ match: '/tf\\.linalg\\.matmul_[13]\\/|multiply_150|softmax_1|transpose_52/', precision: 'int16' }] },
  },
};

async function main(): Promise<void> {
  if (!fs.existsSync(official)) {
    console.log(`(skipped: ${official} not found; the benchmark needs the YOLO11n fixture)`);
    return;
  }
  const { quantizeInt8, exportFloatTflite } = await import('../lib/yolo/quantize.js');
  const { listImageFiles } = await import('../lib/quantize/dataset.js');
  const configArg = process.argv.find((a) => a.startsWith('--configs='))?.slice(10);
  const configNames = (configArg ?? 'default').split(',');
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-int8-bench-11-'));
  const calib = listImageFiles(images).slice(0, 64);
  const { log, lines } = resultsLog();

  const floatFile = path.join(outDir, 'yolo11n-float32.tflite');
  fs.writeFileSync(floatFile, (await exportFloatTflite(official, { head: 'keep' })).tflite);

  log('### Quantization of YOLO11n (from yolo11n_full_integer_quant.tflite, dequantized) at 640 with coco128 images 1-64');
  log('');
  log('| options | time (s) | bytes | all integer | int8 / int16 / float ops | head |');
  log('|---|---|---|---|---|---|');
  const ours: { name: string; file: string; sha: string }[] = [];
  const quantize = (name: string) => quantizeInt8(official, { representativeDataset: calib, numCalibrationSamples: 64, ...CONFIGS[name] });
  for (const name of configNames) {
    if (!CONFIGS[name]) throw new Error(`unknown config '${name}' (known: ${Object.keys(CONFIGS).join(', ')})`);
    const t0 = performance.now();
    const { tflite, report } = await quantize(name);
    const seconds = (performance.now() - t0) / 1000;
    const file = path.join(outDir, `yolo11n-${name}.tflite`);
    fs.writeFileSync(file, tflite);
    ours.push({ name: `yolo11n-${name}.tflite`, file, sha: crypto.createHash('sha256').update(tflite).digest('hex') });
    const p = report.precision;
    const head = `${report.head.family ?? '-'} ${report.head.treatment}${report.head.cut ? ` (cut '${report.head.cut}')` : ''}`;
    log(`| ${name} | ${fmt(seconds, 1)} | ${tflite.length} | ${report.allInteger} | ${p.int8} / ${p.int16} / ${p.float} | ${head} |`);
  }
  if (!configArg) {
    // Reproducibility, checked on the default run only (a quantization takes minutes here).
    const again = await quantize(configNames[0]);
    const sameSha = crypto.createHash('sha256').update(again.tflite).digest('hex') === ours[0].sha;
    log('');
    log(`reproducible: quantizing again with the same inputs and options gives ${sameSha ? 'a byte-identical file' : 'A DIFFERENT FILE'} (sha256 ${ours[0].sha.slice(0, 16)}...)`);
  }
  log('');
  const models: [string, string][] = [
    ['float32 export of the dequantized official weights (float reference)', floatFile],
    ['yolo11n_full_integer_quant.tflite (official full integer, the source)', official],
    ...ours.map(({ name, file }) => [`${name} (yolo-int8)`, file] as [string, string]),
  ];
  const results = await yoloAccuracyTable(models, 1, images, log);
  const off = results[1];
  const float = results[0].mAP50_95;
  log('');
  log(`- official full integer: ${fmt((float - off.mAP50_95) * 100, 2)} mAP50-95 points below the float reference`);
  for (const r of results.slice(2)) {
    log(`- ${r.name}: ${fmt((float - r.mAP50_95) * 100, 2)} mAP50-95 points below float; ${fmt((r.mAP50_95 - off.mAP50_95) * 100, 2)} points above the official full integer (target: +1.5)`);
  }
  if (!process.argv.includes('--no-write')) writeResultsSection('bench/yolo11.ts', 'npm run bench:yolo11', 'quantizeInt8 on YOLO11n (issue 18)', lines.join('\n'));
  fs.rmSync(outDir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
