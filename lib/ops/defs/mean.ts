// Mean over `axes` (normalised, sorted), optionally keeping reduced dimensions.
import type { OpDef } from '../types.js';
import { attrBool, attrNumbers, normalizeAxis } from '../util.js';
import { meanQuant } from '../quant-rules.js';

export const Mean: OpDef = {
  op: 'Mean',
  imports: { tfjsGraph: ['Mean'], tfjsLayers: ['GlobalAveragePooling2D'], tflite: ['MEAN'] },
  quant: meanQuant,
  inferShapes([x], attrs) {
    const axes = attrNumbers(attrs, 'axes').map((a) => normalizeAxis(a, x.shape.length));
    const keep = attrBool(attrs, 'keepDims');
    const out: number[] = [];
    x.shape.forEach((d, i) => {
      if (!axes.includes(i)) out.push(d);
      else if (keep) out.push(1);
    });
    return [out];
  },
  runFloat: (tf, [x], attrs) => [tf.mean(x, attrNumbers(attrs, 'axes'), attrBool(attrs, 'keepDims'))],
};
