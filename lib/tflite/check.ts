// checkTflite: a verifier of the rules a full-integer .tflite must follow, in the spirit of the TFLite
// flatbuffer verifier and the ONNX checker. The reader already refuses files whose flatbuffer
// structure is broken; this goes on to what the int8 quantization spec
// (tensorflow/lite/g3doc/performance/quantization_spec.md) and the runtimes' kernels require:
//   - references: operator codes, tensors, buffers in range; every tensor read is defined first;
//   - constant buffers of exactly shape x dtype bytes;
//   - quantization: finite positive scales, zero points inside the dtype, per-axis counts and axis;
//   - CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED / TRANSPOSE_CONV: symmetric int8 weights in
//     [-127, 127], bias of the right type, length and scale (input scale x weight scale);
//   - fixed output parameters (LOGISTIC, TANH, SOFTMAX, LOG_SOFTMAX);
//   - ops that copy values (and CONCATENATION / PACK, whose int8 kernels do not rescale) have equal
//     input and output parameters;
//   - operator-code versions as the op files derive them from the tensor types;
//   - XNNPACK's parameter limits (check-xnnpack.ts): a requantization scale it refuses is a violation,
//     a scale ratio its delegate declines (the node runs in TFLite's own kernel) a note.
// The per-operator facts (weights layout, fixed outputs, same-parameter inputs, versions) come from the
// op registry (lib/ops/defs): each op file is the authority on the builtins it writes or reads.
// Every problem is one violation naming the tensor or operator (index and name) and what was expected.
import { readTflite } from './reader.js';
import { TensorType, dtypeName, type TfliteModel, type TfliteOperator, type TfliteQuantization, type TfliteSubgraph, type TfliteTensor } from './model.js';
import { minRuntimeVersionForOp } from './runtime-version.js';
import { builtinOperatorName, hasVersionRule, opVersion } from './operators.js';
import { checkOperatorStructure, checkTensorStructure } from './check-structure.js';
import { checkGraphShapes, type ShapeOp } from './check-shapes.js';
import { builtinSpec } from '../ops/registry.js';
import type { TensorDType, WeightedLayout } from '../ops/types.js';
import { FIXED_OUTPUT_PARAMS, WEIGHT_QMIN } from '../int8/arithmetic.js';
import { checkDelegateRatios, checkRequantizationScale } from './check-xnnpack.js';

/**
 * The rules, by id:
 *   readable            the file is a TFLite flatbuffer the reader accepts (its error otherwise)
 *   opcode-index, tensor-index, buffer-index   references in range
 *   buffer-size         a constant buffer holds exactly element count x dtype size bytes
 *   tensor-defined      every tensor read is a subgraph input, a constant, a variable or written earlier
 *   quantization-count  as many zero points as scales
 *   quantization-axis   per-axis parameters: quantized_dimension within the rank, one scale per slice
 *   scale               finite and > 0
 *   zero-point          int8 [-128, 127], uint8 [0, 255], int16 / int32 / int64 0
 *   weights-zero-point, weights-range, weights-axis   symmetric int8 weights in [-127, 127], per output channel
 *   bias-type, bias-shape, bias-scale                 int32 (int8 input) or int32/int64 (int16), one per channel, input x weight scale
 *   fixed-output        LOGISTIC / TANH / SOFTMAX / LOG_SOFTMAX output parameters
 *   same-params         equal input and output parameters where the kernels do not rescale
 *   op-version          a version TFLite defines, at least the one the tensor types need
 *   tensor-type, tensor-size                          a type the schema defines; a size the runtime can allocate
 *   activation-quantization                           integer activations carry one scale and zero point
 *   op-operands, op-options, op-dtypes, op-shapes      operand counts, option ranges (strides, padding, axis,
 *                       pads, fused activations the kernel refuses or ignores), operand types and output
 *                       shapes as the kernels' Prepare checks them
 *   delegate-scale-ratio  (a note) 8-bit ADD / SUB / MUL scale ratios the XNNPACK delegate declines
 *   requantization-scale  8-bit CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED / TRANSPOSE_CONV: input x weight
 *                       / output scale below 256 in every channel (XNNPACK refuses the model otherwise)
 * and 'tensor-defined' also refuses a tensor written twice (by two operators, or over an input or constant).
 */
