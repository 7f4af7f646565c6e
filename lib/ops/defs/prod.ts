// Product over constant `axes` (normalised, sorted, unique), optionally keeping reduced dimensions.
// The int8/int16 REDUCE_PROD kernel rescales each of the n multiplications by
// input_scale / output_scale^(1/n) (reduce.cc GetQuantProdScaling), so the output is calibrated;
// int16 needs zero points 0, which 16x8 tensors have.
import type { OpDef } from '../types.js';
import { attrBool, attrNumbers } from '../util.js';
import { versionByInputType } from '../emit-util.js';
import { TFJS_REDUCE_RULE, TFLITE_REDUCE_RULE, emitReduce, normalizeReduceAttrs, reduceShape } from '../reduce.js';

export const Prod: OpDef = {
  op: 'Prod',
  imports: { tfjsGraph: { Prod: TFJS_REDUCE_RULE }, tflite: { REDUCE_PROD: TFLITE_REDUCE_RULE } },
  normalizeAttrs: normalizeReduceAttrs,
  inferShapes: reduceShape,
  runFloat: (tf, [x], attrs) => [tf.prod(x, attrNumbers(attrs, 'axes'), attrBool(attrs, 'keepDims'))],
  quant: { rule: { output: 'calibrated' }, emit: emitReduce('REDUCE_PROD') },
  builtins: { REDUCE_PROD: { options: 'ReducerOptions', version: versionByInputType({ int16: 2, int8: 2 }), runtime: ['1.11.0', '2.6.0'] } },
  examples: [{ name: 'Prod over channels', build: (b) => b.emit('prod', 'Prod', [b.conv('c', b.input, 3)], { axes: [3], keepDims: true }) }],
};
