// Unpack (unstack) along `axis`: one output per index.
import type { ImportContext, OpDef } from '../types.js';
import { attrNumber, normalizeAxis } from '../util.js';

/** One output per index of the axis (the count comes from the input shape). */
function importUnpack(c: ImportContext): void {
  const shape = c.tensor(c.input(0)).shape;
  const axis = normalizeAxis(c.attr({ attr: 'axis', type: 'number', default: 0 }) as number, shape.length);
  c.emit('Unpack', [c.input(0)], { axis }, { outputs: Array.from({ length: shape[axis] }, (_, k) => c.output(k)) });
}

export const Unpack: OpDef = {
  op: 'Unpack',
  imports: { tfjsGraph: { Unpack: importUnpack }, tflite: { UNPACK: importUnpack } },
  inferShapes([x], attrs) {
    const axis = normalizeAxis(attrNumber(attrs, 'axis', 0), x.shape.length);
    const piece = x.shape.filter((_, i) => i !== axis);
    return Array.from({ length: x.shape[axis] }, () => [...piece]);
  },
  runFloat: (tf, [x], attrs) => tf.unstack(x, normalizeAxis(attrNumber(attrs, 'axis', 0), x.rank)),
  quant: {
    rule: { output: 'same-as-input' },
    emit(ctx) {
      const { node } = ctx;
      ctx.op('UNPACK', [ctx.activation(node.inputs[0])], node.outputs.map((o) => ctx.activation(o)), {
        num: node.outputs.length,
        axis: attrNumber(node.attrs, 'axis', 0),
      });
    },
  },
  builtins: {
    UNPACK: {
      options: 'UnpackOptions',
      version: ({ inputs: [x] }) => (x === 'int8' || x === 'uint8' ? 2 : 1),
      kernel: { sameParams: [0] },
    },
  },
  examples: [{ name: 'Unpack', build: (b) => b.emit('up', 'Unpack', [b.conv('c', b.input, 3)], { axis: 3 }, ['up:0', 'up:1', 'up:2']) }],
};
