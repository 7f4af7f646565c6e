// Quantization choices as data. A recipe says, per layer, how its activation range is chosen and how
// its weights are quantized; the user can pass one, the CLI prints the resolved one, and the report
// echoes it so a result can always be traced back to its choices.
import type { CalibrationMethod } from '../calibrate/calibrate.js';
import { CALIBRATION_METHODS } from '../calibrate/calibrate.js';
import { PRECISIONS, type Precision } from '../ops/types.js';
import { BIAS_CORRECTION_MODES, type BiasCorrectionSettings } from './bias-correction.js';
import { RANGE_RULE_NAMES, type RangeRuleName } from './range-rules.js';
import { assertSafeRegex } from '../util/safe-pattern.js';

export interface RecipeOverride {
  /** Tensor or node names this applies to: an exact name, a `*` glob, or a /regex/. */
  match: string;
  calibration?: CalibrationMethod;
  perChannel?: boolean;
  /** An explicit float range for the matched activation tensors (skips calibration's choice). */
  range?: [number, number];
  /** How the matched nodes (by node name or output tensor name) are computed: int8, int16 (16x8) or float. */
  precision?: Precision;
  /** A range rule (range-rules.ts) applied to calibration's choice for the matched activation tensors (not with `range`). */
  rangeRule?: RangeRuleName;
  /** Why the rule applies, said before it in the plan's origin ('<reason>: <what the rule does>'; default: the rule's name). */
  reason?: string;
}

export interface QuantRecipe {
  calibration?: CalibrationMethod;
  perChannel?: boolean;
  /** Default precision of every op (default int8: a full-integer model). */
  precision?: Precision;
  overrides?: RecipeOverride[];
  /**
   * Empirical bias correction of the int8/int16 weighted ops (lib/quantize/bias-correction.ts): true,
   * false, or the settings (samples measured on; 'sequential' or 'one-shot').
   */
  biasCorrection?: boolean | Partial<BiasCorrectionSettings>;
}

/** Resolved bias-correction switch and settings. */
export interface ResolvedBiasCorrection extends BiasCorrectionSettings {
  enabled: boolean;
}

/** Default bias-correction settings (bench/RESULTS.md has the measurements behind them). */
export const BIAS_CORRECTION_DEFAULTS: ResolvedBiasCorrection = { enabled: false, samples: 8, mode: 'local' };

function resolveBiasCorrection(v: boolean | Partial<BiasCorrectionSettings> | undefined, where: string): ResolvedBiasCorrection {
  if (v === undefined) return { ...BIAS_CORRECTION_DEFAULTS };
  if (typeof v === 'boolean') return { ...BIAS_CORRECTION_DEFAULTS, enabled: v };
  if (typeof v !== 'object' || v === null) throw new Error(`${where}: biasCorrection must be true, false or { samples, mode }`);
  const r = { ...BIAS_CORRECTION_DEFAULTS, enabled: true, ...v };
  if (!(Number.isInteger(r.samples) && r.samples >= 1)) throw new Error(`${where}: biasCorrection.samples must be an integer >= 1, got ${String(r.samples)}`);
  if (!BIAS_CORRECTION_MODES.includes(r.mode)) throw new Error(`${where}: biasCorrection.mode must be one of ${BIAS_CORRECTION_MODES.join(', ')}, got ${String(r.mode)}`);
  return { enabled: r.enabled, samples: r.samples, mode: r.mode };
}

export interface ResolvedRecipe {
  calibration: CalibrationMethod;
  perChannel: boolean;
  precision: Precision;
  overrides: RecipeOverride[];
  biasCorrection: ResolvedBiasCorrection;
}

export interface RecipeResolver {
  /** The recipe as given (what reports echo): overrides added by withOverrides are not in it. */
  resolved: ResolvedRecipe;
  methodFor(tensor: string): CalibrationMethod;
  perChannelFor(node: string): boolean;
  rangeFor(tensor: string): [number, number] | undefined;
  /** The range rule for a tensor, with the reason its override gives. */
  rangeRuleFor(tensor: string): { rule: RangeRuleName; reason?: string } | undefined;
  /** Precision of a node, matched by its name or any of its output tensors' names. */
  precisionFor(node: { name: string; outputs: string[] }): Precision;
  /**
   * The same recipe with `extra` overrides before its own (a plug-in's: the recipe's own overrides
   * win where both set a choice); `where` names their source in errors.
   */
  withOverrides(extra: readonly RecipeOverride[], where: string): RecipeResolver;
}

