// Split along `axis` into pieces of the given `sizes` (one output per size), written as SPLIT_V.
import type { ImportContext, OpDef } from '../types.js';
import { attrNumber, attrNumbers, normalizeAxis } from '../util.js';
import { splitByRows } from '../row-copy.js';

/** Output names of a multi-output source op. */
const outputsOf = (c: ImportContext, n: number) => Array.from({ length: n }, (_, k) => c.output(k));

/** Split into `n` equal pieces (n from attribute `countAttr`): TF.js Split (axis, x), TFLite SPLIT (axis, x). */
function importEvenSplit(countAttr: string) {
  return (c: ImportContext): void => {
    const x = c.input(1);
    const shape = c.tensor(x).shape;
    const axis = normalizeAxis(c.constValues(0)[0], shape.length);
    const n = c.attr({ attr: countAttr, type: 'number', default: 1 }) as number;
    if (!(Number.isInteger(n) && n >= 1) || shape[axis] % n !== 0) throw c.error(`dimension ${shape[axis]} does not split into ${n}`);
    c.emit('Split', [x], { axis, sizes: Array(n).fill(shape[axis] / n) }, { outputs: outputsOf(c, n) });
  };
}

/** Split into given sizes (one may be -1): TF.js SplitV and TFLite SPLIT_V (x, sizes, axis). */
function importSplitV(c: ImportContext): void {
  const x = c.input(0);
  const shape = c.tensor(x).shape;
  const axis = normalizeAxis(c.constValues(2)[0], shape.length);
  const sizes = c.constValues(1);
  const known = sizes.filter((s) => s !== -1).reduce((a, b) => a + b, 0);
  const resolved = sizes.map((s) => (s === -1 ? shape[axis] - known : s));
  c.emit('Split', [x], { axis, sizes: resolved }, { outputs: outputsOf(c, resolved.length) });
}

export const Split: OpDef = {
  op: 'Split',
  imports: {
    tfjsGraph: { Split: importEvenSplit('num_split'), SplitV: importSplitV },
    tflite: { SPLIT: importEvenSplit('numSplits'), SPLIT_V: importSplitV },
  },
  inferShapes([x], attrs) {
    const axis = normalizeAxis(attrNumber(attrs, 'axis'), x.shape.length);
    const sizes = attrNumbers(attrs, 'sizes');
    if (sizes.reduce((a, b) => a + b, 0) !== x.shape[axis]) throw new Error(`Split sizes [${sizes}] do not sum to ${x.shape[axis]}`);
    return sizes.map((s) => x.shape.map((d, i) => (i === axis ? s : d)));
  },
  runFloat: (tf, [x], attrs) => splitByRows(tf, x, attrNumbers(attrs, 'sizes'), normalizeAxis(attrNumber(attrs, 'axis'), x.rank)),
  quant: {
    rule: { output: 'same-as-input' },
    emit(ctx) {
      const { node } = ctx;
      const rank = ctx.tensorInfo(node.inputs[0]).shape.length;
      const axis = normalizeAxis(attrNumber(node.attrs, 'axis'), rank);
      const sizes = attrNumbers(node.attrs, 'sizes');
      const s = ctx.int32Constant(`${node.name}/sizes`, sizes, [sizes.length]);
      const ax = ctx.int32Constant(`${node.name}/axis`, [axis], []);
      ctx.op('SPLIT_V', [ctx.activation(node.inputs[0]), s, ax], node.outputs.map((o) => ctx.activation(o)), { numSplits: sizes.length });
    },
  },
  builtins: {
    SPLIT: {
      options: 'SplitOptions',
      version: ({ inputs: [, x] }) => (x === 'int16' ? 4 : x === 'int32' ? 3 : x === 'int8' ? 2 : 1),
      runtime: ['1.5.0', '1.14.0', '1.14.0', '2.3.0'],
      kernel: { sameParams: [1] },
    },
    SPLIT_V: {
      options: 'SplitVOptions',
      version: ({ inputs: [x] }) => (x === 'int8' ? 2 : 1),
      runtime: ['1.13.1', '2.3.0'],
      kernel: { sameParams: [0] },
    },
  },
  examples: [{ name: 'Split', build: (b) => b.emit('sp', 'Split', [b.conv('c', b.input, 5)], { axis: 3, sizes: [2, 3] }, ['sp:0', 'sp:1']) }],
};