export const CHECK_RULES = [
  'readable', 'opcode-index', 'tensor-index', 'buffer-index', 'buffer-size', 'tensor-defined',
  'quantization-count', 'quantization-axis', 'scale', 'zero-point',
  'weights-zero-point', 'weights-range', 'weights-axis', 'bias-type', 'bias-shape', 'bias-scale',
  'fixed-output', 'same-params', 'op-version',
  'tensor-type', 'tensor-size', 'activation-quantization', 'op-operands', 'op-options', 'op-dtypes', 'op-shapes',
  'requantization-scale', 'delegate-scale-ratio',
] as const;
export type CheckRule = (typeof CHECK_RULES)[number];

export interface CheckViolation {
  rule: CheckRule;
  /** The tensor or operator: e.g. "tensor 12 'conv1'" or "operator 3 CONV_2D (output 'conv1')". */
  where: string;
  message: string;
}

export interface CheckResult {
  ok: boolean;
  violations: CheckViolation[];
  /**
   * Findings LiteRT runs anyway, reported but not violations unless `strict` (an operator code that
   * declares a lower version than its tensor types need: old writers did, and the kernels read the
   * options regardless). Files this library writes are checked strictly.
   */
  notes?: CheckViolation[];
}

export interface CheckOptions {
  /** Names the file in a 'readable' violation (default 'model'). */
  label?: string;
  /** Lower-than-needed operator versions are violations (default true); otherwise notes. */
  strict?: boolean;
}

const { INT8, UINT8, INT16, INT32, INT64 } = TensorType;

/** Bytes per element of the dtypes a constant buffer can hold (int4 is packed two per byte). */
const BYTES_PER_ELEMENT: Partial<Record<number, number>> = {
  [TensorType.FLOAT32]: 4, [TensorType.FLOAT16]: 2, [TensorType.INT32]: 4, [TensorType.UINT8]: 1,
  [TensorType.INT64]: 8, [TensorType.BOOL]: 1, [TensorType.INT16]: 2, [TensorType.COMPLEX64]: 8,
  [TensorType.INT8]: 1, [TensorType.FLOAT64]: 8, [TensorType.COMPLEX128]: 16, [TensorType.UINT64]: 8,
  [TensorType.UINT32]: 4, [TensorType.UINT16]: 2, [TensorType.BFLOAT16]: 2,
};

/** Zero points each quantized dtype allows: int8/uint8 anything in range, int16 and int32/int64 (biases) only 0. */
const ZERO_POINT_RANGE: Partial<Record<number, [number, number, string]>> = {
  [INT8]: [-128, 127, 'int8 [-128, 127]'],
  [UINT8]: [0, 255, 'uint8 [0, 255]'],
  [INT16]: [0, 0, 'int16 (symmetric: 0)'],
  [INT32]: [0, 0, 'int32 (0)'],
  [INT64]: [0, 0, 'int64 (0)'],
};

/** The kernels accept a fixed scale within 0.1 % (TF_LITE_ENSURE_NEAR(scale, 1/256, 0.001/256)). */
const FIXED_SCALE_TOLERANCE = 0.001;

/** Relative tolerance of bias scale vs input scale x weight scale (TFLite's GetQuantizedConvolutionMultipler check). */
const BIAS_SCALE_TOLERANCE = 1e-6;

const CUSTOM_CODE = 32;

function quantized(t: TfliteTensor | undefined): TfliteQuantization | undefined {
  const q = t?.quantization;
  return q && q.scale.length > 0 ? q : undefined;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Up to `max` items, then "... (n in all)". */
function listSome(items: string[], max = 4): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')}, ... (${items.length} in all)`;
}

