// How each IR op is quantized and written as int8 TFLite ops. Each op registry entry
// (lib/ops/defs/*.ts) points its `quant` field at one of these, so an op's knowledge stays in its entry;
// the helpers here are what the entries share.
import type { IrNode, IrTensor } from '../ir/graph.js';
import type { Attrs } from './types.js';
import { attrBool, attrNumber, attrNumbers, attrString, normalizeAxis, swapWithLastAxisPerm } from './util.js';
import { batchNormAffine as foldedBatchNorm } from './util.js';
import type { EmitContext, OpQuant, WeightedOp } from './types.js';

/** TFLite ActivationFunctionType for an IR fused activation. */
export function tfliteActivation(attrs: Attrs): number {
  const a = attrs.activation ?? 'none';
  if (a === 'none') return 0;
  if (a === 'relu') return 1;
  if (a === 'relu6') return 3;
  throw new Error(`unsupported fused activation '${String(a)}'`);
}

const padding = (attrs: Attrs) => (attrString(attrs, 'padding') === 'SAME' ? 0 : 1);

const out0 = (ctx: EmitContext) => ctx.activation(ctx.node.outputs[0]);

/** Operands that are activations or constants (constants become int8 per-tensor operands). */
function operand(ctx: EmitContext, name: string): number {
  return ctx.tensorInfo(name).data ? ctx.constantOperand(name) : ctx.activation(name);
}

function constOf(node: IrNode, tensor: (name: string) => IrTensor, i: number): Float32Array {
  const t = tensor(node.inputs[i]);
  if (!t?.data) throw new Error(`${node.name}: input ${i} '${node.inputs[i]}' must be a constant`);
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
}

const optionalBias = (i: number) => (node: IrNode, tensor: (name: string) => IrTensor) =>
  node.inputs[i] !== undefined ? constOf(node, tensor, i) : undefined;

/** Conv2D: HWIO filter -> OHWI, as TFLite CONV_2D wants; per-channel scales along dim 0. */
const conv2dWeights: WeightedOp = {
  input: 0,
  weightsLabel: 'filter',
  weights(node, tensor) {
    const [kh, kw, ic, oc] = tensor(node.inputs[1]).shape;
    const src = constOf(node, tensor, 1);
    const ohwi = new Float32Array(src.length);
    for (let h = 0; h < kh; h++)
      for (let w = 0; w < kw; w++)
        for (let i = 0; i < ic; i++)
          for (let o = 0; o < oc; o++) ohwi[((o * kh + h) * kw + w) * ic + i] = src[((h * kw + w) * ic + i) * oc + o];
    return { data: ohwi, shape: [oc, kh, kw, ic], axis: 0 };
  },
  bias: optionalBias(2),
};

export const conv2dQuant: OpQuant = {
  rule: { output: 'calibrated' },
  weighted: conv2dWeights,
  emit(ctx) {
    const { node } = ctx;
    const [sh, sw] = attrNumbers(node.attrs, 'strides', [1, 1]);
    const [dh, dw] = attrNumbers(node.attrs, 'dilations', [1, 1]);
    ctx.op('CONV_2D', [ctx.activation(node.inputs[0]), ctx.weights(), ctx.bias()], [out0(ctx)], {
      padding: padding(node.attrs),
      strideW: sw,
      strideH: sh,
      fusedActivationFunction: tfliteActivation(node.attrs),
      dilationWFactor: dw,
      dilationHFactor: dh,
    });
  },
};

export const depthwiseConv2dQuant: OpQuant = {
  rule: { output: 'calibrated' },
  weighted: {
    input: 0,
    weightsLabel: 'filter',
    // [kh, kw, C, m] is laid out as [1, kh, kw, C*m] already (channel c*m + j).
    weights(node, tensor) {
      const [kh, kw, ic, mult] = tensor(node.inputs[1]).shape;
      return { data: constOf(node, tensor, 1), shape: [1, kh, kw, ic * mult], axis: 3 };
    },
    bias: optionalBias(2),
  },
  emit(ctx) {
    const { node } = ctx;
    const mult = ctx.tensorInfo(node.inputs[1]).shape[3];
    const [sh, sw] = attrNumbers(node.attrs, 'strides', [1, 1]);
    const [dh, dw] = attrNumbers(node.attrs, 'dilations', [1, 1]);
    ctx.op('DEPTHWISE_CONV_2D', [ctx.activation(node.inputs[0]), ctx.weights(), ctx.bias()], [out0(ctx)], {
      padding: padding(node.attrs),
      strideW: sw,
      strideH: sh,
      depthMultiplier: mult,
      fusedActivationFunction: tfliteActivation(node.attrs),
      dilationWFactor: dw,
      dilationHFactor: dh,
    });
  },
};

