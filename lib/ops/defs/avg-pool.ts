// AvgPool over [h, w] windows (NHWC); SAME padding averages only the valid cells (TF and TFLite agree).
// AVERAGE_POOL_2D's integer kernels keep the input's parameters (pooling.cc), so int8 and float nodes
// are that one op with the input's parameters. In int16 that rounds a mean on its input's step, where
// the mean is often far smaller than the input's range (a squeeze-excite block's global pool: the mean
// of 256-16384 values): an int16 node's output takes its own calibrated parameters, written as MEAN
// over H, W for a global pool (its int16 kernel rescales: reduce.cc; 89 vs 70 dB for AVERAGE_POOL_2D
// on a mean of 256 values in [-8, 8]), else AVERAGE_POOL_2D on the input's step and a QUANTIZE to them.
import type { EmitContext, OpDef } from '../types.js';
import { applyActivation, attrActivation, attrNumbers, attrPadding } from '../util.js';
import { out0 } from '../emit-util.js';
import { POOL_BUILTIN, TFJS_POOL, TFLITE_POOL, importLayersPool, poolOptions, poolQuant, poolShape } from './max-pool.js';

const pool = poolQuant('AVERAGE_POOL_2D');

/** Whether every output averages the whole input plane (one output position, a window covering H x W). */
export function isGlobalPool(inputShape: readonly number[], outputShape: readonly number[], filter: readonly number[]): boolean {
  return outputShape[1] === 1 && outputShape[2] === 1 && filter[0] >= inputShape[1] && filter[1] >= inputShape[2];
}

function emitInt16(ctx: EmitContext): void {
  const { node } = ctx;
  const [xName] = node.inputs;
  const inShape = ctx.tensorInfo(xName).shape;
  const outShape = ctx.tensorInfo(node.outputs[0]).shape;
  if (attrActivation(node.attrs) === 'none' && isGlobalPool(inShape, outShape, attrNumbers(node.attrs, 'filter'))) {
    const axes = ctx.int32Constant(`${node.name}/axes`, [1, 2], [2]);
    ctx.op('MEAN', [ctx.activation(xName), axes], [out0(ctx)], { keepDims: true });
    return;
  }
  const px = ctx.params(xName);
  const po = ctx.params(node.outputs[0]);
  if (px.scale === po.scale && px.zeroPoint === po.zeroPoint) {
    pool.emit(ctx);
    return;
  }
  // The pool itself keeps the input's parameters (the kernel's requirement); the QUANTIZE moves the
  // result to the output's (finer, as the output's range lies within the input's).
  const pooled = ctx.internal(`${node.name}/pooled`, outShape, px);
  ctx.op('AVERAGE_POOL_2D', [ctx.activation(xName)], [pooled], poolOptions(node.attrs));
  ctx.op('QUANTIZE', [pooled], [out0(ctx)]);
}

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
  quant: {
    ...pool,
    int16Rule: { output: 'calibrated' },
    emit: (ctx) => (ctx.precision === 'int16' ? emitInt16(ctx) : pool.emit(ctx)),
  },
  builtins: { AVERAGE_POOL_2D: POOL_BUILTIN },
  examples: [
    { name: 'AvgPool 2x2', steps: 1, build: (b) => b.emit('ap', 'AvgPool', [b.conv('c', b.input, 4)], { filter: [2, 2], strides: [2, 2], padding: 'VALID' }) },
    {
      // A squeeze-excite pool: the mean of 64 values, written as MEAN in int16.
      name: 'AvgPool global 8x8',
      build: (b) => b.emit('ap', 'AvgPool', [b.conv('c', b.input, 4)], { filter: [8, 8], strides: [8, 8], padding: 'VALID' }),
    },
  ],
};
