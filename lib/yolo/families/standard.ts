// The standard single-tensor layouts exported models end in (no metadata of ours needed):
//   YOLOv5:        [1, N, 5+nc]           rows cx, cy, w, h, obj, class probabilities;
//   anchor-free:   [1, 4+nc+extra, N]     ultralytics v8/11 (and v5u): channels cx, cy, w, h, class
//                                          probabilities (no objectness), then `extra` values per
//                                          anchor (pose keypoints), N anchors last.
// Boxes are pixels or normalised to 0..1 of the input (the official TFLite exports); normalised ones
// are recognised by their centres, which stay within about [-0.5, 1.5] while pixel centres span the input.
import { DETECT_NMS, EVAL_NMS } from '../nms.js';
import type { DecodedRows } from './types.js';
import { YOLOV8_DETECT_NMS, YOLOV8_EVAL_NMS } from './yolov8.js';

/** Whether box columns of [N, cols] rows are normalised (0..1 of the input) rather than pixels. */
export function boxesLookNormalized(rows: Float32Array, cols: number): boolean {
  let maxCenter = 0;
  for (let i = 0; i < rows.length; i += cols) {
    maxCenter = Math.max(maxCenter, Math.abs(rows[i]), Math.abs(rows[i + 1]));
  }
  return maxCenter <= 2;
}

export function scaleBoxes(rows: Float32Array, cols: number, sx: number, sy: number): void {
  for (let i = 0; i < rows.length; i += cols) {
    rows[i] *= sx;
    rows[i + 1] *= sy;
    rows[i + 2] *= sx;
    rows[i + 3] *= sy;
  }
}

export type StandardLayout = 'yolov5-rows' | 'anchor-free-channels-first';

/**
 * Which standard layout a [1, a, b] output has: anchors outnumber values per anchor in every real
 * model, so a < b means anchors last - provided a leaves room for 4 box values and a class.
 */
export function standardLayoutOf(shape: number[]): StandardLayout {
  if (shape.length !== 3 || shape[0] !== 1) throw new Error(`YOLO output with shape [${shape.join(',')}]: expected [1, N, 5+classes] or [1, 4+classes, N]`);
  return shape[1] < shape[2] && shape[1] >= 5 ? 'anchor-free-channels-first' : 'yolov5-rows';
}

/**
 * Decodes one standard output tensor into rows [cx, cy, w, h, obj, cls...] in input pixels (obj = 1
 * for anchor-free heads). `numClasses` defaults to what the layout leaves after boxes (and obj) and
 * `extraPerAnchor` values; `normalized` is detected when not given.
 */
export function decodeStandardOutput(
  data: Float32Array,
  shape: number[],
  inputSize: [number, number],
  options: { numClasses?: number; extraPerAnchor?: number; normalized?: boolean } = {},
): DecodedRows {
  const layout = standardLayoutOf(shape);
  const extra = options.extraPerAnchor ?? 0;
  if (data.length !== shape[1] * shape[2]) throw new Error(`YOLO output [${shape.join(',')}] has ${data.length} values`);
  if (layout === 'yolov5-rows') {
    const cols = shape[2];
    const nc = options.numClasses ?? cols - 5 - extra;
    if (nc < 1 || 5 + nc + extra !== cols) throw new Error(`YOLO output [${shape.join(',')}]: ${cols} values per row do not fit 5 + ${nc} classes + ${extra}`);
    let rows = data.slice();
    if (extra) {
      const out = new Float32Array((data.length / cols) * (5 + nc));
      for (let r = 0, n = data.length / cols; r < n; r++) out.set(data.subarray(r * cols, r * cols + 5 + nc), r * (5 + nc));
      rows = out;
    }
    if (options.normalized ?? boxesLookNormalized(rows, 5 + nc)) scaleBoxes(rows, 5 + nc, inputSize[1], inputSize[0]);
    return { rows, numClasses: nc, evalNms: EVAL_NMS, detectNms: DETECT_NMS };
  }
  const [, channels, n] = shape;
  const nc = options.numClasses ?? channels - 4 - extra;
  if (nc < 1 || 4 + nc + extra !== channels) throw new Error(`YOLO output [${shape.join(',')}]: ${channels} values per anchor do not fit 4 + ${nc} classes + ${extra}`);
  const cols = 5 + nc;
  const rows = new Float32Array(n * cols);
  for (let j = 0; j < n; j++) {
    const o = j * cols;
    for (let k = 0; k < 4; k++) rows[o + k] = data[k * n + j];
    rows[o + 4] = 1;
    for (let c = 0; c < nc; c++) rows[o + 5 + c] = data[(4 + c) * n + j];
  }
  if (options.normalized ?? boxesLookNormalized(rows, cols)) scaleBoxes(rows, cols, inputSize[1], inputSize[0]);
  return { rows, numClasses: nc, evalNms: YOLOV8_EVAL_NMS, detectNms: YOLOV8_DETECT_NMS };
}
