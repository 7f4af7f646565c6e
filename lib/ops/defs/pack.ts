// Pack (stack) N equal-shape inputs along a new `axis`.
import type { OpDef } from '../types.js';
import { attrNumber, normalizeAxis, shapeEquals } from '../util.js';
import { packQuant } from '../quant-rules.js';

export const Pack: OpDef = {
  op: 'Pack',
  imports: { tfjsGraph: ['Pack'], tflite: ['PACK'] },
  quant: packQuant,
  inferShapes(inputs, attrs) {
    const s = inputs[0].shape;
    if (inputs.some((t) => !shapeEquals(t.shape, s))) throw new Error('Pack inputs must have equal shapes');
    const axis = normalizeAxis(attrNumber(attrs, 'axis', 0), s.length + 1);
    return [[...s.slice(0, axis), inputs.length, ...s.slice(axis)]];
  },
  runFloat: (tf, inputs, attrs) => [tf.stack(inputs, normalizeAxis(attrNumber(attrs, 'axis', 0), inputs[0].rank + 1))],
};
