// Softmax over one axis, with TFLite's beta (logit scale).
import type { OpDef } from '../types.js';
import { attrNumber, normalizeAxis, sameShape, swapWithLastAxisPerm } from '../util.js';
import { softmaxQuant } from '../quant-rules.js';

/**
 * Softmax over attr `axis` (default -1, any axis of any rank). TF.js tf.softmax and TFLite SOFTMAX
 * only work on the last axis: another axis is swapped to the end and back with one self-inverse
 * transpose (float here; TRANSPOSE + SOFTMAX + TRANSPOSE in the TFLite writer).
 */
export const Softmax: OpDef = {
  op: 'Softmax',
  imports: { tfjsGraph: ['Softmax'], tfjsLayers: ['Activation(softmax)', 'Softmax'], tflite: ['SOFTMAX'] },
  quant: softmaxQuant,
  inferShapes(inputs, attrs) {
    const rank = inputs[0].shape.length;
    if (rank === 0) throw new Error('Softmax needs a tensor of rank 1 or more, got a scalar');
    normalizeAxis(attrNumber(attrs, 'axis', -1), rank);
    return sameShape(inputs);
  },
  runFloat(tf, [x], attrs) {
    const beta = attrNumber(attrs, 'beta', 1);
    const axis = normalizeAxis(attrNumber(attrs, 'axis', -1), x.rank);
    const logits = beta === 1 ? x : tf.mul(x, beta);
    if (axis === x.rank - 1) return [tf.softmax(logits)];
    const perm = swapWithLastAxisPerm(x.rank, axis);
    return [tf.transpose(tf.softmax(tf.transpose(logits, perm)), perm)];
  },
};
