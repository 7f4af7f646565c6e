// Sigmoid (element-wise).
import type { OpDef } from '../types.js';
import { sameShape } from '../util.js';

export const Sigmoid: OpDef = {
  op: 'Sigmoid',
  imports: { tfjsGraph: ['Sigmoid'], tfjsLayers: ['Activation(sigmoid)'], tflite: ['LOGISTIC'] },
  inferShapes: sameShape,
  runFloat: (tf, [x]) => [tf.sigmoid(x)],
};
