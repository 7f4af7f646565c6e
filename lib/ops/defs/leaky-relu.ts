// LeakyRelu (element-wise).
import type { OpDef } from '../types.js';
import { attrNumber, sameShape } from '../util.js';
import { leakyReluQuant } from '../quant-rules.js';

export const LeakyRelu: OpDef = {
  op: 'LeakyRelu',
  imports: { tfjsGraph: ['LeakyRelu'], tfjsLayers: ['LeakyReLU'], tflite: ['LEAKY_RELU'] },
  quant: leakyReluQuant,
  inferShapes: sameShape,
  runFloat: (tf, [x], attrs) => [tf.leakyRelu(x, attrNumber(attrs, 'alpha', 0.2))],
};
