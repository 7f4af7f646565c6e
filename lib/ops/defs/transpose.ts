// Transpose by `perm` (any rank in float; TFLite TRANSPOSE takes ranks up to 6).
import type { OpDef } from '../types.js';
import { attrNumbers, checkPermutation } from '../util.js';
import { out0 } from '../emit-util.js';

/** TFLite TRANSPOSE handles ranks 1 to 6 (op version 4 from rank 5, 6 from rank 6). */
const TRANSPOSE_MAX_RANK = 6;

export const Transpose: OpDef = {
  op: 'Transpose',
  imports: {
    tfjsGraph: { Transpose: { attrs: { perm: { constInput: 1 } } } },
    tflite: { TRANSPOSE: { attrs: { perm: { constInput: 1 } } } },
  },
  inferShapes([x], attrs) {
    const perm = attrNumbers(attrs, 'perm');
    checkPermutation(perm, x.shape.length);
    return [perm.map((p) => x.shape[p])];
  },
  runFloat: (tf, [x], attrs) => [tf.transpose(x, attrNumbers(attrs, 'perm'))],
  quant: {
    rule: { output: 'same-as-input' },
    // The input's values reordered: the same extremes (histograms of a reordering may differ when subsampled).
    outputValues: (node) => ({ kind: 'all-of', inputs: [node.inputs[0]], values: [] }),
    emit(ctx) {
      const perm = attrNumbers(ctx.node.attrs, 'perm');
      if (perm.length > TRANSPOSE_MAX_RANK) throw new Error(`TFLite TRANSPOSE supports at most rank ${TRANSPOSE_MAX_RANK}, got perm [${perm}]`);
      const p = ctx.int32Constant(`${ctx.node.name}/perm`, perm, [perm.length]);
      ctx.op('TRANSPOSE', [ctx.activation(ctx.node.inputs[0]), p], [out0(ctx)]);
    },
  },
  builtins: {
    TRANSPOSE: {
      options: 'TransposeOptions',
      version({ inputs: [x], inputRanks: [rank = 4] }) {
        if (rank > 6) return 8;
        if (rank > 5) return 6;
        if (x === 'int16') return 5;
        if (rank > 4) return 4;
        if (x === 'bool') return 3;
        return x === 'int8' ? 2 : 1;
      },
      runtime: ['1.6.0', '1.14.0', '1.15.0', '2.3.0', '2.4.0', '2.12.0', '2.14.4', '2.22.0'],
      kernel: { sameParams: [0] },
    },
  },
  examples: [{ name: 'Transpose', build: (b) => b.emit('tp', 'Transpose', [b.conv('c', b.input, 4)], { perm: [0, 3, 1, 2] }) }],
};
