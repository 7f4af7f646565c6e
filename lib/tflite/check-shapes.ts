// Shape consistency through the graph, for the checker: the shapes LiteRT computes when it prepares each
// operator (it resizes outputs to them), propagated from the subgraph inputs, and the checks that fail on
// them - a RESHAPE whose element count changes, CONCATENATION inputs that disagree off the axis, PAD
// sizes that overflow, a window larger than its padded input, and a subgraph output declared with a shape
// the graph does not produce (LiteRT.js allocates the output buffers by the declared shape and refuses).
// Ops without a rule here keep their declared output shapes.
import { TensorType, type TfliteSubgraph, type TfliteTensor } from './model.js';

type Add = (rule: 'op-shapes', where: string, message: string) => void;
type Shape = number[];

/** What the shape rules read of one operator (all indices valid). */
export interface ShapeOp {
  name: string;
  where: string;
  inputs: number[];
  outputs: number[];
  options: Record<string, unknown> | null;
}

const SAME_SHAPE = new Set(['LOGISTIC', 'TANH', 'RELU', 'RELU6', 'HARD_SWISH', 'LEAKY_RELU', 'QUANTIZE', 'DEQUANTIZE', 'SOFTMAX']);
const MAX_DIM = 2 ** 31 - 1;

const count = (s: Shape) => s.reduce((a, d) => a * d, 1);
const text = (s: Shape) => `[${s.join(',')}]`;
const opt = (o: Record<string, unknown> | null, key: string, fallback: number) => (typeof o?.[key] === 'number' ? (o[key] as number) : fallback);

/** An int32 constant's values (undefined for activations or other types). */
function int32Values(t: TfliteTensor | undefined, dataOf: (t: TfliteTensor) => Uint8Array | undefined): number[] | undefined {
  const data = t && t.type === TensorType.INT32 ? dataOf(t) : undefined;
  if (!data || data.byteLength % 4 !== 0) return undefined;
  return Array.from(new Int32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)));
}

/** Output size of one spatial dimension of a window op (TFLite's ComputeOutSize). */
function windowOut(size: number, filter: number, stride: number, dilation: number, padding: number): number {
  const effective = (filter - 1) * dilation + 1;
  return padding === 0 ? Math.ceil(size / stride) : Math.floor((size - effective + stride) / stride);
}

/** CONV_2D / DEPTHWISE_CONV_2D / pools: NHWC output of the inferred input. */
function windowShape(op: ShapeOp, x: Shape, w: Shape | undefined, add: Add): Shape | undefined {
  if (x.length !== 4) return undefined;
  const o = op.options;
  const pool = op.name.endsWith('POOL_2D');
  if (!pool && (!w || w.length !== 4)) return undefined;
  const [fh, fw] = pool ? [opt(o, 'filterHeight', 1), opt(o, 'filterWidth', 1)] : [w![1], w![2]];
  const dh = pool ? 1 : opt(o, 'dilationHFactor', 1);
  const dw = pool ? 1 : opt(o, 'dilationWFactor', 1);
  const padding = opt(o, 'padding', 0);
  const h = windowOut(x[1], fh, opt(o, 'strideH', 1), dh, padding);
  const wd = windowOut(x[2], fw, opt(o, 'strideW', 1), dw, padding);
  if (!(h >= 1 && wd >= 1)) {
    add('op-shapes', op.where, `a ${fh}x${fw} window over the ${x[1]}x${x[2]} input gives a ${h}x${wd} output; the window must fit the (padded) input`);
    return undefined;
  }
  const channels = op.name === 'CONV_2D' ? w![0] : op.name === 'DEPTHWISE_CONV_2D' ? w![3] : x[3];
  return [x[0], h, wd, channels];
}

/** RESHAPE: the target from the shape operand (or the options), with one -1 resolved. */
function reshapeShape(op: ShapeOp, x: Shape, target: number[] | undefined, add: Add): Shape | undefined {
  const want = target ?? (Array.isArray(op.options?.newShape) ? (op.options!.newShape as number[]) : undefined);
  if (!want) return undefined;
  const known = want.filter((d) => d !== -1);
  const free = want.length - known.length;
  const n = count(x);
  const rest = count(known);
  const ok = free === 0 ? rest === n : free === 1 && rest > 0 && n % rest === 0;
  if (!ok || known.some((d) => d < 0)) {
    add('op-shapes', op.where, `reshapes ${text(x)} (${n} elements) to ${text(want)}; the element count must not change`);
    return undefined;
  }
  return want.map((d) => (d === -1 ? n / rest : d));
}

