// The minimum TFLite runtime version each (builtin operator, op version) pair needs, as TensorFlow
// Lite's runtime-version table (tools/versioning/runtime_version.cc) lists them; the rows live with
// each op (lib/ops/defs, `builtins[...].runtime`). Pairs not listed do not raise the model's minimum
// (the same rule TFLite applies to pairs missing from its table).
import { builtinSpec } from '../ops/registry.js';
import { builtinOperatorName } from './operators.js';
import type { TfliteModel } from './model.js';

/** The runtime version needed by one operator code, or undefined when the pair is not in the table. */
export function minRuntimeVersionForOp(builtinCode: number, version: number): string | undefined {
  return builtinSpec(builtinOperatorName(builtinCode))?.runtime?.[version - 1];
}

/** Numeric comparison of dotted versions: negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The highest runtime version required by the operator codes the model's operators use ('' if none is known). */
export function computeMinRuntimeVersion(model: TfliteModel): string {
  let best = '';
  const used = new Set<number>();
  for (const sg of model.subgraphs) for (const op of sg.operators) used.add(op.opcodeIndex);
  for (const i of [...used].sort((a, b) => a - b)) {
    const code = model.operatorCodes[i];
    if (!code) continue;
    const v = minRuntimeVersionForOp(code.builtinCode, code.version);
    if (v && (best === '' || compareVersions(v, best) > 0)) best = v;
  }
  return best;
}
