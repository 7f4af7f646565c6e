// FloorMod: a - floor(a / b) * b element-wise (the result takes the divisor's sign). TFLite FLOOR_MOD's
// int8/int16 kernels work on plain integers (no quantization parameters), so quantized values are
// written in float.
import type { OpDef } from '../types.js';
import { broadcastShapes } from '../util.js';
import { operand, out0 } from '../emit-util.js';

export const FloorMod: OpDef = {
  op: 'FloorMod',
  imports: { tfjsGraph: { FloorMod: { inputs: [0, 1] } }, tflite: { FLOOR_MOD: { inputs: [0, 1] } } },
  inferShapes: ([a, b]) => [broadcastShapes(a.shape, b.shape)],
  runFloat: (tf, [a, b]) => [tf.mod(a, b)],
  quant: {
    rule: { output: 'calibrated' },
    precisions: ['float'],
    emit: (ctx) => ctx.op('FLOOR_MOD', ctx.node.inputs.map((i) => operand(ctx, i)), [out0(ctx)]),
  },
  // op_version.cc: int16/int8 2, otherwise 1.
  builtins: { FLOOR_MOD: { version: ({ inputs: [x] }) => (x === 'int16' || x === 'int8' ? 2 : 1), runtime: ['1.13.0', '2.13.0'] } },
  examples: [
    {
      name: 'FloorMod by a constant',
      build: (b) => b.emit('fmod', 'FloorMod', [b.emit('x8', 'Mul', [b.conv('c', b.input, 4), b.constant('k', [], Float32Array.of(8))], {})[0], b.constant('d', [4], Float32Array.of(3, 2, -2, 1.5))], {}),
    },
  ],
};