function num(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(7))) : String(x);
}

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Checks a .tflite file. Throws only for a non-Uint8Array argument; an unreadable file is a 'readable' violation. */
export function checkTflite(bytes: Uint8Array, opts: CheckOptions = {}): CheckResult {
  const label = opts.label ?? 'model';
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${label}: checkTflite expects a Uint8Array`);
  let model: TfliteModel;
  try {
    // References are checked below, all of them, rather than stopping at the first bad one.
    model = readTflite(bytes, { label, checkReferences: false });
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    const prefix = `${label}: `;
    return { ok: false, violations: [{ rule: 'readable', where: label, message: e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message }] };
  }
  return checkTfliteModel(model, opts);
}

/** The same checks on a model object (e.g. one built in memory before writing it). */
export function checkTfliteModel(model: TfliteModel, opts: Pick<CheckOptions, 'strict'> = {}): CheckResult {
  const violations: CheckViolation[] = [];
  const notes: CheckViolation[] = [];
  const multi = model.subgraphs.length > 1;
  model.subgraphs.forEach((sg, si) => checkSubgraph(model, sg, multi ? `subgraph ${si} ` : '', violations, opts.strict === false ? notes : violations, notes));
  model.metadata.forEach((md, i) => {
    if (!(Number.isInteger(md.buffer) && md.buffer >= 0 && md.buffer < model.buffers.length)) {
      violations.push({ rule: 'buffer-index', where: `metadata ${i} '${md.name}'`, message: `uses buffer ${md.buffer}, but the model has ${model.buffers.length} buffers` });
    }
  });
  model.signatureDefs.forEach((sd, i) => {
    const where = `signature ${i} '${sd.signatureKey}'`;
    const sg = model.subgraphs[sd.subgraphIndex];
    if (!sg) {
      violations.push({ rule: 'tensor-index', where, message: `refers to subgraph ${sd.subgraphIndex}, but the model has ${model.subgraphs.length}` });
      return;
    }
    for (const tm of [...sd.inputs, ...sd.outputs]) {
      if (!(Number.isInteger(tm.tensorIndex) && tm.tensorIndex >= 0 && tm.tensorIndex < sg.tensors.length)) {
        violations.push({ rule: 'tensor-index', where, message: `'${tm.name}' refers to tensor ${tm.tensorIndex}, but subgraph ${sd.subgraphIndex} has ${sg.tensors.length} tensors` });
      }
    }
  });
  return { ok: violations.length === 0, violations, ...(notes.length ? { notes } : {}) };
}

/** A subgraph as the checks read it: valid indices, names for messages, constant data, the report. */
interface SubgraphView {
  model: TfliteModel;
  sg: TfliteSubgraph;
  prefix: string;
  valid(i: number): boolean;
  tensorAt: TensorAt;
  tname(i: number): string;
  dataOf(t: TfliteTensor): Uint8Array | undefined;
  add: Add;
  /** Where findings LiteRT runs anyway go (the violations when strict). */
  lenient: Add;
  /** Findings that are never violations (LiteRT runs the file as it is meant, only not all of it in XNNPACK). */
  note: Add;
}

function subgraphView(model: TfliteModel, sg: TfliteSubgraph, prefix: string, out: CheckViolation[], lenientOut: CheckViolation[], notesOut: CheckViolation[]): SubgraphView {
  const tensors = sg.tensors;
  const valid = (i: number) => Number.isInteger(i) && i >= 0 && i < tensors.length;
  return {
    model, sg, prefix, valid,
    tensorAt: (i) => (i !== undefined && valid(i) ? tensors[i] : undefined),
    tname: (i) => `${prefix}tensor ${i}${valid(i) ? ` '${tensors[i].name}'` : ''}`,
    dataOf(t) {
      const b = t.buffer >= 0 && t.buffer < model.buffers.length ? model.buffers[t.buffer] : undefined;
      return b && b.data.length > 0 ? b.data : undefined;
    },
    add: (rule, where, message) => out.push({ rule, where, message }),
    lenient: (rule, where, message) => lenientOut.push({ rule, where, message }),
    note: (rule, where, message) => notesOut.push({ rule, where, message }),
  };
}

/** A tensor's buffer reference and, for a constant, its byte count against its shape and dtype. */
function checkTensorBuffer(v: SubgraphView, t: TfliteTensor, where: string): void {
  const buffers = v.model.buffers;
  const noBuffers = buffers.length === 0 && t.buffer === 0;
  if (!noBuffers && !(Number.isInteger(t.buffer) && t.buffer >= 0 && t.buffer < buffers.length)) {
    v.add('buffer-index', where, `uses buffer ${t.buffer}, but the model has ${buffers.length} buffers`);
  }
  const data = v.dataOf(t);
  if (!data || t.sparsity) return;
  const bpe = BYTES_PER_ELEMENT[t.type];
  const n = elementCount(t.shape);
  const expected = t.type === TensorType.INT4 ? Math.ceil(n / 2) : bpe === undefined ? undefined : n * bpe;
  if (!t.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    v.add('buffer-size', where, `is a constant (${data.length} bytes in buffer ${t.buffer}) but its shape ${shapeText(t.shape)} has a negative dimension`);
  } else if (expected !== undefined && expected !== data.length) {
    v.add('buffer-size', where, `buffer ${t.buffer} has ${data.length} bytes; shape ${shapeText(t.shape)} of ${dtypeName(t.type)} needs ${expected}`);
  }
}

/** Scale and zero-point counts, the per-axis dimension, finite positive scales, zero points in range. */
function checkTensorQuantization(v: SubgraphView, t: TfliteTensor, where: string): void {
  const q = quantized(t);
  if (!q) return;
  if (q.zeroPoint.length !== q.scale.length) {
    v.add('quantization-count', where, `has ${q.scale.length} scale(s) but ${q.zeroPoint.length} zero point(s); the counts must be equal`);
  }
  if (q.scale.length > 1) {
    const axis = q.quantizedDimension;
    if (!(Number.isInteger(axis) && axis >= 0 && axis < t.shape.length)) {
      v.add('quantization-axis', where, `per-axis quantization on dimension ${axis}, outside its rank-${t.shape.length} shape ${shapeText(t.shape)}`);
    } else if (t.shape[axis] !== q.scale.length) {
      v.add('quantization-axis', where, `has ${q.scale.length} scales on dimension ${axis}, of size ${t.shape[axis]} in shape ${shapeText(t.shape)}; expected ${t.shape[axis]} (or 1 for per-tensor)`);
    }
  }
  const badScales = q.scale.map((s, c) => (Number.isFinite(s) && s > 0 ? '' : q.scale.length > 1 ? `${num(s)} (channel ${c})` : num(s))).filter(Boolean);
  if (badScales.length) v.add('scale', where, `scale ${listSome(badScales)}; scales must be finite and > 0`);
  const range = ZERO_POINT_RANGE[t.type];
  if (range) {
    const [lo, hi, text] = range;
    const bad = q.zeroPoint.map((z, c) => (Number.isInteger(z) && z >= lo && z <= hi ? '' : q.zeroPoint.length > 1 ? `${z} (channel ${c})` : String(z))).filter(Boolean);
    if (bad.length) v.add('zero-point', where, `zero point ${listSome(bad)} is outside ${text}`);
  }
}

/** One operator: its code and tensor indices, inputs written before they are read, then its kernel rules. */
function checkOperator(v: SubgraphView, op: TfliteOperator, oi: number, defined: Set<number>, written: Set<number>): ShapeOp | undefined {
  const { model, sg, valid, tname, add } = v;
  const code = Number.isInteger(op.opcodeIndex) && op.opcodeIndex >= 0 ? model.operatorCodes[op.opcodeIndex] : undefined;
  const opName = !code ? undefined : code.builtinCode === CUSTOM_CODE ? `CUSTOM:${code.customCode ?? ''}` : builtinOperatorName(code.builtinCode);
  const firstOut = op.outputs.find(valid);
  const where = `${v.prefix}operator ${oi} ${opName ?? '?'}${firstOut !== undefined ? ` (output '${sg.tensors[firstOut].name}')` : ''}`;
  if (!code) add('opcode-index', where, `uses operator code ${op.opcodeIndex}, but the model has ${model.operatorCodes.length}`);
  let indicesOk = true;
  const lists: [string, number[], boolean][] = [['input', op.inputs, true], ['output', op.outputs, false], ['intermediate', op.intermediates ?? [], false]];
  for (const [what, list, optional] of lists) {
    list.forEach((i, k) => {
      if (valid(i) || (optional && i === -1)) return;
      indicesOk = false;
      add('tensor-index', where, `${what} ${k} refers to tensor ${i}, but the subgraph has ${sg.tensors.length} tensors`);
    });
  }
  op.inputs.forEach((i, k) => {
    if (valid(i) && !defined.has(i)) {
      add('tensor-defined', where, `input ${k} ${tname(i)} is read before any operator writes it (not a subgraph input, constant or variable)`);
    }
  });
  for (const [k, i] of op.outputs.entries()) {
    if (!valid(i)) continue;
    const t = sg.tensors[i];
    const earlier = written.has(i) ? "another operator's output" : sg.inputs.includes(i) ? 'a subgraph input' : v.dataOf(t) ? 'a constant' : undefined;
    // LiteRT runs such a file (the later writer wins), but what it computes is not the graph: strict only.
    // Writing over a constant is refused outright (XNNPACK cannot take a constant as an op's output).
    const report = earlier === 'a constant' ? add : v.lenient;
    if (earlier) report('tensor-defined', where, `output ${k} ${tname(i)} is already ${earlier}; a tensor has one writer`);
    written.add(i);
    defined.add(i);
  }
  if (!code || !indicesOk || code.builtinCode === CUSTOM_CODE || !opName) return undefined;
  if (opName.startsWith('UNKNOWN(')) {
    add('opcode-index', where, `operator code ${code.builtinCode} is not a builtin TFLite defines`);
    return undefined;
  }
  checkOperatorStructure(opName, op, v.tensorAt, (i) => { const t = v.tensorAt(i); return t ? v.dataOf(t) : undefined; }, where, add, v.lenient);
  checkWeightedOp(opName, op, v.tensorAt, tname, v.dataOf, where, add);
  checkFixedOutput(opName, op, v.tensorAt, tname, where, add);
  checkSameParams(opName, op, v.tensorAt, tname, where, add);
  checkFusedActivation(opName, op, where, add);
  checkVersion(opName, code.builtinCode, code.version, op, v.tensorAt, where, add, v.lenient);
  checkRequantizationScale(opName, op, v.tensorAt, tname, where, (w, m) => add('requantization-scale', w, m));
  checkDelegateRatios(opName, op, v.tensorAt, tname, where, (w, m) => v.note('delegate-scale-ratio', w, m));
  return { name: opName, where, inputs: op.inputs, outputs: op.outputs, options: op.builtinOptions as Record<string, unknown> | null };
}

function checkSubgraph(model: TfliteModel, sg: TfliteSubgraph, prefix: string, out: CheckViolation[], lenientOut: CheckViolation[], notesOut: CheckViolation[]): void {
  const v = subgraphView(model, sg, prefix, out, lenientOut, notesOut);
  const used = new Set<number>([...sg.inputs, ...sg.outputs]);
  for (const op of sg.operators) for (const i of [...op.inputs, ...op.outputs]) used.add(i);
  sg.tensors.forEach((t, i) => {
    checkTensorBuffer(v, t, v.tname(i));
    checkTensorQuantization(v, t, v.tname(i));
    const bufferOk = Number.isInteger(t.buffer) && t.buffer >= 0 && (t.buffer < model.buffers.length || (t.buffer === 0 && model.buffers.length === 0));
    if (used.has(i) && bufferOk) checkTensorStructure(t, v.tname(i), v.dataOf(t) !== undefined || t.isVariable === true, v.add, v.lenient);
  });
  for (const [what, list] of [['input', sg.inputs], ['output', sg.outputs]] as const) {
    list.forEach((i, k) => {
      if (!v.valid(i)) v.add('tensor-index', `${prefix}subgraph ${what} ${k}`, `refers to tensor ${i}, but the subgraph has ${sg.tensors.length} tensors`);
    });
  }
  // Operators, in execution order: a tensor is defined once an input, a constant, a variable or written.
  const defined = new Set<number>(sg.inputs);
  sg.tensors.forEach((t, i) => {
    if (v.dataOf(t) || t.isVariable || elementCount(t.shape) === 0) defined.add(i);
  });
  const written = new Set<number>();
  const before = out.length;
  const shapeOps = sg.operators.map((op, oi) => checkOperator(v, op, oi, defined, written));
  sg.outputs.forEach((i, k) => {
    if (v.valid(i) && !defined.has(i)) v.add('tensor-defined', `${prefix}subgraph output ${k}`, `${v.tname(i)} is never written by an operator (not a subgraph input, constant or variable)`);
  });
  checkConstantIo(v);
  // Shapes through the graph only once the references and operands are sound (no cascade of findings).
  if (out.length === before && shapeOps.every((o) => o)) checkGraphShapes(sg, shapeOps as ShapeOp[], v.dataOf, prefix, (rule, where, message) => v.add(rule, where, message));
}

/** A subgraph input or output that is a constant: LiteRT aborts binding an I/O buffer to read-only data. */
function checkConstantIo(v: SubgraphView): void {
  for (const [what, list] of [['input', v.sg.inputs], ['output', v.sg.outputs]] as const) {
    list.forEach((i, k) => {
      const t = v.tensorAt(i);
      if (t && v.dataOf(t)) v.add('tensor-defined', `${v.prefix}subgraph ${what} ${k}`, `${v.tname(i)} is a constant (buffer ${t.buffer}); model inputs and outputs are activations`);
    });
  }
}

type TensorAt = (i: number | undefined) => TfliteTensor | undefined;
type Add = (rule: CheckRule, where: string, message: string) => void;

function checkWeightedOp(
  opName: string, op: TfliteOperator, tensorAt: TensorAt, tname: (i: number) => string,
  dataOf: (t: TfliteTensor) => Uint8Array | undefined, where: string, add: Add,
): void {
  const layout: WeightedLayout | undefined = builtinSpec(opName)?.kernel?.weighted;
  if (!layout) return;
  const wi = op.inputs[layout.weights];
  const w = tensorAt(wi);
  const wq = quantized(w);
  if (!w || !wq || (w.type !== INT8 && w.type !== TensorType.INT4)) return;
  // A non-constant "weights" operand (FULLY_CONNECTED of two activations, e.g. attention's matmul) is
  // an activation: asymmetric and per-tensor, and LiteRT runs it; the rules below are for constants.
  if (!dataOf(w)) return;
  // Weights: symmetric, per-axis only along the output channels, int8 values in [-127, 127].
  const nonZero = wq.zeroPoint.map((z, c) => (z === 0 ? '' : wq.zeroPoint.length > 1 ? `${z} (channel ${c})` : String(z))).filter(Boolean);
  if (nonZero.length) add('weights-zero-point', where, `weights ${tname(wi)} have zero point ${listSome(nonZero)}; ${opName} weights must be symmetric (zero point 0)`);
  if (wq.scale.length > 1 && wq.quantizedDimension !== layout.channelAxis) {
    add('weights-axis', where, `weights ${tname(wi)} are quantized per axis on dimension ${wq.quantizedDimension}; ${opName} expects the output-channel dimension ${layout.channelAxis}`);
  }
  const data = dataOf(w);
  if (data && w.type === INT8) {
    let below = 0;
    for (let k = 0; k < data.length; k++) if (((data[k] << 24) >> 24) < WEIGHT_QMIN) below++;
    if (below) add('weights-range', where, `weights ${tname(wi)} hold ${below} value(s) of -128; int8 weights must be in [-127, 127]`);
  }

  // Bias: only with quantized int8 / int16 activations (a float input means a hybrid or float op).
  const xi = op.inputs[layout.input];
  const x = tensorAt(xi);
  const xq = quantized(x);
  const bi = op.inputs[layout.bias];
  const b = tensorAt(bi);
  if (!x || !xq || !b || (x.type !== INT8 && x.type !== INT16)) return;
  const xType = dtypeName(x.type);
  const biasTypes: number[] = x.type === INT8 ? [INT32] : [INT32, INT64];
  if (!biasTypes.includes(b.type)) {
    add('bias-type', where, `bias ${tname(bi)} is ${dtypeName(b.type)}; with ${xType} input ${tname(xi)} it must be ${x.type === INT8 ? 'int32' : 'int32 or int64'}`);
    return;
  }
  const channels = w.shape[layout.channelAxis];
  if (channels !== undefined && elementCount(b.shape) !== channels) {
    add('bias-shape', where, `bias ${tname(bi)} has shape ${shapeText(b.shape)} (${elementCount(b.shape)} values); the weights' ${channels} output channels need ${channels}`);
    return;
  }
  const bq = quantized(b);
  const inputScale = xq.scale[0];
  if (!bq) {
    add('bias-scale', where, `bias ${tname(bi)} has no quantization parameters; expected scale = input scale x weight scale, zero point 0`);
    return;
  }
  if (channels === undefined) return;
  const perChannel = (s: number[]) => s.length === 1 || s.length === channels;
  if (!perChannel(wq.scale) || !perChannel(bq.scale)) return; // reported as quantization-axis
  if (channels > 1 && wq.scale.length === channels && bq.scale.length === 1) {
    // XNNPACK refuses the node (per-channel weights need per-channel bias parameters), even when the
    // weights' scales are all equal.
    add('bias-scale', where, `bias ${tname(bi)} has one scale but the weights ${tname(wi)} have ${channels} (per channel); the bias needs one per channel`);
    return;
  }
  if (channels > 1 && wq.scale.length === 1 && bq.scale.length === channels) {
    add('bias-scale', where, `bias ${tname(bi)} has ${channels} scales but the weights ${tname(wi)} have one (per tensor); the bias needs one scale too`);
    return;
  }
  const off: string[] = [];
  for (let c = 0; c < channels; c++) {
    const ws = wq.scale.length === 1 ? wq.scale[0] : wq.scale[c];
    const bs = bq.scale.length === 1 ? bq.scale[0] : bq.scale[c];
    const expected = inputScale * ws;
    if (!(Math.abs(bs - expected) <= BIAS_SCALE_TOLERANCE * Math.min(Math.abs(bs), Math.abs(expected)))) {
      off.push(`${num(bs)} instead of ${num(expected)}${channels > 1 ? ` (channel ${c})` : ''}`);
    }
  }
  if (off.length) {
    add('bias-scale', where, `bias ${tname(bi)} scale ${listSome(off, 3)}; it must equal input scale ${num(inputScale)} x weight scale (within ${BIAS_SCALE_TOLERANCE} relative)`);
  }
}

