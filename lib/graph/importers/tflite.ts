// Importer for .tflite models. Float models (float32 weights, or float16 weights behind DEQUANTIZE,
// which fold to float32 constants) import as they are. Quantized models import as the float graph
// they approximate: integer constants with quantization parameters become float32 constants
// (dynamic-range and full-integer weights, int32 biases), integer activations become float32
// tensors carrying the real values, and QUANTIZE / DEQUANTIZE ops between activations disappear
// (rewired like Identity). Layouts are converted to the IR's TF layouts: conv filters OHWI -> HWIO,
// depthwise [1,kh,kw,C*m] -> [kh,kw,C,m], FC weights [out,in] -> [in,out].
import { resolveInputShape } from './input-shape.js';
import type { AttrValue, Graph, IrData, IrDType, IrTensor } from '../../ir/graph.js';
import type { AttrSource, Attrs, AttrType, ImportContext } from '../../ops/types.js';
import { importEntry, importableOps } from '../../ops/registry.js';
import { attrValue, runImportEntry, type FormatHooks } from './rules.js';
import { elementCount } from '../../ir/graph.js';
import { checkShape } from '../../util/validate.js';
import { GraphBuilder, unsupportedOpsError } from '../builder.js';
import { readTflite } from '../../tflite/reader.js';
import { builtinOperatorName } from '../../tflite/operators.js';
import { TensorType, dtypeName, type TfliteModel, type TfliteOperator, type TfliteTensor, type BuiltinOptions } from '../../tflite/model.js';
import { float16ToFloat32 } from './tfjs-weights.js';
import type { ImportOptions } from './tfjs-graph.js';
import { QUANTIZED_INTEGER_TYPES, affineParamsOf, dequantizeAffine, representableRange } from './tflite-dequantize.js';
import { READ_LIMITS, readRegularFile } from '../../util/read-file.js';
import { densifyBytes, sparsityOf } from './densify.js';
import { findPostprocessCut, type CutView } from './cut.js';
import { checkSourceWeightTypes } from './tflite-source-rules.js';

const ACTIVATIONS: Record<number, string> = { 0: 'none', 1: 'relu', 3: 'relu6' };
const PADDINGS: Record<number, string> = { 0: 'SAME', 1: 'VALID' };

/** Byte size and little-endian reader of each integer constant type. */
const INTEGER_READERS: Partial<Record<number, { size: number; read: (v: DataView, i: number) => number }>> = {
  [TensorType.INT8]: { size: 1, read: (v, i) => v.getInt8(i) },
  [TensorType.UINT8]: { size: 1, read: (v, i) => v.getUint8(i) },
  [TensorType.INT16]: { size: 2, read: (v, i) => v.getInt16(2 * i, true) },
  [TensorType.INT32]: { size: 4, read: (v, i) => v.getInt32(4 * i, true) },
  [TensorType.INT64]: { size: 8, read: (v, i) => Number(v.getBigInt64(8 * i, true)) },
};

/** True when the tensor's quantization table has scales (an empty table marks a float tensor). */
function hasScales(t: TfliteTensor): boolean {
  return (t.quantization?.scale.length ?? 0) > 0;
}

interface DecodedConstant {
  dtype: IrDType;
  data: IrData;
  /** Set when the stored integers were dequantized to float32. */
  dequantized?: 'per-tensor' | 'per-channel';
}

/** Bytes per element of the constant types decodeBuffer reads. */
const ELEMENT_SIZES: Partial<Record<number, number>> = {
  [TensorType.FLOAT32]: 4, [TensorType.FLOAT16]: 2, [TensorType.INT8]: 1, [TensorType.UINT8]: 1,
  [TensorType.INT16]: 2, [TensorType.INT32]: 4, [TensorType.INT64]: 8,
};

