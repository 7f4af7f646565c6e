// HardSwish (element-wise): x * relu6(x + 3) / 6 (MobileNetV3, MediaPipe). Only TFLite names it
// (HARD_SWISH); TF.js graphs spell it out in Add/Relu6/Mul. The TFLite kernels are float32, uint8 and
// int8 (activations.cc), so there is no 16x8 variant; the int8 kernel rescales to any output parameters.
import type { OpDef } from '../types.js';
import { sameShape } from '../util.js';
import { out0 } from '../emit-util.js';

export const HardSwish: OpDef = {
  op: 'HardSwish',
  imports: { tflite: { HARD_SWISH: {} } },
  inferShapes: sameShape,
  runFloat: (tf, [x]) => [tf.tidy(() => tf.div(tf.mul(x, tf.relu6(tf.add(x, 3))), 6))],
  quant: {
    rule: { output: 'calibrated' },
    precisions: ['int8', 'float'],
    // Every input below -3 gives 0, so the input range stops there. This also keeps the int8 kernel's
    // requirement input_scale / (128 * output_scale) <= 1 (activations.cc refuses a positive output
    // exponent), which a long negative tail with a small output range would break.
    inputRange: (r) => ({ min: Math.max(r.min, -3), max: r.max }),
    emit: (ctx) => ctx.op('HARD_SWISH', [ctx.activation(ctx.node.inputs[0])], [out0(ctx)]),
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
  ],
};
