// Structural rules of the checker: what LiteRT refuses (or aborts on) before any arithmetic rule
// matters. Each mirrors a check in the TFLite kernels' Prepare functions or the interpreter's
// allocation: tensor types the schema defines, a size the runtime can allocate, quantization on
// integer activations, operand counts, option ranges, operand dtypes and output shapes.
import { TensorType, dtypeName, type TfliteOperator, type TfliteTensor } from './model.js';

type Add = (rule: 'tensor-type' | 'tensor-size' | 'activation-quantization' | 'op-operands' | 'op-options' | 'op-dtypes' | 'op-shapes', where: string, message: string) => void;
type TensorAt = (i: number | undefined) => TfliteTensor | undefined;

const KNOWN_TYPES = new Set<number>(Object.values(TensorType));
const INTEGER_ACTIVATION_TYPES = new Set<number>([TensorType.INT8, TensorType.UINT8, TensorType.INT16]);
/** The interpreter's arena is addressed with 32-bit sizes in the wasm build. */
const MAX_TENSOR_BYTES = 2 ** 31 - 1;
const BYTES: Partial<Record<number, number>> = {
  [TensorType.FLOAT32]: 4, [TensorType.INT32]: 4, [TensorType.INT64]: 8, [TensorType.FLOAT16]: 2, [TensorType.INT16]: 2,
  [TensorType.INT8]: 1, [TensorType.UINT8]: 1, [TensorType.BOOL]: 1, [TensorType.FLOAT64]: 8,
};

/** A tensor's type is one the schema defines; its size fits the runtime; integer activations carry per-tensor parameters. */
export function checkTensorStructure(t: TfliteTensor, where: string, isConstant: boolean, add: Add, lenient: Add): void {
  if (!KNOWN_TYPES.has(t.type)) {
    add('tensor-type', where, `has type ${t.type}, which the TFLite schema does not define`);
    return;
  }
  const count = t.shape.reduce((a, d) => a * Math.max(d, 1), 1);
  const bytes = count * (BYTES[t.type] ?? 1);
  if (bytes > MAX_TENSOR_BYTES) add('tensor-size', where, `shape [${t.shape.join(',')}] of ${dtypeName(t.type)} needs ${bytes} bytes, more than the runtime can allocate (2 GiB)`);
  // An unknown (-1) dimension is for the shape signature; the shape itself is what the runtime allocates.
  if (!isConstant && t.shape.some((d) => d < 0)) add('tensor-size', where, `shape [${t.shape.join(',')}] has a negative dimension; an activation's shape must be concrete (unknown sizes go in shape_signature)`);
  if (isConstant || !INTEGER_ACTIVATION_TYPES.has(t.type)) return;
  const q = t.quantization;
  // LiteRT runs some such files (the kernels then read default parameters): strict only.
  // int16 kernels abort on the default (zero) scale, so those are refused outright.
  const report = t.type === TensorType.INT16 ? add : lenient;
  if (!q || q.scale.length === 0) report('activation-quantization', where, `is a ${dtypeName(t.type)} activation without quantization parameters; integer kernels need a scale and zero point`);
  else if (q.scale.length > 1) add('activation-quantization', where, `is a ${dtypeName(t.type)} activation quantized per channel (${q.scale.length} scales); activations take one scale and zero point`);
}

/** [min, max] operand counts of the builtins whose kernels check them (max -1: any number). */
const OPERANDS: Record<string, [number, number, number]> = {
  // op: [min inputs, max inputs, outputs]
  CONV_2D: [2, 3, 1], DEPTHWISE_CONV_2D: [2, 3, 1], FULLY_CONNECTED: [2, 3, 1], TRANSPOSE_CONV: [3, 4, 1],
  ADD: [2, 2, 1], SUB: [2, 2, 1], MUL: [2, 2, 1], DIV: [2, 2, 1], MAXIMUM: [2, 2, 1], MINIMUM: [2, 2, 1],
  LOGISTIC: [1, 1, 1], TANH: [1, 1, 1], RELU: [1, 1, 1], RELU6: [1, 1, 1], HARD_SWISH: [1, 1, 1], LEAKY_RELU: [1, 1, 1],
  QUANTIZE: [1, 1, 1], DEQUANTIZE: [1, 1, 1], SOFTMAX: [1, 1, 1], MAX_POOL_2D: [1, 1, 1], AVERAGE_POOL_2D: [1, 1, 1],
  PAD: [2, 2, 1], PADV2: [3, 3, 1], RESHAPE: [1, 2, 1], TRANSPOSE: [2, 2, 1], MEAN: [2, 2, 1], CONCATENATION: [1, -1, 1],
  RESIZE_NEAREST_NEIGHBOR: [2, 2, 1], RESIZE_BILINEAR: [2, 2, 1], STRIDED_SLICE: [4, 4, 1], SLICE: [3, 3, 1],
};

