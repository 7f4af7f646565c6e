// Transpose by `perm` (any rank in float; the TFLite writer accepts ranks up to 6, TRANSPOSE's limit).
import type { OpDef } from '../types.js';
import { attrNumbers, checkPermutation } from '../util.js';
import { transposeQuant } from '../quant-rules.js';

export const Transpose: OpDef = {
  op: 'Transpose',
  imports: { tfjsGraph: ['Transpose'], tflite: ['TRANSPOSE'] },
  quant: transposeQuant,
  inferShapes([x], attrs) {
    const perm = attrNumbers(attrs, 'perm');
    checkPermutation(perm, x.shape.length);
    return [perm.map((p) => x.shape[p])];
  },
  runFloat: (tf, [x], attrs) => [tf.transpose(x, attrNumbers(attrs, 'perm'))],
};