export const fullyConnectedQuant: OpQuant = {
  rule: { output: 'calibrated' },
  weighted: {
    input: 0,
    // [in, out] -> [out, in], as TFLite FULLY_CONNECTED wants.
    weights(node, tensor) {
      const [inC, outC] = tensor(node.inputs[1]).shape;
      const src = constOf(node, tensor, 1);
      const oi = new Float32Array(src.length);
      for (let i = 0; i < inC; i++) for (let o = 0; o < outC; o++) oi[o * inC + i] = src[i * outC + o];
      return { data: oi, shape: [outC, inC], axis: 0 };
    },
    bias: optionalBias(2),
  },
  emit(ctx) {
    const { node } = ctx;
    const outShape = ctx.tensorInfo(node.outputs[0]).shape;
    ctx.op('FULLY_CONNECTED', [ctx.activation(node.inputs[0]), ctx.weights(), ctx.bias()], [out0(ctx)], {
      fusedActivationFunction: tfliteActivation(node.attrs),
      weightsFormat: 0,
      keepNumDims: outShape.length > 2,
      asymmetricQuantizeInputs: false,
    });
  },
};

function binary(tfliteOp: string): OpQuant {
  return {
    rule: { output: 'calibrated' },
    emit(ctx) {
      const [a, b] = ctx.node.inputs;
      ctx.op(tfliteOp, [operand(ctx, a), operand(ctx, b)], [out0(ctx)], {
        fusedActivationFunction: tfliteActivation(ctx.node.attrs),
        // int16 ADD/SUB with general (not power-of-two) scales: the pot_scale_int16 = false kernels.
        ...(ctx.precision === 'int16' && tfliteOp !== 'MUL' ? { potScaleInt16: false } : {}),
      });
    },
  };
}

export const addQuant = binary('ADD');
export const subQuant = binary('SUB');
export const mulQuant = binary('MUL');

export const squareQuant: OpQuant = {
  rule: { output: 'calibrated' },
  emit(ctx) {
    const x = ctx.activation(ctx.node.inputs[0]);
    ctx.op('MUL', [x, x], [out0(ctx)], { fusedActivationFunction: 0 });
  },
};

/** Logit beyond which the int8 LOGISTIC output (scale 1/256, zp -128) saturates: ln(255.5 / 0.5). */
export const LOGISTIC_SATURATION = Math.log(255.5 / 0.5);

/**
 * The T >= 1.2785 (where SiLU has its minimum) beyond which |x * sigmoid(x)| < tolerance for all x < -T
 * (|SiLU| decreases monotonically there), found by bisection.
 */
export function siluNegligibleBelow(tolerance: number): number {
  const silu = (x: number) => x / (1 + Math.exp(-x));
  let lo = 1.2785;
  if (Math.abs(silu(-lo)) <= tolerance) return lo;
  let hi = 2;
  while (Math.abs(silu(-hi)) > tolerance && hi < 1e3) hi *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (Math.abs(silu(-mid)) > tolerance) lo = mid;
    else hi = mid;
  }
  return hi;
}

export const sigmoidQuant: OpQuant = {
  rule: { output: 'fixed', op: 'LOGISTIC' },
  // No logit beyond where the int8 sigmoid saturates changes its output.
  inputRange: (r) => ({ min: Math.max(-LOGISTIC_SATURATION, Math.min(LOGISTIC_SATURATION, r.min)), max: Math.min(LOGISTIC_SATURATION, Math.max(-LOGISTIC_SATURATION, r.max)) }),
  emit(ctx) {
    ctx.op('LOGISTIC', [ctx.activation(ctx.node.inputs[0])], [out0(ctx)]);
  },
};

/** SiLU = x * sigmoid(x): LOGISTIC into an internal tensor (its fixed parameters), then MUL with x. */
export const siluQuant: OpQuant = {
  rule: { output: 'calibrated' },
  // No input below where x * sigmoid(x) rounds to 0 in the SiLU output's own int8 step changes it.
  inputRange: (r, node) => {
    const out = node.outputRange;
    if (!out) return r;
    const step = (Math.max(out.max, 0) - Math.min(out.min, 0)) / 255;
    return step > 0 ? { min: Math.max(r.min, -siluNegligibleBelow(step / 2)), max: r.max } : r;
  },
  emit(ctx) {
    const xName = ctx.node.inputs[0];
    const x = ctx.activation(xName);
    const sig = ctx.internal(`${ctx.node.name}/sigmoid`, ctx.tensorInfo(xName).shape, ctx.fixedParams('LOGISTIC'));
    ctx.op('LOGISTIC', [x], [sig]);
    ctx.op('MUL', [x, sig], [out0(ctx)], { fusedActivationFunction: 0 });
  },
};

