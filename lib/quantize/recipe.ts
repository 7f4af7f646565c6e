// Quantization choices as data. A recipe says, per layer, how its activation range is chosen and how
// its weights are quantized; the user can pass one, the CLI prints the resolved one, and the report
// echoes it so a result can always be traced back to its choices.
import type { CalibrationMethod } from '../calibrate/calibrate.js';
import { CALIBRATION_METHODS } from '../calibrate/calibrate.js';

export interface RecipeOverride {
  /** Tensor or node names this applies to: an exact name, a `*` glob, or a /regex/. */
  match: string;
  calibration?: CalibrationMethod;
  perChannel?: boolean;
  /** An explicit float range for the matched activation tensors (skips calibration's choice). */
  range?: [number, number];
}

export interface QuantRecipe {
  calibration?: CalibrationMethod;
  perChannel?: boolean;
  overrides?: RecipeOverride[];
}

export interface ResolvedRecipe {
  calibration: CalibrationMethod;
  perChannel: boolean;
  overrides: RecipeOverride[];
}

export interface RecipeResolver {
  resolved: ResolvedRecipe;
  methodFor(tensor: string): CalibrationMethod;
  perChannelFor(node: string): boolean;
  rangeFor(tensor: string): [number, number] | undefined;
}

/** `*` glob or /regex/ -> RegExp matching a whole name. */
export function namePattern(match: string): RegExp {
  if (match.length > 2 && match.startsWith('/') && match.endsWith('/')) return new RegExp(match.slice(1, -1));
  const escaped = match.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

function checkMethod(m: unknown, where: string): CalibrationMethod {
  if (!CALIBRATION_METHODS.includes(m as CalibrationMethod)) {
    throw new Error(`${where}: calibration method '${String(m)}' is not one of ${CALIBRATION_METHODS.join(', ')}`);
  }
  return m as CalibrationMethod;
}

/** Merges options and recipe (explicit options win) into one resolved recipe with lookups. */
export function resolveRecipe(options: { calibration?: CalibrationMethod; perChannel?: boolean; recipe?: QuantRecipe }): RecipeResolver {
  const r = options.recipe ?? {};
  // mse is the default: it gave the best mAP50-95 of the four methods on both YOLOv5n and YOLOv8n (bench/RESULTS.md).
  const calibration = checkMethod(options.calibration ?? r.calibration ?? 'mse', 'quantizeInt8');
  const perChannel = options.perChannel ?? r.perChannel ?? true;
  const overrides = (r.overrides ?? []).map((o, i) => {
    if (typeof o.match !== 'string' || !o.match) throw new Error(`recipe.overrides[${i}]: 'match' must be a non-empty string`);
    if (o.calibration !== undefined) checkMethod(o.calibration, `recipe.overrides[${i}]`);
    if (o.range !== undefined && !(Array.isArray(o.range) && o.range.length === 2 && o.range[0] <= o.range[1])) {
      throw new Error(`recipe.overrides[${i}]: 'range' must be [min, max] with min <= max`);
    }
    return { ...o };
  });
  const compiled = overrides.map((o) => ({ o, re: namePattern(o.match) }));
  const last = <K extends keyof RecipeOverride>(name: string, key: K): RecipeOverride[K] | undefined => {
    let v: RecipeOverride[K] | undefined;
    for (const { o, re } of compiled) if (o[key] !== undefined && re.test(name)) v = o[key];
    return v;
  };
  return {
    resolved: { calibration, perChannel, overrides },
    methodFor: (t) => last(t, 'calibration') ?? calibration,
    perChannelFor: (n) => last(n, 'perChannel') ?? perChannel,
    rangeFor: (t) => last(t, 'range'),
  };
}

/** A readable listing of a resolved recipe (the CLI prints it; the report embeds the object). */
export function formatRecipe(r: ResolvedRecipe): string {
  const lines = [`calibration: ${r.calibration}`, `weights: int8 symmetric, ${r.perChannel ? 'per channel' : 'per tensor'}`];
  for (const o of r.overrides) {
    const parts = [
      o.calibration && `calibration ${o.calibration}`,
      o.perChannel !== undefined && (o.perChannel ? 'per channel' : 'per tensor'),
      o.range && `range [${o.range[0]}, ${o.range[1]}]`,
    ].filter(Boolean);
    lines.push(`  ${o.match}: ${parts.join(', ')}`);
  }
  return lines.join('\n');
}
