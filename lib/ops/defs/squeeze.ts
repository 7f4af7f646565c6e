// Squeeze the size-1 dimensions listed in `axes` (an empty list: all of them), written as RESHAPE.
import type { OpDef } from '../types.js';
import { attrNumbers, normalizeAxis } from '../util.js';
import { emitReshape } from './reshape.js';

export const Squeeze: OpDef = {
  op: 'Squeeze',
  imports: {
    tfjsGraph: { Squeeze: { attrs: { axes: { attr: 'squeeze_dims', type: 'numbers' } } } },
    tflite: { SQUEEZE: { attrs: { axes: { attr: 'squeezeDims', type: 'numbers', default: [] } } } },
  },
  normalizeAttrs([x], attrs) {
    const axes = attrNumbers(attrs, 'axes', []).map((a) => normalizeAxis(a, x.shape.length));
    return { ...attrs, axes: axes.length ? axes : x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) };
  },
  inferShapes([x], attrs) {
    const axes = attrNumbers(attrs, 'axes').map((a) => normalizeAxis(a, x.shape.length));
    for (const a of axes) if (x.shape[a] !== 1) throw new Error(`Squeeze axis ${a} of [${x.shape}] is not 1`);
    return [x.shape.filter((_, i) => !axes.includes(i))];
  },
  runFloat: (tf, [x], attrs) => [tf.squeeze(x, attrNumbers(attrs, 'axes'))],
  quant: { rule: { output: 'same-as-input' }, outputValues: () => ({ kind: 'same-order' }), emit: emitReshape },
  builtins: { SQUEEZE: { options: 'SqueezeOptions', kernel: { sameParams: [0] } } },
  examples: [
    {
      name: 'Squeeze',
      build: (b) => b.emit('sq1', 'Squeeze', [b.emit('m', 'Mean', [b.conv('c', b.input, 4)], { axes: [1], keepDims: true })[0]], { axes: [1] }),
    },
  ],
};
