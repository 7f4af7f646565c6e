// The observers' two hot loops as a tiny WebAssembly module, written out byte by byte below (no
// toolchain, no dependency): an exact min/max scan with f32x4.min / f32x4.max (SIMD), and the
// histogram binning loop in f64 arithmetic. Both give bit-identical results to the JavaScript loops in
// observers.ts:
//   - min/max: wasm's fmin/fmax return NaN when either operand is NaN and order -0 below +0, as
//     Math.min/Math.max do; the extremes of a set of float32 values do not depend on the order they
//     are combined in, so the 4-lane reduction finds the same float32 value (promoted to f64 exactly).
//   - histogram: k = trunc((f64(v) - lo) * inv), clamped to [0, last], counts[k] += weight, element by
//     element in order: the same IEEE f64 operations in the same order as the JavaScript (the indices
//     of two values at a time in f64x2 lanes, which round exactly as scalar f64 does).
//
// The module imports its memory, so one compiled module serves two kinds of instance:
//   - on the TF.js wasm backend's own heap (the float executor hands observers views on it): the
//     min/max scan reads activations in place, no copy;
//   - on a memory of its own: histogram samples (at most maxSamplesPerObserve values) and their counts
//     are copied in, binned and copied back; arrays on any other buffer are copied there to be scanned
//     (a copy plus the SIMD scan costs less than the scalar loop; up to COPY_SCAN_LIMIT values).
// A memory can grow, which detaches the ArrayBuffers of views taken earlier: every call takes the
// view's byteOffset and the memory's current buffer at call time, and nothing holds a view between calls.

/** Bytes of a module's section: id, LEB128 size, contents. */
function section(id: number, contents: number[]): number[] {
  return [id, ...uleb(contents.length), ...contents];
}

/** Unsigned LEB128 (section and body sizes, multi-byte opcodes). */
function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** A function body: local declarations (count, type) then code, with its LEB128 size in front. */
function body(locals: [number, number][], code: number[]): number[] {
  const inner = [...uleb(locals.length), ...locals.flatMap(([n, t]) => [...uleb(n), t]), ...code, OP.end];
  return [...uleb(inner.length), ...inner];
}

const I32 = 0x7f;
const F32 = 0x7d;
const F64 = 0x7c;
const V128 = 0x7b;
const VOID = 0x40; // empty block type

const OP = {
  block: 0x02, loop: 0x03, br: 0x0c, brIf: 0x0d, end: 0x0b, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  f32Load: 0x2a, f64Load: 0x2b, f64Store: 0x39,
  i32Const: 0x41, f32Const: 0x43,
  i32GtS: 0x4a, i32LtS: 0x48, i32GeU: 0x4f,
  i32Add: 0x6a, i32Sub: 0x6b, i32And: 0x71, i32Shl: 0x74,
  f32Min: 0x96, f32Max: 0x97,
  f64Add: 0xa0, f64Sub: 0xa1, f64Mul: 0xa2, f64PromoteF32: 0xbb,
} as const;
/** i32.trunc_sat_f64_s (0xfc prefix): truncation toward zero, like `| 0` for the in-range values here. */
const I32_TRUNC_SAT_F64_S = [0xfc, 0x02];
/** SIMD instructions (0xfd prefix, LEB128 opcode). */
const V128_LOAD = [0xfd, 0x00];
const F32X4_SPLAT = [0xfd, 0x13];
const F32X4_EXTRACT_LANE = [0xfd, 0x1f]; // followed by the lane index
const F32X4_MIN = [0xfd, ...uleb(0xe8)];
const F32X4_MAX = [0xfd, ...uleb(0xe9)];
const V128_LOAD64_ZERO = [0xfd, 0x5d]; // two float32 into the low half, zeros above
const F64X2_SPLAT = [0xfd, 0x14];
const F64X2_PROMOTE_LOW_F32X4 = [0xfd, 0x5f];
const F64X2_SUB = [0xfd, ...uleb(0xf1)];
const F64X2_MUL = [0xfd, ...uleb(0xf2)];
const I32X4_TRUNC_SAT_F64X2_S_ZERO = [0xfd, ...uleb(0xfc)]; // lanes 0-1 from the f64 lanes, 2-3 zero
const I32X4_SPLAT = [0xfd, 0x11];
const I32X4_EXTRACT_LANE = [0xfd, 0x1b]; // followed by the lane index
const I32X4_MIN_S = [0xfd, ...uleb(0xb6)];
const I32X4_MAX_S = [0xfd, ...uleb(0xb8)];
const I32X4_SHL = [0xfd, ...uleb(0xab)];
const I32X4_ADD = [0xfd, ...uleb(0xae)];
/** memarg: alignment hint (log2 bytes) and offset; wasm loads do not require the alignment. */
const memarg = (alignLog2: number, offset = 0) => [alignLog2, ...uleb(offset)];
const f32Const = (v: number) => [OP.f32Const, ...new Uint8Array(new Float32Array([v]).buffer)];
const i32Const = (v: number) => [OP.i32Const, ...sleb(v)];
const get = (i: number) => [OP.localGet, i];
const set = (i: number) => [OP.localSet, i];