function checkPrecision(p: unknown, where: string): Precision {
  if (!PRECISIONS.includes(p as Precision)) throw new Error(`${where}: precision '${String(p)}' is not one of ${PRECISIONS.join(', ')}`);
  return p as Precision;
}

/** Edit distance (for "did you mean" lists of names). */
function editDistance(a: string, b: string): number {
  const prev = new Array(b.length + 1).fill(0).map((_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** The names closest to `name` (at most `n`), for error messages. */
export function closeNames(name: string, names: Iterable<string>, n = 3): string[] {
  const plain = name.replace(/^\/|\/$/g, '').replace(/\*/g, '');
  return [...new Set(names)]
    .map((c) => ({ c, d: editDistance(plain, c) - (c.includes(plain) && plain ? plain.length : 0) }))
    .sort((x, y) => x.d - y.d || (x.c < y.c ? -1 : 1))
    .slice(0, n)
    .map((x) => x.c);
}

/** Every override must name at least one node or tensor of the graph: an error lists close names otherwise. */
export function checkOverridesMatch(r: ResolvedRecipe, names: string[]): void {
  for (const [i, o] of r.overrides.entries()) {
    const re = namePattern(o.match);
    if (names.some((n) => re.test(n))) continue;
    throw new Error(`recipe.overrides[${i}]: '${o.match}' names no node or tensor of the model; close names: ${closeNames(o.match, names).join(', ')}`);
  }
}

/**
 * `*` glob or /regex/ -> a matcher of whole names. Globs are matched without backtracking (`?` is a
 * literal here: node names contain it rarely, and a recipe wanting "any character" can use a /regex/);
 * a regex that could backtrack catastrophically (nested quantifiers, backreferences) is refused.
 */
export function namePattern(match: string): { test(name: string): boolean } {
  if (match.length > 2 && match.startsWith('/') && match.endsWith('/')) {
    const source = match.slice(1, -1);
    assertSafeRegex(source, `recipe match '${match}'`);
    return new RegExp(source);
  }
  const parts = match.split('*');
  return { test: (name) => literalGlob(parts, name) };
}

/**
 * Whether `name` is parts[0] * parts[1] * ... (literal parts, `*` between). Taking each middle part
 * at its leftmost place after the previous one is always right, so this is linear, never exponential.
 */
function literalGlob(parts: string[], name: string): boolean {
  if (parts.length === 1) return name === parts[0];
  if (!name.startsWith(parts[0]) || !name.endsWith(parts[parts.length - 1])) return false;
  let at = parts[0].length;
  const end = name.length - parts[parts.length - 1].length;
  for (const p of parts.slice(1, -1)) {
    const i = name.indexOf(p, at);
    if (i < 0 || i + p.length > end) return false;
    at = i + p.length;
  }
  return at <= end;
}

function checkMethod(m: unknown, where: string): CalibrationMethod {
  if (!CALIBRATION_METHODS.includes(m as CalibrationMethod)) {
    throw new Error(`${where}: calibration method '${String(m)}' is not one of ${CALIBRATION_METHODS.join(', ')}`);
  }
  return m as CalibrationMethod;
}

/** Checks one override (`where` names it in errors); returns a copy. */
function checkOverride(o: RecipeOverride, where: string): RecipeOverride {
  if (typeof o.match !== 'string' || !o.match) throw new Error(`${where}: 'match' must be a non-empty string`);
  if (o.calibration !== undefined) checkMethod(o.calibration, where);
  if (o.precision !== undefined) checkPrecision(o.precision, where);
  if (o.range !== undefined && !(Array.isArray(o.range) && o.range.length === 2 && o.range[0] <= o.range[1])) {
    throw new Error(`${where}: 'range' must be [min, max] with min <= max`);
  }
  if (o.rangeRule !== undefined && !RANGE_RULE_NAMES.includes(o.rangeRule)) {
    throw new Error(`${where}: rangeRule '${String(o.rangeRule)}' is not one of ${RANGE_RULE_NAMES.join(', ')}`);
  }
  if (o.rangeRule !== undefined && o.range !== undefined) throw new Error(`${where}: 'rangeRule' adjusts calibration's range; it cannot go with an explicit 'range'`);
  return { ...o };
}

/** Lookups over `overrides` (the last that matches and sets a choice wins) on top of the recipe's defaults. */
function resolverFor(resolved: ResolvedRecipe, overrides: readonly RecipeOverride[]): RecipeResolver {
  const compiled = overrides.map((o) => ({ o, re: namePattern(o.match) }));
  const lastMatch = (name: string, key: keyof RecipeOverride): RecipeOverride | undefined => {
    let v: RecipeOverride | undefined;
    for (const { o, re } of compiled) if (o[key] !== undefined && re.test(name)) v = o;
    return v;
  };
  return {
    resolved,
    methodFor: (t) => lastMatch(t, 'calibration')?.calibration ?? resolved.calibration,
    perChannelFor: (n) => lastMatch(n, 'perChannel')?.perChannel ?? resolved.perChannel,
    rangeFor: (t) => lastMatch(t, 'range')?.range,
    rangeRuleFor: (t) => {
      const o = lastMatch(t, 'rangeRule');
      return o ? { rule: o.rangeRule!, reason: o.reason } : undefined;
    },
    precisionFor: (node) => {
      // The last override that matches the node or one of its outputs wins.
      let v: Precision | undefined;
      for (const { o, re } of compiled) if (o.precision !== undefined && (re.test(node.name) || node.outputs.some((t) => re.test(t)))) v = o.precision;
      return v ?? resolved.precision;
    },
    withOverrides: (extra, where) => resolverFor(resolved, [...extra.map((o, i) => checkOverride(o, `${where}[${i}]`)), ...overrides]),
  };
}

/** Merges options and recipe (explicit options win) into one resolved recipe with lookups. */
export function resolveRecipe(options: {
  calibration?: CalibrationMethod;
  perChannel?: boolean;
  precision?: Precision;
  recipe?: QuantRecipe;
  biasCorrection?: boolean | Partial<BiasCorrectionSettings>;
}): RecipeResolver {
  const r = options.recipe ?? {};
  // mse is the default: it gave the best mAP50-95 of the four methods on both YOLOv5n and YOLOv8n (bench/RESULTS.md).
  const calibration = checkMethod(options.calibration ?? r.calibration ?? 'mse', 'quantizeInt8');
  const perChannel = options.perChannel ?? r.perChannel ?? true;
  const precision = checkPrecision(options.precision ?? r.precision ?? 'int8', 'quantizeInt8');
  const biasCorrection = resolveBiasCorrection(options.biasCorrection ?? r.biasCorrection, 'quantizeInt8');
  const overrides = (r.overrides ?? []).map((o, i) => checkOverride(o, `recipe.overrides[${i}]`));
  return resolverFor({ calibration, perChannel, precision, overrides, biasCorrection }, overrides);
}

/** A readable listing of a resolved recipe (the CLI prints it; the report embeds the object). */
export function formatRecipe(r: ResolvedRecipe): string {
  const lines = [`calibration: ${r.calibration}`, `weights: int8 symmetric, ${r.perChannel ? 'per channel' : 'per tensor'}`, `precision: ${r.precision}`,
    `bias correction: ${r.biasCorrection.enabled ? `on (${r.biasCorrection.samples} samples, ${r.biasCorrection.mode})` : 'off'}`];
  for (const o of r.overrides) {
    const parts = [
      o.calibration && `calibration ${o.calibration}`,
      o.perChannel !== undefined && (o.perChannel ? 'per channel' : 'per tensor'),
      o.range && `range [${o.range[0]}, ${o.range[1]}]`,
      o.precision && `precision ${o.precision}`,
      o.rangeRule && `range rule ${o.rangeRule}${o.reason ? ` (${o.reason})` : ''}`,
    ].filter(Boolean);
    lines.push(`  ${o.match}: ${parts.join(', ')}`);
  }
  return lines.join('\n');
}
