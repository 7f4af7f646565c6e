// ArgMin along a constant axis: int32 indices, imported and run in float only (lib/ops/arg-reduce.ts
// says why); quantize such a model cut before it.
import type { OpDef } from '../types.js';
import { attrNumber } from '../util.js';
import { ARG_RUNTIME, TFJS_ARG_RULE, TFLITE_ARG_RULE, argShape, argVersion, normalizeArgAttrs } from '../arg-reduce.js';

export const ArgMin: OpDef = {
  op: 'ArgMin',
  imports: { tfjsGraph: { ArgMin: TFJS_ARG_RULE }, tflite: { ARG_MIN: TFLITE_ARG_RULE } },
  normalizeAttrs: normalizeArgAttrs,
  inferShapes: argShape,
  runFloat: (tf, [x], attrs) => [tf.argMin(x, attrNumber(attrs, 'axis'))],
  builtins: { ARG_MIN: { options: 'ArgMinOptions', version: argVersion, runtime: ARG_RUNTIME } },
};
