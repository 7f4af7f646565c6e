// Identity (element-wise). Removed by the passes; one that survives is written as a RESHAPE to the
// same shape. The layers `Activation` layer is an Identity followed by its activation.
import type { OpDef } from '../types.js';
import { sameShape } from '../util.js';
import { emitReshape } from './reshape.js';

export const Identity: OpDef = {
  op: 'Identity',
  imports: {
    tfjsGraph: { Identity: {}, StopGradient: {}, Snapshot: {} },
    tfjsLayers: { Activation: { activation: true }, Dropout: {} },
  },
  inferShapes: sameShape,
  runFloat: (tf, [x]) => [tf.clone(x)],
  quant: { rule: { output: 'same-as-input' }, emit: emitReshape },
  examples: [{ name: 'Identity', build: (b) => b.emit('id', 'Identity', [b.conv('c', b.input, 4)], {}) }],
};
