// Convolution gradient kernels for the TF.js wasm backend, used to train the demo detector in Node
// without tfjs-node. tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter at all (training a conv net
// fails at the first gradient) and its Conv2DBackpropInput is a slow scalar loop. Both gradients are
// rewritten here as a JS data rearrangement on the wasm heap followed by one XNNPACK-backed kernel:
//   dW[kh,kw,ci,co] = sum_{b,oy,ox} xPad[b, oy*sh+kh, ox*sw+kw, ci] * dy[b,oy,ox,co]
//     -> im2col of x, transposed to [taps*ci, rows], times dy as [rows, co] (BatchMatMul);
//   dx = valid stride-1 correlation of dy (zero-inserted by the stride, padded by k-1-pad) with the
//     spatially flipped filter whose in/out channels are swapped (Conv2D).
import * as tf from '@tensorflow/tfjs';

interface WasmBackendLike {
  disposeData(dataId: object): boolean;
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs?: Record<string, unknown> };

function runKernel(name: string, backend: WasmBackendLike, inputs: Record<string, tf.TensorInfo>, attrs: Record<string, unknown>): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm conv gradient: the wasm backend has no '${name}' kernel`);
  return kernel.kernelFunc({ inputs, backend: backend as never, attrs: attrs as never }) as tf.TensorInfo;
}

function convInfo(kernel: string, attrs: Record<string, unknown>, inputShape: number[], filterShape: number[]) {
  const dataFormat = (attrs.dataFormat as string | undefined) ?? 'NHWC';
  if (dataFormat !== 'NHWC') throw new Error(`wasm ${kernel}: only NHWC is supported, got ${dataFormat}`);
  const dilations = attrs.dilations as number | [number, number] | undefined;
  if (dilations !== undefined && dilations !== 1 && !(Array.isArray(dilations) && dilations[0] === 1 && dilations[1] === 1)) {
    throw new Error(`wasm ${kernel}: dilations are not supported, got ${JSON.stringify(dilations)}`);
  }
  return tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number],
    1,
    attrs.pad as 'same' | 'valid' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
}

function conv2dBackpropFilterWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, dy } = args.inputs;
  const filterShape = (args.attrs ?? {}).filterShape as number[];
  const info = convInfo('Conv2DBackpropFilter', args.attrs ?? {}, x.shape, filterShape);
  const { batchSize, inHeight, inWidth, outHeight, outWidth, inChannels, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  const rows = batchSize * outHeight * outWidth;
  const taps = filterHeight * filterWidth;
  // colsT[(tap*ci_n + ci), row] = xPad value seen by that tap at that output position (0 in the padding).
  const colsT = backend.makeOutput([1, taps * inChannels, rows], 'float32');
  const out = backend.typedArrayFromHeap(colsT);
  const xv = backend.typedArrayFromHeap(x); // after makeOutput: the heap may have grown
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      const tap = kh * filterWidth + kw;
      for (let ci = 0; ci < inChannels; ci++) {
        let o = (tap * inChannels + ci) * rows;
        for (let b = 0; b < batchSize; b++) {
          for (let oy = 0; oy < outHeight; oy++) {
            const iy = oy * strideHeight + kh - top;
            if (iy < 0 || iy >= inHeight) {
              out.fill(0, o, o + outWidth);
              o += outWidth;
              continue;
            }
            const rowBase = (b * inHeight + iy) * inWidth;
            for (let ox = 0; ox < outWidth; ox++, o++) {
              const ix = ox * strideWidth + kw - left;
              out[o] = ix >= 0 && ix < inWidth ? xv[(rowBase + ix) * inChannels + ci] : 0;
            }
          }
        }
      }
    }
  }
  const dyRows = runKernel('Reshape', backend, { x: dy }, { shape: [1, rows, outChannels] });
  const product = runKernel('BatchMatMul', backend, { a: colsT, b: dyRows }, { transposeA: false, transposeB: false });
  const result = runKernel('Reshape', backend, { x: product }, { shape: filterShape });
  for (const t of [colsT, dyRows, product]) backend.disposeData(t.dataId);
  return result;
}

function conv2dBackpropInputWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, filter } = args.inputs;
  const inputShape = (args.attrs ?? {}).inputShape as number[];
  const info = convInfo('Conv2DBackpropInput', args.attrs ?? {}, inputShape, filter.shape);
  const { batchSize, inHeight, inWidth, outHeight, outWidth, inChannels, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  const padH = inHeight + filterHeight - 1;
  const padW = inWidth + filterWidth - 1;
  const spread = backend.makeOutput([batchSize, padH, padW, outChannels], 'float32');
  const flipped = backend.makeOutput([filterHeight, filterWidth, outChannels, inChannels], 'float32');
  const sv = backend.typedArrayFromHeap(spread);
  const fv = backend.typedArrayFromHeap(flipped);
  const dyv = backend.typedArrayFromHeap(dy);
  const wv = backend.typedArrayFromHeap(filter);
  sv.fill(0);
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const py = filterHeight - 1 - top + oy * strideHeight;
      if (py < 0 || py >= padH) continue;
      for (let ox = 0; ox < outWidth; ox++) {
        const px = filterWidth - 1 - left + ox * strideWidth;
        if (px < 0 || px >= padW) continue;
        const src = ((b * outHeight + oy) * outWidth + ox) * outChannels;
        sv.set(dyv.subarray(src, src + outChannels), ((b * padH + py) * padW + px) * outChannels);
      }
    }
  }
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      const srcTap = ((filterHeight - 1 - kh) * filterWidth + (filterWidth - 1 - kw)) * inChannels * outChannels;
      const dstTap = (kh * filterWidth + kw) * outChannels * inChannels;
      for (let ci = 0; ci < inChannels; ci++) {
        for (let co = 0; co < outChannels; co++) fv[dstTap + co * inChannels + ci] = wv[srcTap + ci * outChannels + co];
      }
    }
  }
  const result = runKernel('Conv2D', backend, { x: spread, filter: flipped }, {
    strides: [1, 1],
    pad: 'valid',
    dataFormat: 'NHWC',
    dilations: [1, 1],
    dimRoundingMode: undefined,
  });
  backend.disposeData(spread.dataId);
  backend.disposeData(flipped.dataId);
  return result;
}

/**
 * FusedBatchNorm gradient identical to tfjs-core's except that per-channel factors are broadcast
 * instead of tiled to the full activation shape: the wasm Tile kernel is a scalar loop and was the
 * single most expensive op of a training step. Registered globally (gradients are backend-independent).
 */
function registerBroadcastBatchNormGradient(): void {
  tf.registerGradient({
    kernelName: 'FusedBatchNorm',
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs?: unknown) => {
      const g = dy as tf.Tensor;
      const { varianceEpsilon } = attrs as { varianceEpsilon: number };
      const [x, mean, variance, scale] = saved;
      const scaleValue = scale == null ? tf.scalar(1) : scale;
      const reductionAxes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
      const reduce = (t: tf.Tensor) => tf.reshape(mean.rank === 1 ? tf.sum(t, reductionAxes) : t, mean.shape);
      const xMinusMean = tf.sub(x, mean);
      const dyTimesScale = tf.mul(g, scaleValue);
      const rstd = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
      const minusHalfRCube = tf.mul(tf.mul(tf.mul(rstd, rstd), rstd), tf.scalar(-0.5));
      return {
        x: () => tf.reshape(tf.mul(tf.mul(g, rstd), scaleValue), x.shape),
        mean: () => reduce(tf.mul(tf.neg(rstd), dyTimesScale)),
        variance: () => reduce(tf.mul(tf.mul(minusHalfRCube, xMinusMean), dyTimesScale)),
        scale: () => reduce(tf.mul(g, tf.mul(xMinusMean, rstd))),
        offset: () => reduce(g),
      };
    },
  });
}

let registered = false;

/**
 * Registers, once: Conv2DBackpropFilter on wasm, a faster wasm Conv2DBackpropInput (replacing the
 * stock one) and the tile-free FusedBatchNorm gradient. Call before training on the wasm backend.
 */
export function registerWasmConvGradients(): void {
  if (registered) return;
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilterWasm as never });
  }
  if (tf.getKernel('Conv2DBackpropInput', 'wasm')) tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel({ kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: conv2dBackpropInputWasm as never });
  registerBroadcastBatchNormGradient();
  registered = true;
}
