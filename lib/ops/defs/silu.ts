// Silu (element-wise).
import type { OpDef } from '../types.js';
import { sameShape } from '../util.js';
import { siluQuant } from '../quant-rules.js';

/** x * sigmoid(x) as one node, so the quantizer treats it as a unit. */
export const Silu: OpDef = {
  op: 'Silu',
  imports: { tfjsLayers: ['Activation(swish)', 'Activation(silu)'] },
  quant: siluQuant,
  inferShapes: sameShape,
  runFloat: (tf, [x]) => [tf.mul(x, tf.sigmoid(x))],
};
