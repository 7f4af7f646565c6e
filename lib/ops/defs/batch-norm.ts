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

export interface BatchNormParams { scale: Float32Array; offset: Float32Array; mean: Float32Array; variance: Float32Array; epsilon: number }

/** Per-output-channel multiplier and additive term of a BatchNorm. */
export function batchNormAffine(p: BatchNormParams): { mul: Float32Array; add: Float32Array } {
  const c = p.scale.length;
  const mul = new Float32Array(c);
  const add = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    mul[i] = p.scale[i] / Math.sqrt(p.variance[i] + p.epsilon);
    add[i] = p.offset[i] - p.mean[i] * mul[i];
  }
  return { mul, add };
}
