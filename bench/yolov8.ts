// The YOLOv8n benchmark (issue: YOLOv8 / YOLO11 head families). Part of `npm run bench`; alone:
//   npx tsx bench/yolov8.ts [--configs=logit-scores:mse,sigmoid-scores:mse,keep:mse]
// In one run it:
//   1. writes the float reference: our float32 export of yolov8n_int8.tflite (its int8-rounded
//      weights run in float), with the head as it is ([1,84,8400]);
//   2. quantizes yolov8n_int8.tflite with coco128 images 1-64 for each configuration (head cut x
//      calibration method; the first one is the default options), and checks that quantizing the
//      first again gives a byte-identical file;
//   3. evaluates the float reference, the dynamic-range file as LiteRT runs it (activations
//      quantized on the fly), the official full-integer model and ours on images 65-128 through
//      LiteRT, with ultralytics-val settings for v8 (conf 0.001, IoU 0.7, 300 boxes, multi-label);
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

function fmt(x: number, d = 4): string {
  return x.toFixed(d);
}

async function main(): Promise<void> {
  const dynamicRange = path.join(fixtures, 'yolov8n/yolov8n_int8.tflite');
  const official = path.join(fixtures, 'yolov8n/yolov8n_full_integer_quant.tflite');
  if (!fs.existsSync(dynamicRange)) {
    console.log(`(skipped: ${dynamicRange} not found; the benchmark needs the YOLOv8n fixtures)`);
    return;
  }
  const { quantizeInt8, exportFloatTflite } = await import('../lib/yolo/quantize.js');
  const { listImageFiles } = await import('../lib/quantize/dataset.js');
  const configArg = process.argv.find((a) => a.startsWith('--configs='))?.slice(10);
  const configs = (configArg ?? 'logit-scores:mse,logit-scores:mse:bc,sigmoid-scores:mse,keep:mse,logit-scores:minmax').split(',').map((c) => {
    // '<cut>:<method>[:bc]': ':bc' adds bias correction (its default settings).
    const [cut, method, bc] = c.split(':');
    return { cut, method: method ?? 'minmax', bc: bc === 'bc' };
  });
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-int8-bench-v8-'));
  const calib = listImageFiles(images).slice(0, 64);
  const { log, lines } = resultsLog();

  const floatFile = path.join(outDir, 'yolov8n-float32.tflite');
  fs.writeFileSync(floatFile, (await exportFloatTflite(dynamicRange, { head: 'keep' })).tflite);

  log('### Quantization of YOLOv8n (from yolov8n_int8.tflite) at 640 with coco128 images 1-64');
  log('');
  log('| head cut | method | bias correction | time (s) | of which bias correction (s) | bytes | all integer | QUANTIZE ops | outputs |');
  log('|---|---|---|---|---|---|---|---|---|');
  const ours: { name: string; file: string; sha: string }[] = [];
  for (const { cut, method, bc } of configs) {
    const t0 = performance.now();
    const { tflite, report } = await quantizeInt8(dynamicRange, {
      representativeDataset: calib,
      numCalibrationSamples: 64,
      calibration: method as 'minmax',
      biasCorrection: bc,
      ...(cut === 'keep' ? { head: 'keep' as const } : { headCut: cut }),
    });
    const seconds = (performance.now() - t0) / 1000;
    const name = `yolov8n-${cut}-${method}${bc ? '-bc' : ''}.tflite`;
    const file = path.join(outDir, name);
    fs.writeFileSync(file, tflite);
    ours.push({ name, file, sha: crypto.createHash('sha256').update(tflite).digest('hex') });
    log(`| ${cut} | ${method} | ${bc ? `${report.biasCorrection?.mode} (${report.biasCorrection?.samples} samples)` : 'off'} | ${fmt(seconds, 1)} | ${fmt(report.biasCorrection?.seconds ?? 0, 1)} | ${tflite.length} | ${report.allInteger} | ${report.quantizeOps} | ${report.outputs.length} |`);
  }
  const first = configs[0];
  const again = await quantizeInt8(dynamicRange, {
    representativeDataset: calib,
    numCalibrationSamples: 64,
    calibration: first.method as 'minmax',
    biasCorrection: first.bc,
    ...(first.cut === 'keep' ? { head: 'keep' as const } : { headCut: first.cut }),
  });
  const sameSha = crypto.createHash('sha256').update(again.tflite).digest('hex') === ours[0].sha;
  log('');
  log(`reproducible: quantizing again with the same inputs and options gives ${sameSha ? 'a byte-identical file' : 'A DIFFERENT FILE'} (sha256 ${ours[0].sha.slice(0, 16)}...)`);

  log('');
  const models: [string, string][] = [
    ['float32 export of yolov8n_int8.tflite (float reference)', floatFile],
    ['yolov8n_int8.tflite (dynamic range, as LiteRT runs it)', dynamicRange],
    ['yolov8n_full_integer_quant.tflite (official full integer)', official],
    ...ours.map(({ name, file }) => [`${name} (yolo-int8)`, file] as [string, string]),
  ];
  const results = await yoloAccuracyTable(models, 2, images, log);
  const off = results[2];
  const float = results[0].mAP50_95;
  log('');
  log(`- dynamic-range file as LiteRT runs it: ${fmt((float - results[1].mAP50_95) * 100, 2)} points below the float reference`);
  log(`- official full integer: ${fmt((float - off.mAP50_95) * 100, 2)} points below the float reference`);
  for (const r of results.slice(3)) {
    log(`- ${r.name}: ${fmt((float - r.mAP50_95) * 100, 2)} mAP50-95 points below float; ${fmt((r.mAP50_95 - off.mAP50_95) * 100, 2)} points above the official full integer`);
  }
  if (!configArg) writeResultsSection('bench/yolov8.ts', 'npm run bench', 'quantizeInt8 on YOLOv8n', lines.join('\n'));
  fs.rmSync(outDir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