/** Signed LEB128 for small i32 constants. */
function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/**
 * minMax(ptr: i32, n: i32) -> (f32 min, f32 max) over the n float32 values at byte address ptr.
 * wasm's exact f32x4.min/max is a chain of several machine instructions (the NaN and -0 rules), so
 * one accumulator would wait on its own latency every step: the main loop keeps ACC independent
 * min and max accumulators over ACC vectors (4 * ACC values) per step, folded together afterwards,
 * then whole vectors, then the 0-3 values left one by one.
 * Locals: 2 end, 3 endWide, 4 end4 (byte addresses), 5.. vmin[ACC], vmax[ACC], then smin, smax.
 */
const ACC = 4;
function minMaxBody(): number[] {
  const [ptr, n, end, endWide, end4] = [0, 1, 2, 3, 4];
  const vmin = (a: number) => 5 + a;
  const vmax = (a: number) => 5 + ACC + a;
  const [smin, smax] = [5 + 2 * ACC, 6 + 2 * ACC];
  const accs = [...Array(ACC).keys()];
  const lanes = (v: number, op: number) => [0, 1, 2, 3].flatMap((l) => [...get(v), ...F32X4_EXTRACT_LANE, l, ...(l === 0 ? [] : [op])]);
  /** ptr + (n & ~(values - 1)) * 4: the end of the whole groups of `values` (a power of 2). */
  const groupEnd = (values: number) => [...get(ptr), ...get(n), ...i32Const(-values), OP.i32And, ...i32Const(2), OP.i32Shl, OP.i32Add];
  /** while (ptr < limit) { step; ptr += bytes } */
  const loop = (limit: number, bytes: number, step: number[]) => [
    OP.block, VOID, OP.loop, VOID,
    ...get(ptr), ...get(limit), OP.i32GeU, OP.brIf, 1,
    ...step,
    ...get(ptr), ...i32Const(bytes), OP.i32Add, ...set(ptr),
    OP.br, 0, OP.end, OP.end,
  ];
  const vectorStep = (a: number, offset: number) => [
    ...get(vmin(a)), ...get(ptr), ...V128_LOAD, ...memarg(2, offset), ...F32X4_MIN, ...set(vmin(a)),
    ...get(vmax(a)), ...get(ptr), ...V128_LOAD, ...memarg(2, offset), ...F32X4_MAX, ...set(vmax(a)),
  ];
  return body([[3, I32], [2 * ACC, V128], [2, F32]], [
    ...get(ptr), ...get(n), ...i32Const(2), OP.i32Shl, OP.i32Add, ...set(end),
    ...groupEnd(4 * ACC), ...set(endWide),
    ...groupEnd(4), ...set(end4),
    ...accs.flatMap((a) => [...f32Const(Infinity), ...F32X4_SPLAT, ...set(vmin(a)), ...f32Const(-Infinity), ...F32X4_SPLAT, ...set(vmax(a))]),
    ...loop(endWide, 16 * ACC, accs.flatMap((a) => vectorStep(a, 16 * a))),
    // fold the accumulators into the first, then the remaining whole vectors
    ...accs.slice(1).flatMap((a) => [
      ...get(vmin(0)), ...get(vmin(a)), ...F32X4_MIN, ...set(vmin(0)),
      ...get(vmax(0)), ...get(vmax(a)), ...F32X4_MAX, ...set(vmax(0)),
    ]),
    ...loop(end4, 16, vectorStep(0, 0)),
    // fold the 4 lanes, then the tail of 0-3 values one by one
    ...lanes(vmin(0), OP.f32Min), ...set(smin),
    ...lanes(vmax(0), OP.f32Max), ...set(smax),
    ...loop(end, 4, [
      ...get(smin), ...get(ptr), OP.f32Load, ...memarg(2), OP.f32Min, ...set(smin),
      ...get(smax), ...get(ptr), OP.f32Load, ...memarg(2), OP.f32Max, ...set(smax),
    ]),
    ...get(smin), ...get(smax),
  ]);
}

