// The YOLOv5 detection head as our int8 models output it: one sigmoid-ed tensor per level,
// decoded to [cx, cy, w, h, obj, cls...] rows outside the model (where float math is free).
import type { TfliteModel } from '../tflite/model.js';

export interface YoloHeadLevel {
  /** Output tensor name. */
  output: string;
  stride: number;
  gridH: number;
  gridW: number;
  /** Anchor sizes in input pixels, 3 per level. */
  anchors: [number, number][];
}

export interface YoloHeadSpec {
  kind: 'yolov5-sigmoid-levels';
  inputSize: [h: number, w: number];
  numClasses: number;
  /** Boxes divided by the input size, as the official TF export does. */
  normalized: boolean;
  levels: YoloHeadLevel[];
}

/** Name of the TFLite metadata entry holding the YoloHeadSpec as JSON. */
export const YOLO_HEAD_METADATA_NAME = 'yolo_int8_head';

/** The YOLOv5 (P3-P5) COCO anchors in pixels. */
export const YOLOV5_ANCHORS: [number, number][][] = [
  [[10, 13], [16, 30], [33, 23]],
  [[30, 61], [62, 45], [59, 119]],
  [[116, 90], [156, 198], [373, 326]],
];

/** The standard YOLOv5 three-level head for an input size (strides 8/16/32). */
export function yolov5HeadSpec(
  inputSize: [number, number] = [640, 640],
  numClasses = 80,
  outputs: string[] = ['p3', 'p4', 'p5'],
  normalized = true,
): YoloHeadSpec {
  const strides = [8, 16, 32];
  return {
    kind: 'yolov5-sigmoid-levels',
    inputSize,
    numClasses,
    normalized,
    levels: strides.map((stride, i) => ({
      output: outputs[i],
      stride,
      gridH: Math.ceil(inputSize[0] / stride),
      gridW: Math.ceil(inputSize[1] / stride),
      anchors: YOLOV5_ANCHORS[i].map(([w, h]) => [w, h] as [number, number]),
    })),
  };
}

/** Total number of rows the head decodes to. */
export function headRowCount(spec: YoloHeadSpec): number {
  return spec.levels.reduce((n, l) => n + l.gridH * l.gridW * l.anchors.length, 0);
}

/** Validates a parsed spec (e.g. from a model's metadata); `where` names the source in errors. */
export function validateHeadSpec(x: unknown, where = 'YoloHeadSpec'): YoloHeadSpec {
  const fail = (msg: string): never => {
    throw new Error(`${where}: ${msg}`);
  };
  if (typeof x !== 'object' || x === null) fail('expected an object');
  const s = x as YoloHeadSpec;
  if (s.kind !== 'yolov5-sigmoid-levels') fail(`kind must be 'yolov5-sigmoid-levels', got ${JSON.stringify(s.kind)}`);
  if (!Array.isArray(s.inputSize) || s.inputSize.length !== 2 || !s.inputSize.every((v) => Number.isInteger(v) && v > 0)) {
    fail(`inputSize must be [h, w] positive integers, got ${JSON.stringify(s.inputSize)}`);
  }
  if (!Number.isInteger(s.numClasses) || s.numClasses < 1) fail(`numClasses must be a positive integer, got ${s.numClasses}`);
  if (typeof s.normalized !== 'boolean') fail(`normalized must be a boolean, got ${JSON.stringify(s.normalized)}`);
  if (!Array.isArray(s.levels) || s.levels.length === 0) fail('levels must be a non-empty array');
  s.levels.forEach((l, i) => {
    if (typeof l.output !== 'string') fail(`levels[${i}].output must be a tensor name`);
    for (const k of ['stride', 'gridH', 'gridW'] as const) {
      if (!(l[k] > 0)) fail(`levels[${i}].${k} must be positive, got ${l[k]}`);
    }
    if (!Array.isArray(l.anchors) || l.anchors.length === 0 || !l.anchors.every((a) => Array.isArray(a) && a.length === 2)) {
      fail(`levels[${i}].anchors must be [w, h] pairs`);
    }
  });
  return s;
}

/** Reads the YoloHeadSpec a model stores in its `yolo_int8_head` metadata, or undefined when it has none. */
export function readHeadSpec(model: TfliteModel, label = 'model'): YoloHeadSpec | undefined {
  const entry = model.metadata.find((m) => m.name === YOLO_HEAD_METADATA_NAME);
  if (!entry) return undefined;
  const buf = model.buffers[entry.buffer];
  if (!buf) throw new Error(`${label}: metadata '${YOLO_HEAD_METADATA_NAME}' points at missing buffer ${entry.buffer}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(buf.data));
  } catch (e) {
    throw new Error(`${label}: metadata '${YOLO_HEAD_METADATA_NAME}' is not valid JSON: ${(e as Error).message}`);
  }
  return validateHeadSpec(parsed, `${label}: metadata '${YOLO_HEAD_METADATA_NAME}'`);
}

/**
 * Decodes per-level sigmoid outputs into [N, 5+nc] rows [cx, cy, w, h, obj, cls...] (YOLOv5):
 * xy = (2*s_xy - 0.5 + grid_xy) * stride; wh = (2*s_wh)^2 * anchor; obj and classes pass through.
 * Level rows are ordered cell*A + anchor with cell = y*gridW + x; levels are concatenated in order.
 * Boxes are divided by the input size when spec.normalized.
 */
export function decodeYoloHead(spec: YoloHeadSpec, outputs: Float32Array[]): Float32Array {
  if (outputs.length !== spec.levels.length) {
    throw new Error(`decodeYoloHead: the spec has ${spec.levels.length} levels, got ${outputs.length} output tensors`);
  }
  const cols = 5 + spec.numClasses;
  const out = new Float32Array(headRowCount(spec) * cols);
  const [inH, inW] = spec.inputSize;
  const nx = spec.normalized ? 1 / inW : 1;
  const ny = spec.normalized ? 1 / inH : 1;
  let row = 0;
  spec.levels.forEach((level, li) => {
    const a = level.anchors.length;
    const rows = level.gridH * level.gridW * a;
    const src = outputs[li];
    if (src.length !== rows * cols) {
      throw new Error(
        `decodeYoloHead: level ${li} ('${level.output}') expects [1,${rows},${cols}] = ${rows * cols} values, got ${src.length}`,
      );
    }
    for (let gy = 0; gy < level.gridH; gy++) {
      for (let gx = 0; gx < level.gridW; gx++) {
        for (let k = 0; k < a; k++) {
          const r = (gy * level.gridW + gx) * a + k;
          const i = r * cols;
          const o = (row + r) * cols;
          out[o] = (2 * src[i] - 0.5 + gx) * level.stride * nx;
          out[o + 1] = (2 * src[i + 1] - 0.5 + gy) * level.stride * ny;
          const w2 = 2 * src[i + 2];
          const h2 = 2 * src[i + 3];
          out[o + 2] = w2 * w2 * level.anchors[k][0] * nx;
          out[o + 3] = h2 * h2 * level.anchors[k][1] * ny;
          for (let c = 4; c < cols; c++) out[o + c] = src[i + c];
        }
      }
    }
    row += rows;
  });
  return out;
}
