// Learned rounding: the search against hand-computed cases and brute force, the rows each layer kind
// multiplies its weights with against the float graph's own outputs, and quantizeInt8 files written
// with it run in LiteRT (output SQNR against the float graph not below nearest rounding's).
import { expect } from 'chai';
import { GraphBuilder } from '../../lib/graph/builder.js';
import type { Graph } from '../../lib/ir/graph.js';
import { quantizeInt8 } from '../../lib/quantize/index.js';
import { layerRows, samplePositions } from '../../lib/quantize/layer-rows.js';
import { gramOf, otherRounding, searchChannelRounding, type ChannelWeights, type InputColumns } from '../../lib/quantize/rounding-search.js';
import { runFloatGraph, sqnrDb, tfliteVsFloat } from '../support/compare.js';
import { gaussian, mulberry32, uniform } from '../support/random.js';

const meta = { source: 'test', format: 'built' as const, notes: [] };

/** Columns from a row-major N x K matrix. */
function columnsOf(rowsMajor: number[][]): InputColumns {
  const n = rowsMajor.length;
  const k = rowsMajor[0].length;
  const data = new Float32Array(n * k);
  rowsMajor.forEach((row, r) => row.forEach((v, c) => (data[c * n + r] = v)));
  return { data, rows: n, columns: k };
}

function channel(w: number[], scale: number): ChannelWeights {
  return {
    w: Float32Array.from(w),
    nearest: w.map((v) => Math.round(v / scale)),
    column: Int32Array.from(w, (_, k) => k),
    scale,
    qmin: -127,
    qmax: 127,
  };
}

/** ||X (s q - w)||^2 with plain loops over the row-major matrix. */
function errorByHand(rows: number[][], w: number[], q: ArrayLike<number>, s: number): number {
  return rows.reduce((acc, row) => acc + row.reduce((a, x, k) => a + x * (s * q[k] - w[k]), 0) ** 2, 0);
}