/**
 * histogram(ptr: i32, n: i32, counts: i32, lo: f64, inv: f64, last: i32, weight: f64): for each of the
 * n float32 values at ptr in order, k = trunc_sat((f64(v) - lo) * inv), k = min(k, last) else max(k, 0),
 * f64 counts[k] += weight. The bin indices of two values at a time come from f64x2 arithmetic (the
 * same IEEE operations per lane as the scalar ones); the count updates stay one by one, in order.
 * Locals: 7 end, 8 end2 (byte addresses), 9 address of counts[k], 10 two addresses (v128),
 * 11 lo, 12 inv (f64x2), 13 last, 14 counts (i32x4).
 */
function histogramBody(): number[] {
  const [ptr, n, counts, lo, inv, last, weight, end, end2, at, pair, loV, invV, lastV, countsV] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
  /** counts[k] += weight with the address of counts[k] on the stack. */
  const addWeight = [OP.localTee, at, ...get(at), OP.f64Load, ...memarg(3), ...get(weight), OP.f64Add, OP.f64Store, ...memarg(3)];
  /** The bin of each value, clamped, as counts addresses: k -> counts + 8 * clamp(k). */
  const binAddresses = [
    ...F64X2_PROMOTE_LOW_F32X4, ...get(loV), ...F64X2_SUB, ...get(invV), ...F64X2_MUL, ...I32X4_TRUNC_SAT_F64X2_S_ZERO,
    ...get(lastV), ...I32X4_MIN_S, ...i32Const(0), ...I32X4_SPLAT, ...I32X4_MAX_S,
    ...i32Const(3), ...I32X4_SHL, ...get(countsV), ...I32X4_ADD,
  ];
  return body([[3, I32], [5, V128]], [
    ...get(ptr), ...get(n), ...i32Const(2), OP.i32Shl, OP.i32Add, ...set(end),
    ...get(ptr), ...get(n), ...i32Const(-2), OP.i32And, ...i32Const(2), OP.i32Shl, OP.i32Add, ...set(end2),
    ...get(lo), ...F64X2_SPLAT, ...set(loV), ...get(inv), ...F64X2_SPLAT, ...set(invV),
    ...get(last), ...I32X4_SPLAT, ...set(lastV), ...get(counts), ...I32X4_SPLAT, ...set(countsV),
    // two values per step: both bin addresses at once, then the two updates in order
    OP.block, VOID, OP.loop, VOID,
    ...get(ptr), ...get(end2), OP.i32GeU, OP.brIf, 1,
    ...get(ptr), ...V128_LOAD64_ZERO, ...memarg(2), ...binAddresses, ...set(pair),
    ...get(pair), ...I32X4_EXTRACT_LANE, 0, ...addWeight,
    ...get(pair), ...I32X4_EXTRACT_LANE, 1, ...addWeight,
    ...get(ptr), ...i32Const(8), OP.i32Add, ...set(ptr),
    OP.br, 0, OP.end, OP.end,
    // the last value of an odd count, in scalar f64
    OP.block, VOID,
    ...get(ptr), ...get(end), OP.i32GeU, OP.brIf, 0,
    ...get(ptr), OP.f32Load, ...memarg(2), OP.f64PromoteF32, ...get(lo), OP.f64Sub, ...get(inv), OP.f64Mul,
    ...I32_TRUNC_SAT_F64_S, ...set(at),
    // k = k > last ? last : k;  k = k < 0 ? 0 : k
    ...get(last), ...get(at), ...get(at), ...get(last), OP.i32GtS, OP.select, ...set(at),
    ...i32Const(0), ...get(at), ...get(at), ...i32Const(0), OP.i32LtS, OP.select, ...set(at),
    ...get(counts), ...get(at), ...i32Const(3), OP.i32Shl, OP.i32Add, ...addWeight,
    OP.end,
  ]);
}

const name = (s: string) => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

/** The whole module: types, the imported memory, two functions, their exports, their code. */
function moduleBytes(): Uint8Array<ArrayBuffer> {
  const types = [
    2, // two function types
    0x60, 2, I32, I32, 2, F32, F32, // 0: minMax (i32 ptr, i32 n) -> (f32, f32)
    0x60, 7, I32, I32, I32, F64, F64, I32, F64, 0, // 1: histogram (...) -> ()
  ];
  const imports = [1, ...name('env'), ...name('memory'), 0x02, 0x00, 0]; // memory, limits: min 0 pages, no max
  const functions = [2, 0, 1];
  const exports = [2, ...name('minMax'), 0x00, 0, ...name('histogram'), 0x00, 1];
  const code = [2, ...minMaxBody(), ...histogramBody()];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, types), ...section(2, imports), ...section(3, functions), ...section(7, exports), ...section(10, code),
  ]);
}

