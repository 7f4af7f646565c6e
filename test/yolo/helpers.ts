import fs from 'node:fs';
import { YOLOV5N_INT8 } from '../support/fixtures.js';

/**
 * The official uint8 fixture with its input and output tensors retyped to int8 and their zero points
 * shifted by -128 (q_int8 = q_uint8 - 128 means the same real value): an int8-I/O model LiteRT runs.
 * Built in memory with our reader + writer; never written to disk.
 */
export async function int8IoModelBytes(): Promise<Uint8Array> {
  const { readTflite } = await import('../../lib/tflite/reader.js');
  const { writeTflite } = await import('../../lib/tflite/writer.js');
  const { TensorType } = await import('../../lib/tflite/model.js');
  const model = readTflite(new Uint8Array(fs.readFileSync(YOLOV5N_INT8)), { label: YOLOV5N_INT8 });
  const sg = model.subgraphs[0];
  for (const ti of [...sg.inputs, ...sg.outputs]) {
    const t = sg.tensors[ti];
    if (t.type !== TensorType.UINT8 || !t.quantization) throw new Error(`${YOLOV5N_INT8}: tensor '${t.name}' is not a quantized uint8 tensor`);
    t.type = TensorType.INT8;
    t.quantization.zeroPoint = t.quantization.zeroPoint.map((z) => z - 128);
  }
  return writeTflite(model);
}
