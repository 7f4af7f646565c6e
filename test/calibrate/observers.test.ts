import { expect } from 'chai';
import {
  HistogramObserver,
  MinMaxObserver,
  NonFiniteActivationError,
  entropyRange,
  mseRange,
  percentileRange,
  scanMinMax,
  type Histogram,
} from '../../lib/calibrate/observers.js';
import { gaussian, uniform } from '../support/random.js';

/** Mean squared error of int8 quantize-dequantize of `data` with the params chosen for [min, max]. */
function int8RoundTripMse(data: Float32Array, min: number, max: number): number {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  const scale = Math.fround((hi - lo) / 255);
  const zp = Math.min(127, Math.max(-128, Math.round(-128 - lo / scale)));
  let se = 0;
  for (let i = 0; i < data.length; i++) {
    const q = Math.min(127, Math.max(-128, Math.round(data[i] / scale) + zp));
    const d = (q - zp) * scale - data[i];
    se += d * d;
  }
  return se / data.length;
}

/** Single-pass reference histogram over a given grid (independent of the observer's code). */
function referenceHistogram(batches: Float32Array[], lo: number, width: number, bins: number): Float64Array {
  const counts = new Float64Array(bins);
  for (const b of batches) {
    for (const x of b) {
      let k = Math.floor((x - lo) / width);
      if (k >= bins) k = bins - 1;
      if (k < 0) k = 0;
      counts[k]++;
    }
  }
  return counts;
}

function concat(arrays: Float32Array[]): Float32Array {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of arrays) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}

