// The observers' WebAssembly kernels against the JavaScript loops they replace: the same min/max (NaN,
// ±Infinity and the sign of zero included) and the same histogram counts, bit for bit, on arrays in
// the kernels' heap (read in place) and on plain arrays (copied), for every tail length and offset.
import { expect } from 'chai';
import { ObserverKernels } from '../../lib/calibrate/observer-kernels.js';
import { HistogramObserver, MinMaxObserver, NonFiniteActivationError, scalarMinMax, scanMinMax } from '../../lib/calibrate/observers.js';
import { gaussian, lcg } from '../support/random.js';

/** n values from a mix that exercises the edge cases: ±0, ±Infinity, NaN (each rare), Gaussian otherwise. */
function edgyValues(n: number, seed: number, special: boolean): Float32Array {
  const rand = lcg(seed);
  const base = gaussian(n, seed + 1, 0, 3);
  const pool = [0, -0, Infinity, -Infinity, NaN, 3.4028234663852886e38, -1.401298464324817e-45];
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.1) base[i] = r < 0.05 ? -0 : 0;
    else if (special && r < 0.13) base[i] = pool[Math.floor(rand() * pool.length)];
  }
  return base;
}

/** Object.is for each side (tells -0 from +0, and NaN equals NaN). */
function sameExtremes(a: [number, number], b: [number, number], what: string): void {
  expect(Object.is(a[0], b[0]) && Object.is(a[1], b[1]), `${what}: kernel [${a}] vs JS [${b}]`).to.equal(true);
}

