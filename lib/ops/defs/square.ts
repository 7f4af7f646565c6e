// Square (element-wise).
import type { OpDef } from '../types.js';
import { sameShape } from '../util.js';

export const Square: OpDef = {
  op: 'Square',
  imports: { tfjsGraph: ['Square'], tflite: ['SQUARE'] },
  inferShapes: sameShape,
  runFloat: (tf, [x]) => [tf.square(x)],
};
