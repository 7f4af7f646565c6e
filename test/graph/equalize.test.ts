// Cross-layer equalization: the math against hand-computed values, and the pass on small built graphs
// (conv -> relu -> conv, the MobileNet block conv -> depthwise -> conv, fc -> relu -> fc) with one
// channel whose range is 100x the others: the float outputs before and after agree, the channel ranges
// (measured here with their own loops) become balanced, and what must not be equalised is not.
import { expect } from 'chai';
import { GraphBuilder } from '../../lib/graph/builder.js';
import type { Graph } from '../../lib/ir/graph.js';
import { initBackend } from '../../lib/graph/backend.js';
import { equalizeCrossLayer } from '../../lib/graph/passes/index.js';
import {
  channelLayout, equalizationScales, maxLogScale, perChannelMaxAbs, rangeSpread, scaleChannels,
} from '../../lib/graph/passes/equalize-math.js';
import { quantizeInt8 } from '../../lib/quantize/index.js';
import { runFloatGraph, sqnrDb, tfliteVsFloat } from '../support/compare.js';
import { gaussian, mulberry32 } from '../support/random.js';

const meta = { source: 'test', format: 'built' as const, notes: [] };

/** Gaussian weights with output channel `hot` (last axis) 100x larger. */
function weights(shape: number[], seed: number, hot = -1): Float32Array {
  const w = gaussian(shape.reduce((a, b) => a * b, 1), seed, 0, 0.3);
  const last = shape[shape.length - 1];
  if (hot >= 0) for (let k = hot; k < w.length; k += last) w[k] *= 100;
  return w;
}

function conv(b: GraphBuilder, name: string, x: string, k: number, outC: number, activation: string, seed: number, hot = -1): string {
  const inC = b.tensor(x).shape[3];
  const w = b.addConstant(`${name}/w`, [k, k, inC, outC], 'float32', weights([k, k, inC, outC], seed, hot));
  const bias = b.addConstant(`${name}/b`, [outC], 'float32', gaussian(outC, seed + 100, 0, 0.2));
  return b.emit(name, 'Conv2D', [x, w, bias], { strides: [1, 1], dilations: [1, 1], padding: 'SAME', activation })[0];
}

function depthwise(b: GraphBuilder, name: string, x: string, mult: number, activation: string, seed: number): string {
  const c = b.tensor(x).shape[3];
  const w = b.addConstant(`${name}/w`, [3, 3, c, mult], 'float32', weights([3, 3, c, mult], seed));
  const bias = b.addConstant(`${name}/b`, [c * mult], 'float32', gaussian(c * mult, seed + 100, 0, 0.2));
  return b.emit(name, 'DepthwiseConv2D', [x, w, bias], { strides: [1, 1], dilations: [1, 1], padding: 'SAME', activation })[0];
}

/** x[1,6,6,3] -> conv 3x3 (4 channels, channel 2 100x) -> `between` -> conv 3x3 (5). */
function convPair(activation: string, between?: (b: GraphBuilder, t: string) => string): Graph {
  const b = new GraphBuilder('conv-pair');
  const x = b.addInput('x', [1, 6, 6, 3]);
  let t = conv(b, 'c1', x, 3, 4, activation, 1, 2);
  if (between) t = between(b, t);
  return b.build([conv(b, 'c2', t, 3, 5, 'none', 2)], meta);
}

/** The MobileNet block: conv 1x1 (relu, channel 1 100x) -> depthwise 3x3 (multiplier `mult`, relu) -> conv 1x1. */
function mobileNetBlock(mult: number): Graph {
  const b = new GraphBuilder('mobilenet-block');
  const x = b.addInput('x', [1, 6, 6, 3]);
  const c1 = conv(b, 'c1', x, 1, 4, 'relu', 3, 1);
  const dw = depthwise(b, 'dw', c1, mult, 'relu', 4);
  return b.build([conv(b, 'c2', dw, 1, 5, 'none', 5)], meta);
}

