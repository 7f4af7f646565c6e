// BatchNorm (inference): y = (x - mean) / sqrt(variance + epsilon) * scale + offset, per channel
// (last axis). Inputs [x, scale, offset, mean, variance]. Folded into the preceding conv by a pass;
// one that cannot be folded is written as a 1x1 DEPTHWISE_CONV_2D with per-channel weights
// a = scale / sqrt(variance + eps) and bias b = offset - mean * a (rank-4 NHWC inputs).
import type { ImportContext, OpDef } from '../types.js';
import type { IrNode, IrTensor } from '../../ir/graph.js';
import { attrNumber, batchNormAffine, sameShape } from '../util.js';
import { constOf, out0 } from '../emit-util.js';

/** TF.js FusedBatchNorm(V2/V3): inference graphs only. */
function importFusedBatchNorm(c: ImportContext): void {
  const format = c.attr({ attr: 'data_format', type: 'string' });
  if (format && format !== 'NHWC') throw c.error(`data_format ${String(format)} is not supported (NHWC expected)`);
  if (c.attr({ attr: 'is_training', type: 'bool' })) throw c.error('is_training=true is not supported (inference graphs only)');
  c.emit('BatchNorm', [0, 1, 2, 3, 4].map((i) => c.input(i)), { epsilon: c.attr({ attr: 'epsilon', type: 'number', default: 1e-3 }) });
}

/** Layers BatchNormalization on the last axis; missing gamma/beta are 1/0. */
function importLayersBatchNorm(c: ImportContext): void {
  const x = c.tensor(c.input(0));
  const axis = c.attr({ attr: 'axis', type: 'number', default: -1 }) as number;
  if (axis !== -1 && axis !== x.shape.length - 1) throw c.error(`axis ${axis} is not supported (channels-last only)`);
  const ch = x.shape[x.shape.length - 1];
  const filled = (suffix: string, value: number) => c.constant(`${c.name}/${suffix}`, [ch], new Float32Array(ch).fill(value));
  const gamma = c.weight!('gamma') ?? filled('gamma', 1);
  const beta = c.weight!('beta') ?? filled('beta', 0);
  const required = (suffix: string) => {
    const w = c.weight!(suffix);
    if (!w) throw c.error(`has no '${suffix}' weight`);
    return w;
  };
  c.emit('BatchNorm', [c.input(0), gamma, beta, required('moving_mean'), required('moving_variance')], {
    epsilon: c.attr({ attr: 'epsilon', type: 'number', default: 1e-3 }),
  });
}

function affineOf(node: IrNode, tensor: (name: string) => IrTensor): { a: Float32Array; b: Float32Array } {
  const c = tensor(node.inputs[0]).shape.at(-1)!;
  const [scale, offset, mean, variance] = [1, 2, 3, 4].map((i) => {
    const v = constOf(node, tensor, i);
    return v.length === 1 ? new Float32Array(c).fill(v[0]) : v;
  });
  const { mul, add } = batchNormAffine({ scale, offset, mean, variance, epsilon: attrNumber(node.attrs, 'epsilon', 1e-3) });
  return { a: mul, b: add };
}

export const BatchNorm: OpDef = {
  op: 'BatchNorm',
  imports: {
    tfjsGraph: { FusedBatchNorm: importFusedBatchNorm, FusedBatchNormV2: importFusedBatchNorm, FusedBatchNormV3: importFusedBatchNorm },
    tfjsLayers: { BatchNormalization: importLayersBatchNorm },
  },
  inferShapes: sameShape,
  runFloat(tf, [x, scale, offset, mean, variance], attrs) {
    return [tf.batchNorm(x, mean, variance, offset, scale, attrNumber(attrs, 'epsilon', 1e-3))];
  },
  quant: {
    rule: { output: 'calibrated' },
    weighted: {
      input: 0,
      weightsLabel: 'multiplier',
      weights(node, tensor) {
        const { a } = affineOf(node, tensor);
        return { data: a, shape: [1, 1, 1, a.length], axis: 3 };
      },
      bias: (node, tensor) => affineOf(node, tensor).b,
    },
    emit(ctx) {
      const { node } = ctx;
      const shape = ctx.tensorInfo(node.inputs[0]).shape;
      if (shape.length !== 4) throw new Error(`BatchNorm on a rank-${shape.length} tensor cannot be written as a depthwise conv (NHWC rank 4 expected)`);
      ctx.op('DEPTHWISE_CONV_2D', [ctx.activation(node.inputs[0]), ctx.weights(), ctx.bias()], [out0(ctx)], {
        padding: 1,
        strideW: 1,
        strideH: 1,
        depthMultiplier: 1,
        fusedActivationFunction: 0,
        dilationWFactor: 1,
        dilationHFactor: 1,
      });
    },
  },
  examples: [
    {
      name: 'BatchNorm (unfolded: a 1x1 depthwise conv)',
      weighted: true,
      build: (b) => {
        const c = b.shape(b.input)[3];
        const t = (name: string, lo: number, hi: number) => b.constant(`bn/${name}`, [c], b.uniform(c, lo, hi));
        return b.emit('bn', 'BatchNorm', [b.input, t('scale', 0.5, 2), t('offset', -0.5, 0.5), t('mean', 0.2, 0.8), t('variance', 0.05, 0.5)], { epsilon: 1e-3 });
      },
    },
  ],
};
