// Sqrt (element-wise). TFLite SQRT has a float32 kernel only (elementwise.cc), so it is written in float.
import { unaryDef } from '../unary.js';

export const Sqrt = unaryDef({
  op: 'Sqrt',
  tfjsGraph: 'Sqrt',
  builtin: 'SQRT',
  kernel: (tf, x) => tf.sqrt(x),
  precisions: ['float'],
  // op_version.cc: no SQRT case (version 1); runtime_version.cc: 1.10.0.
  spec: { runtime: ['1.10.0'] },
  examples: [{ name: 'Sqrt', build: (b) => b.emit('sqrt', 'Sqrt', [b.input], {}) }],
});