/** The buffer of a sparse constant (Tensor.sparsity) made dense; other buffers as they are. */
function denseBytes(t: TfliteTensor, bytes: Uint8Array, label: string): Uint8Array {
  if (!t.sparsity) return bytes;
  const where = `${label}: sparse constant '${t.name}'`;
  const size = ELEMENT_SIZES[t.type];
  if (!size) throw new Error(`${where} has type ${dtypeName(t.type)}; sparse constants of float32/float16/int8/uint8/int16/int32/int64 are supported`);
  return densifyBytes(bytes, size, t.shape, sparsityOf(t.sparsity, where), where);
}

function decodeBuffer(t: TfliteTensor, stored: Uint8Array, label: string): DecodedConstant {
  const n = elementCount(t.shape);
  const bytes = denseBytes(t, stored, label);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (size: number) => {
    if (bytes.byteLength < n * size) throw new Error(`${label}: tensor '${t.name}' [${t.shape}] has ${bytes.byteLength} bytes, needs ${n * size}`);
  };
  const where = `${label}: constant tensor '${t.name}'`;
  switch (t.type) {
    case TensorType.FLOAT32: { need(4); const d = new Float32Array(n); for (let i = 0; i < n; i++) d[i] = view.getFloat32(4 * i, true); return { dtype: 'float32', data: d }; }
    case TensorType.FLOAT16: { need(2); const d = new Float32Array(n); for (let i = 0; i < n; i++) d[i] = float16ToFloat32(view.getUint16(2 * i, true)); return { dtype: 'float32', data: d }; }
  }
  const reader = INTEGER_READERS[t.type];
  // int8/uint8/int16 constants only mean something with their scales (quantized weights); int32 and
  // int64 ones are shapes, axes and paddings unless they carry scales (biases of integer models).
  if (!reader) throw new Error(`${where} has type ${dtypeName(t.type)}; supported constants are float32/float16/int32/int64 and quantized int8/uint8/int16`);
  const quantized = QUANTIZED_INTEGER_TYPES.has(t.type) || hasScales(t);
  need(reader.size);
  const raw = new Float64Array(n);
  for (let i = 0; i < n; i++) raw[i] = reader.read(view, i);
  if (!quantized) return { dtype: 'int32', data: Int32Array.from(raw) };
  const params = affineParamsOf(t, where);
  return { dtype: 'float32', data: dequantizeAffine(raw, t.shape, params), dequantized: params.axis === null ? 'per-tensor' : 'per-channel' };
}

/**
 * QUANTIZE / DEQUANTIZE ops between activations only change how the same real values are stored:
 * in the float IR they vanish, and every tensor of such a chain gets one IR name. The name is the
 * graph input's or output's when the chain has one (so the IR keeps the model's interface names),
 * else the name of the chain's first tensor (the value a real op produced).
 */
function passThroughNames(model: TfliteModel, names: string[], isConstant: (i: number) => boolean, opName: (op: TfliteOperator) => string, label: string): string[] {
  const sg = model.subgraphs[0];
  const parent = sg.tensors.map((_, i) => i);
  for (const op of sg.operators) {
    const n = opName(op);
    if ((n === 'QUANTIZE' || n === 'DEQUANTIZE') && op.inputs[0] >= 0 && !isConstant(op.inputs[0])) parent[op.outputs[0]] = op.inputs[0];
  }
  const root = (i: number): number => {
    let r = i;
    for (let steps = 0; parent[r] !== r; steps++) {
      if (steps > parent.length) throw new Error(`${label}: QUANTIZE/DEQUANTIZE ops form a cycle through tensor '${names[i]}'`);
      r = parent[r];
    }
    return r;
  };
  const chosen = new Map<number, number>();
  for (const i of [...sg.inputs, ...sg.outputs]) {
    const r = root(i);
    if (!chosen.has(r)) chosen.set(r, i);
  }
  return names.map((_, i) => names[chosen.get(root(i)) ?? root(i)]);
}

