// Run an int8 YOLO .tflite on one image in plain Node, step by step with the input pipeline:
//   imageToInput (letterbox + int8 conversion) -> runner.run -> dequantize -> decode -> NMS -> original pixels.
//
//   npx tsx examples/run-int8-on-image.ts <model.tflite> <image> [names.yaml]
//   npx tsx examples/run-int8-on-image.ts            (no model: quantizes the embedded demo detector first)
//
// In your own project import from 'yolo-int8' instead of '../lib/index.js'.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  TfliteRunner, readTflite, imageToInput, dequantizeOutput, readHeadSpec, decodeModelOutputs,
  nonMaxSuppression, detectionsToOriginal, DETECT_NMS, quantizeInt8, importModel, writeFileAtomic,
} from '../lib/index.js';
import { parseDatasetYaml } from '../lib/yolo/dataset.js';

let [modelPath, imagePath, namesFile] = process.argv.slice(2);
let names: string[] = [];

if (!modelPath) {
  // No model given: quantize the small demo detector shipped with yolo-int8 on generated images.
  const { loadDemoModel, demoModelDir, DEMO_HEAD, DEMO_CLASS_NAMES, DEMO_INPUT_SIZE } = await import('../lib/demo/model.js');
  const { writeDataset, DEMO_SEEDS } = await import('../lib/demo/synthetic.js');
  if (!fs.existsSync(path.join(demoModelDir(), 'model.json'))) {
    console.log('skipped: no model given and the demo model (models/demo) is not there');
    process.exit(0);
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-int8-example-'));
  const calib = await writeDataset(path.join(work, 'calib'), { count: 32, seed: DEMO_SEEDS.calibration, size: DEMO_INPUT_SIZE });
  const test = await writeDataset(path.join(work, 'test'), { count: 1, seed: DEMO_SEEDS.test, size: DEMO_INPUT_SIZE });
  const graph = await importModel(await loadDemoModel());
  // The demo model's decode spec (anchors, strides), in case the importer did not carry it over.
  graph.meta.headSpec ??= DEMO_HEAD;
  const { tflite } = await quantizeInt8(graph, { representativeDataset: calib.imagesDir, numCalibrationSamples: 32 });
  modelPath = path.join(work, 'demo-int8.tflite');
  await writeFileAtomic(modelPath, tflite);
  imagePath = test.files[0];
  names = [...DEMO_CLASS_NAMES];
  console.log(`quantized the demo detector to ${modelPath}`);
}
if (!imagePath) throw new Error('usage: run-int8-on-image.ts <model.tflite> <image> [names.yaml]');
if (namesFile) names = parseDatasetYaml(fs.readFileSync(namesFile, 'utf8'), namesFile).names ?? [];

// 1. Load the model. TfliteRunner describes each tensor with its dtype, shape, scale and zero point.
const runner = await TfliteRunner.load(modelPath);
const input = runner.inputs[0];
console.log(`input ${input.name}: ${input.dtype} [${input.shape}] scale ${input.scale} zero point ${input.zeroPoint}`);

// 2. Image -> letterboxed int8 tensor (pixel p becomes p - 128 for scale 1/255, zero point -128).
const prepared = await imageToInput(imagePath, input);

// 3. Run, then turn the int8 outputs back into floats with each output's own scale / zero point.
const t0 = performance.now();
const raw = await runner.run(prepared.data);
const ms = performance.now() - t0;
const outputs = raw.map((r, i) => dequantizeOutput(r, runner.outputs[i]));

// 4. Decode: our int8 models store the YOLO head spec (anchors, strides) in the file's metadata.
const head = readHeadSpec(readTflite(new Uint8Array(fs.readFileSync(modelPath))), modelPath);
const { rows, numClasses } = decodeModelOutputs(outputs, runner.outputs, [input.shape[1], input.shape[2]], head);

// 5. NMS in network pixels, then boxes back to the original image.
const detections = detectionsToOriginal(nonMaxSuppression(rows, numClasses, DETECT_NMS), prepared.transform);
runner.dispose();

console.log(`${path.basename(imagePath)}: ${detections.length} detections in ${ms.toFixed(1)} ms`);
for (const d of detections) {
  const name = names[d.classId] ?? `class ${d.classId}`;
  console.log(`  ${name.padEnd(12)} ${d.score.toFixed(3)}  [${d.box.map((v) => v.toFixed(1)).join(', ')}]`);
}
