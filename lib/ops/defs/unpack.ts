// Unpack (unstack) along `axis`: one output per index.
import type { OpDef } from '../types.js';
import { attrNumber, normalizeAxis } from '../util.js';
import { unpackQuant } from '../quant-rules.js';

export const Unpack: OpDef = {
  op: 'Unpack',
  imports: { tfjsGraph: ['Unpack'], tflite: ['UNPACK'] },
  quant: unpackQuant,
  inferShapes([x], attrs) {
    const axis = normalizeAxis(attrNumber(attrs, 'axis', 0), x.shape.length);
    const piece = x.shape.filter((_, i) => i !== axis);
    return Array.from({ length: x.shape[axis] }, () => [...piece]);
  },
  runFloat: (tf, [x], attrs) => tf.unstack(x, normalizeAxis(attrNumber(attrs, 'axis', 0), x.rank)),
};
