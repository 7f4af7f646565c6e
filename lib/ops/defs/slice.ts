// Slice with `begin` and `size` per dimension (a size of -1 means "to the end").
import type { OpDef, ImportRule } from '../types.js';
import { attrNumbers } from '../util.js';
import { out0 } from '../emit-util.js';
import { sliceByRows } from '../row-copy.js';

const RULE: ImportRule = { attrs: { begin: { constInput: 1 }, size: { constInput: 2 } } };

export const Slice: OpDef = {
  op: 'Slice',
  imports: { tfjsGraph: { Slice: RULE }, tflite: { SLICE: RULE } },
  normalizeAttrs([x], attrs) {
    const begin = attrNumbers(attrs, 'begin');
    return { ...attrs, size: attrNumbers(attrs, 'size').map((s, i) => (s === -1 ? x.shape[i] - begin[i] : s)) };
  },
  inferShapes([x], attrs) {
    const begin = attrNumbers(attrs, 'begin');
    const size = attrNumbers(attrs, 'size');
    x.shape.forEach((d, i) => {
      if (begin[i] < 0 || size[i] < 0 || begin[i] + size[i] > d) throw new Error(`Slice begin [${begin}] size [${size}] out of range for [${x.shape}]`);
    });
    return [[...size]];
  },
  runFloat: (tf, [x], attrs) => [sliceByRows(tf, x, { begin: attrNumbers(attrs, 'begin'), size: attrNumbers(attrs, 'size') })],
  quant: {
    rule: { output: 'same-as-input' },
    emit(ctx) {
      const { node } = ctx;
      const begin = attrNumbers(node.attrs, 'begin');
      const size = attrNumbers(node.attrs, 'size');
      ctx.op(
        'SLICE',
        [
          ctx.activation(node.inputs[0]),
          ctx.int32Constant(`${node.name}/begin`, begin, [begin.length]),
          ctx.int32Constant(`${node.name}/size`, size, [size.length]),
        ],
        [out0(ctx)],
      );
    },
  },
  builtins: {
    SLICE: {
      options: 'SliceOptions',
      version: ({ inputs: [x], inputRanks: [rank = 4] }) => (rank > 4 ? 5 : x === 'int16' ? 4 : x === 'int8' ? 2 : 1),
      runtime: ['1.14.0', '1.14.0', '1.14.0', '2.4.0', '2.5.0', '2.14.0', '2.21.0'],
      kernel: { sameParams: [0] },
    },
  },
  examples: [{ name: 'Slice', build: (b) => b.emit('sl', 'Slice', [b.conv('c', b.input, 4)], { begin: [0, 1, 2, 1], size: [1, 5, 4, 2] }) }],
};
