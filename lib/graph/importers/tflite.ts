// Importer for .tflite models. Float models (float32 weights, or float16 weights behind DEQUANTIZE,
// which fold to float32 constants) import as they are. Quantized models import as the float graph
// they approximate: integer constants with quantization parameters become float32 constants
// (dynamic-range and full-integer weights, int32 biases), integer activations become float32
// tensors carrying the real values, and QUANTIZE / DEQUANTIZE ops between activations disappear
// (rewired like Identity). Layouts are converted to the IR's TF layouts: conv filters OHWI -> HWIO,
// depthwise [1,kh,kw,C*m] -> [kh,kw,C,m], FC weights [out,in] -> [in,out].
import fs from 'node:fs';
import type { Graph, IrData, IrDType } from '../../ir/graph.js';
import { elementCount } from '../../ir/graph.js';
import { checkShape } from '../../util/validate.js';
import { GraphBuilder, unsupportedOpsError } from '../builder.js';
import { readTflite } from '../../tflite/reader.js';
import { builtinOperatorName } from '../../tflite/op-versions.js';
import { TensorType, dtypeName, type TfliteModel, type TfliteOperator, type TfliteTensor, type BuiltinOptions } from '../../tflite/model.js';
import { normalizeStridedSlice } from '../../ops/defs/strided-slice.js';
import { resolveReshape } from '../../ops/defs/reshape.js';
import { normalizeAxis } from '../../ops/util.js';
import { float16ToFloat32 } from './tfjs-weights.js';
import type { ImportOptions } from './tfjs-graph.js';
import { QUANTIZED_INTEGER_TYPES, affineParamsOf, dequantizeAffine, representableRange } from './tflite-dequantize.js';

const ACTIVATIONS: Record<number, string> = { 0: 'none', 1: 'relu', 3: 'relu6' };

/** OHWI -> HWIO. */
export function ohwiToHwio(data: Float32Array, [o, h, w, i]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let oo = 0; oo < o; oo++)
    for (let hh = 0; hh < h; hh++)
      for (let ww = 0; ww < w; ww++)
        for (let ii = 0; ii < i; ii++) out[((hh * w + ww) * i + ii) * o + oo] = data[((oo * h + hh) * w + ww) * i + ii];
  return out;
}

/** [rows, cols] -> [cols, rows]. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

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

function decodeBuffer(t: TfliteTensor, bytes: Uint8Array, label: string): DecodedConstant {
  const n = elementCount(t.shape);
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

interface OpCtx {
  b: GraphBuilder;
  op: TfliteOperator;
  opts: BuiltinOptions;
  name: string;
  /** IR tensor name of operator input k. */
  in(k: number): string;
  out(k: number): string;
  consts(k: number): number[];
  floatConst(k: number): { data: Float32Array; shape: number[] };
  act(): string;
  error(msg: string): Error;
}