interface KernelExports {
  minMax(ptr: number, n: number): [number, number];
  histogram(ptr: number, n: number, counts: number, lo: number, inv: number, last: number, weight: number): void;
}

let compiled: WebAssembly.Module | null | undefined;
/** The compiled module (compiled once: a pure function of the bytes above), or null where wasm SIMD is missing. */
function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(moduleBytes());
    } catch {
      compiled = null; // an engine without wasm SIMD or trunc_sat: the JavaScript loops do the work
    }
  }
  return compiled;
}

function instantiate(memory: WebAssembly.Memory): KernelExports {
  return new WebAssembly.Instance(kernelModule()!, { env: { memory } }).exports as unknown as KernelExports;
}

const PAGE = 65536;
/** Largest array (values) copied into the own memory to be scanned: 64 MiB of it at most. */
const COPY_SCAN_LIMIT = 1 << 24;

/**
 * The observers' kernels for one calibration. `heap` is the memory the executor's activation views live
 * in (the TF.js wasm backend's heap), if any: views on it are scanned in place. Everything else goes
 * through a memory of this object's own, grown as needed and freed with the object.
 */
export class ObserverKernels {
  private readonly heap?: { memory: WebAssembly.Memory; kernels: KernelExports };
  private readonly own: { memory: WebAssembly.Memory; kernels: KernelExports };

  /** null where the engine cannot compile the module (then callers keep the JavaScript loops). */
  static create(heap?: WebAssembly.Memory): ObserverKernels | null {
    return kernelModule() ? new ObserverKernels(heap) : null;
  }

  private constructor(heap?: WebAssembly.Memory) {
    if (heap) this.heap = { memory: heap, kernels: instantiate(heap) };
    const memory = new WebAssembly.Memory({ initial: 1 });
    this.own = { memory, kernels: instantiate(memory) };
  }

  /** Whether `data` is a view on the heap this object scans in place. */
  onHeap(data: Float32Array): boolean {
    return this.heap !== undefined && data.buffer === this.heap.memory.buffer;
  }

  /**
   * [min, max] of `data` (Infinity, -Infinity when empty; NaN when any value is NaN), exactly as the
   * JavaScript scan gives them. Views on the heap are read in place; other arrays up to
   * COPY_SCAN_LIMIT values are copied into the own memory first (a copy plus the SIMD scan still costs
   * less than the scalar loop); undefined for larger ones (the caller's loop does them).
   */
  minMax(data: Float32Array): [number, number] | undefined {
    if (data.length === 0) return [Infinity, -Infinity];
    // (an i32 end address must not wrap: a view ending at the 4 GiB top of a full heap stays in JavaScript)
    if (this.heap && data.buffer === this.heap.memory.buffer) return data.byteOffset + data.byteLength < 2 ** 32 ? this.heap.kernels.minMax(data.byteOffset, data.length) : undefined;
    if (data.length > COPY_SCAN_LIMIT) return undefined;
    new Float32Array(this.ownBuffer(data.length * 4), 0, data.length).set(data);
    return this.own.kernels.minMax(0, data.length);
  }

  /** Makes the own memory at least `bytes` long; returns its current buffer. */
  private ownBuffer(bytes: number): ArrayBuffer {
    const have = this.own.memory.buffer.byteLength;
    if (have < bytes) this.own.memory.grow(Math.ceil((bytes - have) / PAGE));
    return this.own.memory.buffer;
  }

  /**
   * Adds `data[ranges[r][0] .. ranges[r][1])` for every r, in order, to `counts` with weight `weight`
   * (bin k = trunc((v - lo) * inv) clamped to [0, counts.length - 1]), as the JavaScript loop does.
   */
  histogram(data: Float32Array, ranges: readonly (readonly [number, number])[], counts: Float64Array, lo: number, inv: number, weight: number): void {
    let values = 0;
    for (const [s, e] of ranges) values += e - s;
    const countsBytes = counts.length * 8;
    const buffer = this.ownBuffer(countsBytes + values * 4);
    const ownCounts = new Float64Array(buffer, 0, counts.length);
    ownCounts.set(counts);
    const samples = new Float32Array(buffer, countsBytes, values);
    let at = 0;
    for (const [s, e] of ranges) {
      samples.set(data.subarray(s, e), at);
      at += e - s;
    }
    this.own.kernels.histogram(countsBytes, values, 0, lo, inv, counts.length - 1, weight);
    counts.set(ownCounts);
  }
}
