// SquaredDifference: (a - b)^2 element-wise with numpy broadcasting. TFLite SQUARED_DIFFERENCE has
// float32, int32 and int8 kernels (squared_difference.cc: the int8 one rescales both inputs and the
// output), no int16.
import type { OpDef } from '../types.js';
import { broadcastShapes } from '../util.js';
import { operand, out0, versionByInputType } from '../emit-util.js';

export const SquaredDifference: OpDef = {
  op: 'SquaredDifference',
  imports: {
    tfjsGraph: { SquaredDifference: { inputs: [0, 1] } },
    tflite: { SQUARED_DIFFERENCE: { inputs: [0, 1] } },
  },
  inferShapes: ([a, b]) => [broadcastShapes(a.shape, b.shape)],
  runFloat: (tf, [a, b]) => [tf.squaredDifference(a, b)],
  quant: {
    rule: { output: 'calibrated' },
    precisions: ['int8', 'float'],
    emit: (ctx) => ctx.op('SQUARED_DIFFERENCE', ctx.node.inputs.map((i) => operand(ctx, i)), [out0(ctx)]),
  },
  builtins: { SQUARED_DIFFERENCE: { version: versionByInputType({ int8: 2 }), runtime: ['1.13.1', '2.5.0'] } },
  examples: [
    { name: 'SquaredDifference', build: (b) => b.emit('sqd', 'SquaredDifference', [b.conv('c1', b.input, 4), b.conv('c2', b.input, 4)], {}) },
    // MoveNet's form: a constant grid minus a computed offset.
    {
      name: 'SquaredDifference with a constant',
      build: (b) => b.emit('sqd', 'SquaredDifference', [b.constant('grid', [8, 8, 1], b.uniform(64, -1, 1)), b.conv('c', b.input, 4)], {}),
    },
  ],
};
