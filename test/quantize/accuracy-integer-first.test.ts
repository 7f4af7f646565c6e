// The SQNR search exhausts integer options before any float op: ranked layers with an int16 kernel go
// to int16 (readers without one stay int8, so the file stays full-integer), and an op goes to float
// only when every int16-capable layer in int16 misses the target - with its reason in the report.
// Small built graphs around a deliberately coarse tensor (sensitive-graph.ts's 'hot': one output
// channel 40x the others, which its reader nearly ignores), with a SquaredDifference by a constant (no
// int16 kernel in TFLite) placed harmlessly before it or in its path. Targets sit between SQNRs computed
// independently (files written with recipe overrides, run in LiteRT against the TF.js float graph),
// and the chosen file is measured on inputs that neither selected nor checked it.
import { expect } from 'chai';
import { GraphBuilder } from '../../lib/graph/builder.js';
import type { Graph } from '../../lib/ir/graph.js';
import { formatAccuracyReport } from '../../lib/quantize/accuracy.js';
import type { QuantRecipe } from '../../lib/quantize/recipe.js';
import { inspectTflite } from '../../lib/tflite/inspect.js';
import { readTflite } from '../../lib/tflite/reader.js';
import { quantizeInt8 } from '../../lib/yolo/quantize.js';
import { minSqnrCriterionDb, tfliteVsFloat } from '../support/compare.js';
import { lcg as rng } from '../support/random.js';
import { CALIB, N, SHAPE } from '../support/sensitive-graph.js';

const db = (e: { signal: number; noise: number }) => 10 * Math.log10(e.signal / e.noise);
const inputs = (seed: number, n: number) => {
  const r = rng(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: N }, () => r()));
};
const VAL = inputs(5, 4);
const HOLDOUT = inputs(9, 3);
/** Inputs no search saw: the chosen file's SQNR on them is the generalisation check. */
const UNSEEN = inputs(13, 4);

/**
 * input -> c1 -> [sq before] -> hot -> [sq between] -> out, sq = (x - 0.1)^2. `sqBetween`: the
 * SquaredDifference reads 'hot' (its int8 grid then rounds hot's coarse tensor whatever the
 * convolutions' precision).
 */
function graphWithInt8OnlyOp(sqBetween: boolean, op: 'SquaredDifference' | 'HardSwish' = 'SquaredDifference'): Graph {
  const r = rng(11);
  const rand = (n: number, a: number) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * a);
  const b = new GraphBuilder('int8-only-sensitive');
  const sq = (x: string) =>
    op === 'HardSwish' ? b.emit('sq', 'HardSwish', [x], {})[0] : b.emit('sq', 'SquaredDifference', [x, b.addConstant('sq/c', [], 'float32', Float32Array.of(0.1))], {})[0];
  const conv = (name: string, x: string, k: number, ic: number, oc: number, w: Float32Array) =>
    b.emit(name, 'Conv2D', [x, b.addConstant(`${name}/w`, [k, k, ic, oc], 'float32', w), b.addConstant(`${name}/b`, [oc], 'float32', rand(oc, 0.05))], { strides: [1, 1], padding: 'SAME', dilations: [1, 1], activation: 'none' })[0];
  let t = conv('c1', b.addInput('input', SHAPE), 3, 3, 6, rand(3 * 3 * 3 * 6, 0.4));
  if (!sqBetween) t = sq(t);
  const wh = rand(3 * 3 * 6 * 4, 0.3);
  for (let i = 0; i < wh.length; i += 4) wh[i] *= 40;
  t = conv('hot', t, 3, 6, 4, wh);
  if (sqBetween) t = sq(t);
  const wo = rand(4 * 3, 1);
  for (let o = 0; o < 3; o++) wo[o] *= 1e-4;
  return b.build([conv('out', t, 1, 4, 3, wo)], { source: 'int8-only-sensitive', format: 'built', notes: [] });
}

/**
 * A weights-limited graph: input -> c0 (channel 0 always 0) -> w -> out. Each output channel of 'w'
 * has one weight `outlier` x the others, on c0's dead channel: it contributes nothing, but it sets the
 * per-channel int8 weight scale, so the useful weights round coarsely whatever the activations' dtype.
 */
