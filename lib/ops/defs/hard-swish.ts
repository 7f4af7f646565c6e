// HardSwish (element-wise): x * relu6(x + 3) / 6 (MobileNetV3, MediaPipe). Only TFLite names it
// (HARD_SWISH); TF.js graphs spell it out in Add/Relu6/Mul. The TFLite kernels are float32, uint8 and
// int8 (activations.cc), so int8 and float nodes are one HARD_SWISH (the int8 kernel rescales to any
// output parameters) and an int16 node is written from kernels that take int16 (16x8 activations):
//   MUL(x, 1/6) -> x/6;  ADD(x, 3) with fused RELU6 -> gate;  MUL(x/6, gate) -> output.
// add.cc and mul.cc take int16 with zero points 0 (symmetric int16 parameters), a broadcast scalar,
// and a fused activation clamped in the output's integers; ADD needs pot_scale_int16 = false for
// general scales.
import type { EmitContext, OpDef, RangeLike } from '../types.js';
import { sameShape } from '../util.js';
import { out0 } from '../emit-util.js';
import { chooseParamsFor, ACTIVATION_LIMITS, type QuantParams } from '../../int8/arithmetic.js';

/** TFLite ActivationFunctionType RELU6 (schema.fbs). */
const FUSED_RELU6 = 3;

/** The range of relu6(x + 3) over x in `x`: the gate HardSwish multiplies x / 6 by. */
export function hardSwishGateRange(x: RangeLike): RangeLike {
  const relu6 = (v: number) => Math.min(6, Math.max(0, v));
  return { min: relu6(x.min + 3), max: relu6(x.max + 3) };
}

/**
 * Parameters of x / 6 when x has parameters `x` (int16, zero point 0): x's own step divided by 6, so
 * every stored integer of x is also the integer of x / 6 (MUL by 1/6 then rounds nothing).
 */
export function sixthParams(x: QuantParams): QuantParams {
  return { scale: Math.fround(x.scale / 6), zeroPoint: 0 };
}

/** The values an int16 tensor with these parameters can hold. */
export function representableInt16(p: QuantParams): RangeLike {
  const { qmin, qmax } = ACTIVATION_LIMITS.int16;
  return { min: (qmin - p.zeroPoint) * p.scale, max: (qmax - p.zeroPoint) * p.scale };
}

/**
 * The int16 writer. Internal tensors' parameters come from the input's parameters, analytically:
 *   - x / 6 takes x's step over 6, so it is an exact copy of x;
 *   - the gate takes the range relu6(x + 3) has over every value x's parameters can hold (not only x's
 *     calibrated range: images other than the calibration ones reach x's headroom, and a gate clipped
 *     at the calibrated maximum would cut them off where x itself does not). With X the largest x,
 *     its step is min(6, X + 3) / 32767, so its rounding moves the output by at most
 *     X / 6 * min(6, X + 3) / 32767 / 2: half the step of an output whose range is HardSwish's over x's.
 */
function emitInt16(ctx: EmitContext): void {
  const { node } = ctx;
  const xName = node.inputs[0];
  const x = ctx.activation(xName);
  const shape = ctx.tensorInfo(xName).shape;
  const px = ctx.params(xName);
  const sixth = ctx.internal(`${node.name}/x_over_6`, shape, sixthParams(px));
  ctx.op('MUL', [x, ctx.scalarConstant(`${node.name}/one_sixth`, 1 / 6)], [sixth], { fusedActivationFunction: 0 });
  const g = hardSwishGateRange(representableInt16(px));
  const gate = ctx.internal(`${node.name}/gate`, shape, chooseParamsFor('int16', g.min, g.max));
  ctx.op('ADD', [x, ctx.scalarConstant(`${node.name}/three`, 3)], [gate], { fusedActivationFunction: FUSED_RELU6, potScaleInt16: false });
  ctx.op('MUL', [sixth, gate], [out0(ctx)], { fusedActivationFunction: 0 });
}

export const HardSwish: OpDef = {
  op: 'HardSwish',
  imports: { tflite: { HARD_SWISH: {} } },
  inferShapes: sameShape,
  runFloat: (tf, [x]) => [tf.tidy(() => tf.div(tf.mul(x, tf.relu6(tf.add(x, 3))), 6))],
  quant: {
    rule: { output: 'calibrated' },
    precisions: ['int8', 'int16', 'float'],
    // Every input below -3 gives 0, so the input range stops there. This also keeps the int8 kernel's
    // requirement input_scale / (128 * output_scale) <= 1 (activations.cc refuses a positive output
    // exponent), which a long negative tail with a small output range would break.
    inputRange: (r) => ({ min: Math.max(r.min, -3), max: r.max }),
    emit: (ctx) => (ctx.precision === 'int16' ? emitInt16(ctx) : ctx.op('HARD_SWISH', [ctx.activation(ctx.node.inputs[0])], [out0(ctx)])),
  },
  // op_version.cc has no HARD_SWISH case (version 1 for every type); runtime_version.cc: 1.15.0.
  builtins: { HARD_SWISH: { runtime: ['1.15.0'] } },
  examples: [
    {
      name: 'HardSwish over [-4, 4]',
      build: (b) => {
        // A conv scaled up so the input spans both bends (-3 and 3) and the flat negative part.
        const x = b.emit('scale', 'Mul', [b.conv('c', b.input, 4), b.constant('k', [], Float32Array.of(6))], {})[0];
        return b.emit('hswish', 'HardSwish', [x], {});
      },
    },
    {
      // Inside both bends: the gate stays in about [2.5, 3.5] and the output is small, where the gate's
      // int16 step must still be fine against the output's own.
      name: 'HardSwish near 0',
      build: (b) => {
        const x = b.emit('scale', 'Mul', [b.conv('c', b.input, 4), b.constant('k', [], Float32Array.of(0.5))], {})[0];
        return b.emit('hswish', 'HardSwish', [x], {});
      },
    },
  ],
};
