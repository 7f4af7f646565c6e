// Max over constant `axes` (normalised, sorted, unique), optionally keeping reduced dimensions.
// The int8/int16 REDUCE_MAX kernel compares stored integers, so it needs the output's parameters to
// equal the input's (reduce.cc EvalType; quantization_spec.md): the output keeps them.
import type { OpDef } from '../types.js';
import { attrBool, attrNumbers } from '../util.js';
import { versionByInputType } from '../emit-util.js';
import { TFJS_REDUCE_RULE, TFLITE_REDUCE_RULE, emitReduce, normalizeReduceAttrs, reduceShape } from '../reduce.js';

export const Max: OpDef = {
  op: 'Max',
  imports: {
    tfjsGraph: { Max: TFJS_REDUCE_RULE },
    tfjsLayers: { GlobalMaxPooling2D: { nhwc: true, attrs: { axes: { value: [1, 2] }, keepDims: { attr: 'keepDims', type: 'bool' } } } },
    tflite: { REDUCE_MAX: TFLITE_REDUCE_RULE },
  },
  normalizeAttrs: normalizeReduceAttrs,
  inferShapes: reduceShape,
  runFloat: (tf, [x], attrs) => [tf.max(x, attrNumbers(attrs, 'axes'), attrBool(attrs, 'keepDims'))],
  quant: { rule: { output: 'same-as-input' }, emit: emitReduce('REDUCE_MAX') },
  builtins: {
    REDUCE_MAX: { options: 'ReducerOptions', version: versionByInputType({ int16: 3, int8: 2 }), runtime: ['1.11.0', '1.14.0', '2.5.0'], kernel: { sameParams: [0] } },
  },
  examples: [
    { name: 'Max over H, W (keep dims)', build: (b) => b.emit('max', 'Max', [b.conv('c', b.input, 4)], { axes: [1, 2], keepDims: true }) },
    { name: 'Max over channels', build: (b) => b.emit('max', 'Max', [b.conv('c', b.input, 5)], { axes: [-1], keepDims: false }) },
  ],
};
