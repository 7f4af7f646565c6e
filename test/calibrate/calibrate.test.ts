import { expect } from 'chai';
import v8 from 'node:v8';
import vm from 'node:vm';
import { calibrate, type RangeDerivation, type TensorCallback } from '../../lib/calibrate/calibrate.js';
import { gaussian, mulberry32 as rng } from '../support/random.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/**
 * A pure-JS "model": input x (4 values) -> 'scaled' = 2x - 1, 'relu' = max(scaled, 0),
 * 'wide' = a 25k-element activation freshly allocated each pass (like an executor's download).
 */
async function fakeForward(input: Float32Array, onTensor: TensorCallback): Promise<void> {
  const scaled = input.map((v) => 2 * v - 1);
  onTensor('scaled', scaled);
  onTensor('relu', scaled.map((v) => Math.max(v, 0)));
  const wide = new Float32Array(25_000);
  for (let i = 0; i < wide.length; i++) wide[i] = input[i % 4] * ((i % 7) - 3);
  onTensor('wide', wide);
  onTensor('not-observed', new Float32Array([1e9]));
}

function* randomInputs(seed: number): Generator<Float32Array> {
  const r = rng(seed);
  for (;;) yield Float32Array.from({ length: 4 }, () => r());
}

describe('calibrate/calibrate', () => {
  it('min/max ranges equal the independently computed extremes, stopping after numSamples', async () => {
    const inputs = Array.from({ length: 50 }, (_, i) => Float32Array.from([i / 50, 0.1, -0.2 + i / 100, 0.7]));
    let consumed = 0;
    const source = (function* () {
      for (const x of inputs) {
        consumed++;
        yield x;
      }
    })();
    const progress: number[] = [];
    const res = await calibrate({
      tensors: ['scaled', 'relu', 'wide'],
      samples: source,
      numSamples: 20,
      forward: fakeForward,
      method: 'minmax',
      onProgress: (done, total) => progress.push(done * 1000 + total),
    });
    expect(res.samples).to.equal(20);
    expect(consumed).to.equal(20);
    expect(progress).to.deep.equal(Array.from({ length: 20 }, (_, i) => (i + 1) * 1000 + 20));
    // by hand over the first 20 inputs: x in [-0.2, 0.7] -> scaled = 2x - 1 in [-1.4, 0.4]
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of inputs.slice(0, 20)) for (const v of x) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
    const scaled = res.ranges.get('scaled')!;
    expect(scaled.min).to.be.closeTo(2 * lo - 1, 1e-6);
    expect(scaled.max).to.be.closeTo(2 * hi - 1, 1e-6);
    expect(scaled.method).to.equal('minmax');
    expect(res.ranges.get('relu')!.min).to.equal(0);
    expect(res.ranges.get('relu')!.max).to.be.closeTo(2 * hi - 1, 1e-6);
    expect(res.ranges.get('wide')!.max).to.be.closeTo(3 * hi, 1e-6);
    expect(res.ranges.get('wide')!.min).to.be.closeTo(-3 * hi, 1e-6);
    expect(res.ranges.has('not-observed')).to.equal(false);
    expect(res.seconds).to.be.greaterThan(0);
  });

  it('streams 1000 samples with flat memory (observers keep no sample data)', async () => {
    const heap: number[] = [];
    const res = await calibrate({
      tensors: ['scaled', 'relu', 'wide'],
      samples: randomInputs(3),
      numSamples: 1000,
      forward: fakeForward,
      method: (name) => (name === 'wide' ? 'percentile' : name === 'relu' ? 'mse' : 'minmax'),
      percentile: 99.9,
      onProgress: (done) => {
        if (done === 100 || done === 1000) {
          gc();
          heap.push(process.memoryUsage().heapUsed);
        }
      },
    });
    expect(res.samples).to.equal(1000);
    const growth = heap[1] - heap[0];
    console.log(`      heap after 100 samples ${(heap[0] / 1e6).toFixed(1)} MB, after 1000 ${(heap[1] / 1e6).toFixed(1)} MB`);
    // 900 more samples of a 100 kB activation: keeping them would add ~90 MB
    expect(growth, `heap growth ${(growth / 1e6).toFixed(2)} MB`).to.be.lessThan(2e6);
    // inputs are U(0,1): 'scaled' in (-1, 1), 'relu' in [0, 1), 'wide' within ±3
    const s = res.ranges.get('scaled')!;
    expect(s.min).to.be.closeTo(-1, 0.01);
    expect(s.max).to.be.closeTo(1, 0.01);
    expect(res.ranges.get('relu')!.method).to.equal('mse');
    expect(res.ranges.get('relu')!.min).to.equal(0);
    const w = res.ranges.get('wide')!;
    expect(w.method).to.equal('percentile');
    expect(w.observedMax).to.be.closeTo(3, 0.01);
    expect(w.max).to.be.within(2.5, 3);
  });

  it('percentile over Gaussian activations matches the analytic quantile (async sample source)', async () => {
    async function* source() {
      for (let i = 0; i < 20; i++) yield new Float32Array([i]);
    }
    const res = await calibrate({
      tensors: ['g'],
      samples: source(),
      numSamples: 100,
      forward: async (input, onTensor) => onTensor('g', gaussian(50_000, 1000 + input[0], 1, 2)),
      method: 'percentile',
      percentile: 99.9,
    });
    expect(res.samples).to.equal(20); // the source ran out before numSamples
    const g = res.ranges.get('g')!;
    expect(g.max).to.be.closeTo(1 + 2 * 3.0902, 0.15);
    expect(g.min).to.be.closeTo(1 - 2 * 3.0902, 0.15);
    expect(g.observedMax).to.be.greaterThan(g.max);
  });

  it('derived tensors are not observed and get the ranges observing them gives', async () => {
    // 'copy' holds scaled's values in order, 'joined' holds scaled's and relu's plus the constant 5.
    const forward = async (input: Float32Array, onTensor: TensorCallback) => {
      await fakeForward(input, onTensor);
      const scaled = input.map((v) => 2 * v - 1);
      onTensor('copy', scaled);
      onTensor('joined', Float32Array.from([...scaled, ...scaled.map((v) => Math.max(v, 0)), 5]));
    };
    const tensors = ['scaled', 'relu', 'copy', 'joined'];
    const run = (method: (t: string) => 'minmax' | 'mse', derived?: Map<string, RangeDerivation>) =>
      calibrate({ tensors, samples: randomInputs(4), numSamples: 12, forward, method, ...(derived ? { derived } : {}) });
    const derived = new Map<string, RangeDerivation>([
      ['copy', { kind: 'same-values', of: 'scaled' }],
      ['joined', { kind: 'extremes', of: ['scaled', 'relu'], values: [5] }],
    ]);
    const method = (t: string) => (t === 'joined' ? 'minmax' : 'mse');
    const all = await run(method);
    const some = await run(method, derived);
    expect(all.observed).to.equal(4);
    expect(some.observed).to.equal(2);
    for (const t of tensors) {
      const [a, b] = [all.ranges.get(t)!, some.ranges.get(t)!];
      expect([b.min, b.max, b.observedMin, b.observedMax, b.method], t).to.deep.equal([a.min, a.max, a.observedMin, a.observedMax, a.method]);
    }
    expect(some.ranges.get('joined')!.max).to.equal(5);
    expect([some.ranges.get('copy')!.derived, some.ranges.get('joined')!.derived, some.ranges.get('scaled')!.derived]).to.deep.equal(['same-values', 'extremes', undefined]);
    // What cannot be exact is refused, naming the tensor.
    const refused = async (d: [string, RangeDerivation][], re: RegExp) => expectReject(run(() => 'mse', new Map(d)), re);
    await refused([['joined', { kind: 'extremes', of: ['scaled'], values: [] }]], /'joined' uses mse: only minmax ranges follow from their sources' extremes/);
    await refused([['relu', { kind: 'given', min: 0, max: 1, why: 'test' }], ['copy', { kind: 'same-values', of: 'relu' }]], /tensor 'relu' \(a source of 'copy'\) has a given range/);
    await refused([['copy', { kind: 'same-values', of: 'joined' }], ['joined', { kind: 'same-values', of: 'copy' }]], /depends on itself/);
    await refused([['copy', { kind: 'same-values', of: 'elsewhere' }]], /tensor 'elsewhere' \(a source of 'copy'\) is neither observed nor derived/);
  });

  it('errors: zero samples, NaN activations, missing tensors, failing forward, bad options', async () => {
    const base = { tensors: ['scaled'], forward: fakeForward, method: 'minmax' as const, numSamples: 5 };
    await expectReject(calibrate({ ...base, samples: [] }), /produced no samples \(asked for 5\)/);
    await expectReject(calibrate({ ...base, samples: randomInputs(1), numSamples: 0 }), /numSamples must be a positive integer/);
    await expectReject(
      calibrate({ ...base, samples: [new Float32Array(4), new Float32Array([0, NaN, 0, 0])] }),
      /tensor 'scaled' has a non-finite value \(NaN\) at element 1 for calibration sample 1/,
    );
    // a forward that swallows callback exceptions still fails the calibration
    await expectReject(
      calibrate({
        ...base,
        samples: [new Float32Array([Infinity, 0, 0, 0])],
        forward: async (x, on) => {
          try {
            on('scaled', x);
          } catch {
            /* ignored by a careless executor */
          }
        },
      }),
      /'scaled' has a non-finite value \(Infinity\) at element 0 for calibration sample 0/,
    );
    await expectReject(calibrate({ ...base, tensors: ['scaled', 'nope', 'nope2'], samples: randomInputs(1) }), /2 tensor\(s\) were never reported.*'nope', 'nope2'/);
    // ... but a reported zero-element tensor is fine (YOLOv5's graph has [1,6400,3,0] slices)
    const empty = await calibrate({
      ...base,
      tensors: ['scaled', 'empty'],
      samples: randomInputs(1),
      method: 'entropy',
      forward: async (x, on) => {
        await fakeForward(x, on);
        on('empty', new Float32Array(0));
      },
    });
    expect(empty.ranges.get('empty')).to.deep.equal({ min: 0, max: 0, method: 'entropy', observedMin: 0, observedMax: 0 });
    await expectReject(
      calibrate({ ...base, samples: randomInputs(1), forward: async () => Promise.reject(new Error('out of memory')) }),
      /forward pass failed on calibration sample 0: out of memory/,
    );
    await expectReject(calibrate({ ...base, samples: randomInputs(1), method: 'avg' as never }), /unknown calibration method 'avg' for tensor 'scaled'/);
    await expectReject(calibrate({ ...base, samples: [[1, 2] as unknown as Float32Array] }), /sample 0 is not a Float32Array/);
  });
});

async function expectReject(p: Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect((e as Error).message).to.match(re);
    return;
  }
  expect.fail(`expected a rejection matching ${re}`);
}
