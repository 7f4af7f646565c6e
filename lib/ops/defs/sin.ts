// Sin (element-wise). TFLite SIN has a float32 kernel only (elementwise.cc), so it is written in float.
import { unaryDef } from '../unary.js';

export const Sin = unaryDef({
  op: 'Sin',
  tfjsGraph: 'Sin',
  builtin: 'SIN',
  kernel: (tf, x) => tf.sin(x),
  precisions: ['float'],
  // op_version.cc: no SIN case (version 1); runtime_version.cc: 1.9.0.
  spec: { runtime: ['1.9.0'] },
  examples: [{ name: 'Sin', build: (b) => b.emit('sin', 'Sin', [b.conv('c', b.input, 4)], {}) }],
});
