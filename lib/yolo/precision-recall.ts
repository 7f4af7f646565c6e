// Precision and recall the way ultralytics `val` prints them (ap_per_class in utils/metrics.py): per
// class, the precision and recall curves over confidence, sampled at 1000 confidences in [0, 1]; the
// class-mean F1 curve, smoothed (a box filter over 10 % of the samples), picks ONE confidence where
// it is highest; P and R of every class are read there, and the overall P / R are their means over
// the classes present in the labels. A detection is a true positive at IoU 0.5 (ImageStats.correct[.][0]).
import { interp, type ImageStats } from './metrics.js';

/** Confidence samples of the curves: 0, 1/999, ..., 1 (numpy linspace(0, 1, 1000)). */
export const CURVE_POINTS = 1000;

export interface ClassPrecisionRecall {
  classId: number;
  /** Images whose labels hold this class, and its labelled objects. */
  images: number;
  instances: number;
  precision: number;
  recall: number;
}

export interface PrecisionRecall {
  /** Means over the classes present in the labels, at `confidence`. */
  precision: number;
  recall: number;
  f1: number;
  /** The confidence of the maximum (smoothed) mean F1. */
  confidence: number;
  classes: ClassPrecisionRecall[];
}

/**
 * numpy.interp(x, xp, fp, left) for increasing xp: `left` below xp[0], fp[last] above, linear between
 * (at repeated xp the last of the equal points is used, as numpy does).
 */
export function interpLeft(x: number, xp: readonly number[], fp: readonly number[], left: number): number {
  return x < xp[0] ? left : interp(x, xp, fp);
}

/** ultralytics smooth(y, f): a box filter of odd width round(2 f n) // 2 * 2 + 1 (edges padded with the end values). */
export function boxSmooth(y: readonly number[], fraction: number): number[] {
  const width = Math.floor(Math.round(y.length * fraction * 2) / 2) + 1;
  const half = Math.floor(width / 2);
  const padded = [...new Array<number>(half).fill(y[0]), ...y, ...new Array<number>(half).fill(y[y.length - 1])];
  const out: number[] = [];
  let sum = padded.slice(0, width).reduce((a, b) => a + b, 0);
  for (let i = 0; i + width <= padded.length; i++) {
    if (i > 0) sum += padded[i + width - 1] - padded[i - 1];
    out.push(sum / width);
  }
  return out;
}

/**
 * One class's precision and recall curves at the sample confidences: detections sorted by
 * decreasing score, cumulative TP / FP; sampled at confidence c (x = -c on the ascending -score axis)
 * with recall 0 and precision 1 above the highest score.
 */
function classCurves(scores: number[], tp: boolean[], instances: number, px: number[]): { p: number[]; r: number[] } {
  const negScores: number[] = [];
  const recall: number[] = [];
  const precision: number[] = [];
  let tpc = 0;
  scores.forEach((s, k) => {
    if (tp[k]) tpc++;
    negScores.push(-s);
    recall.push(tpc / (instances + 1e-16));
    precision.push(tpc / (k + 1));
  });
  return { p: px.map((c) => interpLeft(-c, negScores, precision, 1)), r: px.map((c) => interpLeft(-c, negScores, recall, 0)) };
}

/** Precision / recall per class and overall at the confidence of maximum mean F1 (IoU 0.5). */
export function precisionRecallAtMaxF1(stats: readonly ImageStats[]): PrecisionRecall {
  const px = Array.from({ length: CURVE_POINTS }, (_, i) => i / (CURVE_POINTS - 1));
  const dets: { score: number; tp: boolean; cls: number }[] = [];
  const instances = new Map<number, number>();
  const images = new Map<number, number>();
  for (const s of stats) {
    s.scores.forEach((score, i) => dets.push({ score, tp: s.correct[i][0], cls: s.predClasses[i] }));
    for (const c of s.labelClasses) instances.set(c, (instances.get(c) ?? 0) + 1);
    for (const c of new Set(s.labelClasses)) images.set(c, (images.get(c) ?? 0) + 1);
  }
  dets.sort((a, b) => b.score - a.score);
  const classes = [...instances.keys()].sort((a, b) => a - b);
  // A class without detections keeps P = R = 0 at every confidence (as ultralytics' zero rows).
  const curves = classes.map((c) => {
    const mine = dets.filter((d) => d.cls === c);
    if (mine.length === 0) return { p: new Array<number>(CURVE_POINTS).fill(0), r: new Array<number>(CURVE_POINTS).fill(0) };
    return classCurves(mine.map((d) => d.score), mine.map((d) => d.tp), instances.get(c)!, px);
  });
  const f1 = (p: number, r: number) => (2 * p * r) / (p + r + 1e-16);
  const meanF1 = px.map((_, k) => (classes.length ? curves.reduce((a, cv) => a + f1(cv.p[k], cv.r[k]), 0) / classes.length : 0));
  const smoothed = boxSmooth(meanF1, 0.1);
  const best = smoothed.indexOf(Math.max(...smoothed));
  const perClass = classes.map((c, k) => ({ classId: c, images: images.get(c)!, instances: instances.get(c)!, precision: curves[k].p[best], recall: curves[k].r[best] }));
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const precision = mean(perClass.map((c) => c.precision));
  const recall = mean(perClass.map((c) => c.recall));
  return { precision, recall, f1: mean(perClass.map((c) => f1(c.precision, c.recall))), confidence: px[best], classes: perClass };
}
