// Silu (element-wise).
import type { OpDef } from '../types.js';
import { sameShape } from '../util.js';

/** x * sigmoid(x) as one node, so the quantizer treats it as a unit. */
export const Silu: OpDef = {
  op: 'Silu',
  imports: { tfjsLayers: ['Activation(swish)', 'Activation(silu)'] },
  inferShapes: sameShape,
  runFloat: (tf, [x]) => [tf.mul(x, tf.sigmoid(x))],
};
