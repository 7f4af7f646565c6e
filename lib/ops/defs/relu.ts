// Relu (element-wise).
import type { OpDef } from '../types.js';
import { sameShape } from '../util.js';
import { reluQuant } from '../quant-rules.js';

export const Relu: OpDef = {
  op: 'Relu',
  imports: { tfjsGraph: ['Relu'], tfjsLayers: ['ReLU', 'Activation(relu)'], tflite: ['RELU'] },
  quant: reluQuant,
  inferShapes: sameShape,
  runFloat: (tf, [x]) => [tf.relu(x)],
};
