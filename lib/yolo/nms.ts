// Candidate extraction and class-aware non-maximum suppression, following YOLOv5's
// non_max_suppression(): objectness pre-filter, score = obj*cls, optional multi-label,
// best-first greedy suppression per class (IoU strictly above the threshold suppresses).
import { boxToOriginal, type LetterboxTransform } from '../pipeline/letterbox.js';

export interface Detection {
  /** x1, y1, x2, y2 in pixels (network input or original image, depending on the step). */
  box: [number, number, number, number];
  score: number;
  classId: number;
}

export interface NmsOptions {
  /** Minimum obj*cls score (also the objectness pre-filter). Default 0.25. */
  confThreshold?: number;
  /** IoU above which a lower-scored box of the same class is suppressed. Default 0.45. */
  iouThreshold?: number;
  /** Maximum detections kept per image. Default 100. */
  maxDetections?: number;
  /** Every class with score > conf becomes a candidate (ultralytics val); otherwise only the best class. Default false. */
  multiLabel?: boolean;
  /** Suppress across classes (class-agnostic). Default false. */
  agnostic?: boolean;
  /** Only the best-scored this-many candidates enter NMS (YOLOv5 max_nms). Default 30000. */
  maxCandidates?: number;
}

/** The settings ultralytics val uses for mAP. */
export const EVAL_NMS: Required<NmsOptions> = {
  confThreshold: 0.001, iouThreshold: 0.6, maxDetections: 300, multiLabel: true, agnostic: false, maxCandidates: 30000,
};
/** The settings of ultralytics detect, with at most 100 detections. */
export const DETECT_NMS: Required<NmsOptions> = {
  confThreshold: 0.25, iouThreshold: 0.45, maxDetections: 100, multiLabel: false, agnostic: false, maxCandidates: 30000,
};

/** IoU of two xyxy boxes (0 when both are empty). */
export function boxIou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Runs NMS over decoded rows [cx, cy, w, h, obj, cls_0 .. cls_{nc-1}] (row-major, `numClasses`+5 columns).
 * `boxScale` multiplies the box columns first ([inputW, inputH] for normalised rows).
 * Returns detections in the rows' (scaled) pixel space, best score first.
 */
export function nonMaxSuppression(
  rows: Float32Array,
  numClasses: number,
  options: NmsOptions = {},
  boxScale: [number, number] = [1, 1],
): Detection[] {
  const o = { ...DETECT_NMS, ...options };
  const cols = 5 + numClasses;
  if (rows.length % cols !== 0) {
    throw new Error(`nonMaxSuppression: ${rows.length} values is not a whole number of ${cols}-column rows (${numClasses} classes)`);
  }
  const n = rows.length / cols;
  const candRow: number[] = [];
  const candScore: number[] = [];
  const candClass: number[] = [];
  for (let r = 0; r < n; r++) {
    const base = r * cols;
    const obj = rows[base + 4];
    if (!(obj > o.confThreshold)) continue;
    if (o.multiLabel) {
      for (let c = 0; c < numClasses; c++) {
        const s = rows[base + 5 + c] * obj;
        if (s > o.confThreshold) {
          candRow.push(r);
          candScore.push(s);
          candClass.push(c);
        }
      }
    } else {
      let best = 0;
      let bestC = 0;
      for (let c = 0; c < numClasses; c++) {
        const v = rows[base + 5 + c];
        if (v > best) {
          best = v;
          bestC = c;
        }
      }
      const s = best * obj;
      if (s > o.confThreshold) {
        candRow.push(r);
        candScore.push(s);
        candClass.push(bestC);
      }
    }
  }
  // Best score first; ties keep row order so the result is deterministic.
  const order = candScore.map((_, i) => i).sort((a, b) => candScore[b] - candScore[a] || a - b);
  if (order.length > o.maxCandidates) order.length = o.maxCandidates;

  const kept: Detection[] = [];
  const keptByClass = new Map<number, Detection[]>();
  for (const i of order) {
    if (kept.length >= o.maxDetections) break;
    const base = candRow[i] * cols;
    const cx = rows[base] * boxScale[0];
    const cy = rows[base + 1] * boxScale[1];
    const hw = (rows[base + 2] * boxScale[0]) / 2;
    const hh = (rows[base + 3] * boxScale[1]) / 2;
    const box: [number, number, number, number] = [cx - hw, cy - hh, cx + hw, cy + hh];
    const key = o.agnostic ? -1 : candClass[i];
    let same = keptByClass.get(key);
    if (!same) keptByClass.set(key, (same = []));
    let suppressed = false;
    for (const k of same) {
      if (boxIou(k.box, box) > o.iouThreshold) {
        suppressed = true;
        break;
      }
    }
    if (suppressed) continue;
    const det: Detection = { box, score: candScore[i], classId: candClass[i] };
    same.push(det);
    kept.push(det);
  }
  return kept;
}

/** Maps detections from the letterboxed input back onto the original image (clipped to it). */
export function detectionsToOriginal(dets: Detection[], t: LetterboxTransform): Detection[] {
  return dets.map((d) => ({ ...d, box: boxToOriginal(d.box, t) }));
}
