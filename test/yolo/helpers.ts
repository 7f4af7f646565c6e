import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const fixturesDir = path.resolve(repoRoot, '../shared/fixtures');
export const fp16Model = path.join(fixturesDir, 'yolov5n/yolov5n-fp16.tflite');
export const int8Model = path.join(fixturesDir, 'yolov5n/yolov5n-int8.tflite');
export const busJpg = path.join(fixturesDir, 'images/bus.jpg');
export const coco128Images = path.join(fixturesDir, 'coco128/images');

/** Mocha `before` hook body: skips the suite with a visible message when the fixtures are absent. */
export function requireFixtures(this: Mocha.Context): void {
  if (!fs.existsSync(fixturesDir)) {
    console.log('  (skipped: ../shared/fixtures not found)');
    this.skip();
  }
}

/**
 * The official uint8 fixture with its input and output tensors retyped to int8 and their zero points
 * shifted by -128 (q_int8 = q_uint8 - 128 means the same real value): an int8-I/O model LiteRT runs.
 * Built in memory with our reader + writer; never written to disk.
 */
export async function int8IoModelBytes(): Promise<Uint8Array> {
  const { readTflite } = await import('../../lib/tflite/reader.js');
  const { writeTflite } = await import('../../lib/tflite/writer.js');
  const { TensorType } = await import('../../lib/tflite/model.js');
  const model = readTflite(new Uint8Array(fs.readFileSync(int8Model)), { label: int8Model });
  const sg = model.subgraphs[0];
  for (const ti of [...sg.inputs, ...sg.outputs]) {
    const t = sg.tensors[ti];
    if (t.type !== TensorType.UINT8 || !t.quantization) throw new Error(`${int8Model}: tensor '${t.name}' is not a quantized uint8 tensor`);
    t.type = TensorType.INT8;
    t.quantization.zeroPoint = t.quantization.zeroPoint.map((z) => z - 128);
  }
  return writeTflite(model);
}
