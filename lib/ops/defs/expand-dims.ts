// ExpandDims: insert a size-1 dimension at `axis`.
import type { OpDef } from '../types.js';
import { attrNumber, normalizeAxis } from '../util.js';
import { expandDimsQuant } from '../quant-rules.js';

export const ExpandDims: OpDef = {
  op: 'ExpandDims',
  imports: { tfjsGraph: ['ExpandDims'], tflite: ['EXPAND_DIMS'] },
  quant: expandDimsQuant,
  inferShapes([x], attrs) {
    const axis = normalizeAxis(attrNumber(attrs, 'axis'), x.shape.length + 1);
    return [[...x.shape.slice(0, axis), 1, ...x.shape.slice(axis)]];
  },
  runFloat: (tf, [x], attrs) => [tf.expandDims(x, normalizeAxis(attrNumber(attrs, 'axis'), x.rank + 1))],
};