const CONVERTERS: Record<string, (c: OpCtx) => void> = {
  CONV_2D(c) {
    const f = c.floatConst(1);
    const filter = c.b.addConstant(c.b.uniqueName(`${c.in(1)}/hwio`), [f.shape[1], f.shape[2], f.shape[3], f.shape[0]], 'float32', ohwiToHwio(f.data, f.shape));
    c.b.emit(c.name, 'Conv2D', [c.in(0), filter, ...(c.op.inputs[2] >= 0 ? [c.in(2)] : [])], {
      strides: [Number(c.opts.strideH), Number(c.opts.strideW)],
      dilations: [Number(c.opts.dilationHFactor ?? 1), Number(c.opts.dilationWFactor ?? 1)],
      padding: c.opts.padding === 1 ? 'VALID' : 'SAME',
      activation: c.act(),
    }, [c.out(0)]);
  },
  DEPTHWISE_CONV_2D(c) {
    const f = c.floatConst(1);
    const inC = c.b.tensor(c.in(0)).shape[3];
    const total = f.shape[3];
    if (f.shape[0] !== 1 || total % inC !== 0) throw c.error(`depthwise filter [${f.shape}] does not fit ${inC} input channels`);
    // [1,kh,kw,C*m] and [kh,kw,C,m] have the same memory order.
    const filter = c.b.addConstant(c.b.uniqueName(`${c.in(1)}/hwcm`), [f.shape[1], f.shape[2], inC, total / inC], 'float32', f.data);
    c.b.emit(c.name, 'DepthwiseConv2D', [c.in(0), filter, ...(c.op.inputs[2] >= 0 ? [c.in(2)] : [])], {
      strides: [Number(c.opts.strideH), Number(c.opts.strideW)],
      dilations: [Number(c.opts.dilationHFactor ?? 1), Number(c.opts.dilationWFactor ?? 1)],
      padding: c.opts.padding === 1 ? 'VALID' : 'SAME',
      activation: c.act(),
    }, [c.out(0)]);
  },
  FULLY_CONNECTED(c) {
    if (c.opts.weightsFormat) throw c.error('only the DEFAULT weights format is supported');
    if (c.opts.keepNumDims) throw c.error('keep_num_dims=true is not supported');
    const w = c.floatConst(1);
    const weights = c.b.addConstant(c.b.uniqueName(`${c.in(1)}/io`), [w.shape[1], w.shape[0]], 'float32', transpose2d(w.data, w.shape[0], w.shape[1]));
    c.b.emit(c.name, 'FullyConnected', [c.in(0), weights, ...(c.op.inputs[2] >= 0 ? [c.in(2)] : [])], { activation: c.act() }, [c.out(0)]);
  },
  ADD: (c) => void c.b.emit(c.name, 'Add', [c.in(0), c.in(1)], { activation: c.act() }, [c.out(0)]),
  SUB: (c) => void c.b.emit(c.name, 'Sub', [c.in(0), c.in(1)], { activation: c.act() }, [c.out(0)]),
  MUL: (c) => void c.b.emit(c.name, 'Mul', [c.in(0), c.in(1)], { activation: c.act() }, [c.out(0)]),
  LOGISTIC: (c) => void c.b.emit(c.name, 'Sigmoid', [c.in(0)], {}, [c.out(0)]),
  TANH: (c) => void c.b.emit(c.name, 'Tanh', [c.in(0)], {}, [c.out(0)]),
  RELU: (c) => void c.b.emit(c.name, 'Relu', [c.in(0)], {}, [c.out(0)]),
  RELU6: (c) => void c.b.emit(c.name, 'Relu6', [c.in(0)], {}, [c.out(0)]),
  LEAKY_RELU: (c) => void c.b.emit(c.name, 'LeakyRelu', [c.in(0)], { alpha: Number(c.opts.alpha) }, [c.out(0)]),
  SOFTMAX: (c) => void c.b.emit(c.name, 'Softmax', [c.in(0)], { axis: -1, beta: Number(c.opts.beta ?? 1) }, [c.out(0)]),
  CONCATENATION(c) {
    const ins = c.op.inputs.map((_, k) => c.in(k));
    const rank = c.b.tensor(ins[0]).shape.length;
    c.b.emit(c.name, 'Concat', ins, { axis: normalizeAxis(Number(c.opts.axis), rank), activation: c.act() }, [c.out(0)]);
  },
  MAX_POOL_2D: (c) => pool(c, 'MaxPool'),
  AVERAGE_POOL_2D: (c) => pool(c, 'AvgPool'),
  PAD: (c) => void c.b.emit(c.name, 'Pad', [c.in(0)], { paddings: c.consts(1), constantValue: 0 }, [c.out(0)]),
  PADV2: (c) => void c.b.emit(c.name, 'Pad', [c.in(0)], { paddings: c.consts(1), constantValue: c.floatConst(2).data[0] }, [c.out(0)]),
  RESIZE_NEAREST_NEIGHBOR: (c) => resize(c, 'ResizeNearest'),
  RESIZE_BILINEAR: (c) => resize(c, 'ResizeBilinear'),
  RESHAPE(c) {
    const target = c.op.inputs.length > 1 && c.op.inputs[1] >= 0 ? c.consts(1) : (c.opts.newShape as number[]);
    c.b.emit(c.name, 'Reshape', [c.in(0)], { shape: resolveReshape(c.b.tensor(c.in(0)).shape, target) }, [c.out(0)]);
  },
  STRIDED_SLICE(c) {
    if (c.opts.offset) throw c.error('offset=true is not supported');
    const s = normalizeStridedSlice(c.b.tensor(c.in(0)).shape, c.consts(1), c.consts(2), c.consts(3), {
      beginMask: Number(c.opts.beginMask ?? 0), endMask: Number(c.opts.endMask ?? 0), ellipsisMask: Number(c.opts.ellipsisMask ?? 0),
      newAxisMask: Number(c.opts.newAxisMask ?? 0), shrinkAxisMask: Number(c.opts.shrinkAxisMask ?? 0),
    });
    c.b.emit(c.name, 'StridedSlice', [c.in(0)], { ...s }, [c.out(0)]);
  },
  MEAN(c) {
    const rank = c.b.tensor(c.in(0)).shape.length;
    const axes = [...new Set(c.consts(1).map((a) => normalizeAxis(a, rank)))].sort();
    c.b.emit(c.name, 'Mean', [c.in(0)], { axes, keepDims: Boolean(c.opts.keepDims) }, [c.out(0)]);
  },
  TRANSPOSE: (c) => void c.b.emit(c.name, 'Transpose', [c.in(0)], { perm: c.consts(1) }, [c.out(0)]),
};