/** Reads one builtin option as an op file's rule asks (lib/ops/types.ts AttrType). The reader fills absent scalars with the schema defaults. */
function readOption(opts: BuiltinOptions, key: string, type: AttrType, fallback: AttrValue | undefined, fail: (msg: string) => Error): AttrValue {
  const v = opts[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    if (type === 'bool') return false;
    throw fail(`option '${key}' is missing`);
  }
  switch (type) {
    case 'number':
      return Number(v);
    case 'bool':
      return Boolean(v);
    case 'numbers':
      return Array.isArray(v) ? v.map(Number) : [Number(v)];
    case 'activation': {
      const a = ACTIVATIONS[Number(v)];
      if (!a) throw fail(`fused activation ${String(v)} is not supported`);
      return a;
    }
    case 'padding': {
      const p = PADDINGS[Number(v)];
      if (!p) throw fail(`padding ${String(v)} is not supported (SAME or VALID expected)`);
      return p;
    }
    default:
      throw fail(`attribute type '${type}' does not apply to TFLite options`);
  }
}

/** The ImportContext of one TFLite operator (lib/ops/types.ts). */
class OperatorCtx implements ImportContext {
  readonly name: string;
  constructor(
    readonly b: GraphBuilder,
    readonly op: TfliteOperator,
    private readonly opName: string,
    private readonly irNames: string[],
    readonly label: string,
  ) {
    this.name = irNames[op.outputs[0]];
  }
  get inputCount(): number { return this.op.inputs.length; }
  get customOptions(): Uint8Array | undefined { return this.op.customOptions; }
  hasInput(k: number): boolean { return k < this.op.inputs.length && this.op.inputs[k] >= 0; }
  input(k: number): string {
    if (!this.hasInput(k)) throw this.error(`input ${k} is missing`);
    return this.irNames[this.op.inputs[k]];
  }
  output(k: number): string { return this.irNames[this.op.outputs[k]]; }
  tensor(name: string): IrTensor { return this.b.tensor(name); }
  constValues(k: number): number[] {
    const t = this.b.tensors.get(this.input(k));
    if (!t?.data) throw this.error(`input ${k} ('${this.input(k)}') must be a constant`);
    return Array.from(t.data as ArrayLike<number>);
  }
  attr(source: AttrSource): AttrValue {
    if (!('attr' in source)) return attrValue(source, this);
    const opts = this.op.builtinOptions ?? {};
    const read = (key: string) => readOption(opts, key, source.type, source.default, (m) => this.error(m));
    return Array.isArray(source.attr) ? (source.attr.map(read) as number[]) : read(source.attr);
  }
  emit(op: string, inputs: string[], attrs: Attrs, at: { name?: string; outputs?: string[] } = {}): string[] {
    return this.b.emit(at.name ?? this.name, op, inputs, attrs, at.outputs ?? [this.output(0)]);
  }
  constant(name: string, shape: number[], data: Float32Array): string {
    return this.b.addConstant(this.b.uniqueName(name), shape, 'float32', data);
  }
  error(msg: string): Error { return new Error(`${this.label}: ${this.opName} '${this.name}': ${msg}`); }
}

const TFLITE_HOOKS: FormatHooks = { checkNhwc: () => undefined };

/** TFLite builtins this importer converts (DEQUANTIZE of a constant folds away; QUANTIZE / DEQUANTIZE between activations vanish). */
export function tfliteOps(): string[] {
  return [...importableOps('tflite'), 'DEQUANTIZE', 'QUANTIZE'].sort();
}

/** "scale 0.00392157, zero point -128" for notes. */
function describeAffine(scale: number, zeroPoint: number): string {
  return `scale ${Number(scale.toPrecision(6))}, zero point ${zeroPoint}`;
}

