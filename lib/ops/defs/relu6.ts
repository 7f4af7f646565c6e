// Relu6 (element-wise).
import type { OpDef } from '../types.js';
import { sameShape } from '../util.js';
import { relu6Quant } from '../quant-rules.js';

export const Relu6: OpDef = {
  op: 'Relu6',
  imports: { tfjsGraph: ['Relu6'], tfjsLayers: ['ReLU(maxValue=6)', 'Activation(relu6)'], tflite: ['RELU6'] },
  quant: relu6Quant,
  inferShapes: sameShape,
  runFloat: (tf, [x]) => [tf.relu6(x)],
};
