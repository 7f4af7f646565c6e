// TFLite builtin operators: name <-> code, options tables, and each operator's version and runtime
// requirement. The facts per operator live with the op that writes or reads it (lib/ops/defs, found
// through the op registry); this module answers the questions the writer and the checker ask.
// An op written with a too-low version is rejected by the runtime for int8 tensors, so the builder
// always derives the version from here (op_version.cc's rules, restated per op).
import { BuiltinOperator } from '../../schema/generated/tflite/builtin-operator.js';
import { UNIONS } from '../../schema/generated/layout.js';
import { builtinSpec } from '../ops/registry.js';
import type { OpSignature } from '../ops/types.js';

export type BuiltinOperatorName = keyof typeof BuiltinOperator;
export type { OpSignature };

/** 'CONV_2D' -> 3. Throws for unknown names. */
export function builtinOperatorCode(name: string): number {
  const v = (BuiltinOperator as unknown as Record<string, number>)[name];
  if (typeof v !== 'number') throw new Error(`unknown TFLite builtin operator '${name}'`);
  return v;
}

/** 3 -> 'CONV_2D'; unknown codes give 'UNKNOWN(<code>)'. */
export function builtinOperatorName(code: number): string {
  const n = (BuiltinOperator as unknown as Record<number, string>)[code];
  return typeof n === 'string' ? n : `UNKNOWN(${code})`;
}

/** BuiltinOptions union: 'Conv2DOptions' -> 1 (0 = NONE). */
export function builtinOptionsType(tableName: string): number {
  const i = UNIONS.BuiltinOptions.indexOf(tableName);
  if (i < 0) throw new Error(`'${tableName}' is not a BuiltinOptions member`);
  return i + 1;
}

/** The options table a builtin operator takes (as the TFLite converter writes it), if any is known. */
export function optionsTableOf(op: string): string | undefined {
  return builtinSpec(op)?.options;
}

/**
 * The ops with a version rule. Any other op gets version 1 only because no op file restates its
 * variants, so a checker must not hold a file's version of it to 1.
 */
export function hasVersionRule(op: string): boolean {
  return builtinSpec(op)?.version !== undefined;
}

/** The operator-code version `op` needs with this signature (1 for ops without a rule). */
export function opVersion(op: string, sig: OpSignature): number {
  return builtinSpec(op)?.version?.(sig) ?? 1;
}