/** Subgraph 0 of a parsed model, with the names and facts every import stage reads. */
interface TfliteSource {
  model: TfliteModel;
  sg: TfliteModel['subgraphs'][number];
  label: string;
  /** Unique names of the TFLite tensors (names in a .tflite need not be unique). */
  names: string[];
  /** The operators imported: all, or those the requested outputs need. */
  ops: TfliteOperator[];
  /** Tensors the imported operators or the subgraph's inputs/outputs use. */
  used: Set<number>;
  opName(op: TfliteOperator): string;
  /** Tensors with data in the file. */
  hasBuffer(i: number): boolean;
  /** Tensors with data in the file and the outputs of DENSIFY ops of those (dense constants in the IR). */
  isConstant(i: number): boolean;
  /** DENSIFY ops of constants: output tensor -> the sparse constant it densifies. */
  densified: Map<number, number>;
}

function tfliteSource(model: TfliteModel, label: string): TfliteSource {
  const sg = model.subgraphs[0];
  if (!sg) throw new Error(`${label}: the model has no subgraph`);
  const seen = new Set<string>();
  const names = sg.tensors.map((t, i) => {
    const n = t.name && !seen.has(t.name) ? t.name : `${t.name || 'tensor'}#${i}`;
    seen.add(n);
    return n;
  });
  const opName = (op: TfliteOperator) => {
    const code = model.operatorCodes[op.opcodeIndex];
    return code.customCode ? `CUSTOM(${code.customCode})` : builtinOperatorName(code.builtinCode);
  };
  const hasBuffer = (i: number) => {
    const t = sg.tensors[i];
    const buf = model.buffers[t.buffer]?.data;
    return t.buffer > 0 && buf !== undefined && buf.byteLength > 0;
  };
  const densified = new Map<number, number>();
  for (const op of sg.operators) {
    if (opName(op) === 'DENSIFY' && op.inputs[0] >= 0 && hasBuffer(op.inputs[0]) && op.outputs.length === 1) densified.set(op.outputs[0], op.inputs[0]);
  }
  const src: TfliteSource = { model, sg, label, names, ops: sg.operators, used: new Set(), opName, hasBuffer, densified, isConstant: (i) => hasBuffer(i) || densified.has(i) };
  return restrictTo(src, sg.operators);
}

/** The source with only `ops` imported (and the tensors they use). */
function restrictTo(src: TfliteSource, ops: TfliteOperator[]): TfliteSource {
  const used = new Set<number>([...src.sg.inputs, ...src.sg.outputs]);
  for (const op of ops) for (const i of [...op.inputs, ...op.outputs]) if (i >= 0) used.add(i);
  return { ...src, ops, used };
}

/** The operators the named tensors need (in file order). */
function operatorsFor(src: TfliteSource, outputs: string[]): TfliteOperator[] {
  const writer = new Map<number, TfliteOperator>();
  for (const op of src.sg.operators) for (const o of op.outputs) writer.set(o, op);
  const indexOf = new Map(src.names.map((n, i) => [n, i]));
  const needed = new Set<TfliteOperator>();
  const stack = outputs.map((o) => writer.get(indexOf.get(o) ?? -1)).filter((op): op is TfliteOperator => op !== undefined);
  while (stack.length) {
    const op = stack.pop()!;
    if (needed.has(op)) continue;
    needed.add(op);
    for (const i of op.inputs) { const w = writer.get(i); if (w && !needed.has(w)) stack.push(w); }
  }
  return src.sg.operators.filter((op) => needed.has(op));
}

/** The source graph as the post-processing cut sees it (lib/graph/importers/cut.ts). */
function cutView(src: TfliteSource): CutView {
  const named = (list: number[]) => list.filter((i) => i >= 0).map((i) => src.names[i]);
  return {
    nodes: src.sg.operators.map((op) => ({ name: src.names[op.outputs[0]], op: src.opName(op), inputs: named(op.inputs), outputs: named(op.outputs) })),
    inputs: named(src.sg.inputs),
    outputs: named(src.sg.outputs),
    kind(op) {
      if (op === 'QUANTIZE' || op === 'DEQUANTIZE' || op === 'DENSIFY') return 'importable';
      const found = importEntry('tflite', op);
      return !found ? 'unknown' : found.def.quant?.weighted ? 'weighted' : 'importable';
    },
  };
}

