// Square (element-wise), written as MUL(x, x).
import type { OpDef } from '../types.js';
import { sameShape } from '../util.js';
import { out0 } from '../emit-util.js';

export const Square: OpDef = {
  op: 'Square',
  imports: { tfjsGraph: { Square: {} }, tflite: { SQUARE: {} } },
  inferShapes: sameShape,
  runFloat: (tf, [x]) => [tf.square(x)],
  quant: {
    rule: { output: 'calibrated' },
    emit(ctx) {
      const x = ctx.activation(ctx.node.inputs[0]);
      ctx.op('MUL', [x, x], [out0(ctx)], { fusedActivationFunction: 0 });
    },
  },
  builtins: { SQUARE: {} },
  examples: [{ name: 'Square', steps: 2, build: (b) => b.emit('sq', 'Square', [b.conv('c', b.input, 4)], {}) }],
};