function checkFixedOutput(opName: string, op: TfliteOperator, tensorAt: TensorAt, tname: (i: number) => string, where: string, add: Add): void {
  const fixed = builtinSpec(opName)?.kernel?.fixedOutput;
  const table = fixed ? FIXED_OUTPUT_PARAMS[fixed] : undefined;
  const yi = op.outputs[0];
  const y = tensorAt(yi);
  const x = tensorAt(op.inputs[0]);
  if (!table || !y || !x || x.type !== y.type) return;
  const want = y.type === INT8 ? table.int8 : y.type === INT16 ? table.int16 : undefined;
  if (!want) return;
  const yq = quantized(y);
  const text = `${opName} with ${dtypeName(y.type)} output needs scale ${num(want.scale)} (1/${Math.round(1 / want.scale)}) and zero point ${want.zeroPoint}`;
  if (!yq) {
    add('fixed-output', where, `output ${tname(yi)} has no quantization parameters; ${text}`);
    return;
  }
  const s = yq.scale[0];
  const z = yq.zeroPoint[0];
  if (!(Math.abs(s - want.scale) <= FIXED_SCALE_TOLERANCE * want.scale) || z !== want.zeroPoint) {
    add('fixed-output', where, `output ${tname(yi)} has scale ${num(s)} and zero point ${z}; ${text}`);
  }
}

