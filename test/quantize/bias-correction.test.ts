// Bias correction on a small graph built so that int8 rounding biases the conv outputs: per-tensor
// weight scale set by one channel's large weight, and the other channels' weights all rounding the
// same way (1.4 steps -> 1, 0.6 steps -> 1, -1.45 steps -> -1). The mean error per channel is
// measured here, independently: the int8 model in LiteRT against the float graph in TF.js.
import { expect } from 'chai';
import { GraphBuilder } from '../../lib/graph/builder.js';
import type { Graph } from '../../lib/ir/graph.js';
import { createFloatExecutor } from '../../lib/graph/execute.js';
import { quantizeInt8, type QuantizeInt8Result } from '../../lib/yolo/quantize.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { readTflite } from '../../lib/tflite/reader.js';
import { lcg as rng } from '../support/random.js';
import { int8FromUnit } from '../support/int8-input.js';

const H = 8;
const W = 8;
const C = 4;
const N_IN = H * W * C;
const OC = 4;
const STEP = 1 / 127; // the per-tensor weight scale: max |w| = 1

/** conv1 (3x3, the biased channels) -> conv2 (1x1, positive weights: conv1's error carries into it). */
function buildGraph(): { graph: Graph; b1: Float32Array } {
  const r = rng(11);
  const b = new GraphBuilder('bias-correction');
  const x = b.addInput('input', [1, H, W, C]);
  // HWIO: channel o of element ((h * 3 + w) * C + i) * OC + o.
  const w1 = new Float32Array(9 * C * OC);
  for (let k = 0; k < 9 * C; k++) {
    w1[k * OC + 0] = k === 0 ? 1 : -1 + 2 * r();
    w1[k * OC + 1] = 1.4 * STEP;
    w1[k * OC + 2] = 0.6 * STEP;
    w1[k * OC + 3] = -1.45 * STEP;
  }
  const b1 = Float32Array.from([0.1, -0.2, 0.3, 0.05]);
  const c1 = b.emit('conv1', 'Conv2D', [x, b.addConstant('conv1/w', [3, 3, C, OC], 'float32', w1), b.addConstant('conv1/b', [OC], 'float32', b1)], {
    strides: [1, 1], padding: 'SAME', dilations: [1, 1], activation: 'none',
  })[0];
  const w2 = Float32Array.from({ length: OC * 3 }, () => 0.3 + 0.5 * r());
  const c2 = b.emit('conv2', 'Conv2D', [c1, b.addConstant('conv2/w', [1, 1, OC, 3], 'float32', w2), b.addConstant('conv2/b', [3], 'float32', Float32Array.from([0, 0.1, -0.1]))], {
    strides: [1, 1], padding: 'SAME', dilations: [1, 1], activation: 'none',
  })[0];
  return { graph: b.build([c1, c2], { source: 'bias-correction', format: 'built', notes: [] }), b1 };
}

/** Inputs on the int8 input grid (scale 1/255, zero point -128). */
function inputs(n: number, seed: number): Float32Array[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: N_IN }, () => Math.round(r() * 255) / 255));
}

/** Per graph output and channel: mean over inputs and positions of (LiteRT int8 - float, clamped to the output's range), in output steps and in float. */
async function meanErrors(tflite: Uint8Array, graph: Graph, xs: Float32Array[]): Promise<{ steps: number[][]; values: number[][] }> {
  const runner = await TfliteRunner.load(tflite);
  const exec = await createFloatExecutor(graph, { backend: 'wasm' });
  const sums = graph.outputs.map((o) => new Float64Array(graph.tensors.get(o)!.shape.at(-1)!));
  try {
    for (const x of xs) {
      const got = await runner.run([int8FromUnit(x)]);
      const want = await exec.run(x);
      graph.outputs.forEach((name, k) => {
        const { scale: s, zeroPoint: zp } = runner.outputs[k];
        const lo = (-128 - zp!) * s!;
        const hi = (127 - zp!) * s!;
        const c = sums[k].length;
        for (let i = 0; i < got[k].length; i++) sums[k][i % c] += (got[k][i] - zp!) * s! - Math.min(hi, Math.max(lo, want[name][i]));
      });
    }
  } finally {
    runner.dispose();
    exec.dispose();
  }
  const values = sums.map((m, k) => {
    const perChannel = (graph.tensors.get(graph.outputs[k])!.shape.reduce((a, b) => a * b, 1) / m.length) * xs.length;
    return Array.from(m, (v) => v / perChannel);
  });
  return { values, steps: values.map((v, k) => v.map((e) => e / runner.outputs[k].scale!)) };
}

