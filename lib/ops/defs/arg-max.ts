// ArgMax along a constant axis: int32 indices, imported and run in float only (lib/ops/arg-reduce.ts
// says why); quantize such a model cut before it.
import type { OpDef } from '../types.js';
import { attrNumber } from '../util.js';
import { ARG_RUNTIME, TFJS_ARG_RULE, TFLITE_ARG_RULE, argShape, argVersion, normalizeArgAttrs } from '../arg-reduce.js';

export const ArgMax: OpDef = {
  op: 'ArgMax',
  imports: { tfjsGraph: { ArgMax: TFJS_ARG_RULE }, tflite: { ARG_MAX: TFLITE_ARG_RULE } },
  normalizeAttrs: normalizeArgAttrs,
  inferShapes: argShape,
  runFloat: (tf, [x], attrs) => [tf.argMax(x, attrNumber(attrs, 'axis'))],
  builtins: { ARG_MAX: { options: 'ArgMaxOptions', version: argVersion, runtime: ARG_RUNTIME } },
};
