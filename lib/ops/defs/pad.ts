// Pad with a constant; `paddings` is flat [before0, after0, before1, after1, ...].
import type { OpDef } from '../types.js';
import { attrNumber, attrNumbers } from '../util.js';
import { padQuant } from '../quant-rules.js';

export function padPairs(flat: readonly number[], rank: number): [number, number][] {
  if (flat.length !== rank * 2) throw new Error(`Pad paddings [${flat}] must have 2 entries per dimension (rank ${rank})`);
  return Array.from({ length: rank }, (_, i) => [flat[2 * i], flat[2 * i + 1]] as [number, number]);
}

export const Pad: OpDef = {
  op: 'Pad',
  imports: { tfjsGraph: ['Pad', 'PadV2'], tfjsLayers: ['ZeroPadding2D'], tflite: ['PAD', 'PADV2'] },
  quant: padQuant,
  inferShapes([x], attrs) {
    const pairs = padPairs(attrNumbers(attrs, 'paddings'), x.shape.length);
    return [x.shape.map((d, i) => d + pairs[i][0] + pairs[i][1])];
  },
  runFloat: (tf, [x], attrs) => [tf.pad(x, padPairs(attrNumbers(attrs, 'paddings'), x.rank), attrNumber(attrs, 'constantValue', 0))],
};
