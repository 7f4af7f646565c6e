// Floor (element-wise). TFLite FLOOR has a float32 kernel only (floor.cc), so it is written in float.
import { unaryDef } from '../unary.js';

export const Floor = unaryDef({
  op: 'Floor',
  tfjsGraph: 'Floor',
  builtin: 'FLOOR',
  kernel: (tf, x) => tf.floor(x),
  precisions: ['float'],
  // op_version.cc: no FLOOR case (version 1); runtime_version.cc: 1.9.0.
  spec: { runtime: ['1.9.0'] },
  examples: [{ name: 'Floor', build: (b) => b.emit('floor', 'Floor', [b.emit('x4', 'Mul', [b.conv('c', b.input, 4), b.constant('k', [], Float32Array.of(4))], {})[0]], {}) }],
});
