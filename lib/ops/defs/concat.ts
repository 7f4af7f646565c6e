// Concat along `axis` (normalised to >= 0 at import), optional fused activation.
import type { OpDef } from '../types.js';
import { applyActivation, attrActivation, attrNumber, normalizeAxis } from '../util.js';
import { concatQuant } from '../quant-rules.js';

export const Concat: OpDef = {
  op: 'Concat',
  imports: { tfjsGraph: ['ConcatV2', 'Concat'], tfjsLayers: ['Concatenate'], tflite: ['CONCATENATION'] },
  quant: concatQuant,
  fusableActivation: true,
  inferShapes(inputs, attrs) {
    const rank = inputs[0].shape.length;
    const axis = normalizeAxis(attrNumber(attrs, 'axis'), rank);
    const out = [...inputs[0].shape];
    out[axis] = 0;
    for (const t of inputs) {
      if (t.shape.length !== rank || t.shape.some((d, i) => i !== axis && d !== inputs[0].shape[i])) {
        throw new Error(`Concat inputs [${inputs.map((x) => `[${x.shape}]`).join(', ')}] differ outside axis ${axis}`);
      }
      out[axis] += t.shape[axis];
    }
    return [out];
  },
  runFloat(tf, inputs, attrs) {
    const axis = normalizeAxis(attrNumber(attrs, 'axis'), inputs[0].rank);
    return [applyActivation(tf, tf.concat(inputs, axis), attrActivation(attrs))];
  },
};
