// A summary of a .tflite file: what ops it runs, its I/O and whether it is fully integer.
import { readTflite } from './reader.js';
import { dtypeName } from './model.js';
import { builtinOperatorName } from './operators.js';
import { importEntry } from '../ops/registry.js';

export interface InspectTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** Per-tensor (first) scale and zero point; undefined when not quantized. */
  scale?: number;
  zeroPoint?: number;
}

export interface InspectReport {
  label: string;
  sizeBytes: number;
  subgraphs: number;
  operators: number;
  /** Builtin op name (or CUSTOM:<code>) -> count over all subgraphs. */
  opHistogram: Record<string, number>;
  operatorCodes: { name: string; version: number }[];
  inputs: InspectTensor[];
  outputs: InspectTensor[];
  /** Bytes of constant data per tensor dtype. */
  weightBytesByDtype: Record<string, number>;
  /** Number of tensors per dtype (all subgraphs). */
  tensorDtypeCounts: Record<string, number>;
  /**
   * True when no tensor anywhere (weights, activations, model I/O) is float32/float16/float64/bfloat16,
   * i.e. the whole graph runs integer kernels. Integer I/O of any width (int8/uint8/int16) is allowed.
   */
  allInteger: boolean;
  /** Names of the float tensors (empty when allInteger). */
  floatTensors: string[];
  /**
   * Ops by the precision they compute in (the dtype of their output; QUANTIZE / DEQUANTIZE are
   * conversions, counted apart), and every op that is not int8, by its output tensor's name.
   */
  precision: { int8: number; int16: number; float: number; conversions: number; notInt8: { op: string; output: string; precision: 'int16' | 'float'; reason: string }[] };
  minRuntimeVersion?: string;
}

const FLOAT_DTYPES = new Set(['float32', 'float16', 'float64', 'bfloat16']);

/**
 * Why an operator of a file is not int8, from what the op registry knows of its TFLite kernels: no
 * int8 (or no integer) kernel, or a choice of whoever wrote the file (a recipe, an accuracy target,
 * a float tail after the detection head).
 */
export function notInt8Reason(op: string, precision: 'int16' | 'float'): string {
  const allowed = importEntry('tflite', op)?.def.quant?.precisions;
  if (allowed && !allowed.includes('int8')) {
    if (allowed.includes('int16')) {
      // An int16 writer that holds on part of the input domain only (Div needs a divisor of one sign).
      return precision === 'int16' ? 'TFLite has no int8 kernel for it' : `no int8 kernel, and int16 not chosen or not possible for its inputs (${allowed.join(', ')} only)`;
    }
    return `TFLite has no integer kernel for it (${allowed.join(', ')} only)`;
  }
  return 'the writer\'s choice (a recipe, an accuracy target or a float tail), not a kernel limit';
}

/** "LOGISTIC float x3 (why) -> a, b, ...": each op and precision once, with a count and a few outputs. */
export function groupNotInt8(list: InspectReport['precision']['notInt8'], shown = 3): string[] {
  const groups = new Map<string, { outputs: string[]; reason: string }>();
  for (const o of list) {
    const key = `${o.op} ${o.precision}`;
    const g = groups.get(key) ?? { outputs: [], reason: o.reason };
    g.outputs.push(o.output);
    groups.set(key, g);
  }
  return [...groups].map(([key, g]) =>
    `${key} x${g.outputs.length} (${g.reason}) -> ${g.outputs.slice(0, shown).join(', ')}${g.outputs.length > shown ? ', ...' : ''}`);
}

