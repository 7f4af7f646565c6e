// Range rules applied to calibrated ranges after calibration's own choice.
import type { OutputRole } from '../yolo/families/types.js';

/**
 * The range of an output with a role in the decode (OutputRole), from calibration's choice and the
 * observed extremes. 'score-logits' keeps the observed maximum: on YOLOv8n mse clipped the class
 * logits of two levels at 0.125 (scores 0.53) against observed maxima of 2.4-2.6, and the mean score
 * error of matched detections fell from 0.098 to 0.031 with the top kept (bench/RESULTS.md). The
 * bottom stays calibration's: below the decode's confidence floor the values are all background.
 */
export function rangeForOutputRole(
  role: OutputRole,
  chosen: { min: number; max: number },
  observed: { min: number; max: number },
): { min: number; max: number; rule: string } {
  switch (role) {
    case 'score-logits':
      return { min: chosen.min, max: Math.max(chosen.max, observed.max), rule: `${role}: top kept at the observed max` };
    default:
      throw new Error(`rangeForOutputRole: unknown role '${String(role)}'`);
  }
}
