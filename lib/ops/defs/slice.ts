// Slice with a resolved `begin` and `size` per dimension (importers replace size -1).
import type { OpDef } from '../types.js';
import { attrNumbers } from '../util.js';
import { sliceQuant } from '../quant-rules.js';

export const Slice: OpDef = {
  op: 'Slice',
  imports: { tfjsGraph: ['Slice'], tflite: ['SLICE'] },
  quant: sliceQuant,
  inferShapes([x], attrs) {
    const begin = attrNumbers(attrs, 'begin');
    const size = attrNumbers(attrs, 'size');
    x.shape.forEach((d, i) => {
      if (begin[i] < 0 || size[i] < 0 || begin[i] + size[i] > d) throw new Error(`Slice begin [${begin}] size [${size}] out of range for [${x.shape}]`);
    });
    return [[...size]];
  },
  runFloat: (tf, [x], attrs) => [tf.slice(x, attrNumbers(attrs, 'begin'), attrNumbers(attrs, 'size'))],
};
