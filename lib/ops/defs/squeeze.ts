// Squeeze the size-1 dimensions listed in `axes` (importers resolve an empty list to all of them).
import type { OpDef } from '../types.js';
import { attrNumbers, normalizeAxis } from '../util.js';
import { squeezeQuant } from '../quant-rules.js';

export const Squeeze: OpDef = {
  op: 'Squeeze',
  imports: { tfjsGraph: ['Squeeze'], tflite: ['SQUEEZE'] },
  quant: squeezeQuant,
  inferShapes([x], attrs) {
    const axes = attrNumbers(attrs, 'axes').map((a) => normalizeAxis(a, x.shape.length));
    for (const a of axes) if (x.shape[a] !== 1) throw new Error(`Squeeze axis ${a} of [${x.shape}] is not 1`);
    return [x.shape.filter((_, i) => !axes.includes(i))];
  },
  runFloat: (tf, [x], attrs) => [tf.squeeze(x, attrNumbers(attrs, 'axes'))],
};
