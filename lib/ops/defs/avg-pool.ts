// AvgPool over [h, w] windows (NHWC); SAME padding averages only the valid cells (TF and TFLite agree).
import type { OpDef } from '../types.js';
import { applyActivation, attrActivation, attrNumbers, attrPadding } from '../util.js';
import { poolShape } from './max-pool.js';
import { avgPoolQuant } from '../quant-rules.js';

export const AvgPool: OpDef = {
  op: 'AvgPool',
  imports: { tfjsGraph: ['AvgPool'], tfjsLayers: ['AveragePooling2D'], tflite: ['AVERAGE_POOL_2D'] },
  quant: avgPoolQuant,
  fusableActivation: true,
  inferShapes: poolShape,
  runFloat(tf, [x], attrs) {
    const [fh, fw] = attrNumbers(attrs, 'filter');
    const [sh, sw] = attrNumbers(attrs, 'strides', [1, 1]);
    const y = tf.avgPool(x as import('@tensorflow/tfjs').Tensor4D, [fh, fw], [sh, sw], attrPadding(attrs) === 'SAME' ? 'same' : 'valid');
    return [applyActivation(tf, y, attrActivation(attrs))];
  },
};
