// BatchNorm (inference): y = (x - mean) / sqrt(variance + epsilon) * scale + offset, per channel
// (last axis). Inputs [x, scale, offset, mean, variance]. Folded into the preceding conv by a pass.
import type { OpDef } from '../types.js';
import { attrNumber, sameShape } from '../util.js';
import { batchNormQuant } from '../quant-rules.js';

export const BatchNorm: OpDef = {
  op: 'BatchNorm',
  imports: {
    tfjsGraph: ['FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3'],
    tfjsLayers: ['BatchNormalization'],
  },
  quant: batchNormQuant,
  inferShapes: sameShape,
  runFloat(tf, [x, scale, offset, mean, variance], attrs) {
    return [tf.batchNorm(x, mean, variance, offset, scale, attrNumber(attrs, 'epsilon', 1e-3))];
  },
};