describe('learned rounding: the search', () => {
  it('rounds one of two weights up where nearest rounds both down (hand-computed)', () => {
    // y = w0 + w1 on the one row [1, 1]; w = [0.4, 0.4], step 1. Nearest: q = [0, 0], y moves by
    // -0.8 (error 0.64). Rounding w0 up: q = [1, 0], y moves by +0.2 (error 0.04). Both up: +1.2 (1.44).
    const cols = columnsOf([[1, 1]]);
    const r = searchChannelRounding(gramOf(cols, Int32Array.of(0, 1)), channel([0.4, 0.4], 1), 4);
    expect([...r.q]).to.deep.equal([1, 0]);
    expect(r.errorBefore).to.be.closeTo(0.64, 1e-6);
    expect(r.errorAfter).to.be.closeTo(0.04, 1e-6);
    expect(r.flipped).to.equal(1);
  });

  it('keeps nearest when the weights are independent (orthogonal rows)', () => {
    // Identity rows: each weight's error is its own; nearest is optimal and nothing flips.
    const cols = columnsOf([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    const r = searchChannelRounding(gramOf(cols, Int32Array.of(0, 1, 2)), channel([0.3, -1.2, 2.45], 0.5), 4);
    expect(r.flipped).to.equal(0);
    expect(r.errorAfter).to.be.closeTo(r.errorBefore, 1e-12);
  });

  it('offers only the other neighbour, inside the weight range', () => {
    expect(otherRounding(0.4, 1, 0, -127, 127)).to.equal(1);
    expect(otherRounding(-0.4, 1, 0, -127, 127)).to.equal(-1);
    expect(otherRounding(2, 1, 2, -127, 127)).to.equal(2);
    expect(otherRounding(126.6, 1, 127, -127, 127)).to.equal(126);
    expect(otherRounding(127.2, 1, 127, -127, 127)).to.equal(127);
  });

  it('never increases the error and stays within floor / ceil; gets most of the gain of the brute-force optimum (random cases)', () => {
    const rnd = mulberry32(7);
    let gained = 0;
    let gainable = 0;
    const cases = 200;
    for (let t = 0; t < cases; t++) {
      const K = 2 + Math.floor(rnd() * 6);
      const N = 1 + Math.floor(rnd() * 10);
      // Correlated rows (a shared component), as a conv's neighbouring inputs are.
      const rows = Array.from({ length: N }, () => {
        const common = rnd() * 2 - 1;
        return Array.from({ length: K }, () => Math.fround(common + 0.3 * (rnd() * 2 - 1)));
      });
      const s = 0.1 + rnd();
      const w = Array.from({ length: K }, () => Math.fround((rnd() * 2 - 1) * 10 * s));
      const ch = channel(w, s);
      const cols = columnsOf(rows);
      const r = searchChannelRounding(gramOf(cols, ch.column), ch, 8);
      const before = errorByHand(rows, w, ch.nearest, s);
      const after = errorByHand(rows, w, r.q, s);
      expect(r.errorBefore).to.be.closeTo(before, 1e-6 * (1 + before));
      expect(r.errorAfter).to.be.closeTo(after, 1e-6 * (1 + after));
      expect(after).to.be.at.most(before * (1 + 1e-9) + 1e-12);
      r.q.forEach((q, k) => expect(q === Math.floor(w[k] / s) || q === Math.ceil(w[k] / s)).to.equal(true));
      // Brute force over every floor / ceil choice.
      let best = Infinity;
      for (let m = 0; m < 1 << K; m++) {
        const q = w.map((v, k) => ((m >> k) & 1 ? Math.ceil(v / s) : Math.floor(v / s)));
        best = Math.min(best, errorByHand(rows, w, q, s));
      }
      expect(after).to.be.at.least(best - 1e-9);
      gained += before - after;
      gainable += before - best;
    }
    // Coordinate descent is a local search: it gets most, not all, of what the best rounding gains over nearest.
    expect(gained / gainable).to.be.greaterThan(0.8);
  });
});

/** x [1,7,9,4] through one weighted layer whose output is exposed before any activation. */
function layerGraph(op: string): Graph {
  const b = new GraphBuilder(op);
  const x = b.addInput('x', op === 'FullyConnected' ? [5, 6] : [1, 7, 9, 4]);
  let out: string;
  if (op === 'Conv2D' || op === 'Conv2D dilated') {
    const w = b.addConstant('w', [3, 2, 4, 5], 'float32', gaussian(3 * 2 * 4 * 5, 1));
    const attrs = op === 'Conv2D' ? { strides: [2, 1], dilations: [1, 1], padding: 'SAME' } : { strides: [1, 1], dilations: [2, 2], padding: 'VALID' };
    out = b.emit('layer', 'Conv2D', [x, w, b.addConstant('b', [5], 'float32', gaussian(5, 2))], { ...attrs, activation: 'none' })[0];
  } else if (op === 'DepthwiseConv2D') {
    const w = b.addConstant('w', [3, 3, 4, 2], 'float32', gaussian(3 * 3 * 4 * 2, 3));
    out = b.emit('layer', op, [x, w, b.addConstant('b', [8], 'float32', gaussian(8, 4))], { strides: [2, 2], dilations: [1, 1], padding: 'SAME', activation: 'none' })[0];
  } else if (op === 'Conv2DTranspose') {
    const w = b.addConstant('w', [3, 3, 5, 4], 'float32', gaussian(3 * 3 * 5 * 4, 5));
    out = b.emit('layer', op, [x, w, b.addConstant('b', [5], 'float32', gaussian(5, 6))], { strides: [2, 2], padding: 'SAME', outputShape: [1, 14, 18, 5], activation: 'none' })[0];
  } else {
    const w = b.addConstant('w', [6, 3], 'float32', gaussian(18, 7));
    out = b.emit('layer', op, [x, w, b.addConstant('b', [3], 'float32', gaussian(3, 8))], { activation: 'none' })[0];
  }
  return b.build([out], meta);
}

describe('learned rounding: the rows each layer multiplies its weights with', () => {
  for (const op of ['Conv2D', 'Conv2D dilated', 'DepthwiseConv2D', 'Conv2DTranspose', 'FullyConnected']) {
    it(`${op}: row . weights + bias is the float graph's output at every position`, async () => {
      const g = layerGraph(op);
      const node = g.nodes[0];
      const xShape = g.tensors.get('x')!.shape;
      const x = uniform(xShape.reduce((a, b) => a * b, 1), 11, -1, 1);
      const want = (await runFloatGraph(g, x))[g.outputs[0]];
      const rows = layerRows(g, node);
      const f = g.tensors.get(node.inputs[1])!;
      const w = f.data as Float32Array;
      const bias = g.tensors.get(node.inputs[2])!.data as Float32Array;
      const O = bias.length;
      expect(rows.positions * O).to.equal(want.length);
      const row = new Float32Array(rows.columns);
      for (let p = 0; p < rows.positions; p++) {
        rows.fill(x, p, row, 1, 0);
        for (let o = 0; o < O; o++) {
          // The weight of (column k, output o) in the IR's layouts, read with their own index formulas.
          let y = bias[o];
          for (let k = 0; k < rows.columns; k++) {
            const C = xShape.at(-1)!;
            let wk: number;
            if (op === 'FullyConnected') wk = w[k * O + o];
            else {
              const tap = Math.floor(k / C);
              const i = k % C;
              if (op.startsWith('Conv2D ') || op === 'Conv2D') wk = w[(tap * C + i) * O + o];
              else if (op === 'Conv2DTranspose') wk = w[(tap * O + o) * C + i];
              else wk = i === Math.floor(o / 2) ? w[tap * C * 2 + o] : 0;
            }
            y += row[k] * wk;
          }
          expect(y).to.be.closeTo(want[p * O + o], 1e-4);
        }
      }
    });
  }

  it('samples distinct positions, different ones per image, all of them when asked for more', () => {
    const a = samplePositions(100, 10, 0);
    const b = samplePositions(100, 10, 1);
    expect(new Set(a).size).to.equal(10);
    expect(a).to.not.deep.equal(b);
    expect(samplePositions(5, 10, 3)).to.deep.equal([0, 1, 2, 3, 4]);
  });
});

/** A MobileNet-like block: conv 3x3 (relu) -> depthwise 3x3 (relu) -> conv 1x1, weights with folded-BN-like channel spread. */
function separableBlock(): Graph {
  const b = new GraphBuilder('separable');
  const x = b.addInput('x', [1, 16, 16, 3]);
  const spread = (w: Float32Array, last: number) => { for (let k = 0; k < w.length; k++) w[k] *= 0.2 + (k % last) / last; return w; };
  const w1 = b.addConstant('c1/w', [3, 3, 3, 8], 'float32', spread(gaussian(216, 21, 0, 0.4), 8));
  const c1 = b.emit('c1', 'Conv2D', [x, w1, b.addConstant('c1/b', [8], 'float32', gaussian(8, 22, 0, 0.1))], { strides: [1, 1], dilations: [1, 1], padding: 'SAME', activation: 'relu' })[0];
  const w2 = b.addConstant('dw/w', [3, 3, 8, 1], 'float32', spread(gaussian(72, 23, 0, 0.5), 8));
  const dw = b.emit('dw', 'DepthwiseConv2D', [c1, w2, b.addConstant('dw/b', [8], 'float32', gaussian(8, 24, 0, 0.1))], { strides: [1, 1], dilations: [1, 1], padding: 'SAME', activation: 'relu' })[0];
  const w3 = b.addConstant('c2/w', [1, 1, 8, 6], 'float32', gaussian(48, 25, 0, 0.4));
  return b.build([b.emit('c2', 'Conv2D', [dw, w3, b.addConstant('c2/b', [6], 'float32', gaussian(6, 26, 0, 0.1))], { strides: [1, 1], dilations: [1, 1], padding: 'SAME', activation: 'none' })[0]], meta);
}

/** Smooth images (a gradient plus a little noise): neighbouring inputs correlate, as in photographs. */
function images(count: number, seed: number): Float32Array[] {
  return Array.from({ length: count }, (_, i) => {
    const noise = uniform(16 * 16 * 3, seed + i, -0.1, 0.1);
    return Float32Array.from(noise, (v, k) => Math.min(1, Math.max(0, 0.5 + 0.4 * Math.sin((k / 3 + i * 7) / 13) + v)));
  });
}

describe('learned rounding: quantizeInt8 files in LiteRT', () => {
  it('a separable block: every layer changed, no layer worse on its data, output SQNR not below nearest on other images', async () => {
    const g = separableBlock();
    const calibration = images(16, 100);
    const heldOut = images(8, 500);
    const nearest = await quantizeInt8(g, { representativeDataset: calibration });
    const learned = await quantizeInt8(g, { representativeDataset: calibration, learnedRounding: { samples: 16, rows: 256, sweeps: 4 } });
    const r = learned.report.learnedRounding!;
    expect(r.applied).to.equal(true);
    expect(r.layers.map((l) => l.node)).to.deep.equal(['c1', 'dw', 'c2']);
    for (const l of r.layers) {
      expect(l.fitSqnrAfterDb).to.be.at.least(l.fitSqnrBeforeDb);
      expect(l.heldOutSqnrAfterDb).to.be.at.least(l.heldOutSqnrBeforeDb);
    }
    expect(r.layers.some((l) => l.channelsChanged > 0)).to.equal(true);
    expect(learned.report.notes.some((n) => n.startsWith('learned rounding:'))).to.equal(true);
    const a = await tfliteVsFloat(nearest.tflite, g, heldOut);
    const b = await tfliteVsFloat(learned.tflite, g, heldOut);
    expect(sqnrDb(b.signal, b.noise)).to.be.at.least(sqnrDb(a.signal, a.noise));
    // Same inputs and options: the same bytes.
    const again = await quantizeInt8(g, { representativeDataset: calibration, learnedRounding: { samples: 16, rows: 256, sweeps: 4 } });
    expect(Buffer.from(again.tflite).equals(Buffer.from(learned.tflite))).to.equal(true);
  });

  it('says so, and changes nothing, with fewer than 4 calibration images', async () => {
    const g = separableBlock();
    const calibration = images(3, 100);
    const nearest = await quantizeInt8(g, { representativeDataset: calibration });
    const learned = await quantizeInt8(g, { representativeDataset: calibration, learnedRounding: true });
    expect(learned.report.learnedRounding!.applied).to.equal(false);
    expect(learned.report.notes.join('\n')).to.match(/learned rounding: not applied: needs at least 4 calibration images .* has 3/);
    expect(Buffer.from(learned.tflite).equals(Buffer.from(nearest.tflite))).to.equal(true);
  });

  it('refuses bad settings with one line naming the setting', async () => {
    await quantizeInt8(separableBlock(), { representativeDataset: images(4, 1), learnedRounding: { sweeps: 0 } }).then(
      () => expect.fail('should throw'),
      (e: Error) => expect(e.message).to.equal('quantizeInt8: learnedRounding.sweeps must be an integer >= 1, got 0'),
    );
  });
});
