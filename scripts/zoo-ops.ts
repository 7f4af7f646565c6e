// Lists the op types of every zoo model (../shared/fixtures/zoo) and YOLO11n that no importer handles yet,
// and whether each imports (with default options: cuts before post-processing and after pre-processing
// loops are applied and counted; an error is shown as its first words).
//   npx tsx scripts/zoo-ops.ts
import fs from 'node:fs'; import path from 'node:path';
import { readTflite } from '../lib/tflite/reader.js';
import { builtinOperatorName } from '../lib/tflite/operators.js';
import { importableOps } from '../lib/ops/registry.js';
import { importModel } from '../lib/index.js';
const Z = path.resolve(import.meta.dirname, '../../shared/fixtures/zoo');
const man = JSON.parse(fs.readFileSync(path.join(Z, 'manifest.json'), 'utf8'));
const need = new Map<string, Set<string>>();
function ops(entry: any): { fmt: string; ops: Map<string, number> } {
  const f = path.join(Z, entry.folder, entry.file);
  const m = new Map<string, number>();
  const inc = (k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  if (f.endsWith('.tflite')) {
    const model = readTflite(new Uint8Array(fs.readFileSync(f)));
    for (const op of model.subgraphs[0].operators) { const c = model.operatorCodes[op.opcodeIndex]; inc(c.customCode ? `CUSTOM(${c.customCode})` : builtinOperatorName(c.builtinCode)); }
    return { fmt: 'tflite', ops: m };
  }
  const j = JSON.parse(fs.readFileSync(f, 'utf8'));
  if (j.modelTopology?.node) { for (const n of j.modelTopology.node) inc(n.op); for (const fn of j.modelTopology.library?.function ?? []) for (const n of fn.nodeDef ?? []) inc('fn:' + n.op); return { fmt: 'tfjsGraph', ops: m }; }
  const layers = j.modelTopology?.model_config?.config?.layers ?? j.modelTopology?.config?.layers ?? [];
  for (const l of layers) inc(l.class_name === 'Activation' ? `Activation(${l.config.activation})` : l.class_name);
  return { fmt: 'tfjsLayers', ops: m };
}
async function importStatus(file: string): Promise<string> {
  try {
    const g = await importModel(file);
    const cuts = g.meta.notes.filter((n) => n.startsWith('cut ')).map((n) => n.replace(/^(cut (before|after) [a-z-]+).*?(\d+) ops.*$/, '$1: $3 ops'));
    return `ok, ${g.nodes.length} nodes${cuts.length ? ` (${cuts.join('; ')})` : ''}`;
  } catch (err) {
    return `ERROR ${(err as Error).message.slice(0, 160)}`;
  }
}
const extra = [{ folder: '../yolo11n', file: 'yolo11n_full_integer_quant.tflite' }];
for (const e of [...man, ...extra]) {
  const { fmt, ops: m } = ops(e);
  const known = new Set([...importableOps(fmt as any), 'Const', 'Placeholder', 'Shape', 'NoOp', 'QUANTIZE', 'DEQUANTIZE', 'InputLayer']);
  const miss = [...m].filter(([k]) => !known.has(k));
  for (const [k] of miss) { if (!need.has(fmt + ':' + k)) need.set(fmt + ':' + k, new Set()); need.get(fmt + ':' + k)!.add(e.folder); }
  console.log(e.folder, fmt, JSON.stringify(e.inputs?.map((i: any) => i.dtype + '[' + i.shape + ']')), 'missing:', miss.map(([k, v]) => `${k}x${v}`).join(' '));
  console.log('   import:', await importStatus(path.join(Z, e.folder, e.file)));
}
console.log('\n--- ops needed (models) ---');
for (const [k, v] of [...need].sort((a, b) => b[1].size - a[1].size)) console.log(k, v.size);