export const tanhQuant: OpQuant = {
  rule: { output: 'fixed', op: 'TANH' },
  emit(ctx) {
    ctx.op('TANH', [ctx.activation(ctx.node.inputs[0])], [out0(ctx)]);
  },
};

/**
 * SOFTMAX works on the last axis only: over another axis the node is written as TRANSPOSE (swap the
 * axis with the last one; keeps the input's parameters) + SOFTMAX (fixed output parameters) + the same
 * TRANSPOSE back (its own inverse; keeps the softmax parameters, which are the node output's).
 */
export const softmaxQuant: OpQuant = {
  rule: { output: 'fixed', op: 'SOFTMAX' },
  emit(ctx) {
    const { node } = ctx;
    const x = node.inputs[0];
    const shape = ctx.tensorInfo(x).shape;
    const axis = normalizeAxis(attrNumber(node.attrs, 'axis', -1), shape.length);
    const options = { beta: attrNumber(node.attrs, 'beta', 1) };
    if (axis === shape.length - 1) {
      ctx.op('SOFTMAX', [ctx.activation(x)], [out0(ctx)], options);
      return;
    }
    const perm = swapWithLastAxisPerm(shape.length, axis);
    const swappedShape = perm.map((p) => shape[p]);
    const permT = ctx.int32Constant(`${node.name}/perm`, perm, [perm.length]);
    const swappedIn = ctx.internal(`${node.name}/axis_last`, swappedShape, ctx.params(x));
    const swappedOut = ctx.internal(`${node.name}/softmax_axis_last`, swappedShape, ctx.fixedParams('SOFTMAX'));
    ctx.op('TRANSPOSE', [ctx.activation(x), permT], [swappedIn]);
    ctx.op('SOFTMAX', [swappedIn], [swappedOut], options);
    ctx.op('TRANSPOSE', [swappedOut, permT], [out0(ctx)]);
  },
};

function unaryCalibrated(tfliteOp: string, options?: (a: Attrs) => Record<string, unknown>): OpQuant {
  return {
    rule: { output: 'calibrated' },
    emit(ctx) {
      ctx.op(tfliteOp, [ctx.activation(ctx.node.inputs[0])], [out0(ctx)], options?.(ctx.node.attrs));
    },
  };
}

export const reluQuant = unaryCalibrated('RELU');
export const relu6Quant = unaryCalibrated('RELU6');
export const leakyReluQuant = unaryCalibrated('LEAKY_RELU', (a) => ({ alpha: attrNumber(a, 'alpha', 0.2) }));

export const concatQuant: OpQuant = {
  rule: { output: 'shared' },
  emit(ctx) {
    const { node } = ctx;
    const rank = ctx.tensorInfo(node.outputs[0]).shape.length;
    ctx.op('CONCATENATION', node.inputs.map((i) => operand(ctx, i)), [out0(ctx)], {
      axis: normalizeAxis(attrNumber(node.attrs, 'axis'), rank),
      fusedActivationFunction: tfliteActivation(node.attrs),
    });
  },
};

function pool(tfliteOp: string): OpQuant {
  return {
    rule: { output: 'same-as-input' },
    emit(ctx) {
      const a = ctx.node.attrs;
      const [fh, fw] = attrNumbers(a, 'filter');
      const [sh, sw] = attrNumbers(a, 'strides', [1, 1]);
      ctx.op(tfliteOp, [ctx.activation(ctx.node.inputs[0])], [out0(ctx)], {
        padding: padding(a),
        strideW: sw,
        strideH: sh,
        filterWidth: fw,
        filterHeight: fh,
        fusedActivationFunction: tfliteActivation(a),
      });
    },
  };
}

export const maxPoolQuant = pool('MAX_POOL_2D');
export const avgPoolQuant = pool('AVERAGE_POOL_2D');

export const reshapeQuant: OpQuant = {
  rule: { output: 'same-as-input' },
  emit(ctx) {
    const shape = ctx.tensorInfo(ctx.node.outputs[0]).shape;
    const shapeT = ctx.int32Constant(`${ctx.node.name}/shape`, shape, [shape.length]);
    ctx.op('RESHAPE', [ctx.activation(ctx.node.inputs[0]), shapeT], [out0(ctx)], { newShape: shape });
  },
};