describe('calibrate/observer-kernels', () => {
  const heap = new WebAssembly.Memory({ initial: 2 });
  const kernels = ObserverKernels.create(heap)!;

  it('compiles here (Node 20 has wasm SIMD)', () => {
    expect(kernels).to.be.instanceOf(ObserverKernels);
  });

  it('min/max equal the JavaScript scan: lengths 0..37, every 4-byte offset, NaN, ±Infinity, ±0, in place and copied', () => {
    let checked = 0;
    for (let n = 0; n <= 37; n++) {
      for (let offset = 0; offset < 8; offset++) {
        for (const special of [false, true]) {
          const values = edgyValues(n, 1000 * n + 10 * offset + (special ? 1 : 0), special);
          const inHeap = new Float32Array(heap.buffer, 4 * offset, n);
          inHeap.set(values);
          expect(kernels.onHeap(inHeap)).to.equal(true);
          const js = scalarMinMax(values);
          sameExtremes(kernels.minMax(inHeap)!, js, `heap n=${n} offset=${offset}`);
          sameExtremes(kernels.minMax(values)!, js, `copied n=${n}`);
          checked++;
        }
      }
    }
    expect(checked).to.equal(38 * 8 * 2);
  });

  it('min/max: the sign of a zero extreme, a lone NaN in every position, all-equal data', () => {
    for (let n = 1; n <= 37; n++) {
      for (let at = 0; at < n; at++) {
        const data = new Float32Array(n).fill(0);
        data[at] = -0;
        sameExtremes(kernels.minMax(data)!, n === 1 ? [-0, -0] : [-0, 0], `-0 at ${at} of ${n}`);
        data.fill(-0);
        data[at] = 0;
        sameExtremes(kernels.minMax(data)!, n === 1 ? [0, 0] : [-0, 0], `+0 at ${at} of ${n}`);
        sameExtremes(scalarMinMax(data), n === 1 ? [0, 0] : [-0, 0], `JS, +0 at ${at} of ${n}`);
        data.fill(1.5);
        data[at] = NaN;
        sameExtremes(kernels.minMax(data)!, [NaN, NaN], `NaN at ${at} of ${n}`);
      }
    }
    sameExtremes(kernels.minMax(new Float32Array(1000).fill(-2.25))!, [-2.25, -2.25], 'constant');
    sameExtremes(kernels.minMax(new Float32Array(0))!, [Infinity, -Infinity], 'empty');
  });

  it('min/max on large arrays (all lanes, all accumulators) and after the heap grew', () => {
    const big = new WebAssembly.Memory({ initial: 1 });
    const k = ObserverKernels.create(big)!;
    for (const [n, seed] of [[100_003, 1], [262_144, 2], [1_000_001, 3]]) {
      const values = gaussian(n, seed, 0.5, 4);
      values[n - 1] = 100; // the last element (a tail value) holds the maximum
      values[seed * 7] = -100; // an early one the minimum
      big.grow(Math.ceil((4 * (n + 16) - big.buffer.byteLength) / 65536) + 1); // detaches earlier views
      const view = new Float32Array(big.buffer, 36, n);
      view.set(values);
      sameExtremes(k.minMax(view)!, [-100, 100], `n=${n}`);
      sameExtremes(k.minMax(view)!, scalarMinMax(values), `n=${n} vs JS`);
    }
  });

  it('scanMinMax with kernels names the same non-finite element and sample as without', () => {
    for (const [data, where] of [[new Float32Array([1, 2, NaN, Infinity]), /element 2/], [new Float32Array([...new Float32Array(33), -Infinity]), /element 33/]] as const) {
      const message = (k: ObserverKernels | null) => {
        try {
          scanMinMax(data, 'conv1/Relu', 7, k);
        } catch (e) {
          expect(e).to.be.instanceOf(NonFiniteActivationError);
          return (e as Error).message;
        }
        throw new Error('no error thrown');
      };
      expect(message(kernels)).to.equal(message(null)).and.match(where);
    }
  });

  it('histograms equal the JavaScript ones bit for bit: growth, subsampled blocks, tails, heap and plain arrays', () => {
    const settings = [
      { bins: 2048 },
      { bins: 64, maxSamplesPerObserve: 1000, blockLength: 37 },
      { bins: 17, maxSamplesPerObserve: 0 },
      { bins: 300, maxSamplesPerObserve: 4096, blockLength: 1024 },
    ];
    for (const [s, opts] of settings.entries()) {
      const js = new HistogramObserver('t', opts, null);
      const inPlace = new HistogramObserver('t', opts, kernels);
      const copied = new HistogramObserver('t', opts, ObserverKernels.create()!);
      for (let sample = 0; sample < 12; sample++) {
        const n = [0, 1, 5, 37, 999, 4097, 20_000, 70_001][(sample * 3 + s) % 8];
        // widening ranges make the histogram grow; a constant sample exercises the tiny first grid
        const values = sample === 0 ? new Float32Array(n).fill(0.25) : gaussian(n, 100 * s + sample, sample % 3, 1 + sample);
        for (let i = 0; i < n; i += 97) values[i] = i % 2 ? -0 : 0;
        const offset = sample % 4;
        if (heap.buffer.byteLength < 4 * (n + offset)) heap.grow(Math.ceil((4 * (n + offset) - heap.buffer.byteLength) / 65536));
        const view = new Float32Array(heap.buffer, 4 * offset, n);
        view.set(values);
        js.observe(values, sample);
        inPlace.observe(view, sample);
        copied.observe(values, sample);
      }
      const expected = js.snapshot();
      for (const [how, h] of [['heap', inPlace], ['copied', copied]] as const) {
        const got = h.snapshot();
        expect([got.lo, got.binWidth, got.observedMin, got.observedMax], `${how} ${s}`).to.deep.equal([expected.lo, expected.binWidth, expected.observedMin, expected.observedMax]);
        expect(Buffer.from(got.counts.buffer).equals(Buffer.from(expected.counts.buffer)), `${how} ${s}: counts`).to.equal(true);
      }
      expect(expected.counts.reduce((a, b) => a + b, 0)).to.be.greaterThan(0);
    }
  });

  it('MinMaxObserver folds the same extremes with and without kernels', () => {
    const a = new MinMaxObserver('a', kernels);
    const b = new MinMaxObserver('b', null);
    for (let n = 0; n <= 37; n++) {
      const values = edgyValues(n, n, false);
      a.observe(values);
      b.observe(values);
    }
    expect([a.min, a.max, a.count, a.batches]).to.deep.equal([b.min, b.max, b.count, b.batches]);
  });
});
