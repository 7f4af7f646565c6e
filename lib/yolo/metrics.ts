// COCO-style mAP the way ultralytics YOLOv5 val computes it: per image, predictions are matched to
// labels at each IoU threshold 0.50:0.05:0.95; then per class, AP = area under the monotone
// precision envelope sampled at 101 recall points (trapezoidal), averaged over classes present in labels.
import { boxIou, type Detection } from './nms.js';

export interface LabelBox {
  classId: number;
  /** xyxy in the same pixel space as the detections. */
  box: [number, number, number, number];
}

export const IOU_THRESHOLDS: number[] = Array.from({ length: 10 }, (_, i) => 0.5 + 0.05 * i);

/** One image's contribution: per detection, whether it is a true positive at each IoU threshold. */
export interface ImageStats {
  correct: boolean[][];
  scores: number[];
  predClasses: number[];
  labelClasses: number[];
}

/**
 * Matches detections to labels at each IoU threshold like YOLOv5's process_batch: candidate pairs of the
 * same class with IoU >= t, sorted by IoU (highest first); each detection keeps its best pair, then each
 * label keeps the pair of its lowest-index (highest-score) detection. Detections must be sorted by score.
 */
export function matchImage(dets: Detection[], labels: LabelBox[], iouThresholds: number[] = IOU_THRESHOLDS): ImageStats {
  const correct = dets.map(() => iouThresholds.map(() => false));
  const iou = labels.map((l) => dets.map((d) => (d.classId === l.classId ? boxIou(l.box, d.box) : -1)));
  iouThresholds.forEach((t, ti) => {
    const pairs: { l: number; d: number; iou: number }[] = [];
    labels.forEach((_, li) => dets.forEach((_, di) => {
      if (iou[li][di] >= t) pairs.push({ l: li, d: di, iou: iou[li][di] });
    }));
    pairs.sort((a, b) => b.iou - a.iou);
    const bestPerDet = new Map<number, { l: number; d: number }>();
    for (const p of pairs) if (!bestPerDet.has(p.d)) bestPerDet.set(p.d, p);
    const byDet = [...bestPerDet.values()].sort((a, b) => a.d - b.d);
    const labelTaken = new Set<number>();
    for (const p of byDet) {
      if (labelTaken.has(p.l)) continue;
      labelTaken.add(p.l);
      correct[p.d][ti] = true;
    }
  });
  return { correct, scores: dets.map((d) => d.score), predClasses: dets.map((d) => d.classId), labelClasses: labels.map((l) => l.classId) };
}

/** numpy.interp for increasing xp (repeated xp allowed): the value at x of the piecewise-linear (xp, fp). */
export function interp(x: number, xp: readonly number[], fp: readonly number[]): number {
  const n = xp.length;
  if (x < xp[0]) return fp[0];
  if (x >= xp[n - 1]) return fp[n - 1];
  // Last j with xp[j] <= x.
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xp[mid] <= x) lo = mid;
    else hi = mid;
  }
  return fp[lo] + ((fp[lo + 1] - fp[lo]) * (x - xp[lo])) / (xp[lo + 1] - xp[lo]);
}

/** AP from a recall / precision curve (YOLOv5 compute_ap, 101-point interpolation + trapezoid). */
export function computeAp(recall: number[], precision: number[]): number {
  const mrec = [0, ...recall, 1];
  const mpre = [1, ...precision, 0];
  // Precision envelope: the best precision at this recall or any higher one.
  for (let i = mpre.length - 2; i >= 0; i--) mpre[i] = Math.max(mpre[i], mpre[i + 1]);
  let area = 0;
  let prev = interp(0, mrec, mpre);
  for (let k = 1; k <= 100; k++) {
    const v = interp(k / 100, mrec, mpre);
    area += ((v + prev) / 2) * 0.01;
    prev = v;
  }
  return area;
}

export interface ApResult {
  /** Classes present in the labels, ascending. */
  classes: number[];
  /** ap[c][t]: AP of classes[c] at IoU threshold t. */
  ap: number[][];
  mAP50: number;
  mAP50_95: number;
}

/** Per-class AP over all images (YOLOv5 ap_per_class), averaged over the classes present in the labels. */
export function apPerClass(stats: ImageStats[], numThresholds = IOU_THRESHOLDS.length): ApResult {
  const tp: boolean[][] = [];
  const conf: number[] = [];
  const predCls: number[] = [];
  const labelCount = new Map<number, number>();
  for (const s of stats) {
    s.correct.forEach((c, i) => {
      tp.push(c);
      conf.push(s.scores[i]);
      predCls.push(s.predClasses[i]);
    });
    for (const c of s.labelClasses) labelCount.set(c, (labelCount.get(c) ?? 0) + 1);
  }
  const order = conf.map((_, i) => i).sort((a, b) => conf[b] - conf[a] || a - b);
  const classes = [...labelCount.keys()].sort((a, b) => a - b);
  const ap = classes.map((c) => {
    const nl = labelCount.get(c)!;
    const idx = order.filter((i) => predCls[i] === c);
    const row = new Array(numThresholds).fill(0);
    if (idx.length === 0) return row;
    for (let t = 0; t < numThresholds; t++) {
      let tpc = 0;
      const recall: number[] = [];
      const precision: number[] = [];
      idx.forEach((i, k) => {
        if (tp[i][t]) tpc++;
        recall.push(tpc / (nl + 1e-16));
        precision.push(tpc / (k + 1));
      });
      row[t] = computeAp(recall, precision);
    }
    return row;
  });
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  return {
    classes,
    ap,
    mAP50: mean(ap.map((r) => r[0])),
    mAP50_95: mean(ap.map((r) => mean(r))),
  };
}
