// Stride-1 slices (Slice, StridedSlice, Split), Concat and Pad in the float executor as copies of
// contiguous runs, in place on the wasm heap.
//
// Why: TF.js's wasm Slice kernel (also behind its StridedSlice and SplitV) first reads the whole input
// out of the heap (readSync, a copy), then copies the slice one innermost row at a time with
// `subarray` + `set`, one allocation per row, whatever the row's length: cutting a [1, 6400, 3, 85]
// detection-head tensor took about 20 ms per slice, an empty one included, so a quarter of a YOLOv5n
// float pass went to twelve slices. Its wasm Concat reads in place but takes one `subarray` per input
// row too (51 200 for a channel concat of two [1, 160, 160, 16] tensors: 3.0 ms against 1.0 ms here),
// garbage the collector then sweeps. Its PadV2 took 9.2 ms to pad a [1, 640, 640, 3] input by 2
// (0.5 ms here: a fill, then 640 runs). Here the output is allocated on the heap and every run moves with
// `copyWithin` on the heap itself (a memmove: no allocation, no value passes through JavaScript, so
// the 32-bit patterns, NaN payloads included, are TF.js's kernel's: test/ops/row-copy.test.ts).
//
// Only on the wasm backend, whose heap both sides are read in place on. The cpu backend and tfjs-node
// keep TF.js's kernels: their values would first have to be read out (a copy), and TF.js's cpu kernels
// move values through JavaScript numbers, which may quiet a signalling NaN, so a bit copy could differ
// from them there. bool/string tensors keep TF.js's kernel too.
import type * as tfTypes from '@tensorflow/tfjs';
import type { Tf } from './types.js';

/** A box of a row-major array: per dimension its start and length. */
export interface SliceBox {
  begin: readonly number[];
  size: readonly number[];
}

/** Row-major strides of `shape`. */
function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/**
 * The box's innermost contiguous run: the last dimension, merged with the dimensions before it while
 * the box spans the whole of the dimension after them. Returns the first dimension of the run and the
 * run's length in elements.
 */
function contiguousRun(shape: readonly number[], size: readonly number[]): { first: number; length: number } {
  let first = shape.length - 1;
  let length = size[first];
  while (first > 0 && size[first] === shape[first]) {
    first--;
    length *= size[first];
  }
  return { first, length };
}

/**
 * Calls `visit(start, length)` for each contiguous run of the box within an array laid out as `shape`,
 * in row-major order (`start`: the run's element offset in that array).
 */
function forEachRun(shape: readonly number[], box: SliceBox, visit: (start: number, length: number) => void): void {
  if (box.size.some((n) => n === 0)) return;
  if (shape.length === 0) return visit(0, 1);
  const strides = stridesOf(shape);
  const { first, length } = contiguousRun(shape, box.size);
  const index = new Array<number>(first).fill(0); // odometer over the dimensions before the run
  for (;;) {
    let start = box.begin[first] * strides[first];
    for (let d = 0; d < first; d++) start += (box.begin[d] + index[d]) * strides[d];
    visit(start, length);
    let d = first - 1;
    while (d >= 0 && ++index[d] === box.size[d]) index[d--] = 0;
    if (d < 0) return;
  }
}

/**
 * Copies the box of the array at element `src` of `heap` (laid out as `shape`) to element `dst` of
 * the same heap, in row-major order, one contiguous run at a time.
 */
export function copyBox(heap: Int32Array, src: number, shape: readonly number[], box: SliceBox, dst: number): void {
  let to = dst;
  forEachRun(shape, box, (start, length) => {
    heap.copyWithin(to, src + start, src + start + length);
    to += length;
  });
}

/** The inverse of copyBox: the values at `src` (row-major, the box's shape) into the box of the array at `dst`. */
export function placeBox(heap: Int32Array, src: number, shape: readonly number[], box: SliceBox, dst: number): void {
  let from = src;
  forEachRun(shape, box, (start, length) => {
    heap.copyWithin(dst + start, from, from + length);
    from += length;
  });
}

/** The wasm backend's accessors used here (public methods of tfjs-backend-wasm's BackendWasm). */
interface HeapBackend {
  typedArrayFromHeap(t: { shape: number[]; dtype: string; dataId: object }): ArrayBufferView;
  /** Allocates an output on the heap without writing it (what its kernels use). */
  makeOutput?(shape: number[], dtype: string): tfTypes.TensorInfo;
}

/** The current backend as a heap backend when it is wasm with its heap accessor, else undefined. */
function heapBackend(tf: Tf): HeapBackend | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as unknown as Partial<HeapBackend>;
  return typeof backend.typedArrayFromHeap === 'function' ? (backend as HeapBackend) : undefined;
}

/** The heap backend when the row copy serves x (float32/int32 on wasm), else undefined (TF.js's kernel). */
function rowCopier(tf: Tf, x: tfTypes.Tensor): HeapBackend | undefined {
  return x.dtype === 'float32' || x.dtype === 'int32' ? heapBackend(tf) : undefined;
}