describe('calibrate/observers', () => {
  describe('MinMaxObserver / scanMinMax', () => {
    it('tracks the running min and max over batches', () => {
      const o = new MinMaxObserver('t');
      o.observe(new Float32Array([1, 2, 3]));
      o.observe(new Float32Array([-4, 0.5]));
      o.observe(new Float32Array([]));
      o.observe(new Float32Array([10]));
      expect([o.min, o.max, o.count, o.batches]).to.deep.equal([-4, 10, 6, 3]);
    });
    it('NaN / Infinity -> an error naming the tensor, sample and element', () => {
      const data = new Float32Array([0, 1, NaN, 2]);
      expect(() => scanMinMax(data, 'conv1/Relu', 7)).to.throw(NonFiniteActivationError, /tensor 'conv1\/Relu'.*NaN.*element 2.*sample 7/);
      const o = new MinMaxObserver('head/out');
      expect(() => o.observe(new Float32Array([Infinity, 1]), 3)).to.throw(/'head\/out'.*Infinity.*element 0.*sample 3/);
      const h = new HistogramObserver('h');
      expect(() => h.observe(new Float32Array([1, -Infinity]), 0)).to.throw(/'h'.*-Infinity.*element 1/);
    });
  });

  describe('HistogramObserver', () => {
    it('re-binning as the range grows gives the same counts as one pass over the final grid', () => {
      const batches = [
        uniform(50_000, 1, 0, 1),
        gaussian(50_000, 2, -1, 0.7), // extends left
        uniform(50_000, 3, -3, 2),
        uniform(50_000, 4, 5, 10), // extends right a lot
        gaussian(50_000, 5, 0, 0.1), // inside
      ];
      const h = new HistogramObserver('t', { bins: 512, maxSamplesPerObserve: 0 });
      for (const b of batches) h.observe(b);
      const s = h.snapshot();
      const all = concat(batches);
      const min = all.reduce((a, b) => Math.min(a, b), Infinity);
      const max = all.reduce((a, b) => Math.max(a, b), -Infinity);
      expect(s.observedMin).to.equal(min);
      expect(s.observedMax).to.equal(max);
      expect(s.lo).to.be.at.most(min);
      expect(s.lo + 512 * s.binWidth).to.be.at.least(max);
      const ref = referenceHistogram(batches, s.lo, s.binWidth, 512);
      let total = 0;
      let diff = 0;
      for (let i = 0; i < 512; i++) {
        total += s.counts[i];
        diff += Math.abs(s.counts[i] - ref[i]);
      }
      expect(total).to.equal(all.length);
      // only values lying within rounding of a bin edge may land in the neighbouring bin
      expect(diff).to.be.at.most(4);
    });
    it('is deterministic and handles a constant first batch', () => {
      const make = () => {
        const h = new HistogramObserver('t', { bins: 256 });
        h.observe(new Float32Array(100)); // all zeros
        h.observe(uniform(1000, 9, -2, 3));
        h.observe(uniform(1000, 10, -5, 1));
        return h.snapshot();
      };
      const a = make();
      const b = make();
      expect(Array.from(a.counts)).to.deep.equal(Array.from(b.counts));
      expect(a.lo).to.equal(b.lo);
      expect(a.counts.reduce((x, y) => x + y, 0)).to.equal(2100);
      expect(a.lo).to.be.at.most(a.observedMin);
      expect(a.lo + 256 * a.binWidth).to.be.at.least(a.observedMax);
      // the 100 zeros are in the bin containing 0
      const zeroBin = Math.floor((0 - a.lo) / a.binWidth);
      const ref = referenceHistogram([new Float32Array(100), uniform(1000, 9, -2, 3), uniform(1000, 10, -5, 1)], a.lo, a.binWidth, 256);
      expect(a.counts[zeroBin]).to.be.closeTo(ref[zeroBin], 2);
      expect(a.counts[zeroBin]).to.be.at.least(100);
    });
    it('an all-constant tensor gives a degenerate but valid range', () => {
      const h = new HistogramObserver('t');
      h.observe(new Float32Array(10).fill(0));
      h.observe(new Float32Array(10).fill(0));
      const s = h.snapshot();
      for (const r of [percentileRange(s, 99.9), mseRange(s), entropyRange(s)]) {
        expect(r.min).to.equal(0);
        expect(r.max).to.equal(0);
      }
    });
    it('subsampling large tensors (contiguous blocks, all channels) keeps the percentile accurate', () => {
      // NHWC-like data: 16 channels with very different scales; a plain stride that is a multiple of
      // 16 would only see channel 0.
      const C = 16;
      const n = 160 * 160 * C;
      const g = gaussian(n, 11);
      for (let i = 0; i < n; i++) g[i] *= 1 + (i % C);
      const full = new HistogramObserver('full', { maxSamplesPerObserve: 0 });
      const sub = new HistogramObserver('sub', { maxSamplesPerObserve: 1 << 16 });
      full.observe(g);
      sub.observe(g);
      const pf = percentileRange(full.snapshot(), 99.9);
      const ps = percentileRange(sub.snapshot(), 99.9);
      expect(sub.snapshot().counts.reduce((a, b) => a + b, 0)).to.be.closeTo(n, n * 0.01);
      expect(ps.max).to.be.closeTo(pf.max, pf.max * 0.05);
      expect(ps.min).to.be.closeTo(pf.min, Math.abs(pf.min) * 0.05);
      // min/max stay exact under subsampling
      expect(sub.min).to.equal(full.min);
      expect(sub.max).to.equal(full.max);
    });
  });

  describe('range selection', () => {
    let gauss: Histogram;
    let gaussData: Float32Array[];
    before(() => {
      gaussData = Array.from({ length: 10 }, (_, i) => gaussian(100_000, 100 + i));
      const h = new HistogramObserver('g', { bins: 2048 });
      for (const b of gaussData) h.observe(b);
      gauss = h.snapshot();
    });

    it('percentile on N(0,1) matches the analytic quantiles', () => {
      const r3 = percentileRange(gauss, 99.9);
      expect(r3.max).to.be.closeTo(3.0902, 0.06);
      expect(r3.min).to.be.closeTo(-3.0902, 0.06);
      const r4 = percentileRange(gauss, 99.99);
      expect(r4.max).to.be.closeTo(3.719, 0.12);
      expect(r4.min).to.be.closeTo(-3.719, 0.12);
      const r100 = percentileRange(gauss, 100);
      expect([r100.min, r100.max]).to.deep.equal([gauss.observedMin, gauss.observedMax]);
      expect(() => percentileRange(gauss, 40)).to.throw(/percentile must be in \(50, 100\]/);
    });

    it('mse on N(0,1) clips the tails and beats min/max on the real int8 round-trip error', () => {
      const r = mseRange(gauss);
      expect(r.max).to.be.within(2.5, 5);
      expect(r.min).to.be.within(-5, -2.5);
      const data = gaussData[0];
      const mseClip = int8RoundTripMse(data, r.min, r.max);
      const mseMinMax = int8RoundTripMse(data, gauss.observedMin, gauss.observedMax);
      expect(mseClip).to.be.lessThan(mseMinMax);
    });

    it('mse keeps a uniform distribution unclipped (clipping it only adds error)', () => {
      const h = new HistogramObserver('u');
      h.observe(uniform(200_000, 5, -1, 3));
      const r = mseRange(h.snapshot());
      expect(r.min).to.be.closeTo(-1, 0.02);
      expect(r.max).to.be.closeTo(3, 0.02);
    });

    describe('a few extreme outliers', () => {
      let hist: Histogram;
      let bulk: Float32Array;
      let withOutliers: Float32Array;
      before(() => {
        bulk = uniform(1_000_000, 21, -1, 1);
        withOutliers = Float32Array.from(bulk);
        withOutliers[1000] = 10;
        withOutliers[2000] = 9.5;
        withOutliers[3000] = -6;
        const h = new HistogramObserver('o', { maxSamplesPerObserve: 0 });
        h.observe(withOutliers);
        hist = h.snapshot();
      });
      it('min/max keeps them', () => {
        expect(hist.observedMax).to.equal(10);
        expect(hist.observedMin).to.equal(-6);
      });
      it('percentile clips them to the bulk', () => {
        const mmErr = int8RoundTripMse(bulk, hist.observedMin, hist.observedMax);
        const r = percentileRange(hist, 99.99);
        expect(r.max).to.be.within(0.9, 1.5);
        expect(r.min).to.be.within(-1.5, -0.9);
        expect(int8RoundTripMse(bulk, r.min, r.max)).to.be.lessThan(mmErr / 20);
      });
      it('entropy clips them from a bell-shaped bulk', () => {
        // (KL sees no loss in merging bins of a flat histogram, so it is tested on a Gaussian bulk)
        const g = gaussian(1_000_000, 22, 0, 0.3);
        const gBulk = Float32Array.from(g);
        g[1000] = 10;
        g[2000] = 9.5;
        g[3000] = -6;
        const h = new HistogramObserver('o', { maxSamplesPerObserve: 0 });
        h.observe(g);
        const r = entropyRange(h.snapshot());
        expect(r.max).to.be.within(0.6, 2.5);
        expect(r.min).to.be.within(-2.5, -0.6);
        expect(int8RoundTripMse(gBulk, r.min, r.max)).to.be.lessThan(int8RoundTripMse(gBulk, -6, 10) / 20);
      });
      it('mse trades clipping against rounding: lower total round-trip error than min/max and percentile', () => {
        // Hand estimate of the objective: clipping the outliers to [-1, 1] costs 9^2 + 8.5^2 + 5^2 = 178
        // while the rounding noise over 1e6 values is only 1e6 * (2/255)^2 / 12 = 5, so the optimum
        // keeps part of the outliers' range: the max lands between the bulk and the outliers.
        const r = mseRange(hist);
        expect(r.max).to.be.within(2, 9.5);
        expect(r.min).to.be.within(-5.5, -0.9);
        const err = int8RoundTripMse(withOutliers, r.min, r.max);
        expect(err).to.be.lessThan(int8RoundTripMse(withOutliers, hist.observedMin, hist.observedMax));
        const p = percentileRange(hist, 99.99);
        expect(err).to.be.lessThan(int8RoundTripMse(withOutliers, p.min, p.max));
        // and it still quantizes the bulk clearly better than min/max
        expect(int8RoundTripMse(bulk, r.min, r.max)).to.be.lessThan(int8RoundTripMse(bulk, -6, 10) / 2);
      });
    });

    it('entropy on N(0,1) clips within the usual KL range (~3-5 sigma)', () => {
      const r = entropyRange(gauss);
      expect(r.max).to.be.within(2.5, 5.5);
      expect(r.min).to.be.within(-5.5, -2.5);
    });

    it('one-sided data (half-normal with a rare long tail) keeps the lower edge at 0', () => {
      const h = new HistogramObserver('s');
      const d = gaussian(300_000, 8, 0, 0.3).map(Math.abs);
      for (let i = 0; i < 30; i++) d[i * 9973] = 6 + i / 10; // rare tail up to 8.9
      h.observe(d);
      const s = h.snapshot();
      // (30 outliers in 3e5 values = exactly the 0.01% tail, so use 99.9% here)
      for (const r of [percentileRange(s, 99.9), entropyRange(s)]) {
        expect(r.min).to.be.closeTo(0, 0.01);
        expect(r.max).to.be.within(0.9, 3);
      }
      const m = mseRange(s);
      expect(m.min).to.be.closeTo(0, 0.01);
      expect(int8RoundTripMse(d, m.min, m.max)).to.be.at.most(int8RoundTripMse(d, s.observedMin, s.observedMax));
    });
  });
});
