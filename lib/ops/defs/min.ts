// Min over constant `axes` (normalised, sorted, unique), optionally keeping reduced dimensions.
// Like REDUCE_MAX, the int8/int16 REDUCE_MIN kernel needs the input's parameters on its output.
import type { OpDef } from '../types.js';
import { attrBool, attrNumbers } from '../util.js';
import { versionByInputType } from '../emit-util.js';
import { TFJS_REDUCE_RULE, TFLITE_REDUCE_RULE, emitReduce, normalizeReduceAttrs, reduceShape } from '../reduce.js';

export const Min: OpDef = {
  op: 'Min',
  imports: { tfjsGraph: { Min: TFJS_REDUCE_RULE }, tflite: { REDUCE_MIN: TFLITE_REDUCE_RULE } },
  normalizeAttrs: normalizeReduceAttrs,
  inferShapes: reduceShape,
  runFloat: (tf, [x], attrs) => [tf.min(x, attrNumbers(attrs, 'axes'), attrBool(attrs, 'keepDims'))],
  quant: { rule: { output: 'same-as-input' }, emit: emitReduce('REDUCE_MIN') },
  builtins: {
    REDUCE_MIN: { options: 'ReducerOptions', version: versionByInputType({ int16: 3, int8: 2 }), runtime: ['1.11.0', '1.14.0', '2.5.0'], kernel: { sameParams: [0] } },
  },
  examples: [{ name: 'Min over W, C', build: (b) => b.emit('min', 'Min', [b.conv('c', b.input, 4)], { axes: [2, 3], keepDims: false }) }],
};
