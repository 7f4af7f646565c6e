// The demo's precision / recall count at its operating point (score 0.3, detect's NMS): what the
// demo table prints beside mAP, and what the demo detector's training report measures.
import { DETECT_NMS, type Detection, type NmsOptions } from '../yolo/nms.js';
import { matchImage, type LabelBox } from '../yolo/metrics.js';

/** Score at which the demo reports precision and recall (a detector's usual operating point). */
export const DEMO_SCORE_THRESHOLD = 0.3;
/** NMS of the precision / recall count: `detect`'s standard settings (IoU 0.45, best class) at DEMO_SCORE_THRESHOLD. */
export const DEMO_OPERATING_NMS: Required<NmsOptions> = { ...DETECT_NMS, confThreshold: DEMO_SCORE_THRESHOLD };

/** Running totals of the precision / recall count. */
export interface OperatingPointCounts {
  truePositives: number;
  detections: number;
  labels: number;
}

/**
 * Adds one image (detections sorted by score, as NMS returns them): true positives are the detections
 * matched at IoU 0.5 by matchImage (YOLOv5's matching: same class, each label at most once).
 */
export function countImage(acc: OperatingPointCounts, dets: Detection[], labels: LabelBox[]): void {
  const { correct } = matchImage(dets, labels, [0.5]);
  acc.truePositives += correct.filter((c) => c[0]).length;
  acc.detections += dets.length;
  acc.labels += labels.length;
}

export function precisionRecall(acc: OperatingPointCounts): { precision: number; recall: number } {
  // No detections at all: precision is undefined; 0 keeps a broken model from looking good.
  return { precision: acc.detections ? acc.truePositives / acc.detections : 0, recall: acc.labels ? acc.truePositives / acc.labels : 0 };
}
