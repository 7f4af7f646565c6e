// Conv2DBackpropFilter for the TF.js wasm backend.
// tfjs-backend-wasm 4.22 has Conv2D and Conv2DBackpropInput but no Conv2DBackpropFilter, so
// training a conv net there fails at the first gradient. The filter gradient is a correlation
// of the input with the output gradient:
//   dW[kh,kw,ci,co] = sum_{b,oy,ox} xPadded[b, oy*sh+kh, ox*sw+kw, ci] * dy[b,oy,ox,co]
// which we compute as one matrix product per kernel tap, built only from kernels the wasm
// backend already has (PadV2, StridedSlice, Reshape, BatchMatMul, Concat), so it runs in wasm.
import * as tf from '@tensorflow/tfjs';

type KernelInputs = Record<string, tf.TensorInfo>;
type Attrs = Record<string, unknown>;

interface WasmBackendLike {
  disposeData(dataId: object): boolean;
}

function runKernel(name: string, backend: WasmBackendLike, inputs: KernelInputs, attrs: Attrs): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm Conv2DBackpropFilter: the wasm backend has no '${name}' kernel`);
  return kernel.kernelFunc({ inputs, backend: backend as never, attrs: attrs as never }) as tf.TensorInfo;
}

function conv2dBackpropFilterWasm(args: { inputs: KernelInputs; backend: unknown; attrs?: Attrs }): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, dy } = args.inputs;
  const attrs = args.attrs ?? {};
  const dataFormat = (attrs.dataFormat as string | undefined) ?? 'NHWC';
  if (dataFormat !== 'NHWC') throw new Error(`wasm Conv2DBackpropFilter: only NHWC is supported, got ${dataFormat}`);
  const filterShape = attrs.filterShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    attrs.strides as [number, number],
    1,
    attrs.pad as 'same' | 'valid' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
  const { batchSize, outHeight, outWidth, inChannels, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { top, bottom, left, right } = info.padInfo;
  const temps: tf.TensorInfo[] = [];
  const keep = (t: tf.TensorInfo): tf.TensorInfo => {
    temps.push(t);
    return t;
  };
  const rows = batchSize * outHeight * outWidth;
  const dyRows = keep(runKernel('Reshape', backend, { x: dy }, { shape: [1, rows, outChannels] }));
  const padded =
    top || bottom || left || right
      ? keep(runKernel('PadV2', backend, { x }, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 }))
      : x;
  // The wasm Concat kernel takes its inputs as an array.
  const taps: tf.TensorInfo[] = [];
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      // Input pixels seen by tap (kh,kw) for every output position.
      const window = keep(
        runKernel('StridedSlice', backend, { x: padded }, {
          begin: [0, kh, kw, 0],
          end: [batchSize, kh + (outHeight - 1) * strideHeight + 1, kw + (outWidth - 1) * strideWidth + 1, inChannels],
          strides: [1, strideHeight, strideWidth, 1],
          beginMask: 0,
          endMask: 0,
          ellipsisMask: 0,
          newAxisMask: 0,
          shrinkAxisMask: 0,
        }),
      );
      const cols = keep(runKernel('Reshape', backend, { x: window }, { shape: [1, rows, inChannels] }));
      taps.push(keep(runKernel('BatchMatMul', backend, { a: cols, b: dyRows }, { transposeA: true, transposeB: false })));
    }
  }
  const stacked = taps.length === 1 ? taps[0] : keep(runKernel('Concat', backend, taps as unknown as KernelInputs, { axis: 0 }));
  const result = runKernel('Reshape', backend, { x: stacked }, { shape: filterShape });
  for (const t of temps) backend.disposeData(t.dataId);
  return result;
}

let registered = false;

/** Registers the kernel once (no-op when the wasm backend already provides one). */
export function registerWasmConv2DBackpropFilter(): void {
  if (registered || tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    registered = true;
    return;
  }
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilterWasm as never });
  registered = true;
}