function fileTensor(tflite: Uint8Array, name: string) {
  const model = readTflite(tflite);
  const sg = model.subgraphs[0];
  const t = sg.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`no tensor ${name}`);
  const buf = model.buffers[t.buffer].data!;
  return { t, data: new Int32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)) };
}

const roundHalfAway = (v: number) => Math.sign(v) * Math.round(Math.abs(v));

describe('bias correction (empirical, per output channel, measured in LiteRT)', function () {
  this.timeout(60000);
  const { graph, b1 } = buildGraph();
  const calib = inputs(16, 5);
  const base = { representativeDataset: calib, numCalibrationSamples: 16, backend: 'wasm' as const, perChannel: false };
  let off: QuantizeInt8Result;
  let seq: QuantizeInt8Result;
  let offErr: { steps: number[][]; values: number[][] };

  before(async () => {
    off = await quantizeInt8(graph, { ...base, biasCorrection: false });
    seq = await quantizeInt8(graph, { ...base, biasCorrection: { samples: 16, mode: 'sequential' } });
    offErr = await meanErrors(off.tflite, graph, calib);
  });

  it('the built graph has biased int8 outputs: the rounded channels err by about a step on average', () => {
    for (const c of [1, 2, 3]) expect(Math.abs(offErr.steps[0][c]), `conv1 channel ${c}`).to.be.above(0.5);
    // 0.4 steps of every weight lost in channel 1, gained in channel 2: opposite signs.
    expect(offErr.values[0][1]).to.be.below(0);
    expect(offErr.values[0][2]).to.be.above(0);
  });

  it('with correction the mean error per channel drops by a factor of 10 or more (calibration and new inputs)', async () => {
    for (const xs of [calib, inputs(16, 99)]) {
      const before = xs === calib ? offErr : await meanErrors(off.tflite, graph, xs);
      const after = await meanErrors(seq.tflite, graph, xs);
      for (const k of [0, 1]) {
        const maxBefore = Math.max(...before.steps[k].map(Math.abs));
        const maxAfter = Math.max(...after.steps[k].map(Math.abs));
        expect(maxBefore, `output ${k} before`).to.be.above(0.5);
        expect(maxAfter, `output ${k}: ${maxAfter} steps after vs ${maxBefore} before`).to.be.below(maxBefore / 10);
      }
    }
  });

  it('the corrected int32 bias of conv1 is round((b - measured mean error) / (s_in * s_w))', () => {
    const inScale = 1 / 255;
    const sW = Math.fround(1 / 127); // max |w| = 1, per tensor
    const s = Math.fround(Math.fround(inScale) * sW);
    const { t, data } = fileTensor(seq.tflite, 'conv1/bias');
    expect(t.quantization!.scale[0]).to.equal(s);
    const expected = Array.from(b1, (b, c) => roundHalfAway(Math.fround(b - offErr.values[0][c]) / s));
    expect(Array.from(data)).to.deep.equal(expected);
    // Without correction: the plain bias.
    expect(Array.from(fileTensor(off.tflite, 'conv1/bias').data)).to.deep.equal(Array.from(b1, (b) => roundHalfAway(b / s)));
  });

  it('the plan and the report say what changed', () => {
    const bc = seq.report.biasCorrection!;
    expect(bc.layers).to.equal(2);
    expect(bc.candidates).to.equal(2);
    expect(bc.samples).to.equal(16);
    expect(bc.mode).to.equal('sequential');
    expect(bc.passes).to.equal(2); // conv1 then conv2
    expect(bc.seconds).to.be.above(0);
    expect(seq.report.timings.biasCorrectionSeconds).to.be.above(0);
    expect(bc.perLayer.map((l) => [l.node, l.depth])).to.deep.equal([['conv1', 1], ['conv2', 2]]);
    // conv1's measured error is the one measured here; its correction in bias steps is the int32 change.
    const s = Math.fround(Math.fround(1 / 255) * Math.fround(1 / 127));
    const meanAbsSteps = offErr.steps[0].reduce((a, e) => a + Math.abs(e), 0) / OC;
    expect(bc.perLayer[0].errorSteps).to.be.closeTo(meanAbsSteps, 1e-6);
    const dInt = Array.from(fileTensor(seq.tflite, 'conv1/bias').data, (q, c) => Math.abs(q - roundHalfAway(b1[c] / s)));
    expect(bc.perLayer[0].correctionBiasSteps).to.equal(dInt.reduce((a, b) => a + b, 0) / OC);
    const biases = seq.report.plan.tensors.filter((t) => t.role === 'bias');
    expect(biases.map((t) => [t.name, t.origin])).to.deep.equal([
      ['conv1/bias', { kind: 'bias', input: 'input', weights: 'conv1#weights', corrected: true }],
      ['conv2/bias', { kind: 'bias', input: 'conv1', weights: 'conv2#weights', corrected: true }],
    ]);
    expect(seq.report.recipe.biasCorrection).to.deep.equal({ enabled: true, samples: 16, mode: 'sequential' });
    expect(seq.report.notes.some((n) => n.startsWith('bias correction (sequential): 2 of 2'))).to.equal(true);
    // Off: nothing corrected, no report entry.
    expect(off.report.biasCorrection).to.equal(undefined);
    expect(off.report.plan.tensors.filter((t) => t.role === 'bias').every((t) => t.origin.kind === 'bias' && t.origin.corrected === undefined)).to.equal(true);
  });

  it('sequential corrects conv2 for what remains after conv1 is corrected; one-shot over-corrects it', async () => {
    const oneShot = await quantizeInt8(graph, { ...base, biasCorrection: { samples: 16, mode: 'one-shot' } });
    expect(oneShot.report.biasCorrection!.passes).to.equal(1);
    // conv1 has nothing above it: the same correction either way.
    expect(Array.from(fileTensor(oneShot.tflite, 'conv1/bias').data)).to.deep.equal(Array.from(fileTensor(seq.tflite, 'conv1/bias').data));
    const a = await meanErrors(oneShot.tflite, graph, calib);
    const b = await meanErrors(seq.tflite, graph, calib);
    const maxAbs = (v: number[]) => Math.max(...v.map(Math.abs));
    // conv2 with one-shot: its own error and conv1's carried error were both removed, the latter twice.
    expect(maxAbs(a.steps[1]), `one-shot ${maxAbs(a.steps[1])} vs sequential ${maxAbs(b.steps[1])}`).to.be.above(3 * maxAbs(b.steps[1]));
  });

  it('is deterministic, and the recipe switch and a one-shot iterator dataset give the same file', async () => {
    const again = await quantizeInt8(graph, { ...base, biasCorrection: { samples: 16, mode: 'sequential' } });
    expect(Buffer.from(again.tflite).equals(Buffer.from(seq.tflite))).to.equal(true);
    const viaRecipe = await quantizeInt8(graph, { ...base, recipe: { biasCorrection: { samples: 16, mode: 'sequential' } } });
    expect(Buffer.from(viaRecipe.tflite).equals(Buffer.from(seq.tflite))).to.equal(true);
    // A generator can be read only once: the samples are kept while calibrating.
    function* once() {
      yield* calib;
    }
    const fromIterator = await quantizeInt8(graph, { ...base, representativeDataset: once(), biasCorrection: { samples: 16, mode: 'sequential' } });
    expect(Buffer.from(fromIterator.tflite).equals(Buffer.from(seq.tflite))).to.equal(true);
    // true: the default schedule (local, 8 samples), from an array or a generator alike.
    const local = await quantizeInt8(graph, { ...base, biasCorrection: true });
    expect(local.report.biasCorrection).to.include({ mode: 'local', samples: 8, passes: 1, layers: 2 });
    const localIterator = await quantizeInt8(graph, { ...base, representativeDataset: once(), biasCorrection: true });
    expect(Buffer.from(localIterator.tflite).equals(Buffer.from(local.tflite))).to.equal(true);
  });

  it('off (the default, false, or recipe false) writes the uncorrected plan', async () => {
    const byDefault = await quantizeInt8(graph, base);
    expect(byDefault.report.recipe.biasCorrection).to.deep.equal({ enabled: false, samples: 8, mode: 'local' });
    expect(Buffer.from(byDefault.tflite).equals(Buffer.from(off.tflite))).to.equal(true);
    const viaRecipe = await quantizeInt8(graph, { ...base, recipe: { biasCorrection: false } });
    expect(Buffer.from(viaRecipe.tflite).equals(Buffer.from(off.tflite))).to.equal(true);
    expect(Buffer.from(off.tflite).equals(Buffer.from(seq.tflite))).to.equal(false);
    // The explicit option wins over the recipe.
    const optionWins = await quantizeInt8(graph, { ...base, recipe: { biasCorrection: true }, biasCorrection: false });
    expect(Buffer.from(optionWins.tflite).equals(Buffer.from(off.tflite))).to.equal(true);
  });

  it('rejects bad settings', async () => {
    let err: Error | undefined;
    try {
      await quantizeInt8(graph, { ...base, biasCorrection: { mode: 'twice' as 'one-shot' } });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/biasCorrection\.mode must be one of sequential, one-shot, local/);
  });
});

