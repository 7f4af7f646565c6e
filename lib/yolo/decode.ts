// Turns raw (dequantized) YOLO model outputs into rows [cx, cy, w, h, obj, cls...] in input pixels,
// whatever the layout: our files' metadata spec (any family, lib/yolo/families), one standard tensor
// ([1,N,5+nc] YOLOv5, [1,4+nc,N] ultralytics anchor-free), or boxes + scores.
import { checkSpecOutputs, decodeWithSpec, type HeadSpec } from './families/index.js';
import { boxesLookNormalized, scaleBoxes, decodeStandardOutput } from './families/standard.js';
import type { DecodedRows } from './families/types.js';
import { DETECT_NMS, EVAL_NMS } from './nms.js';

export type { DecodedRows };
export { boxesLookNormalized, decodeStandardOutput };

export interface OutputInfo {
  name: string;
  shape: number[];
}

/** Layout (a): one [1, N, 5+nc] (YOLOv5) or [1, 4+nc, N] (anchor-free) tensor. Normalised boxes are detected unless `normalized` is given. */
export function decodeSingleOutput(
  data: Float32Array,
  shape: number[],
  inputSize: [number, number],
  normalized?: boolean,
  options: { numClasses?: number; extraPerAnchor?: number } = {},
): DecodedRows {
  return decodeStandardOutput(data, shape, inputSize, { ...options, normalized });
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
  return { rows, numClasses: nc, evalNms: EVAL_NMS, detectNms: DETECT_NMS };
}

/** What the source model says about itself (ultralytics metadata), used where the layout alone is ambiguous. */
export interface ModelHints {
  numClasses?: number;
  /** Values per anchor after boxes and scores (pose: keypoints x dims). */
  extraPerAnchor?: number;
}

/**
 * Decodes a model's float outputs with whatever layout it has: a head spec (outputs matched by
 * tensor name), one standard tensor, or boxes [1,N,4] + scores [1,N,nc].
 */
export function decodeModelOutputs(
  outputs: Float32Array[],
  infos: OutputInfo[],
  inputSize: [number, number],
  spec?: HeadSpec,
  hints: ModelHints = {},
): DecodedRows {
  if (spec) {
    checkSpecOutputs(spec, infos);
    return decodeWithSpec(spec, outputs, infos.map((o) => o.name));
  }
  if (outputs.length === 1) return decodeStandardOutput(outputs[0], infos[0].shape, inputSize, hints);
  if (outputs.length === 2) {
    const bi = infos.findIndex((o) => o.shape[o.shape.length - 1] === 4);
    if (bi >= 0) {
      const si = 1 - bi;
      return decodeBoxesAndScores(outputs[bi], outputs[si], infos[bi].shape[1], inputSize);
    }
  }
  throw new Error(
    `cannot tell the YOLO output layout from ${outputs.length} outputs (${infos.map((o) => `${o.name} [${o.shape.join(',')}]`).join(', ')}); ` +
      `expected one [1,N,5+nc] or [1,4+nc,N] tensor, boxes [1,N,4] + scores [1,N,nc], or a 'yolo_int8_head' metadata entry`,
  );
}
