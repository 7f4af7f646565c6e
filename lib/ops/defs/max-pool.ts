// MaxPool over [h, w] windows (NHWC).
import type { OpDef } from '../types.js';
import { applyActivation, attrActivation, attrNumbers, attrPadding, windowOutputSize } from '../util.js';
import type { IrTensor } from '../../ir/graph.js';
import type { Attrs } from '../types.js';
import { maxPoolQuant } from '../quant-rules.js';

export function poolShape([x]: IrTensor[], attrs: Attrs): number[][] {
  const [fh, fw] = attrNumbers(attrs, 'filter');
  const [sh, sw] = attrNumbers(attrs, 'strides', [1, 1]);
  const padding = attrPadding(attrs);
  if (x.shape.length !== 4) throw new Error(`pooling input must be rank 4 NHWC, got [${x.shape}]`);
  return [[x.shape[0], windowOutputSize(x.shape[1], fh, sh, 1, padding), windowOutputSize(x.shape[2], fw, sw, 1, padding), x.shape[3]]];
}

export const MaxPool: OpDef = {
  op: 'MaxPool',
  imports: { tfjsGraph: ['MaxPool'], tfjsLayers: ['MaxPooling2D'], tflite: ['MAX_POOL_2D'] },
  quant: maxPoolQuant,
  fusableActivation: true,
  inferShapes: poolShape,
  runFloat(tf, [x], attrs) {
    const [fh, fw] = attrNumbers(attrs, 'filter');
    const [sh, sw] = attrNumbers(attrs, 'strides', [1, 1]);
    const y = tf.maxPool(x as import('@tensorflow/tfjs').Tensor4D, [fh, fw], [sh, sw], attrPadding(attrs) === 'SAME' ? 'same' : 'valid');
    return [applyActivation(tf, y, attrActivation(attrs))];
  },
};