/** Every operator the registry cannot import, named with the tensors it writes (one error for all). */
function checkSupportedOps(src: TfliteSource): void {
  const unsupported = new Map<string, string[]>();
  for (const op of src.ops) {
    const n = src.opName(op);
    if (importEntry('tflite', n) || n === 'DEQUANTIZE' || n === 'QUANTIZE') continue;
    if (n === 'DENSIFY' && src.densified.has(op.outputs[0])) continue;
    if (!unsupported.has(n)) unsupported.set(n, []);
    unsupported.get(n)!.push(src.names[op.outputs[0]]);
  }
  if (unsupported.size) throw unsupportedOpsError(src.label, unsupported);
}

/** What the source stored as integers (for meta.sourceQuantization and the notes). */
interface SourceIntegers {
  weights: number;
  perChannel: number;
  wideConstants: number;
  activations: number;
  removedOps: number;
  /** Sparse constants (Tensor.sparsity) made dense. */
  sparse: number;
  weightTypes: Set<string>;
  ioNotes: string[];
}

/** A model input/output must be float32 or per-tensor quantized; a quantized one is noted (the IR is float). */
function noteIntegerIo(src: TfliteSource, i: number, role: 'input' | 'output', found: SourceIntegers): void {
  const t = src.sg.tensors[i];
  if (t.type === TensorType.FLOAT32) return;
  const label = src.label;
  if (!QUANTIZED_INTEGER_TYPES.has(t.type)) {
    throw new Error(`${label}: ${role} '${t.name}' is ${dtypeName(t.type)}; model ${role}s must be float32 or quantized int8/uint8/int16`);
  }
  const p = affineParamsOf(t, `${label}: ${role} '${t.name}'`);
  if (p.axis !== null) throw new Error(`${label}: ${role} '${t.name}' is quantized per channel; a model ${role} needs one scale and zero point`);
  const [lo, hi] = representableRange(t.type, p)!;
  found.ioNotes.push(
    `${role} '${t.name}' is ${dtypeName(t.type)} in the source (${describeAffine(p.scale[0], p.zeroPoint[0])}): ` +
    `the IR ${role} is float32 real values scale x (q - zero point), range [${Number(lo.toPrecision(6))}, ${Number(hi.toPrecision(6))}]`,
  );
}

/** Every constant as float32/int32 IR data (quantized and float16 ones dequantized), counted. */
function addConstants(b: GraphBuilder, src: TfliteSource, found: SourceIntegers): void {
  const { sg, model, label } = src;
  sg.tensors.forEach((t, i) => {
    // Before decodeBuffer allocates from the shape: the file may claim anything.
    checkShape(t.shape, `${label}: tensor '${t.name}'`);
    if (src.hasBuffer(i) && src.used.has(i)) {
      if (t.sparsity) found.sparse++;
      const { dtype, data, dequantized } = decodeBuffer(t, model.buffers[t.buffer].data, label);
      b.addConstant(src.names[i], [...t.shape], dtype, data);
      if (dequantized && src.used.has(i)) {
        if (QUANTIZED_INTEGER_TYPES.has(t.type)) {
          found.weights++;
          found.weightTypes.add(dtypeName(t.type));
        } else {
          found.wideConstants++;
        }
        if (dequantized === 'per-channel') found.perChannel++;
      }
    } else if (src.used.has(i) && QUANTIZED_INTEGER_TYPES.has(t.type)) {
      // The values are real numbers in the IR; the parameters are checked so a damaged file is not
      // mistaken for a model whose integers mean nothing.
      affineParamsOf(t, `${label}: activation tensor '${t.name}'`);
      found.activations++;
    }
  });
}

/**
 * A QUANTIZE/DEQUANTIZE: of an activation it is dropped (the chain's tensors share one IR name);
 * a DEQUANTIZE of a float16 or integer constant becomes the float constant it computes.
 */
