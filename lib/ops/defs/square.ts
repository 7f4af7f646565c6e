// Square (element-wise).
import type { OpDef } from '../types.js';
import { sameShape } from '../util.js';
import { squareQuant } from '../quant-rules.js';

export const Square: OpDef = {
  op: 'Square',
  imports: { tfjsGraph: ['Square'], tflite: ['SQUARE'] },
  quant: squareQuant,
  inferShapes: sameShape,
  runFloat: (tf, [x]) => [tf.square(x)],
};