describe('bias correction, local: each op against the float op on its own integer input', function () {
  this.timeout(60000);
  const { graph } = buildGraph();
  const calib = inputs(16, 5);
  const base = { representativeDataset: calib, numCalibrationSamples: 16, backend: 'wasm' as const, perChannel: false };

  it("conv2's corrected bias removes only conv2's own error (float conv2 on LiteRT's conv1 output)", async () => {
    const off = await quantizeInt8(graph, { ...base, biasCorrection: false });
    const local = await quantizeInt8(graph, { ...base, biasCorrection: { samples: 16, mode: 'local' } });
    const seq = await quantizeInt8(graph, { ...base, biasCorrection: { samples: 16, mode: 'sequential' } });
    expect(local.report.biasCorrection!.passes).to.equal(1);
    // conv1 reads the (exactly representable) model input: its local error is its whole error.
    expect(Array.from(fileTensor(local.tflite, 'conv1/bias').data)).to.deep.equal(Array.from(fileTensor(seq.tflite, 'conv1/bias').data));
    // conv2's own error, measured here: LiteRT conv2 vs float conv2 on LiteRT's (dequantized) conv1.
    const conv2 = graph.nodes.find((n) => n.name === 'conv2')!;
    const single: Graph = {
      tensors: new Map([...conv2.inputs, ...conv2.outputs].map((t) => [t, graph.tensors.get(t)!])),
      nodes: [conv2],
      inputs: [conv2.inputs[0]],
      outputs: conv2.outputs,
      meta: graph.meta,
    };
    const runner = await TfliteRunner.load(off.tflite);
    const exec = await createFloatExecutor(single, { backend: 'wasm' });
    const sum = new Float64Array(3);
    try {
      for (const x of calib) {
        const got = await runner.run([int8FromUnit(x)]);
        const [o1, o2] = runner.outputs;
        const c1 = Float32Array.from(got[0], (q) => (q - o1.zeroPoint!) * o1.scale!);
        const want = (await exec.run({ [conv2.inputs[0]]: c1 }))[conv2.outputs[0]];
        const lo = (-128 - o2.zeroPoint!) * o2.scale!;
        const hi = (127 - o2.zeroPoint!) * o2.scale!;
        for (let i = 0; i < want.length; i++) sum[i % 3] += (got[1][i] - o2.zeroPoint!) * o2.scale! - Math.min(hi, Math.max(lo, want[i]));
      }
    } finally {
      runner.dispose();
      exec.dispose();
    }
    const perChannel = H * W * calib.length;
    const bias = fileTensor(local.tflite, 'conv2/bias');
    const s = bias.t.quantization!.scale;
    const b2 = [0, 0.1, -0.1];
    const expected = b2.map((b, c) => roundHalfAway(Math.fround(b - sum[c] / perChannel) / (s.length === 1 ? s[0] : s[c])));
    expect(Array.from(bias.data)).to.deep.equal(expected);
    // Sequential also removes what conv1's (corrected) output still carries: a different bias.
    expect(Array.from(fileTensor(seq.tflite, 'conv2/bias').data)).to.not.deep.equal(expected);
  });
});
