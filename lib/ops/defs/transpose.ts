// Transpose by `perm`.
import type { OpDef } from '../types.js';
import { attrNumbers } from '../util.js';
import { transposeQuant } from '../../quantize/op-quant.js';

export const Transpose: OpDef = {
  op: 'Transpose',
  imports: { tfjsGraph: ['Transpose'], tflite: ['TRANSPOSE'] },
  quant: transposeQuant,
  inferShapes([x], attrs) {
    const perm = attrNumbers(attrs, 'perm');
    if (perm.length !== x.shape.length) throw new Error(`Transpose perm [${perm}] does not match rank ${x.shape.length}`);
    return [perm.map((p) => x.shape[p])];
  },
  runFloat: (tf, [x], attrs) => [tf.transpose(x, attrNumbers(attrs, 'perm'))],
};
