// ExpandDims: insert a size-1 dimension at `axis`, written as RESHAPE.
import type { OpDef } from '../types.js';
import { attrNumber, normalizeAxis } from '../util.js';
import { emitReshape } from './reshape.js';

export const ExpandDims: OpDef = {
  op: 'ExpandDims',
  imports: {
    tfjsGraph: { ExpandDims: { attrs: { axis: { constInput: 1, type: 'number' } } } },
    tflite: { EXPAND_DIMS: { attrs: { axis: { constInput: 1, type: 'number' } } } },
  },
  inferShapes([x], attrs) {
    const axis = normalizeAxis(attrNumber(attrs, 'axis'), x.shape.length + 1);
    return [[...x.shape.slice(0, axis), 1, ...x.shape.slice(axis)]];
  },
  runFloat: (tf, [x], attrs) => [tf.expandDims(x, normalizeAxis(attrNumber(attrs, 'axis'), x.rank + 1))],
  quant: { rule: { output: 'same-as-input' }, outputValues: () => ({ kind: 'same-order' }), emit: emitReshape },
  builtins: { EXPAND_DIMS: { options: 'ExpandDimsOptions', kernel: { sameParams: [0] } } },
  examples: [{ name: 'ExpandDims', build: (b) => b.emit('ed', 'ExpandDims', [b.conv('c', b.input, 4)], { axis: 1 }) }],
};