function importConversion(b: GraphBuilder, src: TfliteSource, op: TfliteOperator, n: string, irNames: string[], found: SourceIntegers): void {
  const srcIndex = op.inputs[0];
  const label = src.label;
  if (srcIndex === undefined || srcIndex < 0) throw new Error(`${label}: ${n} '${irNames[op.outputs[0]]}' has no input`);
  const from = src.sg.tensors[srcIndex];
  if (!src.isConstant(srcIndex)) {
    found.removedOps++;
    return;
  }
  const c = b.tensors.get(src.names[srcIndex]);
  if (n === 'QUANTIZE' || !(c?.data instanceof Float32Array) || !(from.type === TensorType.FLOAT16 || QUANTIZED_INTEGER_TYPES.has(from.type))) {
    throw new Error(`${label}: ${n} '${irNames[op.outputs[0]]}' of constant ${dtypeName(from.type)} '${from.name}' is not supported (DEQUANTIZE of float16 or quantized integer constants is)`);
  }
  b.addConstant(irNames[op.outputs[0]], [...c.shape], 'float32', c.data);
}

/** Every operator through its registry import entry, in file order. */
function importOperators(b: GraphBuilder, src: TfliteSource, irNames: string[], found: SourceIntegers): void {
  for (const op of src.ops) {
    const n = src.opName(op);
    if (n === 'DEQUANTIZE' || n === 'QUANTIZE') {
      importConversion(b, src, op, n, irNames, found);
      continue;
    }
    if (n === 'DENSIFY') {
      // Its input was made dense with the other constants: the output is that constant.
      const c = b.tensor(src.names[op.inputs[0]]);
      b.addConstant(irNames[op.outputs[0]], [...c.shape], c.dtype, c.data!);
      continue;
    }
    const entry = importEntry('tflite', n)!;
    const ctx = new OperatorCtx(b, op, n, irNames, src.label);
    try {
      runImportEntry(entry.entry, entry.def.op, ctx, TFLITE_HOOKS);
    } catch (e) {
      // Helpers (reshape resolution, slicing) do not know the file or the operator: add both.
      if (e instanceof Error && !e.message.startsWith(src.label)) throw ctx.error(e.message);
      throw e;
    }
  }
}

/** The graph outputs: the requested names (through removed conversion chains) or the subgraph's. */
function graphOutputs(b: GraphBuilder, src: TfliteSource, irNames: string[], requested: string[] | undefined): string[] {
  const { names, sg } = src;
  let outputs: string[];
  if (requested?.length) {
    // A requested name may be a tensor of a removed QUANTIZE/DEQUANTIZE chain: use the chain's IR name.
    const indexOf = new Map(names.map((nm, i) => [nm, i]));
    outputs = requested.map((o) => (b.tensors.has(o) || !indexOf.has(o) ? o : irNames[indexOf.get(o)!]));
  } else {
    outputs = sg.outputs.map((i) => {
      // An output whose chain is named after the graph input or another output keeps its own name.
      if (irNames[i] !== names[i] && b.tensors.has(irNames[i])) b.emit(names[i], 'Identity', [irNames[i]], {}, [names[i]]);
      return names[i];
    });
  }
  for (const o of outputs) if (!b.tensors.has(o)) throw new Error(`${src.label}: output '${o}' is not a tensor of the model`);
  return outputs;
}

