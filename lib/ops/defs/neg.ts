// Neg (element-wise): -x. Written as TFLite NEG in float; in int8/int16 as SUB(0, x), whose kernels
// rescale to the output's own parameters (NEG's integer kernel negates the stored integers, which
// needs the output to mirror the input's zero point and overflows at -128).
import type { OpDef } from '../types.js';
import { sameShape } from '../util.js';
import { out0 } from '../emit-util.js';

export const Neg: OpDef = {
  op: 'Neg',
  imports: { tfjsGraph: { Neg: {} }, tflite: { NEG: {} } },
  inferShapes: sameShape,
  runFloat: (tf, [x]) => [tf.neg(x)],
  quant: {
    rule: { output: 'calibrated' },
    emit(ctx) {
      const name = ctx.node.inputs[0];
      const x = ctx.activation(name);
      if (ctx.precision === 'float') {
        ctx.op('NEG', [x], [out0(ctx)]);
        return;
      }
      // 0 is exact in every calibrated range (ranges always include it).
      const zero = ctx.scalarLike(`${ctx.node.name}/zero`, 0, name);
      ctx.op('SUB', [zero, x], [out0(ctx)], { fusedActivationFunction: 0, ...(ctx.precision === 'int16' ? { potScaleInt16: false } : {}) });
    },
  },
  // op_version.cc: no NEG case (version 1); runtime_version.cc: 1.9.0.
  builtins: { NEG: { runtime: ['1.9.0'] } },
  examples: [{ name: 'Neg', build: (b) => b.emit('neg', 'Neg', [b.conv('c', b.input, 4)], {}) }],
};