/** TFLite's ActivationFunctionType names, by value. */
const FUSED_ACTIVATIONS = ['NONE', 'RELU', 'RELU_N1_TO_1', 'RELU6', 'TANH', 'SIGN_BIT'];

/**
 * A fused activation the kernels refuse or do not apply. CONCATENATION's kernel refuses any but NONE
 * in every dtype (its op file says so; XNNPACK's int8 / float path runs it, so a file can seem fine
 * until a node falls back to TFLite's kernel, e.g. in int16). TANH and SIGN_BIT: TFLite's kernels
 * clamp only for RELU, RELU_N1_TO_1 and RELU6 (kernel_util CalculateActivationRange / ...Quantized
 * give the full range otherwise), so the file would not compute what it declares, and XNNPACK
 * declines such a node. ADD / SUB / MUL / the pools / the weighted ops run RELU and RELU6 in int8,
 * int16 and float (checked in LiteRT).
 */
function checkFusedActivation(opName: string, op: TfliteOperator, where: string, add: Add): void {
  const act = (op.builtinOptions as Record<string, unknown> | null)?.fusedActivationFunction;
  if (typeof act !== 'number' || act === 0 || !FUSED_ACTIVATIONS[act]) return;
  const name = FUSED_ACTIVATIONS[act];
  if (builtinSpec(opName)?.kernel?.noFusedActivation) {
    add('op-options', where, `fused activation ${name} (${act}); TFLite's ${opName} kernel accepts only NONE (put the activation in an op of its own)`);
  } else if (name === 'TANH' || name === 'SIGN_BIT') {
    add('op-options', where, `fused activation ${name} (${act}); TFLite's kernels apply only RELU, RELU_N1_TO_1 and RELU6 (they would run it as NONE)`);
  }
}

