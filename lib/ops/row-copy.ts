// Stride-1 slices (Slice, StridedSlice, Split) in the float executor as row copies in JavaScript,
// in place on the wasm heap.
//
// Why: TF.js's wasm Slice kernel (also behind its StridedSlice and SplitV) first reads the whole input
// out of the heap (readSync, a copy), then copies the slice one innermost row at a time with
// `subarray` + `set`, one allocation per row, whatever the row's length: cutting a [1, 6400, 3, 85] detection-head tensor took about 20 ms per slice, an empty one
// included, so a quarter of a YOLOv5n float pass went to twelve slices. The copy below moves rows of
// the merged contiguous run in a plain loop. A copy changes no value: the 32-bit patterns move
// through Int32Array views (not through JavaScript numbers, which could quiet a NaN), so every
// activation is bit-identical to TF.js's kernel (test/ops/row-copy.test.ts).
//
// Only on the wasm backend, whose heap both sides are read in place on. The cpu backend and tfjs-node
// keep TF.js's kernels: their values would first have to be read out (a copy), and TF.js's cpu slice
// moves values through JavaScript numbers, which quiets a signalling NaN, so a bit copy could differ
// from it there. bool/string tensors keep TF.js's kernel too.
import type * as tfTypes from '@tensorflow/tfjs';
import type { Tf } from './types.js';

/** A run this long is copied with set: the subarray it takes costs less than the loop then. */
const LONG_RUN = 256;

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

/** Copies the box of `src` (laid out as `shape`) into `dst`, in row-major order. */
export function copyBox(src: Int32Array, shape: readonly number[], box: SliceBox, dst: Int32Array): void {
  if (dst.length === 0) return;
  if (shape.length === 0) {
    dst[0] = src[0];
    return;
  }
  const strides = stridesOf(shape);
  const { first, length } = contiguousRun(shape, box.size);
  const index = new Array<number>(first).fill(0); // odometer over the dimensions before the run
  let o = 0;
  for (;;) {
    let s = box.begin[first] * strides[first];
    for (let d = 0; d < first; d++) s += (box.begin[d] + index[d]) * strides[d];
    copyRun(src, s, dst, o, length);
    o += length;
    let d = first - 1;
    while (d >= 0 && ++index[d] === box.size[d]) index[d--] = 0;
    if (d < 0) return;
  }
}

/** The wasm backend's public accessor for a tensor's values in its heap (tfjs-backend-wasm's BackendWasm). */
interface HeapBackend {
  typedArrayFromHeap(t: { shape: number[]; dtype: string; dataId: object }): ArrayBufferView;
}

/** The current backend as a heap backend when it is wasm with its heap accessor, else undefined. */
function heapBackend(tf: Tf): HeapBackend | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as unknown as Partial<HeapBackend>;
  return typeof backend.typedArrayFromHeap === 'function' ? (backend as HeapBackend) : undefined;
}

/** The 32-bit patterns of a float32/int32 tensor's values in place on the wasm heap. */
function heapBits(backend: HeapBackend, t: tfTypes.Tensor): Int32Array {
  const view = backend.typedArrayFromHeap({ shape: t.shape, dtype: t.dtype, dataId: t.dataId });
  return new Int32Array(view.buffer, view.byteOffset, view.byteLength / 4);
}

/**
 * A tensor of x's box on the wasm heap: the output is allocated first (tf.fill, which fills in wasm;
 * tf.zeros builds its zeros in JavaScript and copies them in), then both sides are read in place (the views are taken after the allocation, which may grow and move the heap), so
 * nothing is copied out of the heap.
 */
function boxTensor(tf: Tf, backend: HeapBackend, x: tfTypes.Tensor, box: SliceBox): tfTypes.Tensor {
  const out = tf.fill([...box.size], 0, x.dtype);
  if (out.size > 0) copyBox(heapBits(backend, x), x.shape, box, heapBits(backend, out));
  return out;
}

/** The heap backend when the row copy serves x (float32/int32 on wasm), else undefined (TF.js's kernel). */
function rowCopier(tf: Tf, x: tfTypes.Tensor): HeapBackend | undefined {
  return x.dtype === 'float32' || x.dtype === 'int32' ? heapBackend(tf) : undefined;
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

/** Copies `length` 32-bit values; short runs in a loop, long ones with set (one subarray each). */
function copyRun(src: Int32Array, from: number, dst: Int32Array, to: number, length: number): void {
  if (length >= LONG_RUN) dst.set(src.subarray(from, from + length), to);
  else for (let k = 0; k < length; k++) dst[to + k] = src[from + k];
}