/** PAD / PADV2: the input plus the constant [rank, 2] paddings. */
function padShape(op: ShapeOp, x: Shape, pads: number[] | undefined, add: Add): Shape | undefined {
  if (!pads) return undefined;
  if (pads.length !== 2 * x.length) {
    add('op-shapes', op.where, `has ${pads.length / 2} padding pairs for a rank-${x.length} input; one pair per dimension`);
    return undefined;
  }
  const out = x.map((d, i) => d + pads[2 * i] + pads[2 * i + 1]);
  if (out.some((d) => d > MAX_DIM) || count(out) > MAX_DIM) {
    add('op-shapes', op.where, `pads ${text(x)} by [${pads.join(',')}] to ${text(out)}, more elements than the runtime can hold`);
    return undefined;
  }
  return out;
}

/** CONCATENATION: inputs agree off the axis; the axis is summed. */
function concatShape(op: ShapeOp, shapes: Shape[], add: Add): Shape | undefined {
  const rank = shapes[0].length;
  const raw = opt(op.options, 'axis', 0);
  const axis = raw < 0 ? raw + rank : raw;
  if (!(axis >= 0 && axis < rank)) return undefined;
  const bad = shapes.find((s) => s.length !== rank || s.some((d, i) => i !== axis && d !== shapes[0][i]));
  if (bad) {
    add('op-shapes', op.where, `joins ${shapes.map(text).join(' and ')} on axis ${axis}; the other dimensions must be equal`);
    return undefined;
  }
  return shapes[0].map((d, i) => (i === axis ? shapes.reduce((a, s) => a + s[axis], 0) : d));
}

/** The output shape LiteRT computes for one operator, or undefined (keep the declared one). */
function inferOne(op: ShapeOp, shapeOf: (i: number) => Shape, tensorAt: (i: number) => TfliteTensor, dataOf: (t: TfliteTensor) => Uint8Array | undefined, add: Add): Shape | undefined {
  const x = shapeOf(op.inputs[0]);
  const constant = (k: number) => (op.inputs[k] === undefined || op.inputs[k] < 0 ? undefined : int32Values(tensorAt(op.inputs[k]), dataOf));
  if (SAME_SHAPE.has(op.name)) return x;
  switch (op.name) {
    case 'CONV_2D': case 'DEPTHWISE_CONV_2D': return windowShape(op, x, op.inputs[1] >= 0 ? shapeOf(op.inputs[1]) : undefined, add);
    case 'MAX_POOL_2D': case 'AVERAGE_POOL_2D': return windowShape(op, x, undefined, add);
    case 'RESHAPE': {
      // A computed (non-constant) shape operand: the output shape is known only at run time.
      const target = op.inputs.length > 1 && op.inputs[1] >= 0 ? constant(1) : undefined;
      if (op.inputs.length > 1 && op.inputs[1] >= 0 && !target) return undefined;
      return reshapeShape(op, x, target, add);
    }
    case 'PAD': case 'PADV2': return padShape(op, x, constant(1), add);
    case 'CONCATENATION': return op.inputs.every((i) => i >= 0) ? concatShape(op, op.inputs.map(shapeOf), add) : undefined;
    default: return undefined;
  }
}

/**
 * Propagates shapes through the operators (in execution order) and checks what LiteRT would refuse.
 * `ops` lists the operators whose indices are all valid, with their builtin names.
 */
export function checkGraphShapes(sg: TfliteSubgraph, ops: ShapeOp[], dataOf: (t: TfliteTensor) => Uint8Array | undefined, prefix: string, add: Add): void {
  const inferred = new Map<number, Shape>();
  const shapeOf = (i: number) => inferred.get(i) ?? sg.tensors[i].shape;
  const tensorAt = (i: number) => sg.tensors[i];
  for (const op of ops) {
    if (op.inputs.length === 0 || op.inputs[0] < 0 || op.outputs.length !== 1) continue;
    const shape = inferOne(op, shapeOf, tensorAt, dataOf, add);
    if (shape) inferred.set(op.outputs[0], shape);
  }
  sg.outputs.forEach((i, k) => {
    const got = inferred.get(i);
    const declared = sg.tensors[i]?.shape;
    if (!got || !declared || (got.length === declared.length && got.every((d, j) => d === declared[j]))) return;
    add('op-shapes', `${prefix}subgraph output ${k} '${sg.tensors[i].name}'`, `is declared ${text(declared)} but the graph produces ${text(got)}`);
  });
}
