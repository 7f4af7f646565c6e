// Sum over constant `axes` (normalised, sorted, unique), optionally keeping reduced dimensions.
// The int8 SUM kernel accumulates in int32 and rescales to the output's own parameters
// (reduce.cc QuantizedMeanOrSum), so the output is calibrated. op_version.cc gives int16 SUM no
// version of its own (older kernels' int16 path needs equal input and output parameters, under which
// a sum overflows): a file could not say which runtimes compute it, so int8 and float only (the
// LiteRT in this repository does compute a calibrated int16 SUM).
import type { OpDef } from '../types.js';
import { attrBool, attrNumbers } from '../util.js';
import { versionByInputType } from '../emit-util.js';
import { TFJS_REDUCE_RULE, TFLITE_REDUCE_RULE, emitReduce, normalizeReduceAttrs, reduceShape } from '../reduce.js';

export const Sum: OpDef = {
  op: 'Sum',
  imports: { tfjsGraph: { Sum: TFJS_REDUCE_RULE }, tflite: { SUM: TFLITE_REDUCE_RULE } },
  normalizeAttrs: normalizeReduceAttrs,
  inferShapes: reduceShape,
  runFloat: (tf, [x], attrs) => [tf.sum(x, attrNumbers(attrs, 'axes'), attrBool(attrs, 'keepDims'))],
  quant: { rule: { output: 'calibrated' }, precisions: ['int8', 'float'], emit: emitReduce('SUM') },
  builtins: { SUM: { options: 'ReducerOptions', version: versionByInputType({ int8: 2 }), runtime: ['1.10.0', '1.15.0'] } },
  examples: [
    { name: 'Sum over H, W (keep dims)', build: (b) => b.emit('sum', 'Sum', [b.conv('c', b.input, 4)], { axes: [1, 2], keepDims: true }) },
    { name: 'Sum over channels', build: (b) => b.emit('sum', 'Sum', [b.conv('c', b.input, 6)], { axes: [3], keepDims: false }) },
  ],
};
