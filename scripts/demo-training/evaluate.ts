// Quick float evaluation of the demo detector on generated images, for the training report and the
// tests: the float TF.js model, decoded, NMS'd and counted with the code `yolo-int8 demo` uses for its
// precision / recall columns (lib/yolo's decode and NMS, lib/demo/operating-point.ts's count).
import * as tf from '@tensorflow/tfjs';
import { DEMO_HEAD } from '../../lib/demo/model.js';
import { countImage, precisionRecall, DEMO_OPERATING_NMS, type OperatingPointCounts } from '../../lib/demo/operating-point.js';
import { generateSample, sampleSeed } from '../../lib/demo/synthetic.js';
import { labelsToPixels } from '../../lib/yolo/dataset.js';
import { decodeYoloHead, type YoloHeadSpec } from '../../lib/yolo/families/yolov5.js';
import { nonMaxSuppression, type Detection } from '../../lib/yolo/nms.js';

export interface DemoEvalOptions {
  count: number;
  /** Dataset seed: image i is generateSample(sampleSeed(seed, i), size). */
  seed: number;
  /** A detection needs score = obj * class > this (default: the demo's, 0.3). */
  scoreThreshold?: number;
  /** Default: the demo's, 0.45. */
  nmsIoU?: number;
  batchSize?: number;
  head?: YoloHeadSpec;
}

export interface DemoEvalResult {
  images: number;
  objects: number;
  detections: number;
  truePositives: number;
  recall: number;
  precision: number;
}

/**
 * The detections of one image from its per-level sigmoid outputs (input pixels, best score first):
 * the YOLOv5 decode and the demo's class-aware NMS (best class per anchor, at most 100 boxes).
 */
export function detectionsOf(levelOutputs: Float32Array[], head: YoloHeadSpec, scoreThreshold: number, nmsIoU: number): Detection[] {
  return nonMaxSuppression(decodeYoloHead(head, levelOutputs), head.numClasses, { ...DEMO_OPERATING_NMS, confThreshold: scoreThreshold, iouThreshold: nmsIoU });
}

/** Float32 [size*size*3] in [0,1] (the model's input layout, NHWC without the batch axis). */
export function rgbToFloat01(rgb: Uint8Array): Float32Array {
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) out[i] = rgb[i] / 255;
  return out;
}

/** Runs the float model on a batch of [0,1] NHWC images and returns each image's detections. */
export function detectBatch(model: tf.LayersModel, images: readonly Float32Array[], head: YoloHeadSpec, scoreThreshold: number, nmsIoU: number): Detection[][] {
  const [h, w] = head.inputSize;
  const outs = tf.tidy(() => {
    const x = tf.tensor4d(concat(images), [images.length, h, w, 3]);
    const y = model.predict(x);
    return (Array.isArray(y) ? y : [y]).map((t) => t.dataSync() as Float32Array);
  });
  return images.map((_, b) => {
    const perImage = head.levels.map((level, li) => {
      const n = level.gridH * level.gridW * level.anchors.length * (5 + head.numClasses);
      return outs[li].subarray(b * n, (b + 1) * n);
    });
    return detectionsOf(perImage, head, scoreThreshold, nmsIoU);
  });
}

function concat(arrays: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(arrays.reduce((s, a) => s + a.length, 0));
  let o = 0;
  for (const a of arrays) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}

/** Recall and precision (class-aware match at IoU 0.5, each label once) over `count` generated images. */
export function evaluateDemoFloat(model: tf.LayersModel, options: DemoEvalOptions): DemoEvalResult {
  const head = options.head ?? DEMO_HEAD;
  const size = head.inputSize[0];
  const scoreThreshold = options.scoreThreshold ?? DEMO_OPERATING_NMS.confThreshold;
  const nmsIoU = options.nmsIoU ?? DEMO_OPERATING_NMS.iouThreshold;
  const batchSize = options.batchSize ?? 8;
  const counts: OperatingPointCounts = { truePositives: 0, detections: 0, labels: 0 };
  for (let start = 0; start < options.count; start += batchSize) {
    const samples = [];
    for (let i = start; i < Math.min(options.count, start + batchSize); i++) samples.push(generateSample(sampleSeed(options.seed, i), size));
    const dets = detectBatch(model, samples.map((s) => rgbToFloat01(s.rgb)), head, scoreThreshold, nmsIoU);
    samples.forEach((s, i) => countImage(counts, dets[i], labelsToPixels(s.labels, size, size)));
  }
  return {
    images: options.count,
    objects: counts.labels,
    detections: counts.detections,
    truePositives: counts.truePositives,
    ...precisionRecall(counts),
  };
}
