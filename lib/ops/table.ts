// The supported-ops table of README.md, derived from the registry so the documentation cannot drift
// from the code (test/ops/readme-ops.test.ts compares the two; `npx tsx scripts/ops-table.ts` prints it).
import { OP_DEFS } from './registry.js';
import type { OpDef, SourceFormat } from './types.js';

const FORMATS: readonly SourceFormat[] = ['tfjsGraph', 'tfjsLayers', 'tflite'];

function sourceOps(def: OpDef, format: SourceFormat): string {
  const names = Object.keys(def.imports[format] ?? {}).sort();
  return names.length ? names.join(', ') : '-';
}

/** One markdown row per IR op: its source ops per format and the precisions it is written in. */
export function formatOpTable(): string {
  const rows = OP_DEFS.map((d) => {
    const precisions = d.quant ? (d.quant.precisions ?? ['int8', 'int16', 'float']).join(', ') : 'float (imported, not written)';
    return `| ${d.op} | ${FORMATS.map((f) => sourceOps(d, f)).join(' | ')} | ${precisions} |`;
  });
  return [
    '| IR op | TF.js graph | TF.js layers | TFLite | written in |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