function weightsLimitedGraph(outlier = 100): Graph {
  const r = rng(21);
  const rand = (n: number, a: number) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * a);
  const b = new GraphBuilder('weights-limited');
  const conv = (name: string, x: string, ic: number, oc: number, w: Float32Array, bias: Float32Array) =>
    b.emit(name, 'Conv2D', [x, b.addConstant(`${name}/w`, [1, 1, ic, oc], 'float32', w), b.addConstant(`${name}/b`, [oc], 'float32', bias)], { strides: [1, 1], padding: 'SAME', dilations: [1, 1], activation: 'none' })[0];
  const w0 = rand(3 * 4, 1);
  for (let i = 0; i < 3; i++) w0[i * 4] = 0; // [1,1,in,out]: output channel 0 of c0 is 0
  const b0 = rand(4, 0.1);
  b0[0] = 0;
  const c0 = conv('c0', b.addInput('input', SHAPE), 3, 4, w0, b0);
  const w1 = rand(4 * 3, 1);
  for (let o = 0; o < 3; o++) w1[o] = outlier; // input channel 0 (the dead one) to every output channel
  const w = conv('w', c0, 4, 3, w1, rand(3, 0.05));
  return b.build([conv('out', w, 3, 3, rand(3 * 3, 1), rand(3, 0.05))], { source: 'weights-limited', format: 'built', notes: [] });
}

/** Scale of every int16 activation tensor (TensorType INT16 = 7) of a file, by name. */
function int16Scales(tflite: Uint8Array): Map<string, number> {
  const sg = readTflite(tflite).subgraphs[0];
  return new Map(sg.tensors.filter((t) => t.type === 7 && t.buffer === 0 && t.quantization?.scale?.length === 1).map((t) => [t.name, t.quantization!.scale![0]]));
}

const base = { representativeDataset: CALIB, numCalibrationSamples: CALIB.length, backend: 'wasm' as const };

/** minSqnrDb's criterion (pooled SQNR or its per-image bound, dB) on `on` of a file written independently with recipe overrides (node -> precision). */
async function independentDb(graph: Graph, overrides: Record<string, 'int16' | 'float'>, on: Float32Array[]): Promise<number> {
  const recipe: QuantRecipe = { overrides: Object.entries(overrides).map(([match, precision]) => ({ match, precision })) };
  const { tflite } = await quantizeInt8(graph, { ...base, recipe, outputType: overrides.out ? 'int16' : 'int8' });
  return minSqnrCriterionDb(await tfliteVsFloat(tflite, graph, on));
}

/**
 * The SQNRs (minSqnrDb's criterion on VAL) of two files written independently with recipe overrides,
 * checked to be more than 10 dB apart, and the target halfway between them.
 */
async function bracket(graph: Graph, lower: Record<string, 'int16' | 'float'>, upper: Record<string, 'int16' | 'float'>): Promise<{ lo: number; hi: number; target: number }> {
  const lo = await independentDb(graph, lower, VAL);
  const hi = await independentDb(graph, upper, VAL);
  expect(hi - lo).to.be.greaterThan(10);
  return { lo, hi, target: (lo + hi) / 2 };
}