export function inspectTflite(bytes: Uint8Array, label = 'model'): InspectReport {
  const model = readTflite(bytes, { label });
  const opHistogram: Record<string, number> = {};
  const weightBytesByDtype: Record<string, number> = {};
  const tensorDtypeCounts: Record<string, number> = {};
  const floatTensors: string[] = [];
  let operators = 0;
  const precision: InspectReport['precision'] = { int8: 0, int16: 0, float: 0, conversions: 0, notInt8: [] };
  const codeName = (i: number) => {
    const c = model.operatorCodes[i];
    return c.customCode !== undefined && c.builtinCode === 32 ? `CUSTOM:${c.customCode}` : builtinOperatorName(c.builtinCode);
  };
  for (const sg of model.subgraphs) {
    for (const op of sg.operators) {
      const n = codeName(op.opcodeIndex);
      opHistogram[n] = (opHistogram[n] ?? 0) + 1;
      operators++;
      if (n === 'QUANTIZE' || n === 'DEQUANTIZE') {
        precision.conversions++;
        continue;
      }
      const out = sg.tensors[op.outputs[0]];
      const dt = out ? dtypeName(out.type) : 'int8';
      const p = FLOAT_DTYPES.has(dt) ? 'float' : dt === 'int16' ? 'int16' : 'int8';
      precision[p]++;
      if (p !== 'int8') precision.notInt8.push({ op: n, output: out?.name ?? '', precision: p, reason: notInt8Reason(n, p) });
    }
    for (const t of sg.tensors) {
      const dt = dtypeName(t.type);
      tensorDtypeCounts[dt] = (tensorDtypeCounts[dt] ?? 0) + 1;
      const data = model.buffers[t.buffer]?.data;
      if (t.buffer !== 0 && data && data.length > 0) weightBytesByDtype[dt] = (weightBytesByDtype[dt] ?? 0) + data.length;
      if (FLOAT_DTYPES.has(dt)) floatTensors.push(t.name);
    }
  }
  const sg0 = model.subgraphs[0];
  const describe = (i: number): InspectTensor => {
    const t = sg0.tensors[i];
    const q = t.quantization;
    const quantized = q && q.scale.length > 0;
    return {
      name: t.name,
      dtype: dtypeName(t.type),
      shape: [...t.shape],
      scale: quantized ? q!.scale[0] : undefined,
      zeroPoint: quantized ? q!.zeroPoint[0] ?? 0 : undefined,
    };
  };
  const mrv = model.metadata.find((m) => m.name === 'min_runtime_version');
  let minRuntimeVersion: string | undefined;
  if (mrv) {
    const d = model.buffers[mrv.buffer].data;
    const end = d.indexOf(0) < 0 ? d.length : d.indexOf(0);
    minRuntimeVersion = new TextDecoder().decode(d.subarray(0, end));
  }
  return {
    label,
    sizeBytes: bytes.byteLength,
    subgraphs: model.subgraphs.length,
    operators,
    opHistogram,
    operatorCodes: model.operatorCodes.map((c, i) => ({ name: codeName(i), version: c.version })),
    inputs: sg0 ? sg0.inputs.map(describe) : [],
    outputs: sg0 ? sg0.outputs.map(describe) : [],
    weightBytesByDtype,
    tensorDtypeCounts,
    allInteger: floatTensors.length === 0,
    floatTensors,
    precision,
    minRuntimeVersion,
  };
}

function formatTensor(t: InspectTensor): string {
  const q = t.scale !== undefined ? ` scale ${t.scale.toPrecision(6)} zero point ${t.zeroPoint}` : '';
  return `${t.name}: ${t.dtype} [${t.shape.join(',')}]${q}`;
}

export function formatInspectReport(r: InspectReport): string {
  const lines: string[] = [];
  lines.push(`${r.label}: ${r.sizeBytes} bytes, ${r.subgraphs} subgraph(s), ${r.operators} operators` +
    (r.minRuntimeVersion ? `, min runtime ${r.minRuntimeVersion}` : ''));
  lines.push('inputs:');
  for (const t of r.inputs) lines.push(`  ${formatTensor(t)}`);
  lines.push('outputs:');
  for (const t of r.outputs) lines.push(`  ${formatTensor(t)}`);
  lines.push('ops:');
  for (const [name, n] of Object.entries(r.opHistogram).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) {
    lines.push(`  ${name.padEnd(26)} ${n}`);
  }
  lines.push(`operator codes: ${r.operatorCodes.map((c) => `${c.name} v${c.version}`).join(', ')}`);
  lines.push(`weights: ${Object.entries(r.weightBytesByDtype).map(([k, v]) => `${k} ${v} B`).join(', ') || 'none'}`);
  lines.push(`tensors: ${Object.entries(r.tensorDtypeCounts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const p = r.precision;
  if (p.int16 === 0 && p.float === 0) lines.push(`precision: every op int8 or integer (${p.int8} ops, ${p.conversions} QUANTIZE/DEQUANTIZE)`);
  else {
    lines.push(`precision: ${p.int8} int8, ${p.int16} int16, ${p.float} float ops, ${p.conversions} QUANTIZE/DEQUANTIZE; ${p.float > 0 ? 'NOT full-integer' : 'integer, but int16 ops run on TFLite kernels (not XNNPACK)'}`);
    lines.push(`ops not int8 (${p.notInt8.length}):`, ...groupNotInt8(p.notInt8).map((l) => `  ${l}`));
  }
  lines.push(r.allInteger ? 'all integer: yes' : `all integer: no (${r.floatTensors.length} float tensors, e.g. ${r.floatTensors.slice(0, 5).join(', ')})`);
  return lines.join('\n');
}