/**
 * A new tensor on the heap whose values the caller writes: allocated as TF.js's own wasm kernels
 * allocate their outputs (no fill), else with tf.fill (which fills in the heap; tf.zeros would build
 * its zeros in JavaScript and copy them in).
 */
function heapOutput(tf: Tf, backend: HeapBackend, shape: number[], dtype: tfTypes.DataType): tfTypes.Tensor {
  const engine = tf.engine() as unknown as Partial<{ makeTensorFromTensorInfo(info: tfTypes.TensorInfo): tfTypes.Tensor }>;
  const size = shape.reduce((a, b) => a * b, 1);
  if (size === 0 || typeof backend.makeOutput !== 'function' || typeof engine.makeTensorFromTensorInfo !== 'function') return tf.fill(shape, 0, dtype);
  return engine.makeTensorFromTensorInfo(backend.makeOutput(shape, dtype));
}

/**
 * The heap as 32-bit words and a tensor's element offset in it. Taken after every allocation of the
 * operation (an allocation may grow the heap, which moves it).
 */
function heapWords(backend: HeapBackend, t: tfTypes.Tensor): { heap: Int32Array; offset: number } {
  const view = backend.typedArrayFromHeap({ shape: t.shape, dtype: t.dtype, dataId: t.dataId });
  return { heap: new Int32Array(view.buffer), offset: view.byteOffset / 4 };
}

/** A tensor of x's box, copied in place on the heap. */
function boxTensor(tf: Tf, backend: HeapBackend, x: tfTypes.Tensor, box: SliceBox): tfTypes.Tensor {
  const out = heapOutput(tf, backend, [...box.size], x.dtype);
  if (out.size === 0) return out;
  const dst = heapWords(backend, out);
  copyBox(dst.heap, heapWords(backend, x).offset, x.shape, box, dst.offset);
  return out;
}

/** `x[begin : begin + size]` (stride 1, sizes resolved), bit-identical to tf.slice. */
export function sliceByRows(tf: Tf, x: tfTypes.Tensor, box: SliceBox): tfTypes.Tensor {
  const backend = rowCopier(tf, x);
  return backend ? boxTensor(tf, backend, x, box) : tf.slice(x, [...box.begin], [...box.size]);
}

/** tf.split(x, sizes, axis) by row copies (sizes resolved, summing to the axis length). */
export function splitByRows(tf: Tf, x: tfTypes.Tensor, sizes: readonly number[], axis: number): tfTypes.Tensor[] {
  const backend = rowCopier(tf, x);
  if (!backend) return tf.split(x, [...sizes], axis);
  let start = 0;
  return sizes.map((n) => {
    const begin = x.shape.map((_, d) => (d === axis ? start : 0));
    const size = x.shape.map((dim, d) => (d === axis ? n : dim));
    start += n;
    return boxTensor(tf, backend, x, { begin, size });
  });
}

/**
 * tf.pad(x, pairs, value) for float32 x: the output filled with the pad value (through a Float32Array
 * view, as TF.js's kernel stores the value as float32), then x placed in it run by run.
 */
export function padByRows(tf: Tf, x: tfTypes.Tensor, pairs: [number, number][], value: number): tfTypes.Tensor {
  const backend = x.dtype === 'float32' && pairs.every(([a, b]) => a >= 0 && b >= 0) ? rowCopier(tf, x) : undefined;
  if (!backend) return tf.pad(x, pairs, value);
  const shape = x.shape.map((d, i) => d + pairs[i][0] + pairs[i][1]);
  const out = heapOutput(tf, backend, shape, 'float32');
  if (out.size === 0) return out;
  const { heap, offset } = heapWords(backend, out);
  // -0 pads as +0, as TF.js's wasm PadV2 writes it (test/ops/row-copy.test.ts compares the bits).
  new Float32Array(heap.buffer, offset * 4, out.size).fill(value === 0 ? 0 : value);
  placeBox(heap, heapWords(backend, x).offset, shape, { begin: pairs.map(([before]) => before), size: x.shape }, offset);
  return out;
}

/** tf.concat(inputs, axis) by row copies (axis >= 0, shapes checked by the caller), bit-identical to it. */
export function concatByRows(tf: Tf, inputs: tfTypes.Tensor[], axis: number): tfTypes.Tensor {
  const backend = inputs.every((t) => t.dtype === inputs[0].dtype) ? rowCopier(tf, inputs[0]) : undefined;
  if (!backend) return tf.concat(inputs, axis);
  const shape = [...inputs[0].shape];
  shape[axis] = inputs.reduce((sum, t) => sum + t.shape[axis], 0);
  const out = heapOutput(tf, backend, shape, inputs[0].dtype);
  if (out.size === 0) return out;
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const row = out.size / outer; // output values per outer index
  const { heap, offset } = heapWords(backend, out);
  let start = offset;
  for (const t of inputs) {
    const inner = t.size / outer; // this input's values per outer index
    const from = heapWords(backend, t).offset;
    for (let b = 0; b < outer; b++) heap.copyWithin(start + b * row, from + b * inner, from + (b + 1) * inner);
    start += inner;
  }
  return out;
}
