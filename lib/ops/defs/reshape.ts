// Reshape to a fully known static `shape` (importers resolve -1).
import type { OpDef } from '../types.js';
import { attrNumbers } from '../util.js';
import { elementCount } from '../../ir/graph.js';
import { reshapeQuant } from '../quant-rules.js';

/** Resolves one -1 in a target shape against an element count. */
export function resolveReshape(inputShape: readonly number[], target: readonly number[]): number[] {
  const n = elementCount(inputShape);
  const known = target.filter((d) => d !== -1);
  const unknown = target.length - known.length;
  if (unknown > 1) throw new Error(`Reshape target [${target}] has more than one -1`);
  const k = elementCount(known);
  const out = target.map((d) => (d === -1 ? n / k : d));
  if (elementCount(out) !== n || out.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`cannot reshape [${inputShape}] (${n} elements) to [${target}]`);
  }
  return out;
}

export const Reshape: OpDef = {
  op: 'Reshape',
  imports: { tfjsGraph: ['Reshape'], tfjsLayers: ['Reshape', 'Flatten'], tflite: ['RESHAPE'] },
  quant: reshapeQuant,
  inferShapes: ([x], attrs) => [resolveReshape(x.shape, attrNumbers(attrs, 'shape'))],
  runFloat: (tf, [x], attrs) => [tf.reshape(x, resolveReshape(x.shape, attrNumbers(attrs, 'shape')))],
};