function checkSameParams(opName: string, op: TfliteOperator, tensorAt: TensorAt, tname: (i: number) => string, where: string, add: Add): void {
  const spec = builtinSpec(opName)?.kernel?.sameParams;
  if (!spec) return;
  const quantTypes: number[] = [INT8, UINT8, INT16];
  const inputIdx = spec === 'all' ? op.inputs.map((_, k) => k) : spec;
  const params = (t: TfliteTensor) => {
    const q = quantized(t);
    return q ? `scale ${num(q.scale[0])}, zero point ${q.zeroPoint[0]}` : 'no quantization parameters';
  };
  for (const yi of op.outputs) {
    const y = tensorAt(yi);
    if (!y || !quantTypes.includes(y.type)) continue;
    const yq = quantized(y);
    for (const k of inputIdx) {
      const xi = op.inputs[k];
      const x = tensorAt(xi);
      if (!x || x.type !== y.type) continue;
      const xq = quantized(x);
      const same = !!xq && !!yq && xq.scale[0] === yq.scale[0] && xq.zeroPoint[0] === yq.zeroPoint[0];
      if (same || (!xq && !yq)) continue;
      add('same-params', where, `input ${k} ${tname(xi)} has ${params(x)} but output ${tname(yi)} has ${params(y)}; ${dtypeName(y.type)} ${opName} needs them equal`);
    }
  }
}

