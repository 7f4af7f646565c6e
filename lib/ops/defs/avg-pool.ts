// AvgPool over [h, w] windows (NHWC); SAME padding averages only the valid cells (TF and TFLite agree).
import type { OpDef } from '../types.js';
import { applyActivation, attrActivation, attrNumbers, attrPadding } from '../util.js';
import { POOL_BUILTIN, TFJS_POOL, TFLITE_POOL, importLayersPool, poolQuant, poolShape } from './max-pool.js';

export const AvgPool: OpDef = {
  op: 'AvgPool',
  imports: {
    tfjsGraph: { AvgPool: TFJS_POOL },
    tfjsLayers: { AveragePooling2D: importLayersPool('AvgPool') },
    tflite: { AVERAGE_POOL_2D: TFLITE_POOL },
  },
  fusableActivation: true,
  inferShapes: poolShape,
  runFloat(tf, [x], attrs) {
    const [fh, fw] = attrNumbers(attrs, 'filter');
    const [sh, sw] = attrNumbers(attrs, 'strides', [1, 1]);
    const y = tf.avgPool(x as import('@tensorflow/tfjs').Tensor4D, [fh, fw], [sh, sw], attrPadding(attrs) === 'SAME' ? 'same' : 'valid');
    return [applyActivation(tf, y, attrActivation(attrs))];
  },
  quant: poolQuant('AVERAGE_POOL_2D'),
  builtins: { AVERAGE_POOL_2D: POOL_BUILTIN },
  examples: [{ name: 'AvgPool 2x2', steps: 1, build: (b) => b.emit('ap', 'AvgPool', [b.conv('c', b.input, 4)], { filter: [2, 2], strides: [2, 2], padding: 'VALID' }) }],
};