describe('accuracy selection: integer options before float ops (minSqnrDb)', function () {
  this.timeout(120_000);

  it('raises the sensitive layer to int16 and leaves a SquaredDifference (no int16 kernel) in int8: full-integer, target met on unseen inputs', async () => {
    const graph = graphWithInt8OnlyOp(false);
    const { target } = await bracket(graph, {}, { hot: 'int16', out: 'int16' });
    const { tflite, report } = await quantizeInt8(graph, { ...base, accuracy: { minSqnrDb: target, validation: VAL, holdout: HOLDOUT, latencyImages: 1 } });
    const a = report.accuracy!;
    expect(a.reached).to.equal(true);
    expect(a.raisedLayers.every((l) => l.precision === 'int16')).to.equal(true);
    expect(a.raisedLayers.map((l) => l.node)).to.include('hot').and.not.include('sq');
    // Every variant tried was full-integer: no float op was needed, so none was tried.
    expect(a.trials.every((t) => t.fullInteger)).to.equal(true);
    expect(a.floatOps).to.deep.equal([]);
    // The written file (LiteRT): no float op, SquaredDifference still int8, and the target holds on inputs it was not chosen or checked on.
    const p = inspectTflite(tflite).precision;
    expect(p.float).to.equal(0);
    expect(p.int16).to.be.greaterThan(0);
    expect(db(await tfliteVsFloat(tflite, graph, UNSEEN))).to.be.at.least(target);
    // The holdout checked the choice (it had to reach the target there too).
    expect(a.measuredOn!.confirmedRaises).to.be.greaterThan(0);
    expect(a.measuredOn!.chosen).to.be.at.least(target);
    // int16 tensors take 4x their observed range: the same tensors written by a plain int16 recipe have 1/4 the scale.
    const recipeFile = (await quantizeInt8(graph, { ...base, recipe: { overrides: [{ match: 'hot', precision: 'int16' }, { match: 'out', precision: 'int16' }] }, outputType: 'int16' })).tflite;
    const plain = int16Scales(recipeFile);
    const widened = int16Scales(tflite);
    expect(a.int16Headroom).to.equal(4);
    expect([...widened.keys()].filter((k) => plain.has(k))).to.have.length.greaterThan(0);
    for (const [name, scale] of widened) if (plain.has(name)) expect(scale / plain.get(name)!, name).to.be.closeTo(4, 1e-5);
    expect(formatAccuracyReport(a)).to.match(/int16 tensors take 4x their observed calibration range/);
    expect(formatAccuracyReport(a)).to.match(/chosen on 4 given inputs[\s\S]*checked on the holdout 3 given inputs \(3 images, \d+ variant\(s\) that met the target on validation had to meet it here too/);
  });

  it('a SquaredDifference that rounds the coarse tensor goes to float only after all-int16 misses, and the report says why', async () => {
    const graph = graphWithInt8OnlyOp(true);
    // Every int16-capable layer in int16 leaves sq's int8 grid on hot's tensor; sq in float removes it.
    const { lo: allInt16, target } = await bracket(graph, { c1: 'int16', hot: 'int16', out: 'int16' }, { c1: 'int16', hot: 'int16', sq: 'float', out: 'int16' });
    const { tflite, report } = await quantizeInt8(graph, { ...base, accuracy: { minSqnrDb: target, validation: VAL, latencyImages: 1 } });
    const a = report.accuracy!;
    expect(a.reached).to.equal(true);
    // The search's all-int16 variant (int16 ranges with 4x headroom) still misses: sq's int8 grid is the limit.
    expect(a.allInt16).to.be.below(target).and.closeTo(allInt16, 1);
    // Integer options were all tried first: every full-integer trial comes before the first with a float op.
    const firstFloat = a.trials.findIndex((t) => !t.fullInteger);
    expect(firstFloat).to.be.greaterThan(0);
    expect(a.trials.slice(firstFloat).every((t) => !t.fullInteger)).to.equal(true);
    expect(a.trials.slice(0, firstFloat).some((t) => t.int16 === 3)).to.equal(true);
    // Only sq is in float, the convolutions in int16; its reason names the missing kernel and the all-int16 value.
    expect(a.floatOps.map((f) => f.node)).to.deep.equal(['sq']);
    expect(a.floatOps[0].reason).to.match(new RegExp(`^no int16 kernel \\(its op supports int8, float\\): .* reaches ${a.allInt16!.toFixed(2)} dB`));
    expect(a.raisedLayers.filter((l) => l.precision === 'int16').map((l) => l.node).sort()).to.deep.equal(['c1', 'hot', 'out']);
    expect(formatAccuracyReport(a)).to.match(/in float, 1 op\(s\) \[sq \(SquaredDifference\)\]: no int16 kernel/);
    expect(db(await tfliteVsFloat(tflite, graph, UNSEEN))).to.be.at.least(target);
  });

  it('a HardSwish in the same place goes to int16 (its int16 writer: MUL, ADD, MUL), so the file stays full-integer', async () => {
    const graph = graphWithInt8OnlyOp(true, 'HardSwish');
    const { target } = await bracket(graph, { c1: 'int16', hot: 'int16', out: 'int16' }, { c1: 'int16', hot: 'int16', sq: 'int16', out: 'int16' });
    const { tflite, report } = await quantizeInt8(graph, { ...base, accuracy: { minSqnrDb: target, validation: VAL, latencyImages: 1 } });
    const a = report.accuracy!;
    expect(a.reached).to.equal(true);
    expect(a.trials.every((t) => t.fullInteger)).to.equal(true);
    expect(a.raisedLayers.find((l) => l.node === 'sq')?.precision).to.equal('int16');
    const p = inspectTflite(tflite);
    expect(p.precision.float).to.equal(0);
    expect(p.opHistogram.HARD_SWISH ?? 0).to.equal(0);
    expect(db(await tfliteVsFloat(tflite, graph, UNSEEN))).to.be.at.least(target);
  });

  it('a weights-limited layer takes split weights (two int8 terms) after every layer in int16 misses: full-integer, target met on unseen inputs', async () => {
    const graph = weightsLimitedGraph();
    const { target } = await bracket(graph, { c0: 'int16', w: 'int16', out: 'int16' }, { c0: 'int16', w: 'float', out: 'int16' });
    const { tflite, report } = await quantizeInt8(graph, { ...base, accuracy: { minSqnrDb: target, validation: VAL, holdout: HOLDOUT, latencyImages: 1 } });
    const a = report.accuracy!;
    expect(a.reached).to.equal(true);
    expect(a.allInt16).to.be.below(target);
    // No variant with a float op was tried: split weights met the target first.
    expect(a.trials.every((t) => t.fullInteger)).to.equal(true);
    expect(a.trials.some((t) => t.int16 === 3 && t.split === 0)).to.equal(true);
    expect(a.splitLayers.map((l) => l.node)).to.include('w');
    expect(a.floatOps).to.deep.equal([]);
    expect(a.fullInteger).to.equal(true);
    expect(formatAccuracyReport(a)).to.match(/split weights \(W = W_hi \+ W_lo, two int8 terms and an int16 ADD; still full-integer\) on \d+ layer\(s\): .*w \(Conv2D\)/);
    // The written file (LiteRT): no float op, two CONV_2D per split layer and an ADD joining them, target met on unseen inputs.
    const ins = inspectTflite(tflite);
    expect(ins.precision.float).to.equal(0);
    expect(ins.opHistogram.ADD).to.equal(a.splitLayers.length);
    expect(ins.opHistogram.CONV_2D).to.equal(3 + a.splitLayers.length);
    expect(db(await tfliteVsFloat(tflite, graph, UNSEEN))).to.be.at.least(target);
  });

  it('a layer too weights-limited even for split weights goes to float after all-int16 and all-split miss, with that reason', async () => {
    // An outlier 1e6x the other weights: the residual's step (1e6 / 127 / 254 ~ 31) is still far coarser than the weights (~1).
    const graph = weightsLimitedGraph(1e6);
    const allInt16 = await independentDb(graph, { c0: 'int16', w: 'int16', out: 'int16' }, VAL);
    const wFloat = await independentDb(graph, { c0: 'int16', w: 'float', out: 'int16' }, VAL);
    expect(wFloat - allInt16).to.be.greaterThan(20);
    const target = wFloat - 3;
    const { tflite, report } = await quantizeInt8(graph, { ...base, accuracy: { minSqnrDb: target, validation: VAL, latencyImages: 1 } });
    const a = report.accuracy!;
    expect(a.reached).to.equal(true);
    expect(a.allInt16).to.be.below(target);
    expect(a.allSplit).to.be.below(target);
    // Every full-integer trial (int16, then split) comes before the first with a float op.
    const firstFloat = a.trials.findIndex((t) => !t.fullInteger);
    expect(a.trials.slice(0, firstFloat).some((t) => t.split > 0)).to.equal(true);
    expect(a.trials.slice(firstFloat).every((t) => !t.fullInteger)).to.equal(true);
    const w = a.floatOps.find((f) => f.node === 'w');
    expect(w?.reason).to.match(new RegExp(`^weights-limited: .* reaches ${a.allInt16!.toFixed(2)} dB, and with split weights .* ${a.allSplit!.toFixed(2)} dB.*even split weights fall short`));
    expect(a.splitLayers).to.deep.equal([]);
    expect(db(await tfliteVsFloat(tflite, graph, UNSEEN))).to.be.at.least(target);
  });
});