function pool(c: OpCtx, op: string) {
  c.b.emit(c.name, op, [c.in(0)], {
    filter: [Number(c.opts.filterHeight), Number(c.opts.filterWidth)],
    strides: [Number(c.opts.strideH), Number(c.opts.strideW)],
    padding: c.opts.padding === 1 ? 'VALID' : 'SAME',
    activation: c.act(),
  }, [c.out(0)]);
}

function resize(c: OpCtx, op: string) {
  c.b.emit(c.name, op, [c.in(0)], { size: c.consts(1), alignCorners: Boolean(c.opts.alignCorners), halfPixelCenters: Boolean(c.opts.halfPixelCenters) }, [c.out(0)]);
}

/** TFLite builtins this importer converts (DEQUANTIZE of a constant folds away; QUANTIZE / DEQUANTIZE between activations vanish). */
export const TFLITE_OPS: readonly string[] = [...Object.keys(CONVERTERS), 'DEQUANTIZE', 'QUANTIZE'];

/** "scale 0.00392157, zero point -128" for notes. */
function describeAffine(scale: number, zeroPoint: number): string {
  return `scale ${Number(scale.toPrecision(6))}, zero point ${zeroPoint}`;
}

/** Converts a parsed TFLite model (subgraph 0) into the IR. */
export function graphFromTflite(model: TfliteModel, opts: ImportOptions = {}, label = 'model.tflite'): Graph {
  const sg = model.subgraphs[0];
  if (!sg) throw new Error(`${label}: the model has no subgraph`);
  const opName = (op: TfliteOperator) => {
    const code = model.operatorCodes[op.opcodeIndex];
    return code.customCode ? `CUSTOM(${code.customCode})` : builtinOperatorName(code.builtinCode);
  };
  // Unique names for TFLite tensors (names in a .tflite need not be unique).
  const seen = new Set<string>();
  const names = sg.tensors.map((t, i) => {
    const n = t.name && !seen.has(t.name) ? t.name : `${t.name || 'tensor'}#${i}`;
    seen.add(n);
    return n;
  });
  const isConstant = (i: number) => {
    const t = sg.tensors[i];
    const buf = model.buffers[t.buffer]?.data;
    return t.buffer > 0 && buf !== undefined && buf.byteLength > 0;
  };
  const unsupported = new Map<string, string[]>();
  for (const op of sg.operators) {
    const n = opName(op);
    if (CONVERTERS[n] || n === 'DEQUANTIZE' || n === 'QUANTIZE') continue;
    if (!unsupported.has(n)) unsupported.set(n, []);
    unsupported.get(n)!.push(names[op.outputs[0]]);
  }
  if (unsupported.size) throw unsupportedOpsError(label, unsupported);
  // IR name of each TFLite tensor (the tensors of a QUANTIZE/DEQUANTIZE chain share one).
  const irNames = passThroughNames(model, names, isConstant, opName, label);
  const nodeName = (op: TfliteOperator) => irNames[op.outputs[0]];

  const used = new Set<number>([...sg.inputs, ...sg.outputs]);
  for (const op of sg.operators) for (const i of [...op.inputs, ...op.outputs]) if (i >= 0) used.add(i);
  // What the source stored as integers (for meta.sourceQuantization and the notes).
  const counts = { weights: 0, perChannel: 0, wideConstants: 0, activations: 0, removedOps: 0 };
  const weightTypes = new Set<string>();
  const ioNotes: string[] = [];
  const integerIo = (i: number, role: 'input' | 'output') => {
    const t = sg.tensors[i];
    if (t.type === TensorType.FLOAT32) return;
    if (!QUANTIZED_INTEGER_TYPES.has(t.type)) {
      throw new Error(`${label}: ${role} '${t.name}' is ${dtypeName(t.type)}; model ${role}s must be float32 or quantized int8/uint8/int16`);
    }
    const p = affineParamsOf(t, `${label}: ${role} '${t.name}'`);
    if (p.axis !== null) throw new Error(`${label}: ${role} '${t.name}' is quantized per channel; a model ${role} needs one scale and zero point`);
    const [lo, hi] = representableRange(t.type, p)!;
    ioNotes.push(
      `${role} '${t.name}' is ${dtypeName(t.type)} in the source (${describeAffine(p.scale[0], p.zeroPoint[0])}): ` +
      `the IR ${role} is float32 real values scale x (q - zero point), range [${Number(lo.toPrecision(6))}, ${Number(hi.toPrecision(6))}]`,
    );
  };

  const b = new GraphBuilder(label);
  for (const i of sg.inputs) {
    integerIo(i, 'input');
    b.addInput(irNames[i], opts.inputShapes?.[names[i]] ?? [...sg.tensors[i].shape]);
  }
  sg.tensors.forEach((t, i) => {
    // Before decodeBuffer allocates from the shape: the file may claim anything.
    checkShape(t.shape, `${label}: tensor '${t.name}'`);
    if (isConstant(i)) {
      const { dtype, data, dequantized } = decodeBuffer(t, model.buffers[t.buffer].data, label);
      b.addConstant(names[i], [...t.shape], dtype, data);
      if (dequantized && used.has(i)) {
        if (QUANTIZED_INTEGER_TYPES.has(t.type)) {
          counts.weights++;
          weightTypes.add(dtypeName(t.type));
        } else {
          counts.wideConstants++;
        }
        if (dequantized === 'per-channel') counts.perChannel++;
      }
    } else if (used.has(i) && QUANTIZED_INTEGER_TYPES.has(t.type)) {
      // The values are real numbers in the IR; the parameters are checked so a damaged file is not
      // mistaken for a model whose integers mean nothing.
      affineParamsOf(t, `${label}: activation tensor '${t.name}'`);
      counts.activations++;
    }
  });
  for (const op of sg.operators) {
    const n = opName(op);
    if (n === 'DEQUANTIZE' || n === 'QUANTIZE') {
      const srcIndex = op.inputs[0];
      if (srcIndex === undefined || srcIndex < 0) throw new Error(`${label}: ${n} '${nodeName(op)}' has no input`);
      const src = sg.tensors[srcIndex];
      if (!isConstant(srcIndex)) {
        counts.removedOps++; // same real values: the chain's tensors share one IR name
        continue;
      }
      const c = b.tensors.get(names[srcIndex]);
      if (n === 'QUANTIZE' || !(c?.data instanceof Float32Array) || !(src.type === TensorType.FLOAT16 || QUANTIZED_INTEGER_TYPES.has(src.type))) {
        throw new Error(`${label}: ${n} '${nodeName(op)}' of constant ${dtypeName(src.type)} '${src.name}' is not supported (DEQUANTIZE of float16 or quantized integer constants is)`);
      }
      b.addConstant(irNames[op.outputs[0]], [...c.shape], 'float32', c.data);
      continue;
    }
    const opts2 = op.builtinOptions ?? {};
    const ctx: OpCtx = {
      b, op, opts: opts2, name: nodeName(op),
      in: (k) => {
        const idx = op.inputs[k];
        if (idx === undefined || idx < 0) throw ctx.error(`input ${k} is missing`);
        return irNames[idx];
      },
      out: (k) => irNames[op.outputs[k]],
      consts: (k) => {
        const t = b.tensors.get(ctx.in(k));
        if (!t?.data) throw ctx.error(`input ${k} ('${ctx.in(k)}') must be a constant`);
        return Array.from(t.data as ArrayLike<number>);
      },
      floatConst: (k) => {
        const t = b.tensors.get(ctx.in(k));
        if (!(t?.data instanceof Float32Array)) throw ctx.error(`input ${k} ('${ctx.in(k)}') must be a float constant`);
        return { data: t.data, shape: t.shape };
      },
      act: () => {
        const a = ACTIVATIONS[Number(opts2.fusedActivationFunction ?? 0)];
        if (!a) throw ctx.error(`fused activation ${opts2.fusedActivationFunction} is not supported`);
        return a;
      },
      error: (msg) => new Error(`${label}: ${n} '${nodeName(op)}': ${msg}`),
    };
    try {
      CONVERTERS[n](ctx);
    } catch (e) {
      // Helpers (reshape resolution, slicing) do not know the file or the operator: add both.
      if (e instanceof Error && !e.message.startsWith(label)) throw ctx.error(e.message);
      throw e;
    }
  }
  let outputs: string[];
  if (opts.outputs?.length) {
    // A requested name may be a tensor of a removed QUANTIZE/DEQUANTIZE chain: use the chain's IR name.
    const indexOf = new Map(names.map((nm, i) => [nm, i]));
    outputs = opts.outputs.map((o) => (b.tensors.has(o) || !indexOf.has(o) ? o : irNames[indexOf.get(o)!]));
  } else {
    outputs = sg.outputs.map((i) => {
      // An output whose chain is named after the graph input or another output keeps its own name.
      if (irNames[i] !== names[i] && b.tensors.has(irNames[i])) b.emit(names[i], 'Identity', [irNames[i]], {}, [names[i]]);
      return names[i];
    });
  }
  for (const o of outputs) if (!b.tensors.has(o)) throw new Error(`${label}: output '${o}' is not a tensor of the model`);
  for (const i of sg.outputs) integerIo(i, 'output');
  const cutAt = opts.outputs?.length ? [...outputs] : undefined;
  const notes = cutAt ? [`cut at the requested outputs: ${outputs.join(', ')}`] : [];
  let sourceQuantization: Graph['meta']['sourceQuantization'];
  if (counts.activations > 0) {
    sourceQuantization = 'full-integer';
    notes.push(
      `weights were already ${[...weightTypes].join('/') || 'integer'}-rounded by the source model (full-integer): ` +
      `${counts.weights} weight constants and ${counts.wideConstants} int32/int64 biases dequantized to float32 ` +
      `(${counts.perChannel} per channel, ${counts.weights + counts.wideConstants - counts.perChannel} per tensor), ` +
      `${counts.activations} integer activation tensors made float32 (their quantization parameters dropped), ${counts.removedOps} QUANTIZE/DEQUANTIZE ops removed`,
      ...ioNotes,
    );
  } else if (counts.weights + counts.wideConstants > 0) {
    sourceQuantization = 'dynamic-range';
    notes.push(
      `weights were already ${[...weightTypes].join('/') || 'integer'}-rounded by the source model (dynamic-range): ` +
      `${counts.weights + counts.wideConstants} quantized constants dequantized to float32 (${counts.perChannel} per channel, ` +
      `${counts.weights + counts.wideConstants - counts.perChannel} per tensor); activations are float in the source`,
    );
  }
  return b.build(outputs, { source: label, format: 'tflite', cutAt, notes, ...(sourceQuantization ? { sourceQuantization } : {}) });
}

/** Imports a .tflite model (float, dynamic-range or full-integer) from bytes or a path. */
export async function importTflite(source: Uint8Array | string, opts: ImportOptions = {}): Promise<Graph> {
  let bytes: Uint8Array;
  let label = opts.label ?? 'model.tflite';
  if (typeof source === 'string') {
    label = opts.label ?? source;
    try {
      bytes = new Uint8Array(fs.readFileSync(source));
    } catch (e) {
      throw new Error(`${label}: cannot read the model file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  } else {
    bytes = source;
  }
  return graphFromTflite(readTflite(bytes, { label }), opts, label);
}
