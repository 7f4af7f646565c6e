// Quick float evaluation of the demo detector on generated images (training report and tests).
import * as tf from '@tensorflow/tfjs';
import { DEMO_HEAD, type YoloHeadSpec } from './model.js';
import { decodeYoloLevels, matchDetections, nonMaxSuppression, type Detection } from './decode.js';
import { generateSample, rgbToFloat01, sampleSeed, type YoloLabel } from './synthetic.js';

export interface DemoEvalOptions {
  count: number;
  /** Dataset seed: image i is generateSample(sampleSeed(seed, i), size). */
  seed: number;
  scoreThreshold?: number;
  nmsIoU?: number;
  matchIoU?: number;
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

/** Label boxes in pixel corners of a `size` x `size` image. */
export function labelsToPixelBoxes(labels: readonly YoloLabel[], size: number): { cls: number; x0: number; y0: number; x1: number; y1: number }[] {
  return labels.map((l) => ({
    cls: l.cls,
    x0: (l.cx - l.w / 2) * size,
    y0: (l.cy - l.h / 2) * size,
    x1: (l.cx + l.w / 2) * size,
    y1: (l.cy + l.h / 2) * size,
  }));
}

/** Runs the float model on a batch of [0,1] NHWC images and returns NMS'd detections per image. */
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
    return nonMaxSuppression(decodeYoloLevels(perImage, head, scoreThreshold), nmsIoU);
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

/** Recall and precision at matchIoU (class-aware) over `count` generated images. */
export function evaluateDemoFloat(model: tf.LayersModel, options: DemoEvalOptions): DemoEvalResult {
  const head = options.head ?? DEMO_HEAD;
  const size = head.inputSize[0];
  const scoreThreshold = options.scoreThreshold ?? 0.3;
  const nmsIoU = options.nmsIoU ?? 0.45;
  const matchIoU = options.matchIoU ?? 0.5;
  const batchSize = options.batchSize ?? 8;
  let objects = 0;
  let detections = 0;
  let tp = 0;
  for (let start = 0; start < options.count; start += batchSize) {
    const samples = [];
    for (let i = start; i < Math.min(options.count, start + batchSize); i++) samples.push(generateSample(sampleSeed(options.seed, i), size));
    const dets = detectBatch(model, samples.map((s) => rgbToFloat01(s.rgb)), head, scoreThreshold, nmsIoU);
    samples.forEach((s, i) => {
      const m = matchDetections(dets[i], labelsToPixelBoxes(s.labels, size), matchIoU);
      objects += s.labels.length;
      detections += dets[i].length;
      tp += m.truePositives;
    });
  }
  return {
    images: options.count,
    objects,
    detections,
    truePositives: tp,
    recall: objects ? tp / objects : 0,
    precision: detections ? tp / detections : 0,
  };
}
