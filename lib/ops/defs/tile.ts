// Tile by constant `multiples` (one per dimension): out shape x.shape[i] * multiples[i]. Copies
// values, so the output keeps the input's parameters. TFLite's TILE takes int8 from version 3;
// op_version.cc gives int16 no version: int8 and float only.
import type { OpDef } from '../types.js';
import { attrNumbers } from '../util.js';
import { out0, versionByInputType } from '../emit-util.js';

export const Tile: OpDef = {
  op: 'Tile',
  imports: {
    tfjsGraph: { Tile: { attrs: { multiples: { constInput: 1 } } } },
    tflite: { TILE: { attrs: { multiples: { constInput: 1 } } } },
  },
  inferShapes([x], attrs) {
    const m = attrNumbers(attrs, 'multiples');
    if (m.length !== x.shape.length || m.some((k) => !Number.isInteger(k) || k < 0)) throw new Error(`multiples [${m}] do not fit [${x.shape}]`);
    return [x.shape.map((d, i) => d * m[i])];
  },
  runFloat: (tf, [x], attrs) => [tf.tile(x, attrNumbers(attrs, 'multiples'))],
  quant: {
    rule: { output: 'same-as-input' },
    precisions: ['int8', 'float'],
    emit(ctx) {
      const m = attrNumbers(ctx.node.attrs, 'multiples');
      ctx.op('TILE', [ctx.activation(ctx.node.inputs[0]), ctx.int32Constant(`${ctx.node.name}/multiples`, m, [m.length])], [out0(ctx)]);
    },
  },
  builtins: {
    TILE: { options: 'TileOptions', version: versionByInputType({ int8: 3, string: 2 }), runtime: ['1.10.1', '2.2.0', '2.8.0', '2.12.0'], kernel: { sameParams: [0] } },
  },
  examples: [{ name: 'Tile', build: (b) => b.emit('tile', 'Tile', [b.conv('c', b.input, 3)], { multiples: [1, 2, 1, 3] }) }],
};