/** What the source's integers were (full-integer or dynamic-range), with the notes saying so. */
function sourceQuantizationOf(found: SourceIntegers): { kind?: Graph['meta']['sourceQuantization']; notes: string[] } {
  const types = [...found.weightTypes].join('/') || 'integer';
  const constants = found.weights + found.wideConstants;
  if (found.activations > 0) {
    return {
      kind: 'full-integer',
      notes: [
        `weights were already ${types}-rounded by the source model (full-integer): ` +
        `${found.weights} weight constants and ${found.wideConstants} int32/int64 biases dequantized to float32 ` +
        `(${found.perChannel} per channel, ${constants - found.perChannel} per tensor), ` +
        `${found.activations} integer activation tensors made float32 (their quantization parameters dropped), ${found.removedOps} QUANTIZE/DEQUANTIZE ops removed`,
        ...found.ioNotes,
      ],
    };
  }
  if (constants > 0) {
    return {
      kind: 'dynamic-range',
      notes: [
        `weights were already ${types}-rounded by the source model (dynamic-range): ` +
        `${constants} quantized constants dequantized to float32 (${found.perChannel} per channel, ` +
        `${constants - found.perChannel} per tensor); activations are float in the source`,
      ],
    };
  }
  return { notes: [] };
}

/** Converts a parsed TFLite model (subgraph 0) into the IR. */
export function graphFromTflite(model: TfliteModel, opts: ImportOptions = {}, label = 'model.tflite'): Graph {
  let src = tfliteSource(model, label);
  // Outputs requested, or the cut before post-processing: only the operators they need are imported.
  const cut = opts.outputs?.length ? undefined : findPostprocessCut(cutView(src));
  const requested = opts.outputs?.length ? opts.outputs : cut?.outputs;
  if (requested) src = restrictTo(src, operatorsFor(src, requested));
  checkSupportedOps(src);
  // IR name of each TFLite tensor (the tensors of a QUANTIZE/DEQUANTIZE chain share one).
  const irNames = passThroughNames(model, src.names, src.isConstant, src.opName, label);
  const found: SourceIntegers = { weights: 0, perChannel: 0, wideConstants: 0, activations: 0, removedOps: 0, sparse: 0, weightTypes: new Set(), ioNotes: [] };
  const b = new GraphBuilder(label);
  for (const i of src.sg.inputs) {
    noteIntegerIo(src, i, 'input', found);
    b.addInput(irNames[i], resolveInputShape(opts, src.names[i], declaredShape(src.sg.tensors[i]), src.sg.inputs.length, label));
  }
  addConstants(b, src, found);
  // After the inputs' and constants' own checks (a tensor without scales is reported as that).
  checkSourceWeightTypes({ label, tensors: src.sg.tensors, names: src.names, ops: src.ops, opName: src.opName, isConstant: src.isConstant });
  importOperators(b, src, irNames, found);
  const outputs = graphOutputs(b, src, irNames, requested);
  for (const i of src.sg.outputs) if (!requested || requested.includes(src.names[i])) noteIntegerIo(src, i, 'output', found);
  const cutAt = requested ? [...outputs] : undefined;
  const quantization = sourceQuantizationOf(found);
  const cutNote = cut ? cut.note : `cut at the requested outputs: ${outputs.join(', ')}`;
  const notes = [...(cutAt ? [cutNote] : []), ...quantization.notes];
  if (found.sparse) notes.push(`${found.sparse} sparse constants made dense at import (${src.densified.size} DENSIFY ops removed)`);
  return b.build(outputs, { source: label, format: 'tflite', cutAt, notes, ...(quantization.kind ? { sourceQuantization: quantization.kind } : {}) });
}

/** Imports a .tflite model (float, dynamic-range or full-integer) from bytes or a path. */
export async function importTflite(source: Uint8Array | string, opts: ImportOptions = {}): Promise<Graph> {
  let bytes: Uint8Array;
  let label = opts.label ?? 'model.tflite';
  if (typeof source === 'string') {
    label = opts.label ?? source;
    bytes = readRegularFile(source, 'model file', READ_LIMITS.model);
  } else {
    bytes = source;
  }
  return graphFromTflite(readTflite(bytes, { label }), opts, label);
}

/** An input's shape as the file declares it: its signature (-1 = any size) where the writer kept one. */
function declaredShape(t: { shape: number[]; shapeSignature?: number[] }): number[] {
  return t.shapeSignature && t.shapeSignature.length === t.shape.length ? [...t.shapeSignature] : [...t.shape];
}