/**
 * Versions official converters write below what op_version.cc now derives, which LiteRT runs:
 * [op, input dtype, version]. yolov5n-fp16.tflite (the ultralytics export) has DEQUANTIZE of float16
 * weights at version 2 where the current rule says 3.
 */
const LEGACY_VERSIONS: [string, number, number][] = [['DEQUANTIZE', TensorType.FLOAT16, 2]];

/**
 * The declared version must be at least the one the op's file derives from the op's tensor types and
 * options (the kernel variant it needs), and one TFLite defines for the op (LiteRT refuses to load
 * others: "Didn't find op for builtin opcode 'CONV_2D' version '9'"). A higher version than the op
 * itself needs is normal: ops of one kind share one operator code, whose version is the highest any of
 * them needs (yolov8n_int8.tflite: float and hybrid CONV_2D share version 2).
 */
function checkVersion(opName: string, builtinCode: number, declared: number, op: TfliteOperator, tensorAt: TensorAt, where: string, add: Add, lenient: Add): void {
  if (minRuntimeVersionForOp(builtinCode, 1) !== undefined && minRuntimeVersionForOp(builtinCode, declared) === undefined) {
    let highest = 1;
    while (minRuntimeVersionForOp(builtinCode, highest + 1) !== undefined) highest++;
    add('op-version', where, `operator code declares version ${declared}; TFLite defines ${opName} versions 1 to ${highest}`);
    return;
  }
  if (!hasVersionRule(opName)) return;
  const ts = (list: number[]) => list.map((i) => (i === -1 ? undefined : tensorAt(i)));
  const ins = ts(op.inputs);
  const outs = ts(op.outputs);
  const typeOf = (t: TfliteTensor | undefined) => (t ? (dtypeName(t.type) as TensorDType) : undefined);
  const needed = opVersion(opName, {
    inputs: ins.map(typeOf),
    outputs: outs.map((t) => typeOf(t)!),
    inputRanks: ins.map((t) => (t ? t.shape.length : 0)),
    options: (op.builtinOptions ?? {}) as Record<string, unknown>,
    inputScales: ins.map((t) => quantized(t)?.scale[0]),
    outputScales: outs.map((t) => quantized(t)?.scale[0]),
  });
  if (declared >= needed) return;
  if (LEGACY_VERSIONS.some(([o, type, v]) => o === opName && ins[0]?.type === type && declared >= v)) return;
  const types = `${ins.map((t) => (t ? dtypeName(t.type) : '-')).join(',')} -> ${outs.map((t) => (t ? dtypeName(t.type) : '-')).join(',')}`;
  lenient('op-version', where, `operator code declares version ${declared}; its tensor types (${types}) and options need version ${needed} or higher`);
}