export const squeezeQuant: OpQuant = reshapeQuant;
export const expandDimsQuant: OpQuant = reshapeQuant;

export const padQuant: OpQuant = {
  rule: { output: 'same-as-input' },
  emit(ctx) {
    const { node } = ctx;
    const x = node.inputs[0];
    const rank = ctx.tensorInfo(x).shape.length;
    const flat = attrNumbers(node.attrs, 'paddings');
    const paddings = ctx.int32Constant(`${node.name}/paddings`, flat, [rank, 2]);
    const value = attrNumber(node.attrs, 'constantValue', 0);
    if (value === 0) {
      ctx.op('PAD', [ctx.activation(x), paddings], [out0(ctx)]);
    } else {
      // PADV2 takes the pad value as a scalar of the input's type (int8: in the input's parameters).
      const v = ctx.scalarLike(`${node.name}/value`, value, x);
      ctx.op('PADV2', [ctx.activation(x), paddings, v], [out0(ctx)]);
    }
  },
};

export const resizeNearestQuant: OpQuant = {
  rule: { output: 'same-as-input' },
  emit(ctx) {
    const a = ctx.node.attrs;
    const size = ctx.int32Constant(`${ctx.node.name}/size`, attrNumbers(a, 'size'), [2]);
    ctx.op('RESIZE_NEAREST_NEIGHBOR', [ctx.activation(ctx.node.inputs[0]), size], [out0(ctx)], {
      alignCorners: attrBool(a, 'alignCorners'),
      halfPixelCenters: attrBool(a, 'halfPixelCenters'),
    });
  },
};

export const resizeBilinearQuant: OpQuant = {
  rule: { output: 'same-as-input' },
  emit(ctx) {
    const a = ctx.node.attrs;
    const size = ctx.int32Constant(`${ctx.node.name}/size`, attrNumbers(a, 'size'), [2]);
    ctx.op('RESIZE_BILINEAR', [ctx.activation(ctx.node.inputs[0]), size], [out0(ctx)], {
      alignCorners: attrBool(a, 'alignCorners'),
      halfPixelCenters: attrBool(a, 'halfPixelCenters'),
    });
  },
};

/** TFLite TRANSPOSE handles ranks 1 to 6 (op version 4 from rank 5, 6 from rank 6). */
const TRANSPOSE_MAX_RANK = 6;

export const transposeQuant: OpQuant = {
  rule: { output: 'same-as-input' },
  emit(ctx) {
    const perm = attrNumbers(ctx.node.attrs, 'perm');
    if (perm.length > TRANSPOSE_MAX_RANK) throw new Error(`TFLite TRANSPOSE supports at most rank ${TRANSPOSE_MAX_RANK}, got perm [${perm}]`);
    const p = ctx.int32Constant(`${ctx.node.name}/perm`, perm, [perm.length]);
    ctx.op('TRANSPOSE', [ctx.activation(ctx.node.inputs[0]), p], [out0(ctx)]);
  },
};

export const meanQuant: OpQuant = {
  rule: { output: 'calibrated' },
  emit(ctx) {
    const axes = attrNumbers(ctx.node.attrs, 'axes');
    const a = ctx.int32Constant(`${ctx.node.name}/axes`, axes, [axes.length]);
    ctx.op('MEAN', [ctx.activation(ctx.node.inputs[0]), a], [out0(ctx)], { keepDims: attrBool(ctx.node.attrs, 'keepDims') });
  },
};

export const splitQuant: OpQuant = {
  rule: { output: 'same-as-input' },
  emit(ctx) {
    const { node } = ctx;
    const rank = ctx.tensorInfo(node.inputs[0]).shape.length;
    const axis = normalizeAxis(attrNumber(node.attrs, 'axis'), rank);
    const sizes = attrNumbers(node.attrs, 'sizes');
    const s = ctx.int32Constant(`${node.name}/sizes`, sizes, [sizes.length]);
    const ax = ctx.int32Constant(`${node.name}/axis`, [axis], []);
    ctx.op('SPLIT_V', [ctx.activation(node.inputs[0]), s, ax], node.outputs.map((o) => ctx.activation(o)), { numSplits: sizes.length });
  },
};

