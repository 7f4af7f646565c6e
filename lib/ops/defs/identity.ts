// Identity (element-wise).
import type { OpDef } from '../types.js';
import { sameShape } from '../util.js';
import { identityQuant } from '../quant-rules.js';

export const Identity: OpDef = {
  op: 'Identity',
  imports: { tfjsGraph: ['Identity', 'StopGradient', 'Snapshot'], tfjsLayers: ['InputLayer', 'Dropout', 'Activation(linear)'] },
  quant: identityQuant,
  inferShapes: sameShape,
  runFloat: (tf, [x]) => [tf.clone(x)],
};
