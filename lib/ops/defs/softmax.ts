// Softmax (element-wise).
import type { OpDef } from '../types.js';
import { attrNumber, normalizeAxis, sameShape } from '../util.js';
import { softmaxQuant } from '../../quantize/op-quant.js';

/** Softmax over the last axis (attr axis must resolve to it), with TFLite's beta (logit scale). */
export const Softmax: OpDef = {
  op: 'Softmax',
  imports: { tfjsGraph: ['Softmax'], tfjsLayers: ['Activation(softmax)', 'Softmax'], tflite: ['SOFTMAX'] },
  quant: softmaxQuant,
  inferShapes(inputs, attrs) {
    const rank = inputs[0].shape.length;
    if (normalizeAxis(attrNumber(attrs, 'axis', -1), rank) !== rank - 1) throw new Error('Softmax is only supported over the last axis');
    return sameShape(inputs);
  },
  runFloat(tf, [x], attrs) {
    const beta = attrNumber(attrs, 'beta', 1);
    return [tf.softmax(beta === 1 ? x : tf.mul(x, beta))];
  },
};
