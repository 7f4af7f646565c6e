// Importer for float .tflite models (float32 I/O; float32 weights, or float16 weights behind
// DEQUANTIZE, which fold to float32 constants). Layouts are converted to the IR's TF layouts:
// conv filters OHWI -> HWIO, depthwise [1,kh,kw,C*m] -> [kh,kw,C,m], FC weights [out,in] -> [in,out].
import fs from 'node:fs';
import type { Graph, IrData, IrDType } from '../ir.js';
import { elementCount } from '../ir.js';
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

function decodeBuffer(t: TfliteTensor, bytes: Uint8Array, label: string): { dtype: IrDType; data: IrData } {
  const n = elementCount(t.shape);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (size: number) => {
    if (bytes.byteLength < n * size) throw new Error(`${label}: tensor '${t.name}' [${t.shape}] has ${bytes.byteLength} bytes, needs ${n * size}`);
  };
  switch (t.type) {
    case TensorType.FLOAT32: { need(4); const d = new Float32Array(n); for (let i = 0; i < n; i++) d[i] = view.getFloat32(4 * i, true); return { dtype: 'float32', data: d }; }
    case TensorType.FLOAT16: { need(2); const d = new Float32Array(n); for (let i = 0; i < n; i++) d[i] = float16ToFloat32(view.getUint16(2 * i, true)); return { dtype: 'float32', data: d }; }
    case TensorType.INT32: { need(4); const d = new Int32Array(n); for (let i = 0; i < n; i++) d[i] = view.getInt32(4 * i, true); return { dtype: 'int32', data: d }; }
    case TensorType.INT64: { need(8); const d = new Int32Array(n); for (let i = 0; i < n; i++) d[i] = Number(view.getBigInt64(8 * i, true)); return { dtype: 'int32', data: d }; }
    default:
      throw new Error(`${label}: constant tensor '${t.name}' has type ${dtypeName(t.type)}; a float model has float32/float16/int32 constants`);
  }
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

/** TFLite builtins this importer converts (DEQUANTIZE of a constant folds away). */
export const TFLITE_OPS: readonly string[] = [...Object.keys(CONVERTERS), 'DEQUANTIZE'];

/** Converts a parsed TFLite model (subgraph 0) into the IR. */
export function graphFromTflite(model: TfliteModel, opts: ImportOptions = {}, label = 'model.tflite'): Graph {
  const sg = model.subgraphs[0];
  if (!sg) throw new Error(`${label}: the model has no subgraph`);
  const opName = (op: TfliteOperator) => {
    const code = model.operatorCodes[op.opcodeIndex];
    return code.customCode ? `CUSTOM(${code.customCode})` : builtinOperatorName(code.builtinCode);
  };
  // Unique IR names for TFLite tensors (names in a .tflite need not be unique).
  const seen = new Set<string>();
  const names = sg.tensors.map((t, i) => {
    const n = t.name && !seen.has(t.name) ? t.name : `${t.name || 'tensor'}#${i}`;
    seen.add(n);
    return n;
  });
  const nodeName = (op: TfliteOperator) => names[op.outputs[0]];
  const unsupported = new Map<string, string[]>();
  for (const op of sg.operators) {
    const n = opName(op);
    if (CONVERTERS[n] || n === 'DEQUANTIZE') continue;
    if (!unsupported.has(n)) unsupported.set(n, []);
    unsupported.get(n)!.push(nodeName(op));
  }
  if (unsupported.size) throw unsupportedOpsError(label, unsupported);

  const b = new GraphBuilder(label);
  for (const i of sg.inputs) {
    const t = sg.tensors[i];
    if (t.type !== TensorType.FLOAT32) {
      throw new Error(`${label}: input '${t.name}' is ${dtypeName(t.type)}; only float models (float32 inputs) can be imported — is this model already quantized?`);
    }
    b.addInput(names[i], opts.inputShapes?.[names[i]] ?? [...t.shape]);
  }
  sg.tensors.forEach((t, i) => {
    // Before decodeBuffer allocates from the shape: the file may claim anything.
    checkShape(t.shape, `${label}: tensor '${t.name}'`);
    const buf = model.buffers[t.buffer]?.data;
    if (t.buffer > 0 && buf && buf.byteLength > 0) {
      const { dtype, data } = decodeBuffer(t, buf, label);
      b.addConstant(names[i], [...t.shape], dtype, data);
    }
  });
  for (const op of sg.operators) {
    const n = opName(op);
    if (n === 'DEQUANTIZE') {
      const src = sg.tensors[op.inputs[0]];
      const c = b.tensors.get(names[op.inputs[0]]);
      if (!c?.data || src.type !== TensorType.FLOAT16) {
        throw new Error(`${label}: DEQUANTIZE '${nodeName(op)}' of ${dtypeName(src.type)} '${src.name}' is not supported (only float16 constants)`);
      }
      b.addConstant(names[op.outputs[0]], [...c.shape], 'float32', c.data);
      continue;
    }
    const opts2 = op.builtinOptions ?? {};
    const ctx: OpCtx = {
      b, op, opts: opts2, name: nodeName(op),
      in: (k) => {
        const idx = op.inputs[k];
        if (idx === undefined || idx < 0) throw ctx.error(`input ${k} is missing`);
        return names[idx];
      },
      out: (k) => names[op.outputs[k]],
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
  const outputs = opts.outputs?.length ? opts.outputs : sg.outputs.map((i) => names[i]);
  for (const o of outputs) if (!b.tensors.has(o)) throw new Error(`${label}: output '${o}' is not a tensor of the model`);
  const cutAt = opts.outputs?.length ? [...outputs] : undefined;
  const notes = cutAt ? [`cut at the requested outputs: ${outputs.join(', ')}`] : [];
  return b.build(outputs, { source: label, format: 'tflite', cutAt, notes });
}

/** Imports a float .tflite model from bytes or a path. */
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