export const packQuant: OpQuant = {
  rule: { output: 'shared' },
  emit(ctx) {
    const { node } = ctx;
    ctx.op('PACK', node.inputs.map((i) => operand(ctx, i)), [out0(ctx)], {
      valuesCount: node.inputs.length,
      axis: attrNumber(node.attrs, 'axis', 0),
    });
  },
};

export const unpackQuant: OpQuant = {
  rule: { output: 'same-as-input' },
  emit(ctx) {
    const { node } = ctx;
    ctx.op('UNPACK', [ctx.activation(node.inputs[0])], node.outputs.map((o) => ctx.activation(o)), {
      num: node.outputs.length,
      axis: attrNumber(node.attrs, 'axis', 0),
    });
  },
};

export const stridedSliceQuant: OpQuant = {
  rule: { output: 'same-as-input' },
  emit(ctx) {
    const { node } = ctx;
    const a = node.attrs;
    const begin = attrNumbers(a, 'begin');
    const end = attrNumbers(a, 'end');
    const strides = attrNumbers(a, 'strides');
    ctx.op(
      'STRIDED_SLICE',
      [
        ctx.activation(node.inputs[0]),
        ctx.int32Constant(`${node.name}/begin`, begin, [begin.length]),
        ctx.int32Constant(`${node.name}/end`, end, [end.length]),
        ctx.int32Constant(`${node.name}/strides`, strides, [strides.length]),
      ],
      [out0(ctx)],
      {
        beginMask: attrNumber(a, 'beginMask', 0),
        endMask: attrNumber(a, 'endMask', 0),
        ellipsisMask: 0,
        newAxisMask: 0,
        shrinkAxisMask: attrNumber(a, 'shrinkAxisMask', 0),
        offset: false,
      },
    );
  },
};

export const sliceQuant: OpQuant = {
  rule: { output: 'same-as-input' },
  emit(ctx) {
    const { node } = ctx;
    const begin = attrNumbers(node.attrs, 'begin');
    const size = attrNumbers(node.attrs, 'size');
    ctx.op(
      'SLICE',
      [
        ctx.activation(node.inputs[0]),
        ctx.int32Constant(`${node.name}/begin`, begin, [begin.length]),
        ctx.int32Constant(`${node.name}/size`, size, [size.length]),
      ],
      [out0(ctx)],
    );
  },
};

export const identityQuant: OpQuant = {
  rule: { output: 'same-as-input' },
  emit(ctx) {
    // Identity is removed by the passes; if one survives, a RESHAPE to the same shape copies it.
    reshapeQuant.emit(ctx);
  },
};

/**
 * A BatchNorm the passes could not fold (no conv before it) is an affine map per channel,
 * y = x * a + b with a = scale / sqrt(variance + eps), b = offset - mean * a: written as a 1x1
 * DEPTHWISE_CONV_2D with per-channel int8 weights a and int32 bias b (rank-4 NHWC inputs).
 */
export const batchNormQuant: OpQuant = {
  rule: { output: 'calibrated' },
  weighted: {
    input: 0,
    weightsLabel: 'multiplier',
    weights(node, tensor) {
      const { a } = batchNormAffine(node, tensor);
      return { data: a, shape: [1, 1, 1, a.length], axis: 3 };
    },
    bias: (node, tensor) => batchNormAffine(node, tensor).b,
  },
  emit(ctx) {
    const { node } = ctx;
    const shape = ctx.tensorInfo(node.inputs[0]).shape;
    if (shape.length !== 4) throw new Error(`BatchNorm on a rank-${shape.length} tensor cannot be written as a depthwise conv (NHWC rank 4 expected)`);
    ctx.op('DEPTHWISE_CONV_2D', [ctx.activation(node.inputs[0]), ctx.weights(), ctx.bias()], [out0(ctx)], {
      padding: 1,
      strideW: 1,
      strideH: 1,
      depthMultiplier: 1,
      fusedActivationFunction: 0,
      dilationWFactor: 1,
      dilationHFactor: 1,
    });
  },
};

function batchNormAffine(node: IrNode, tensor: (name: string) => IrTensor): { a: Float32Array; b: Float32Array } {
  const c = tensor(node.inputs[0]).shape.at(-1)!;
  const [scale, offset, mean, variance] = [1, 2, 3, 4].map((i) => {
    const v = constOf(node, tensor, i);
    return v.length === 1 ? new Float32Array(c).fill(v[0]) : v;
  });
  const { mul, add } = foldedBatchNorm({ scale, offset, mean, variance, epsilon: attrNumber(node.attrs, 'epsilon', 1e-3) });
  return { a: mul, b: add };
}