/** The violations as text, one per line ("<where>: [rule] message"). */
export function formatCheckResult(result: CheckResult, label = 'model'): string {
  const notes = (result.notes ?? []).map((v) => `  note: ${v.where}: [${v.rule}] ${v.message} (LiteRT runs it)`);
  if (result.ok) return [`${label}: ok (no violations)`, ...notes].join('\n');
  const lines = [`${label}: ${result.violations.length} violation(s)`];
  for (const v of result.violations) lines.push(`  ${v.where}: [${v.rule}] ${v.message}`);
  lines.push(...notes);
  return lines.join('\n');
}

/**
 * Throws when the file breaks any rule: the first line names the count and the first violations (the
 * CLI shows one line), the following lines list all of them. `label` says who produced the file.
 */
export function assertValidTflite(bytes: Uint8Array, label: string): void {
  const result = checkTflite(bytes, { label });
  if (result.ok) return;
  const n = result.violations.length;
  const first = result.violations.slice(0, 2).map((v) => `${v.where}: ${v.message}`).join('; ');
  throw new Error(
    `${label}: the written model breaks ${n} TFLite rule(s), so it is not returned: ${first}${n > 2 ? '; ...' : ''}\n` +
      result.violations.map((v) => `  ${v.where}: [${v.rule}] ${v.message}`).join('\n'),
  );
}
