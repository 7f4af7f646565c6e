// Sigmoid (element-wise).
import type { OpDef } from '../types.js';
import { sameShape } from '../util.js';
import { sigmoidQuant } from '../quant-rules.js';

export const Sigmoid: OpDef = {
  op: 'Sigmoid',
  imports: { tfjsGraph: ['Sigmoid'], tfjsLayers: ['Activation(sigmoid)'], tflite: ['LOGISTIC'] },
  quant: sigmoidQuant,
  inferShapes: sameShape,
  runFloat: (tf, [x]) => [tf.sigmoid(x)],
};
