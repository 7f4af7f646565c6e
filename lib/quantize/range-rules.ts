// Range rules: named adjustments of a calibrated range, applied after calibration's own choice. A
// recipe override names one for the tensors it matches ({ match, rangeRule }); plug-ins hand the
// quantizer such overrides for outputs their decode reads specially (lib/quantize/plugin.ts).

export type RangeRuleName = 'keep-observed-max';

interface RangeRule {
  /** What the rule does, as the plan's origin says it. */
  says: string;
  apply(chosen: { min: number; max: number }, observed: { min: number; max: number }): { min: number; max: number };
}

/**
 * 'keep-observed-max': the top of the range is the observed maximum (or calibration's choice when it
 * is higher); the bottom stays calibration's. For an output whose values are nearly all far below the
 * few that matter (class logits: background everywhere, detections in the top tail) an
 * error-minimising range (mse) clips the top, and every confident value becomes the same number.
 * On YOLOv8n's class logits mse clipped two levels at 0.125 (scores 0.53) against observed maxima of
 * 2.4-2.6; with the top kept the mean score error of matched detections fell from 0.098 to 0.031
 * (bench/RESULTS.md).
 */
export const RANGE_RULES: Readonly<Record<RangeRuleName, RangeRule>> = {
  'keep-observed-max': {
    says: 'top kept at the observed max',
    apply: (chosen, observed) => ({ min: chosen.min, max: Math.max(chosen.max, observed.max) }),
  },
};

export const RANGE_RULE_NAMES = Object.keys(RANGE_RULES) as RangeRuleName[];

/**
 * The range a rule makes of calibration's choice and the observed extremes, and the rule as the
 * plan's origin says it: `<reason>: <what it does>` (the reason defaults to the rule's name).
 */
export function applyRangeRule(
  name: RangeRuleName,
  chosen: { min: number; max: number },
  observed: { min: number; max: number },
  reason: string = name,
): { min: number; max: number; rule: string } {
  const rule = Object.hasOwn(RANGE_RULES, name) ? RANGE_RULES[name] : undefined;
  if (!rule) throw new Error(`applyRangeRule: unknown range rule '${String(name)}' (known: ${RANGE_RULE_NAMES.join(', ')})`);
  return { ...rule.apply(chosen, observed), rule: `${reason}: ${rule.says}` };
}