const SAME_DTYPE_OPS = new Set([
  'ADD', 'SUB', 'MUL', 'MAXIMUM', 'MINIMUM', 'LOGISTIC', 'TANH', 'RELU', 'RELU6', 'HARD_SWISH', 'LEAKY_RELU', 'SOFTMAX',
  'MAX_POOL_2D', 'AVERAGE_POOL_2D', 'PAD', 'PADV2', 'RESHAPE', 'TRANSPOSE', 'CONCATENATION', 'RESIZE_NEAREST_NEIGHBOR',
  'RESIZE_BILINEAR', 'STRIDED_SLICE', 'SLICE', 'MEAN', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED',
]);
const SAME_SHAPE_OPS = new Set(['LOGISTIC', 'TANH', 'RELU', 'RELU6', 'HARD_SWISH', 'LEAKY_RELU', 'QUANTIZE', 'DEQUANTIZE', 'SOFTMAX']);
const WEIGHTED_OPS = new Set(['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'TRANSPOSE_CONV']);
const WINDOW_OPS = new Set(['CONV_2D', 'DEPTHWISE_CONV_2D', 'TRANSPOSE_CONV', 'MAX_POOL_2D', 'AVERAGE_POOL_2D']);

function num(o: Record<string, unknown> | null | undefined, key: string, fallback: number): number {
  const v = o?.[key];
  return typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : fallback;
}

/** Operand counts, option ranges, operand dtypes and output shapes of one operator. */
export function checkOperatorStructure(opName: string, op: TfliteOperator, tensorAt: TensorAt, constantData: (i: number) => Uint8Array | undefined, where: string, add: Add, lenient: Add): void {
  const counts = OPERANDS[opName];
  // The kernels count omitted (-1) optional inputs too (NumInputs is the list's length).
  const inputs = op.inputs;
  if (counts) {
    const [lo, hi, outs] = counts;
    const omitted = op.inputs.slice(0, lo).findIndex((i) => i === -1);
    if (omitted >= 0) add('op-operands', where, `input ${omitted} is omitted (-1); ${opName} requires its first ${lo} input(s)`);
    if (inputs.length < lo || (hi >= 0 && inputs.length > hi)) add('op-operands', where, `has ${inputs.length} input(s); ${opName} takes ${hi === lo ? lo : hi < 0 ? `at least ${lo}` : `${lo} to ${hi}`}`);
    if (op.outputs.length !== outs) add('op-operands', where, `has ${op.outputs.length} outputs; ${opName} writes ${outs}`);
    if (inputs.length < lo) return;
  }
  checkOptions(opName, op, tensorAt, where, add);
  checkDTypes(opName, op, tensorAt, where, add);
  checkShapes(opName, op, tensorAt, constantData, where, add, lenient);
}

function checkOptions(opName: string, op: TfliteOperator, tensorAt: TensorAt, where: string, add: Add): void {
  const o = op.builtinOptions as Record<string, unknown> | null;
  if (WINDOW_OPS.has(opName)) {
    const padding = num(o, 'padding', 0);
    if (padding !== 0 && padding !== 1) add('op-options', where, `padding ${padding} is not SAME (0) or VALID (1)`);
    const pool = opName.endsWith('POOL_2D');
    const keys = ['strideW', 'strideH', ...(pool ? ['filterWidth', 'filterHeight'] : opName === 'TRANSPOSE_CONV' ? [] : ['dilationWFactor', 'dilationHFactor'])];
    for (const key of keys) {
      // Absent options read as the schema's defaults: 0 for strides and filter sizes, 1 for dilations.
      const v = num(o, key, key.startsWith('dilation') ? 1 : 0);
      if (!(Number.isInteger(v) && v >= 1)) add('op-options', where, `${key} ${v}; it must be a positive integer`);
    }
  }
  const act = num(o, 'fusedActivationFunction', 0);
  if (!(Number.isInteger(act) && act >= 0 && act <= 5)) add('op-options', where, `fused activation ${act} is not one TFLite defines (0 to 5)`);
  if (opName === 'CONCATENATION') {
    const rank = tensorAt(op.outputs[0])?.shape.length ?? 0;
    const axis = num(o, 'axis', 0);
    if (!(axis >= -rank && axis < rank)) add('op-options', where, `axis ${axis} is outside the output's rank ${rank}`);
  }
}

function checkDTypes(opName: string, op: TfliteOperator, tensorAt: TensorAt, where: string, add: Add): void {
  const x = tensorAt(op.inputs[0]);
  const y = tensorAt(op.outputs[0]);
  if (!x || !y) return;
  if (SAME_DTYPE_OPS.has(opName) && x.type !== y.type) {
    add('op-dtypes', where, `reads ${dtypeName(x.type)} and writes ${dtypeName(y.type)}; ${opName} keeps the input's type`);
  }
  if (opName === 'CONCATENATION' || opName === 'ADD' || opName === 'SUB' || opName === 'MUL' || opName === 'MAXIMUM' || opName === 'MINIMUM') {
    for (const i of op.inputs.slice(1)) {
      const t = tensorAt(i);
      if (t && t.type !== x.type) add('op-dtypes', where, `mixes ${dtypeName(x.type)} and ${dtypeName(t.type)} inputs`);
    }
  }
  const value = opName === 'PADV2' ? tensorAt(op.inputs[2]) : undefined;
  if (value && value.type !== x.type) add('op-dtypes', where, `pads ${dtypeName(x.type)} with a ${dtypeName(value.type)} constant value; the value takes the input's type`);
  // The activation input is operand 0 (TRANSPOSE_CONV: operand 2, after the output shape and weights).
  const act = opName === 'TRANSPOSE_CONV' ? tensorAt(op.inputs[2]) : x;
  if (WEIGHTED_OPS.has(opName) && act && (act.type === TensorType.INT8 || act.type === TensorType.INT16)) {
    const w = tensorAt(op.inputs[1]);
    if (w && w.type !== TensorType.INT8 && w.type !== TensorType.INT4) add('op-dtypes', where, `${dtypeName(act.type)} input with ${dtypeName(w.type)} weights; integer kernels take int8 (or int4) weights`);
    else if (w && !(w.quantization && w.quantization.scale.length > 0)) add('op-dtypes', where, `${dtypeName(act.type)} input with weights '${w.name}' that carry no quantization parameters; integer kernels need the weights' scales`);
    // kernel_util.cc PopulateConvolutionQuantizationParams: input and output need affine quantization.
    for (const [what, t] of [['input', act], ['output', y]] as const) {
      if (!(t.quantization && t.quantization.scale.length > 0)) add('activation-quantization', where, `${what} '${t.name}' is ${dtypeName(t.type)} without quantization parameters; ${opName} needs its scale`);
    }
    // conv.cc (Prepare): the integer kernels require a bias operand.
    if (opName === 'CONV_2D' && (op.inputs.length < 3 || op.inputs[2] === -1)) add('op-operands', where, `${dtypeName(act.type)} CONV_2D without a bias; LiteRT's integer convolution requires one`);
  }
}

function checkShapes(opName: string, op: TfliteOperator, tensorAt: TensorAt, constantData: (i: number) => Uint8Array | undefined, where: string, add: Add, lenient: Add): void {
  const x = tensorAt(op.inputs[0]);
  const y = tensorAt(op.outputs[0]);
  if (!x || !y) return;
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  // The runtime resizes these outputs to the input's shape when it prepares them: strict only.
  if (SAME_SHAPE_OPS.has(opName) && !same(x.shape, y.shape)) lenient('op-shapes', where, `output shape [${y.shape}] differs from the input's [${x.shape}]`);
  if (opName === 'CONV_2D' || opName === 'DEPTHWISE_CONV_2D') {
    const w = tensorAt(op.inputs[1]);
    if (!w) return;
    if (w.shape.length !== 4) return add('op-shapes', where, `weights have rank ${w.shape.length}; ${opName} takes rank-4 weights`);
    if (x.shape.length !== 4) return add('op-shapes', where, `input has rank ${x.shape.length}; ${opName} takes NHWC (rank 4)`);
    const inC = x.shape[3];
    const outC = opName === 'CONV_2D' ? w.shape[0] : w.shape[3];
    if (opName === 'CONV_2D' && (w.shape[3] <= 0 || inC % w.shape[3] !== 0)) add('op-shapes', where, `input channels ${inC} are not a multiple of the weights' ${w.shape[3]}`);
    if (opName === 'DEPTHWISE_CONV_2D' && (inC <= 0 || outC % inC !== 0)) add('op-shapes', where, `weights' ${outC} output channels are not a multiple of the input's ${inC}`);
    if (y.shape.length === 4 && y.shape[3] !== outC) add('op-shapes', where, `output has ${y.shape[3]} channels; the weights give ${outC}`);
  }
  if (opName === 'FULLY_CONNECTED') {
    const w = tensorAt(op.inputs[1]);
    if (w && w.shape.length !== 2) add('op-shapes', where, `weights have rank ${w.shape.length}; FULLY_CONNECTED takes rank-2 weights`);
  }
  if (opName === 'SPLIT') checkSplit(op, tensorAt, constantData, where, add);
  if (opName === 'PAD' || opName === 'PADV2') {
    const data = constantData(op.inputs[1]);
    const pads = tensorAt(op.inputs[1]);
    // pad.cc: the paddings are a [rank, 2] matrix.
    if (pads && (pads.shape.length !== 2 || pads.shape[0] !== x.shape.length || pads.shape[1] !== 2)) add('op-shapes', where, `paddings have shape [${pads.shape}]; a rank-${x.shape.length} input takes [${x.shape.length},2]`);
    if (data && pads?.type === TensorType.INT32 && data.byteLength % 4 === 0) {
      const v = new Int32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
      if (v.some((p) => p < 0)) add('op-options', where, `negative padding [${Array.from(v)}]; pads must be >= 0`);
    }
  }
}

/** SPLIT (split.cc): [axis, input]; a constant axis inside the input's rank; numSplits outputs of the input's type dividing the axis. */
function checkSplit(op: TfliteOperator, tensorAt: TensorAt, constantData: (i: number) => Uint8Array | undefined, where: string, add: Add): void {
  if (op.inputs.length !== 2 || op.inputs.includes(-1)) return add('op-operands', where, `has inputs [${op.inputs}]; SPLIT takes an axis and an input`);
  const x = tensorAt(op.inputs[1]);
  const axisData = constantData(op.inputs[0]);
  if (!x) return;
  const splits = num(op.builtinOptions as Record<string, unknown> | null, 'numSplits', 0);
  if (op.outputs.length !== splits) add('op-operands', where, `has ${op.outputs.length} outputs but numSplits ${splits}`);
  for (const i of op.outputs) {
    const y = tensorAt(i);
    if (y && y.type !== x.type) add('op-dtypes', where, `splits ${dtypeName(x.type)} into a ${dtypeName(y.type)} output '${y.name}'; the outputs take the input's type`);
  }
  if (!axisData || axisData.byteLength !== 4 || tensorAt(op.inputs[0])?.type !== TensorType.INT32) return;
  const raw = new DataView(axisData.buffer, axisData.byteOffset, 4).getInt32(0, true);
  const rank = x.shape.length;
  const axis = raw < 0 ? raw + rank : raw;
  if (!(axis >= 0 && axis < rank)) return add('op-options', where, `axis ${raw} is outside the input's rank ${rank}`);
  if (splits > 0 && x.shape[axis] % splits !== 0) add('op-shapes', where, `dimension ${axis} of [${x.shape}] does not split into ${splits} equal parts`);
}