function fcPair(): Graph {
  const b = new GraphBuilder('fc-pair');
  const x = b.addInput('x', [2, 6]);
  const w1 = b.addConstant('f1/w', [6, 5], 'float32', weights([6, 5], 6, 3));
  const h = b.emit('f1', 'FullyConnected', [x, w1, b.addConstant('f1/b', [5], 'float32', gaussian(5, 7, 0, 0.2))], { activation: 'relu' })[0];
  const w2 = b.addConstant('f2/w', [5, 3], 'float32', weights([5, 3], 8));
  return b.build([b.emit('f2', 'FullyConnected', [h, w2], { activation: 'none' })[0]], meta);
}

/** max |w| per channel with explicit loops over the IR layouts (independent of equalize-math). */
function rangesByLoops(g: Graph, node: string, side: 'out' | 'in'): number[] {
  const n = g.nodes.find((m) => m.name === node)!;
  const t = g.tensors.get(n.inputs[1])!;
  const w = t.data as Float32Array;
  const s = t.shape;
  const r: number[] = [];
  const put = (c: number, v: number) => { r[c] = Math.max(r[c] ?? 0, Math.abs(v)); };
  if (n.op === 'FullyConnected') {
    for (let i = 0; i < s[0]; i++) for (let o = 0; o < s[1]; o++) put(side === 'out' ? o : i, w[i * s[1] + o]);
    return r;
  }
  for (let p = 0; p < s[0] * s[1]; p++)
    for (let i = 0; i < s[2]; i++)
      for (let j = 0; j < s[3]; j++) {
        const v = w[(p * s[2] + i) * s[3] + j];
        if (n.op === 'Conv2D') put(side === 'out' ? j : i, v);
        else put(side === 'out' ? i * s[3] + j : i, v);
      }
  return r;
}

const spread = (r: number[]) => Math.max(...r) / Math.min(...r);

async function expectSameFunction(before: Graph, after: Graph, input: Float32Array): Promise<void> {
  const a = await runFloatGraph(before, input);
  const b = await runFloatGraph(after, input);
  for (const o of before.outputs) {
    const peak = Math.max(...Array.from(a[o], Math.abs));
    let worst = 0;
    for (let i = 0; i < a[o].length; i++) worst = Math.max(worst, Math.abs(a[o][i] - b[o][i]));
    expect(worst / peak, `output ${o}`).to.be.below(1e-4);
  }
}

describe('cross-layer equalization: math', function () {
  it('channel layouts map flat indices to output and input channels', () => {
    const conv = channelLayout('Conv2D', [1, 1, 2, 3]); // k = i*3 + o
    expect([conv.outOf(5), conv.inOf(5), conv.outChannels, conv.inChannels]).to.deep.equal([2, 1, 3, 2]);
    const dw = channelLayout('DepthwiseConv2D', [3, 3, 2, 2]); // k = (p*2 + c)*2 + j, output c*2 + j
    expect([dw.outOf(2 * 4 + 3), dw.inOf(2 * 4 + 3), dw.outChannels, dw.inChannels]).to.deep.equal([3, 1, 4, 2]);
    const fc = channelLayout('FullyConnected', [4, 3]); // k = i*3 + o
    expect([fc.outOf(7), fc.inOf(7)]).to.deep.equal([1, 2]);
  });

  it('s_i = sqrt(r1_i * r2_i) / r2_i balances both ranges; zero ranges keep s = 1', () => {
    const s = equalizationScales([4, 1, 0, 9], [1, 4, 2, 1]);
    expect(Array.from(s)).to.deep.equal([2, 0.5, 1, 3]);
    // r1 / s and r2 * s are both sqrt(r1 * r2)
    expect([4 / s[0], 1 * s[0], 1 / s[1], 4 * s[1]]).to.deep.equal([2, 2, 2, 2]);
    // A channel 1e-7 of its side's largest is dead: left at 1 (without the floor it would get s = 1e3).
    expect(Array.from(equalizationScales([1e-7, 4], [1e-13, 1], 1e-5))).to.deep.equal([1, 2]);
    expect(equalizationScales([1e-7, 4], [1e-13, 1])[0]).to.be.closeTo(1e3, 1e-6);
  });

  it('perChannelMaxAbs, scaleChannels, maxLogScale and rangeSpread on hand values', () => {
    const data = [1, -3, 2, -0.5];
    expect(Array.from(perChannelMaxAbs(data, 2, (k) => k % 2))).to.deep.equal([2, 3]);
    expect(Array.from(scaleChannels(data, [2, 10], (k) => k % 2))).to.deep.equal([2, -30, 4, -5]);
    expect(maxLogScale([1, Math.E, 1 / Math.E ** 2])).to.be.closeTo(2, 1e-12);
    expect(rangeSpread([0, 2, 8, 4])).to.equal(4);
    expect(rangeSpread([0, 0])).to.equal(1);
    expect(rangeSpread([1e-9, 2, 8, 4], 1e-5)).to.equal(4);
  });
});

