// Split along `axis` into pieces of the given `sizes` (one output per size).
import type { OpDef } from '../types.js';
import { attrNumber, attrNumbers, normalizeAxis } from '../util.js';
import { splitQuant } from '../quant-rules.js';

export const Split: OpDef = {
  op: 'Split',
  imports: { tfjsGraph: ['Split', 'SplitV'], tflite: ['SPLIT', 'SPLIT_V'] },
  quant: splitQuant,
  inferShapes([x], attrs) {
    const axis = normalizeAxis(attrNumber(attrs, 'axis'), x.shape.length);
    const sizes = attrNumbers(attrs, 'sizes');
    if (sizes.reduce((a, b) => a + b, 0) !== x.shape[axis]) throw new Error(`Split sizes [${sizes}] do not sum to ${x.shape[axis]}`);
    return sizes.map((s) => x.shape.map((d, i) => (i === axis ? s : d)));
  },
  runFloat: (tf, [x], attrs) => tf.split(x, attrNumbers(attrs, 'sizes'), normalizeAxis(attrNumber(attrs, 'axis'), x.rank)),
};
