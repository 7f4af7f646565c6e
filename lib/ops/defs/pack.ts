// Pack (stack) N equal-shape inputs along a new `axis`. Inputs and output share one set of parameters.
import type { OpDef } from '../types.js';
import { attrNumber, normalizeAxis, shapeEquals } from '../util.js';
import { operand, out0 } from '../emit-util.js';

export const Pack: OpDef = {
  op: 'Pack',
  imports: {
    tfjsGraph: { Pack: { inputs: 'all', attrs: { axis: { attr: 'axis', type: 'number', default: 0 } } } },
    tflite: { PACK: { inputs: 'all', attrs: { axis: { attr: 'axis', type: 'number', default: 0 } } } },
  },
  inferShapes(inputs, attrs) {
    const s = inputs[0].shape;
    if (inputs.some((t) => !shapeEquals(t.shape, s))) throw new Error('Pack inputs must have equal shapes');
    const axis = normalizeAxis(attrNumber(attrs, 'axis', 0), s.length + 1);
    return [[...s.slice(0, axis), inputs.length, ...s.slice(axis)]];
  },
  runFloat: (tf, inputs, attrs) => [tf.stack(inputs, normalizeAxis(attrNumber(attrs, 'axis', 0), inputs[0].rank + 1))],
  quant: {
    rule: { output: 'shared' },
    emit(ctx) {
      const { node } = ctx;
      ctx.op('PACK', node.inputs.map((i) => operand(ctx, i)), [out0(ctx)], {
        valuesCount: node.inputs.length,
        axis: attrNumber(node.attrs, 'axis', 0),
      });
    },
  },
  builtins: {
    PACK: {
      options: 'PackOptions',
      version: ({ inputs: [x], outputs: [y] }) => (x === 'int8' ? 2 : x === 'int16' && y === 'int16' ? 3 : 1),
      kernel: { sameParams: 'all' },
    },
  },
  examples: [{ name: 'Pack', build: (b) => b.emit('pk', 'Pack', [b.conv('c1', b.input, 3), b.conv('c2', b.input, 3)], { axis: 1 }) }],
};
