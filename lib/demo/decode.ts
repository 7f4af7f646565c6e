// YOLOv5 decode of sigmoid head outputs + class-aware greedy NMS, on plain arrays.
// A small self-contained version for the demo model and its tests (lib/yolo has the general one).
import type { YoloHeadSpec } from '../yolo/head.js';

/** A detection box in input pixels (corners), with class and score = objectness * class probability. */
export interface Detection {
  cls: number;
  score: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Decodes one image's head outputs (one Float32Array per level, layout [gridH, gridW, 3*(5+nc)],
 * channel = anchor*(5+nc)+k, values already sigmoid-activated):
 *   xy = (2*s_xy - 0.5 + cell) * stride,  wh = (2*s_wh)^2 * anchor,  score = obj * cls.
 * Keeps, per anchor, the best class when its score is >= scoreThreshold.
 */
export function decodeYoloLevels(outputs: readonly Float32Array[], head: YoloHeadSpec, scoreThreshold: number): Detection[] {
  if (outputs.length !== head.levels.length) {
    throw new Error(`decodeYoloLevels: expected ${head.levels.length} level outputs, got ${outputs.length}`);
  }
  const perAnchor = 5 + head.numClasses;
  const dets: Detection[] = [];
  head.levels.forEach((level, li) => {
    const data = outputs[li];
    const anchors = level.anchors.length;
    const expected = level.gridH * level.gridW * anchors * perAnchor;
    if (data.length !== expected) {
      throw new Error(`decodeYoloLevels: output '${level.output}' has ${data.length} values, expected ${level.gridH}x${level.gridW}x${anchors * perAnchor} = ${expected}`);
    }
    for (let gy = 0; gy < level.gridH; gy++) {
      for (let gx = 0; gx < level.gridW; gx++) {
        for (let a = 0; a < anchors; a++) {
          const o = ((gy * level.gridW + gx) * anchors + a) * perAnchor;
          const obj = data[o + 4];
          if (obj < scoreThreshold) continue;
          let best = 0;
          for (let k = 1; k < head.numClasses; k++) if (data[o + 5 + k] > data[o + 5 + best]) best = k;
          const score = obj * data[o + 5 + best];
          if (score < scoreThreshold) continue;
          const cx = (2 * data[o] - 0.5 + gx) * level.stride;
          const cy = (2 * data[o + 1] - 0.5 + gy) * level.stride;
          const w = (2 * data[o + 2]) ** 2 * level.anchors[a][0];
          const h = (2 * data[o + 3]) ** 2 * level.anchors[a][1];
          dets.push({ cls: best, score, x0: cx - w / 2, y0: cy - h / 2, x1: cx + w / 2, y1: cy + h / 2 });
        }
      }
    }
  });
  return dets;
}

export function boxIoU(a: { x0: number; y0: number; x1: number; y1: number }, b: { x0: number; y0: number; x1: number; y1: number }): number {
  const iw = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const ih = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy per-class NMS: highest score first, drops same-class boxes with IoU > iouThreshold. */
export function nonMaxSuppression(dets: readonly Detection[], iouThreshold = 0.45, maxDetections = 100): Detection[] {
  // Ties broken by position so the result does not depend on the input order's engine sort stability.
  const sorted = [...dets].sort((p, q) => q.score - p.score || p.x0 - q.x0 || p.y0 - q.y0);
  const kept: Detection[] = [];
  for (const d of sorted) {
    if (kept.length >= maxDetections) break;
    if (kept.every((k) => k.cls !== d.cls || boxIoU(k, d) <= iouThreshold)) kept.push(d);
  }
  return kept;
}

export interface MatchCounts {
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
}

/**
 * Greedy matching of detections (best score first) to ground-truth boxes of the same class at
 * IoU >= iouThreshold; each ground truth matches at most once.
 */
export function matchDetections(
  dets: readonly Detection[],
  truth: readonly { cls: number; x0: number; y0: number; x1: number; y1: number }[],
  iouThreshold = 0.5,
): MatchCounts {
  const used = new Array<boolean>(truth.length).fill(false);
  let tp = 0;
  for (const d of [...dets].sort((p, q) => q.score - p.score)) {
    let best = -1;
    let bestIoU = iouThreshold;
    truth.forEach((t, i) => {
      if (used[i] || t.cls !== d.cls) return;
      const iou = boxIoU(d, t);
      if (iou >= bestIoU) {
        bestIoU = iou;
        best = i;
      }
    });
    if (best >= 0) {
      used[best] = true;
      tp++;
    }
  }
  return { truePositives: tp, falsePositives: dets.length - tp, falseNegatives: truth.length - tp };
}