describe('cross-layer equalization: the pass', function () {
  this.timeout(20000);
  const image = gaussian(6 * 6 * 3, 42, 0.2, 1);
  before(() => initBackend('wasm'));

  it('conv -> relu -> conv: same outputs, each channel range equal on both sides, spread down from 100x', async () => {
    const g = convPair('relu');
    const r1 = rangesByLoops(g, 'c1', 'out');
    expect(spread(r1)).to.be.above(50);
    const { graph, report } = equalizeCrossLayer(g);
    expect(report.pairs.map((p) => [p.first, p.second, p.through])).to.deep.equal([['c1', 'c2', ['relu (fused)']]]);
    await expectSameFunction(g, graph, image);
    const a1 = rangesByLoops(graph, 'c1', 'out');
    const a2 = rangesByLoops(graph, 'c2', 'in');
    a1.forEach((v, i) => expect(v).to.be.closeTo(a2[i], 1e-5 * v));
    expect(Math.max(spread(a1), spread(a2))).to.be.below(spread(r1) / 4);
    expect(report.pairs[0].spreadAfter.first).to.be.closeTo(spread(a1), 1e-3);
  });

  it('leaves the input graph unchanged and balances a separate Relu, LeakyRelu and Prelu path', async () => {
    const g = convPair('none', (b, t) => {
      const r = b.emit('r', 'Relu', [t], {})[0];
      const l = b.emit('l', 'LeakyRelu', [r], { alpha: 0.2 })[0];
      return b.emit('p', 'Prelu', [l, b.addConstant('alpha', [4], 'float32', Float32Array.of(0.1, -0.5, 2, 0.3))], {})[0];
    });
    const w1 = (g.tensors.get('c1/w')!.data as Float32Array).slice();
    const { graph, report } = equalizeCrossLayer(g);
    expect(report.pairs.map((p) => p.through)).to.deep.equal([['Relu', 'LeakyRelu', 'Prelu']]);
    expect(Array.from(g.tensors.get('c1/w')!.data!)).to.deep.equal(Array.from(w1));
    expect(g.nodes[0].inputs[1]).to.equal('c1/w');
    await expectSameFunction(g, graph, image);
    expect(spread(rangesByLoops(graph, 'c1', 'out'))).to.be.below(spread(rangesByLoops(g, 'c1', 'out')) / 4);
  });

  it('equalises through zero Pad, MaxPool, AvgPool and ResizeBilinear, not through a Pad of another value', async () => {
    const path = (value: number) => convPair('relu', (b, t) => {
      const p = b.emit('pad', 'Pad', [t], { paddings: [0, 0, 1, 1, 1, 1, 0, 0], constantValue: value })[0];
      const m = b.emit('max', 'MaxPool', [p], { filter: [2, 2], strides: [1, 1], padding: 'VALID' })[0];
      const a = b.emit('avg', 'AvgPool', [m], { filter: [2, 2], strides: [1, 1], padding: 'SAME' })[0];
      return b.emit('up', 'ResizeBilinear', [a], { size: [8, 8], alignCorners: false, halfPixelCenters: true })[0];
    });
    const g = path(0);
    const { graph, report } = equalizeCrossLayer(g);
    expect(report.pairs.map((p) => p.through)).to.deep.equal([['relu (fused)', 'Pad', 'MaxPool', 'AvgPool', 'ResizeBilinear']]);
    await expectSameFunction(g, graph, image);
    expect(equalizeCrossLayer(path(0.5)).report.skipped[0].reason).to.match(/non-zero value/);
    // The same path with the AvgPool's fused ReLU6 is not equalised.
    g.nodes.find((n) => n.op === 'AvgPool')!.attrs.activation = 'relu6';
    expect(equalizeCrossLayer(g).report.skipped[0].reason).to.match(/AvgPool 'avg' has a fused relu6/);
  });

  for (const mult of [1, 2]) {
    it(`conv -> depthwise (multiplier ${mult}) -> conv: iterated to convergence, ranges equal along the chain`, async () => {
      const g = mobileNetBlock(mult);
      const { graph, report } = equalizeCrossLayer(g);
      expect(report.pairs.map((p) => `${p.first}>${p.second}`)).to.deep.equal(['c1>dw', 'dw>c2']);
      expect(report.converged).to.equal(true);
      expect(report.iterations).to.be.above(1);
      await expectSameFunction(g, graph, image);
      const dw = rangesByLoops(graph, 'dw', 'out');
      const c2 = rangesByLoops(graph, 'c2', 'in');
      dw.forEach((v, c) => expect(v).to.be.closeTo(c2[c], 1e-3 * v));
      const c1 = rangesByLoops(graph, 'c1', 'out');
      // Each c1 channel feeds `mult` depthwise channels: its range balances the largest of them.
      const dwIn = rangesByLoops(graph, 'dw', 'in');
      c1.forEach((v, i) => expect(v).to.be.closeTo(dwIn[i], 1e-3 * v));
      expect(spread(c1)).to.be.below(spread(rangesByLoops(g, 'c1', 'out')) / 4);
    });
  }

  it('fc -> relu -> fc', async () => {
    const g = fcPair();
    const { graph, report } = equalizeCrossLayer(g);
    expect(report.pairs).to.have.length(1);
    await expectSameFunction(g, graph, gaussian(12, 9, 0, 1));
    const a1 = rangesByLoops(graph, 'f1', 'out');
    const a2 = rangesByLoops(graph, 'f2', 'in');
    a1.forEach((v, i) => expect(v).to.be.closeTo(a2[i], 1e-5 * v));
    expect(spread(a1)).to.be.below(spread(rangesByLoops(g, 'f1', 'out')) / 4);
  });

  it('does not equalise a branch (an output read twice) or a graph output', () => {
    const b = new GraphBuilder('branch');
    const x = b.addInput('x', [1, 6, 6, 3]);
    const c1 = conv(b, 'c1', x, 3, 4, 'relu', 1, 2);
    const c2 = conv(b, 'c2', c1, 1, 4, 'none', 2);
    const sum = b.emit('sum', 'Add', [c1, c2], { activation: 'none' })[0];
    const g = b.build([sum], meta);
    const { graph, report } = equalizeCrossLayer(g);
    expect(report.pairs).to.have.length(0);
    expect(report.skipped).to.deep.equal([
      { node: 'c1', reason: "'c1' has 2 readers" },
      { node: 'c2', reason: 'Add \'sum\' is not positive-homogeneous' },
    ]);
    expect(report.notes[0]).to.match(/no equalisable pairs/);
    expect(graph.tensors.get(graph.nodes[0].inputs[1])!.data).to.equal(g.tensors.get('c1/w')!.data);
    const b2 = new GraphBuilder('output');
    const c = conv(b2, 'c1', b2.addInput('x', [1, 6, 6, 3]), 3, 4, 'relu', 1, 2);
    const out = b2.build([c, conv(b2, 'c2', c, 1, 4, 'none', 2)], meta);
    expect(equalizeCrossLayer(out).report.skipped[0]).to.deep.equal({ node: 'c1', reason: "'c1' is a graph output" });
  });

  it("relu6: 'clip' equalises through a fused ReLU6 by a per-channel Minimum, keeping the function", async () => {
    const g = convPair('relu6');
    const saturating = gaussian(6 * 6 * 3, 43, 0.5, 2);
    const { graph, report } = equalizeCrossLayer(g, { relu6: 'clip' });
    expect(report.pairs.map((p) => p.through)).to.deep.equal([['relu6 (fused, clip moved per channel)']]);
    const clip = graph.nodes[1];
    expect([clip.op, clip.inputs[0], clip.outputs[0]]).to.deep.equal(['Minimum', graph.nodes[0].outputs[0], 'c1']);
    // S_i < 1 somewhere (the small channels grow): the fused clip must go, the Minimum clips at 6 / S_i.
    const bound = Array.from(graph.tensors.get(clip.inputs[1])!.data as Float32Array);
    expect(graph.nodes[0].attrs.activation).to.equal(bound.some((v) => v > 6) ? 'relu' : 'relu6');
    const before = await runFloatGraph(g, saturating, ['c1']);
    expect(Math.max(...Array.from(before.c1))).to.equal(6);
    await expectSameFunction(g, graph, saturating);
    await expectSameFunction(g, graph, image);
    expect(spread(rangesByLoops(graph, 'c1', 'out'))).to.be.below(spread(rangesByLoops(g, 'c1', 'out')) / 4);
  });

  it('does not equalise through ReLU6, fused or as a node, and says why', () => {
    for (const g of [convPair('relu6'), convPair('none', (b, t) => b.emit('r6', 'Relu6', [t], {})[0])]) {
      const { report } = equalizeCrossLayer(g);
      expect(report.pairs).to.have.length(0);
      expect(report.skipped[0].reason).to.match(/ReLU6 clips at 6/);
    }
  });
});

