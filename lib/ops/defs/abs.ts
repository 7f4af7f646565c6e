// Abs (element-wise). TFLite ABS has float32, int8 and int16 kernels that rescale to the output
// (elementwise.cc; the int16 one needs zero points 0, which 16x8 tensors have).
import { unaryDef } from '../unary.js';

export const Abs = unaryDef({
  op: 'Abs',
  tfjsGraph: 'Abs',
  builtin: 'ABS',
  kernel: (tf, x) => tf.abs(x),
  precisions: ['int8', 'int16', 'float'],
  spec: {
    // op_version.cc: int32 5; int16 3 when quantized (ours always are), 4 otherwise; int8/uint8 2.
    version: ({ inputs: [x], inputScales: [s] }) => (x === 'int32' ? 5 : x === 'int16' ? (s !== undefined ? 3 : 4) : x === 'int8' || x === 'uint8' ? 2 : 1),
    runtime: ['1.13.0', '2.4.0', '2.5.0', '2.6.0', '2.12.0'],
  },
  examples: [{ name: 'Abs', build: (b) => b.emit('abs', 'Abs', [b.conv('c', b.input, 4)], {}) }],
});
