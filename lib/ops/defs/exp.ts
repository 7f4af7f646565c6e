// Exp (element-wise). TFLite EXP has float32 and, through a lookup table, int8 and int16 kernels
// (exp.cc; op_version.cc: version 2 for both), rescaled to any output parameters.
import { unaryDef } from '../unary.js';
import { versionByInputType } from '../emit-util.js';

export const Exp = unaryDef({
  op: 'Exp',
  tfjsGraph: 'Exp',
  builtin: 'EXP',
  kernel: (tf, x) => tf.exp(x),
  precisions: ['int8', 'int16', 'float'],
  spec: { version: versionByInputType({ int16: 2, int8: 2 }), runtime: ['1.7.0', '2.12.0'] },
  // int16 EXP: measured 1.9 steps of its output scale (the lookup table's interpolation).
  examples: [{ name: 'Exp', int16Steps: 1, build: (b) => b.emit('exp', 'Exp', [b.conv('c', b.input, 4)], {}) }],
});
