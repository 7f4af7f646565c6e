// Turns raw (dequantized) YOLOv5 model outputs into rows [cx, cy, w, h, obj, cls...] in input pixels.
import { decodeYoloHead, type YoloHeadSpec } from './head.js';

export interface DecodedRows {
  /** Row-major [N, 5+numClasses]: cx, cy, w, h (input pixels), obj, class probabilities. */
  rows: Float32Array;
  numClasses: number;
}

export interface OutputInfo {
  name: string;
  shape: number[];
}

/**
 * Whether box columns are normalised (0..1 of the input) rather than pixels: the centres of a
 * pixel-space head reach far beyond 1 (the grid spans the input), normalised ones stay within ~[−0.5, 1.5].
 */
export function boxesLookNormalized(rows: Float32Array, cols: number): boolean {
  let maxCenter = 0;
  for (let i = 0; i < rows.length; i += cols) {
    maxCenter = Math.max(maxCenter, Math.abs(rows[i]), Math.abs(rows[i + 1]));
  }
  return maxCenter <= 2;
}

function scaleBoxes(rows: Float32Array, cols: number, sx: number, sy: number): void {
  for (let i = 0; i < rows.length; i += cols) {
    rows[i] *= sx;
    rows[i + 1] *= sy;
    rows[i + 2] *= sx;
    rows[i + 3] *= sy;
  }
}

/** Layout (a): one [1, N, 5+nc] tensor. Normalised boxes are detected unless `normalized` is given. */
export function decodeSingleOutput(
  data: Float32Array,
  shape: number[],
  inputSize: [number, number],
  normalized?: boolean,
): DecodedRows {
  const cols = shape[shape.length - 1];
  if (shape.length !== 3 || shape[0] !== 1 || cols < 6 || data.length !== shape[1] * cols) {
    throw new Error(`YOLO output with shape [${shape.join(',')}]: expected [1, N, 5+classes] with ${data.length} values`);
  }
  const rows = data.slice();
  if (normalized ?? boxesLookNormalized(rows, cols)) scaleBoxes(rows, cols, inputSize[1], inputSize[0]);
  return { rows, numClasses: cols - 5 };
}

/**
 * Layout (b): boxes [1, N, 4] and class scores [1, N, nc] (already obj*cls) as separate tensors.
 * Rows get obj = 1 so that score = class score.
 */
export function decodeBoxesAndScores(
  boxes: Float32Array,
  scores: Float32Array,
  numBoxes: number,
  inputSize: [number, number],
  options: { boxFormat?: 'xywh' | 'xyxy'; normalized?: boolean } = {},
): DecodedRows {
  if (boxes.length !== numBoxes * 4 || scores.length % numBoxes !== 0) {
    throw new Error(`YOLO boxes/scores outputs: expected [1,${numBoxes},4] boxes and [1,${numBoxes},classes] scores, got ${boxes.length} and ${scores.length} values`);
  }
  const nc = scores.length / numBoxes;
  const cols = 5 + nc;
  const rows = new Float32Array(numBoxes * cols);
  for (let r = 0; r < numBoxes; r++) {
    const b = r * 4;
    const o = r * cols;
    if (options.boxFormat === 'xyxy') {
      rows[o] = (boxes[b] + boxes[b + 2]) / 2;
      rows[o + 1] = (boxes[b + 1] + boxes[b + 3]) / 2;
      rows[o + 2] = boxes[b + 2] - boxes[b];
      rows[o + 3] = boxes[b + 3] - boxes[b + 1];
    } else {
      rows.set(boxes.subarray(b, b + 4), o);
    }
    rows[o + 4] = 1;
    rows.set(scores.subarray(r * nc, (r + 1) * nc), o + 5);
  }
  if (options.normalized ?? boxesLookNormalized(rows, cols)) scaleBoxes(rows, cols, inputSize[1], inputSize[0]);
  return { rows, numClasses: nc };
}

/**
 * Decodes a model's float outputs with whatever layout it has: a YoloHeadSpec (per-level sigmoid
 * outputs, matched by tensor name), one [1,N,5+nc] tensor, or boxes [1,N,4] + scores [1,N,nc].
 */
export function decodeModelOutputs(
  outputs: Float32Array[],
  infos: OutputInfo[],
  inputSize: [number, number],
  spec?: YoloHeadSpec,
): DecodedRows {
  if (spec) {
    const ordered = spec.levels.map((l) => {
      const i = infos.findIndex((o) => o.name === l.output);
      if (i < 0) throw new Error(`YoloHeadSpec level output '${l.output}' is not among the model outputs (${infos.map((o) => o.name).join(', ')})`);
      return outputs[i];
    });
    const rows = decodeYoloHead(spec, ordered);
    if (spec.normalized) scaleBoxes(rows, 5 + spec.numClasses, spec.inputSize[1], spec.inputSize[0]);
    return { rows, numClasses: spec.numClasses };
  }
  if (outputs.length === 1) return decodeSingleOutput(outputs[0], infos[0].shape, inputSize);
  if (outputs.length === 2) {
    const bi = infos.findIndex((o) => o.shape[o.shape.length - 1] === 4);
    if (bi >= 0) {
      const si = 1 - bi;
      return decodeBoxesAndScores(outputs[bi], outputs[si], infos[bi].shape[1], inputSize);
    }
  }
  throw new Error(
    `cannot tell the YOLO output layout from ${outputs.length} outputs (${infos.map((o) => `${o.name} [${o.shape.join(',')}]`).join(', ')}); ` +
      `expected one [1,N,5+nc] tensor, boxes [1,N,4] + scores [1,N,nc], or a '${'yolo_int8_head'}' metadata entry`,
  );
}
