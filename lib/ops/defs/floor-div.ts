// FloorDiv: floor(a / b) element-wise with numpy broadcasting. TFLite FLOOR_DIV's int8/int16 kernels
// divide plain integers (no quantization parameters), so quantized values are written in float.
import type { OpDef } from '../types.js';
import { broadcastShapes } from '../util.js';
import { operand, out0 } from '../emit-util.js';

export const FloorDiv: OpDef = {
  op: 'FloorDiv',
  imports: { tfjsGraph: { FloorDiv: { inputs: [0, 1] } }, tflite: { FLOOR_DIV: { inputs: [0, 1] } } },
  inferShapes: ([a, b]) => [broadcastShapes(a.shape, b.shape)],
  runFloat: (tf, [a, b]) => [tf.floorDiv(a, b)],
  quant: {
    rule: { output: 'calibrated' },
    precisions: ['float'],
    emit: (ctx) => ctx.op('FLOOR_DIV', ctx.node.inputs.map((i) => operand(ctx, i)), [out0(ctx)]),
  },
  builtins: {
    FLOOR_DIV: {
      // op_version.cc: int16/int8 3, float32 2, int32 1.
      version: ({ inputs: [x] }) => (x === 'int16' || x === 'int8' ? 3 : x === 'float32' ? 2 : 1),
      runtime: ['1.14.0', '1.14.0', '2.13.0'],
    },
  },
  examples: [
    {
      name: 'FloorDiv by a constant',
      build: (b) => b.emit('fdiv', 'FloorDiv', [b.emit('x8', 'Mul', [b.conv('c', b.input, 4), b.constant('k', [], Float32Array.of(8))], {})[0], b.constant('d', [4], Float32Array.of(3, 2, -2, 1.5))], {}),
    },
  ],
};