describe('cross-layer equalization: int8 files in LiteRT', function () {
  this.timeout(60000);

  it('a scale moved between layers (channel 100x in W1, 1/100 in W2): equalised, the int8 file runs and is closer to float', async () => {
    const r = mulberry32(5);
    const images = Array.from({ length: 24 }, () => Float32Array.from({ length: 6 * 6 * 3 }, () => r()));
    const g = convPair('relu');
    // Measured: 8.8 dB without, 35.4 dB with equalization.
    // c2 HWIO [3, 3, 4, 5]: input channel 2 (the hot one) / 100, so each channel contributes alike
    // and the activation's int8 range is wasted on channel 2 - what a folded batch norm leaves.
    const w2 = g.tensors.get('c2/w')!;
    w2.data = Float32Array.from(w2.data as Float32Array, (v, k) => (Math.floor(k / 5) % 4 === 2 ? v / 100 : v));
    const eq = equalizeCrossLayer(g).graph;
    const sqnr = async (graph: Graph) => {
      const { tflite, report } = await quantizeInt8(graph, { representativeDataset: images.slice(0, 16), numCalibrationSamples: 16 });
      expect(report.allInteger).to.equal(true);
      const { signal, noise } = await tfliteVsFloat(tflite, g, images.slice(16));
      return sqnrDb(signal, noise);
    };
    const base = await sqnr(g);
    const equalized = await sqnr(eq);
    expect(equalized, `int8 SQNR ${base.toFixed(1)} dB -> ${equalized.toFixed(1)} dB`).to.be.above(base + 15);
  });

  it('quantizeInt8 { equalize: true } applies the pass before calibration and says so', async () => {
    const r = mulberry32(6);
    const images = Array.from({ length: 24 }, () => Float32Array.from({ length: 6 * 6 * 3 }, () => r()));
    const g = () => {
      const graph = convPair('relu');
      const w2 = graph.tensors.get('c2/w')!;
      w2.data = Float32Array.from(w2.data as Float32Array, (v, k) => (Math.floor(k / 5) % 4 === 2 ? v / 100 : v));
      return graph;
    };
    const run = async (equalize: boolean) => {
      const { tflite, report } = await quantizeInt8(g(), { representativeDataset: images.slice(0, 16), numCalibrationSamples: 16, equalize });
      const { signal, noise } = await tfliteVsFloat(tflite, g(), images.slice(16));
      return { sqnr: sqnrDb(signal, noise), notes: report.notes.join('\n') };
    };
    const off = await run(false);
    const on = await run(true);
    expect(on.notes).to.match(/cross-layer equalization: 1 pairs/);
    expect(off.notes).to.not.match(/cross-layer equalization/);
    expect(on.sqnr, `${off.sqnr.toFixed(1)} -> ${on.sqnr.toFixed(1)} dB`).to.be.above(off.sqnr + 15);
  });
});
