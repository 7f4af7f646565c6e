// Prelu (element-wise): x for x >= 0, alpha * x below, with a learned alpha (usually per channel,
// e.g. [C] or [1, 1, C]) broadcast against x. int8 and float nodes are TFLite PRELU: its kernels are
// float32, uint8 and int8 only (activations.cc); the int8 kernel takes alpha as a per-tensor int8
// tensor with its own parameters and rescales both branches to the output. An int16 node (16x8) is
// written from kernels that take int16 (zero points 0), in one of two forms (preluInt16Form):
//   every alpha in [0, 1]:  MAXIMUM(x, alpha * x)             MUL, QUANTIZE (when x's parameters differ
//                                                              from the output's), MAXIMUM;
//   otherwise:              RELU(x) + alpha * MINIMUM(x, 0)    RELU, MINIMUM, MUL, ADD.
// MAXIMUM / MINIMUM compare stored integers (maximum_minimum.cc), so their inputs and output share
// parameters; RELU, MUL, ADD and QUANTIZE rescale.
import type { EmitContext, OpDef } from '../types.js';
import { broadcastShapes } from '../util.js';
import { operand, out0 } from '../emit-util.js';

/**
 * Which int16 form a Prelu takes: 'max' (max(x, alpha * x), right when every alpha is in [0, 1]: then
 * alpha * x <= x exactly where x >= 0) or 'relu-min' (any alpha, or an alpha that is not a constant).
 */
export function preluInt16Form(alpha: ArrayLike<number> | undefined): 'max' | 'relu-min' {
  if (!alpha) return 'relu-min';
  for (let i = 0; i < alpha.length; i++) if (!(alpha[i] >= 0 && alpha[i] <= 1)) return 'relu-min';
  return 'max';
}

/**
 * max(x, alpha * x). Both operands of MAXIMUM take the output's parameters (the kernel compares
 * integers): alpha * x is written there directly, x requantized there. Clamping into the output's
 * range commutes with max, so neither loses anything the output keeps.
 */
function emitMaxForm(ctx: EmitContext, x: number, alpha: number, shape: number[]): void {
  const { node } = ctx;
  const [xName] = node.inputs;
  const po = ctx.params(node.outputs[0]);
  const px = ctx.params(xName);
  const scaled = ctx.internal(`${node.name}/alpha_x`, shape, po);
  ctx.op('MUL', [x, alpha], [scaled], { fusedActivationFunction: 0 });
  let xInOut = x;
  if (px.scale !== po.scale || px.zeroPoint !== po.zeroPoint) {
    xInOut = ctx.internal(`${node.name}/x`, shape, po);
    ctx.op('QUANTIZE', [x], [xInOut]);
  }
  ctx.op('MAXIMUM', [xInOut, scaled], [out0(ctx)]);
}

/**
 * relu(x) + alpha * min(x, 0). The two terms are never both non-zero (one is 0 wherever the other is
 * not), so each equals the output wherever it matters: both take the output's parameters and the ADD
 * of equal scales is exact. min(x, 0) keeps x's parameters (MINIMUM compares integers; a copy of x's
 * negative part, exact).
 */
function emitReluMinForm(ctx: EmitContext, x: number, alpha: number, shape: number[]): void {
  const { node } = ctx;
  const [xName] = node.inputs;
  const po = ctx.params(node.outputs[0]);
  const positive = ctx.internal(`${node.name}/relu`, shape, po);
  ctx.op('RELU', [x], [positive]);
  const negative = ctx.internal(`${node.name}/min_0`, shape, ctx.params(xName));
  ctx.op('MINIMUM', [x, ctx.scalarLike(`${node.name}/zero`, 0, xName)], [negative]);
  const scaled = ctx.internal(`${node.name}/alpha_min_0`, shape, po);
  ctx.op('MUL', [negative, alpha], [scaled], { fusedActivationFunction: 0 });
  ctx.op('ADD', [positive, scaled], [out0(ctx)], { fusedActivationFunction: 0, potScaleInt16: false });
}

function emitInt16(ctx: EmitContext): void {
  const [xName, alphaName] = ctx.node.inputs;
  const x = ctx.activation(xName);
  const alpha = operand(ctx, alphaName);
  const shape = ctx.tensorInfo(ctx.node.outputs[0]).shape;
  const alphaData = ctx.tensorInfo(alphaName).data as ArrayLike<number> | undefined;
  if (preluInt16Form(alphaData) === 'max') emitMaxForm(ctx, x, alpha, shape);
  else emitReluMinForm(ctx, x, alpha, shape);
}

export const Prelu: OpDef = {
  op: 'Prelu',
  imports: {
    tfjsGraph: { Prelu: { inputs: [0, 1] } },
    // Keras PReLU: the `alpha` weight has the input's shape without the batch axis (shared axes are 1).
    tfjsLayers: { PReLU: { weights: ['alpha'] } },
    tflite: { PRELU: { inputs: [0, 1] } },
  },
  inferShapes([x, alpha]) {
    const out = broadcastShapes(x.shape, alpha.shape);
    if (out.length !== x.shape.length || out.some((d, i) => d !== x.shape[i])) {
      throw new Error(`Prelu alpha [${alpha.shape}] does not broadcast to the input [${x.shape}]`);
    }
    return [out];
  },
  runFloat: (tf, [x, alpha]) => [tf.prelu(x, alpha)],
  quant: {
    rule: { output: 'calibrated' },
    precisions: ['int8', 'int16', 'float'],
    emit: (ctx) =>
      ctx.precision === 'int16'
        ? emitInt16(ctx)
        : ctx.op('PRELU', [ctx.activation(ctx.node.inputs[0]), operand(ctx, ctx.node.inputs[1])], [out0(ctx)]),
  },
  // op_version.cc has no PRELU case (every signature is version 1); runtime_version.cc: 1.8.0.
  builtins: { PRELU: { runtime: ['1.8.0'] } },
  examples: [
    {
      name: 'Prelu per-channel alpha',
      build: (b) => b.emit('prelu', 'Prelu', [b.conv('c', b.input, 4), b.constant('alpha', [4], Float32Array.from([0.1, 0.25, 0.6, -0.3]))], {}),
    },
    {
      name: 'Prelu alpha [1,1,C]',
      build: (b) => b.emit('prelu', 'Prelu', [b.conv('c', b.input, 3), b.constant('alpha', [1, 1, 3], Float32Array.from([0.05, 0.5, 0.9]))], {}),
    },
    {
      // Slopes outside [0, 1] both ways (as in MediaPipe's palm detector, -4 to 5).
      name: 'Prelu alpha outside [0, 1]',
      build: (b) => b.emit('prelu', 'Prelu', [b.conv('c', b.input, 4), b.constant('alpha', [1, 1, 4], Float32Array.from([-1.5, 2.5, 0.3, 4]))], {}),
    },
  ],
};
