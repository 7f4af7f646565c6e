// Tanh (element-wise).
import type { OpDef } from '../types.js';
import { sameShape } from '../util.js';
import { tanhQuant } from '../quant-rules.js';

export const Tanh: OpDef = {
  op: 'Tanh',
  imports: { tfjsGraph: ['Tanh'], tfjsLayers: ['Activation(tanh)'], tflite: ['TANH'] },
  quant: tanhQuant,
  inferShapes: sameShape,
  runFloat: (tf, [x]) => [tf.tanh(x)],
};
