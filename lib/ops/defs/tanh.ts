// Tanh (element-wise). Its int8/int16 output parameters are fixed by the TANH kernel.
import type { OpDef } from '../types.js';
import { sameShape } from '../util.js';
import { out0 } from '../emit-util.js';

export const Tanh: OpDef = {
  op: 'Tanh',
  imports: { tfjsGraph: { Tanh: {} }, tfjsLayers: { 'Activation(tanh)': {} }, tflite: { TANH: {} } },
  inferShapes: sameShape,
  runFloat: (tf, [x]) => [tf.tanh(x)],
  quant: {
    rule: { output: 'fixed', op: 'TANH' },
    emit: (ctx) => ctx.op('TANH', [ctx.activation(ctx.node.inputs[0])], [out0(ctx)]),
  },
  builtins: {
    TANH: {
      version: ({ inputs: [x], outputs: [y] }) => (x === 'int16' && y === 'int16' ? 3 : x === 'int8' ? 2 : 1),
      runtime: ['1.14.0', '1.14.0', '2.3.0'],
      kernel: { fixedOutput: 'TANH' },
    },
  },
  // int16 TANH: measured 2.6 steps of 1/32768 (its lookup table's interpolation error).
  examples: [{ name: 'Tanh', int16Steps: 2, build: (b) => b.emit('tanh', 'Tanh', [b.conv('c', b.input, 4)], {}) }],
};
