// Cos (element-wise). TFLite COS has a float32 kernel only (elementwise.cc), so it is written in float.
import { unaryDef } from '../unary.js';

export const Cos = unaryDef({
  op: 'Cos',
  tfjsGraph: 'Cos',
  builtin: 'COS',
  kernel: (tf, x) => tf.cos(x),
  precisions: ['float'],
  // op_version.cc: no COS case (version 1); runtime_version.cc: 1.14.0.
  spec: { runtime: ['1.14.0'] },
  examples: [{ name: 'Cos', build: (b) => b.emit('cos', 'Cos', [b.conv('c', b.input, 4)], {}) }],
});
