// Sensitivity analysis and accuracy-aware selection on a small built graph with one deliberately
// sensitive layer (sensitive-graph.ts: 'hot' has one huge-range output channel, so its int8 output
// grid is far too coarse for the channels its reader 'out' uses).
// Every number is checked against models written independently with quantizeInt8 + recipe
// overrides, run in LiteRT, against the TF.js float executor.
import { expect } from 'chai';
import { formatAccuracyReport } from '../../lib/quantize/accuracy.js';
import { GraphBuilder } from '../../lib/graph/builder.js';
import { CALIB, IMAGES, N, SHAPE, gridInput, sensitiveGraph } from '../support/sensitive-graph.js';
import { lcg as rng } from '../support/random.js';
import { minSqnrCriterionDb, runFloatGraph, tfliteVsFloat, type FileError } from '../support/compare.js';
import { pooledSqnrLowerBoundDb } from '../../lib/util/stats.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { dequantizeOutput, quantizeInput } from '../../lib/pipeline/quantize.js';
import { cocoImages, imageInputs } from '../support/zoo.js';
import type { Graph } from '../../lib/ir/graph.js';
import { analyzeSensitivity, quantizeInt8 } from '../../lib/yolo/quantize.js';
import { carriersOf, sensitivityLayers } from '../../lib/quantize/variants.js';
import type { QuantRecipe } from '../../lib/quantize/recipe.js';
import { quantizeInt8 as quantizeCore } from '../../lib/quantize/index.js';
import type { Metric } from '../../lib/quantize/plugin.js';
import { inspectTflite } from '../../lib/tflite/inspect.js';

/** Output signal and noise of a .tflite model (LiteRT, [0,1] inputs mapped to int8 with saturation) against the TF.js float graph. */
const fileError = tfliteVsFloat;

/** fileError of a model written independently by quantizeInt8 with `recipe`. */
async function independentError(graph: Graph, recipe: QuantRecipe, outputType: 'int8' | 'int16' | 'float32', inputs: Float32Array[]): Promise<FileError> {
  const { tflite } = await quantizeInt8(graph, { representativeDataset: CALIB, numCalibrationSamples: CALIB.length, backend: 'wasm', recipe, outputType });
  return fileError(tflite, graph, inputs);
}

const db = (s: number, n: number) => 10 * Math.log10(s / n);

/**
 * Each output's SQNR (dB), the pooled one, and minSqnrDb's criterion (per output the lower of pooled
 * and the per-image bound; the worst output) of a .tflite in LiteRT against the TF.js float graph.
 */
async function perOutputError(tflite: Uint8Array, graph: Graph, inputs: Float32Array[]): Promise<{ each: number[]; pooled: number; criterion: number }> {
  const runner = await TfliteRunner.load(tflite);
  const sums = graph.outputs.map(() => ({ signal: 0, noise: 0 }));
  /** [output][input] signal and noise. */
  const perImage: { signal: number; noise: number }[][] = graph.outputs.map(() => []);
  try {
    for (const x of inputs) {
      const got = await runner.run([quantizeInput(x, runner.inputs[0] as Parameters<typeof quantizeInput>[1])]);
      const want = await runFloatGraph(graph, x);
      graph.outputs.forEach((name, k) => {
        const g = dequantizeOutput(got[k], runner.outputs[k]);
        let signal = 0;
        let noise = 0;
        want[name].forEach((w, i) => { signal += w * w; noise += (g[i] - w) ** 2; });
        sums[k].signal += signal;
        sums[k].noise += noise;
        perImage[k].push({ signal, noise });
      });
    }
  } finally {
    runner.dispose();
  }
  const total = sums.reduce((a, s) => ({ signal: a.signal + s.signal, noise: a.noise + s.noise }), { signal: 0, noise: 0 });
  const each = sums.map((s) => db(s.signal, s.noise));
  return { each, pooled: db(total.signal, total.noise), criterion: Math.min(...each.map((d, k) => Math.min(d, pooledSqnrLowerBoundDb(perImage[k])))) };
}

describe('sensitivity analysis (small graph with one sensitive layer)', function () {
  this.timeout(60_000);
  const graph = sensitiveGraph();

  it('layers are the ops with their own rounding; a layer is carried through data movement to its readers', () => {
    expect(sensitivityLayers(graph).map((n) => n.name)).to.deep.equal(['c1', 'silu1', 'hot', 'out']);
    const b = new GraphBuilder('carry');
    const x = b.addInput('input', SHAPE);
    const s = b.emit('s', 'Sigmoid', [x], {})[0];
    const p = b.emit('p', 'Pad', [s], { paddings: [0, 0, 1, 1, 1, 1, 0, 0], constantValue: 0 })[0];
    const m = b.emit('m', 'MaxPool', [p], { filter: [2, 2], strides: [1, 1], padding: 'VALID' })[0];
    const t = b.emit('t', 'Tanh', [m], {})[0];
    const g = b.build([t, p], { source: 'carry', format: 'built', notes: [] });
    expect(carriersOf(g, g.nodes[0]).map((n) => n.name)).to.deep.equal(['p', 'm', 't']);
  });

  it('raise-one (int16) ranks the huge-range layer worst, with SQNRs equal to an independent computation', async () => {
    const r = await analyzeSensitivity(graph, { representativeDataset: CALIB, numCalibrationSamples: CALIB.length, backend: 'wasm', images: IMAGES, numImages: 3 });
    expect(r.method).to.equal('raise-one');
    expect(r.layers.map((l) => l.node)).to.have.members(['c1', 'silu1', 'hot', 'out']);
    expect(r.layers[0].node).to.equal('hot');
    // The worst layer stands out by far (it was built to).
    expect(r.layers[1].sqnrDb - r.layers[0].sqnrDb).to.be.greaterThan(6);

    const int8 = await independentError(graph, {}, 'int8', IMAGES);
    expect(r.int8SqnrDb).to.be.closeTo(db(int8.signal, int8.noise), 0.05);
    // Raising 'hot' = hot and its reader 'out' in int16 (16x8), the output in int16.
    const raised = await independentError(graph, { overrides: [{ match: 'hot', precision: 'int16' }, { match: 'out', precision: 'int16' }] }, 'int16', IMAGES);
    const hot = r.layers[0];
    expect(hot.variantSqnrDb).to.be.closeTo(db(raised.signal, raised.noise), 0.05);
    expect(hot.sqnrDb).to.be.closeTo(db(int8.signal, int8.noise - raised.noise), 0.1);
    expect(hot.variantSqnrDb).to.be.greaterThan(r.int8SqnrDb + 10);
  });

  it('only-int8 ranks the coarse tensor worst - at its producer and at its reader alike - with the SQNR of the float model with only that layer in int8', async () => {
    const r = await analyzeSensitivity(graph, { representativeDataset: CALIB, numCalibrationSamples: CALIB.length, backend: 'wasm', images: IMAGES, method: 'only-int8' });
    // An int8 layer reads int8 inputs: quantizing 'out' alone rounds hot's output to the same coarse
    // grid, so this method charges that tensor to both.
    expect(r.layers.slice(0, 2).map((l) => l.node)).to.have.members(['hot', 'out']);
    expect(r.layers[2].sqnrDb - r.layers[1].sqnrDb).to.be.greaterThan(10);
    const hot = r.layers.find((l) => l.node === 'hot')!;
    const only = await independentError(graph, { precision: 'float', overrides: [{ match: 'hot', precision: 'int8' }] }, 'float32', IMAGES);
    expect(hot.sqnrDb).to.be.closeTo(db(only.signal, only.noise), 0.05);
    expect(hot.variantSqnrDb).to.equal(hot.sqnrDb);
    const c1 = r.layers.find((l) => l.node === 'c1')!;
    const onlyC1 = await independentError(graph, { precision: 'float', overrides: [{ match: 'c1', precision: 'int8' }] }, 'float32', IMAGES);
    expect(c1.sqnrDb).to.be.closeTo(db(onlyC1.signal, onlyC1.noise), 0.05);
  });

  it('rejects a bad method and a bad raiseTo, naming the option', async () => {
    const base = { representativeDataset: CALIB, numCalibrationSamples: 4, backend: 'wasm' as const };
    await analyzeSensitivity(graph, { ...base, method: 'all' as never }).then(() => expect.fail('no error'), (e) => expect((e as Error).message).to.match(/method 'all' is not one of raise-one, only-int8/));
    await analyzeSensitivity(graph, { ...base, raiseTo: 'int4' as never }).then(() => expect.fail('no error'), (e) => expect((e as Error).message).to.match(/raiseTo 'int4'/));
  });
});

describe('accuracy-aware selection (quantizeInt8 accuracy option, SQNR target)', function () {
  this.timeout(60_000);
  const graph = sensitiveGraph();
  // Validation inputs off the int8 input grid: even the all-float model has an input rounding error,
  // so some SQNR targets are out of reach.
  const r = rng(5);
  const VAL = Array.from({ length: 4 }, () => Float32Array.from({ length: N }, () => r()));

  it('reaches an SQNR target by raising exactly the sensitive layer to int16 (still full-integer)', async () => {
    const int8 = await independentError(graph, {}, 'int8', VAL);
    const raised = await independentError(graph, { overrides: [{ match: 'hot', precision: 'int16' }, { match: 'out', precision: 'int16' }] }, 'int16', VAL);
    const lo = minSqnrCriterionDb(int8);
    const hi = minSqnrCriterionDb(raised);
    expect(hi - lo).to.be.greaterThan(10);
    const target = (lo + hi) / 2;
    const { tflite, report } = await quantizeInt8(graph, {
      representativeDataset: CALIB,
      numCalibrationSamples: CALIB.length,
      backend: 'wasm',
      accuracy: { minSqnrDb: target, validation: VAL },
    });
    const a = report.accuracy!;
    expect(a.reached).to.equal(true);
    expect(a.raisedLayers).to.deep.equal([{ node: 'hot', op: 'Conv2D', precision: 'int16' }]);
    expect(a.notInt8.map((x) => x.node).sort()).to.deep.equal(['hot', 'out']);
    expect(a.fullInteger).to.equal(true);
    expect(report.allInteger).to.equal(true);
    expect(a.int8).to.be.closeTo(lo, 0.05);
    // int16 tensors take 4x their observed range with an SQNR target (accuracy.ts SQNR_INT16_HEADROOM): within 1 dB of the bare range here.
    expect(a.chosen).to.be.closeTo(hi, 1);
    expect(a.latencyMs.int8).to.be.greaterThan(0);
    expect(a.fileBytes.chosen).to.equal(tflite.length);
    expect(report.precision.int16).to.equal(2);
    // The written model is the one measured: independent SQNR of the file.
    const written = await fileError(tflite, graph, VAL);
    expect(minSqnrCriterionDb(written)).to.be.closeTo(a.chosen, 0.05).and.to.be.at.least(target);
  });

  it('with a holdout set: chooses on validation, checks the target on the holdout and says which is which', async () => {
    const r9 = rng(9);
    const holdout = Array.from({ length: 3 }, () => Float32Array.from({ length: N }, () => r9()));
    const { tflite, report } = await quantizeInt8(graph, {
      representativeDataset: CALIB, numCalibrationSamples: CALIB.length, backend: 'wasm',
      accuracy: { minSqnrDb: 30, validation: VAL, holdout, latencyImages: 1 },
    });
    const a = report.accuracy!;
    expect(a.selectedOn).to.equal(`${VAL.length} given inputs`);
    const h = a.measuredOn!;
    expect(h.set).to.equal('3 given inputs');
    expect(h.images).to.equal(3);
    // The holdout values are the files' SQNR on the holdout inputs, computed here independently.
    const chosen = await fileError(tflite, graph, holdout);
    expect(h.chosen).to.be.closeTo(minSqnrCriterionDb(chosen), 0.05);
    const int8 = await independentError(graph, {}, 'int8', holdout);
    expect(h.int8).to.be.closeTo(minSqnrCriterionDb(int8), 0.05);
    // minSqnrDb: a variant that met the target on validation had to meet it on the holdout too.
    expect(h.reached).to.equal(true);
    expect(h.chosen).to.be.at.least(30);
    expect(h.confirmedRaises).to.equal(1);
    expect(a.trials.find((t) => t.int16 > 0)!.holdout).to.be.closeTo(h.chosen, 1e-9);
    expect(formatAccuracyReport(a)).to.match(/chosen on 4 given inputs[\s\S]*checked on the holdout 3 given inputs \(3 images, 1 variant\(s\) that met the target on validation had to meet it here too to be accepted, so this is not an unbiased measure\)/);
  });

  it('minSqnrDb on image files selects on the images mapped onto inputRange, as calibration reads them', async () => {
    // [-1, 1] model: the validation files must reach the search as [-1, 1] inputs. The holdout is the
    // same images mapped here explicitly, so both sets measure the same all-int8 model on the same inputs.
    const files = cocoImages(1, 3);
    const mapped = await imageInputs(files, SHAPE, [-1, 1]);
    const { report } = await quantizeInt8(graph, {
      representativeDataset: cocoImages(4, 11), numCalibrationSamples: 8, backend: 'wasm', inputRange: [-1, 1],
      accuracy: { minSqnrDb: 30, validation: files, holdout: mapped, latencyImages: 1, writeBest: true },
    });
    const a = report.accuracy!;
    expect(a.measuredOn!.images).to.equal(3);
    expect(a.int8).to.be.closeTo(a.measuredOn!.int8, 1e-6);
    expect(a.chosen).to.be.closeTo(a.measuredOn!.chosen, 1e-6);
  });

  it('minSqnrDb reads the per-image bound too: a variant whose pooled SQNR passes on the few images seen, with one much noisier, is not taken', async () => {
    // Five ordinary inputs and one bright one (all 1: beyond calibration's ranges, so int8 tensors clip;
    // 40x the others' noise). With 'hot' alone in int16 the pooled SQNR on these six inputs is above
    // the target and the bound for unseen inputs below it (both computed here: LiteRT file against the
    // TF.js float graph); the search must not stop there.
    const set = (seed: number, n: number) => {
      const rs = rng(seed);
      return Array.from({ length: n }, () => Float32Array.from({ length: N }, () => Math.round(rs() * 255) / 255));
    };
    const bright = new Float32Array(N).fill(1);
    const val = [...set(5, 5), bright];
    const hotRecipe: QuantRecipe = { overrides: [{ match: 'hot', precision: 'int16' }, { match: 'out', precision: 'int16' }] };
    const hotOnly = await independentError(graph, hotRecipe, 'int16', val);
    const pooled = db(hotOnly.signal, hotOnly.noise);
    const bound = minSqnrCriterionDb(hotOnly);
    expect(pooled - bound).to.be.above(1);
    const target = (pooled + bound) / 2;
    const { tflite, report } = await quantizeInt8(graph, { representativeDataset: CALIB, numCalibrationSamples: CALIB.length, backend: 'wasm', accuracy: { minSqnrDb: target, validation: val, latencyImages: 1 } });
    const a = report.accuracy!;
    expect(a.reached).to.equal(true);
    // The one-layer variant ('hot') was tried and refused: its value is the bound, below the target.
    const one = a.trials.find((t) => t.int16 === 1)!;
    expect(a.ranking[0]).to.equal('hot');
    expect(one.ok).to.equal(false);
    expect(one.value).to.be.below(target);
    expect(a.raisedLayers.length).to.be.greaterThan(1);
    expect(a.fullInteger).to.equal(true);
    const chosen = await fileError(tflite, graph, val);
    expect(a.chosen).to.be.closeTo(minSqnrCriterionDb(chosen), 0.05).and.at.least(target);
    // On other inputs with a bright one, the chosen file's worst image is less noisy than the one-layer file's.
    const unseen = [...set(7, 5), Float32Array.from({ length: N }, (_, i) => (i % 5 === 0 ? 0.8 : 1))];
    const worstNoise = (e: FileError) => Math.max(...e.images.map((i) => i.noise));
    const [chosenUnseen, hotUnseen] = [await fileError(tflite, graph, unseen), await independentError(graph, hotRecipe, 'int16', unseen)];
    expect(worstNoise(chosenUnseen)).to.be.below(worstNoise(hotUnseen) / 2);
  });

  it('minSqnrDb holds for every output: the worst output, not the pooled error that the large output dominates', async () => {
    const two = sensitiveGraph(true);
    const opts = { representativeDataset: CALIB, numCalibrationSamples: CALIB.length, backend: 'wasm' as const, outputType: 'float32' as const };
    const { tflite, report } = await quantizeInt8(two, { ...opts, accuracy: { minSqnrDb: 30, validation: VAL, latencyImages: 1, writeBest: true } });
    const int8 = await perOutputError((await quantizeInt8(two, opts)).tflite, two, VAL);
    expect(int8.pooled - Math.min(...int8.each)).to.be.greaterThan(3); // the case this guards: the pooled error hides 'out'
    expect(report.accuracy!.int8).to.be.closeTo(int8.criterion, 0.05);
    const chosen = await perOutputError(tflite, two, VAL);
    expect(report.accuracy!.chosen).to.be.closeTo(chosen.criterion, 0.05);
    expect(report.accuracy!.reached).to.equal(chosen.criterion >= 30);
  });

  it('a ranked op without an int16 kernel (SquaredDifference) is raised to float, in the ranking and in the search', async () => {
    const r = rng(5);
    const rand = (n: number, a: number) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * a);
    const b = new GraphBuilder('int8-only');
    const conv = (name: string, x: string, ic: number, oc: number) => b.emit(name, 'Conv2D', [x, b.addConstant(`${name}/w`, [1, 1, ic, oc], 'float32', rand(ic * oc, 1)), b.addConstant(`${name}/b`, [oc], 'float32', rand(oc, 0.1))], { strides: [1, 1], padding: 'SAME', dilations: [1, 1], activation: 'none' })[0];
    const sq = b.emit('sq', 'SquaredDifference', [conv('c1', b.addInput('input', SHAPE), 3, 4), b.addConstant('sq/c', [], 'float32', Float32Array.of(0.1))], {})[0];
    const g = b.build([conv('out', sq, 4, 3)], { source: 'int8-only', format: 'built', notes: [] });
    // 200 dB cannot be reached: the search raises every ranked layer, 'sq' included.
    const { report } = await quantizeInt8(g, { representativeDataset: CALIB, numCalibrationSamples: CALIB.length, backend: 'wasm', accuracy: { minSqnrDb: 200, validation: VAL, writeBest: true, latencyImages: 1 } });
    const raised = report.accuracy!.raisedLayers;
    expect(raised.find((l) => l.node === 'sq')?.precision).to.equal('float');
    expect(report.accuracy!.notInt8.find((l) => l.node === 'sq')?.precision).to.equal('float');
  });

  it('a target out of reach even with every op in float is an error and returns nothing; writeBest returns the best', async () => {
    const opts = { representativeDataset: CALIB, numCalibrationSamples: CALIB.length, backend: 'wasm' as const };
    let err: Error | undefined;
    const got = await quantizeInt8(graph, { ...opts, accuracy: { minSqnrDb: 200, validation: VAL } }).catch((e) => {
      err = e;
      return undefined;
    });
    expect(got).to.equal(undefined);
    expect(err?.message).to.match(/output SQNR of 200 dB cannot be reached: with every op in float it is [\d.]+ dB.*nothing written/);
    const best = await quantizeInt8(graph, { ...opts, accuracy: { minSqnrDb: 200, validation: VAL, writeBest: true } });
    expect(best.report.accuracy!.reached).to.equal(false);
    expect(best.report.accuracy!.chosen).to.be.below(200);
    expect(best.tflite.length).to.equal(best.report.accuracy!.fileBytes.chosen);
  });

  it('the same inputs and target give a byte-identical file', async () => {
    const opts = { representativeDataset: CALIB, numCalibrationSamples: CALIB.length, backend: 'wasm' as const, accuracy: { minSqnrDb: 30, validation: VAL } };
    const a = await quantizeInt8(graph, opts);
    const b = await quantizeInt8(graph, opts);
    expect(a.report.accuracy!.raisedLayers.length).to.be.greaterThan(0);
    expect(Buffer.from(a.tflite).equals(Buffer.from(b.tflite))).to.equal(true);
  });

  it('checks the target before calibrating', async () => {
    const opts = { representativeDataset: CALIB, backend: 'wasm' as const };
    await quantizeInt8(graph, { ...opts, accuracy: { maxDrop: -1, validation: 'x' } }).then(() => expect.fail('no error'), (e) => expect((e as Error).message).to.match(/maxDrop must be a number >= 0/));
    await quantizeInt8(graph, { ...opts, accuracy: { validation: VAL } as never }).then(() => expect.fail('no error'), (e) => expect((e as Error).message).to.match(/exactly one of maxDrop/));
    await quantizeInt8(graph, { ...opts, accuracy: { maxDrop: 0.5, validation: VAL } }).then(() => expect.fail('no error'), (e) => expect((e as Error).message).to.match(/labelled dataset/));
    await quantizeInt8(graph, { ...opts, accuracy: { maxDrop: 0.5, validation: '/nonexistent/val' } }).then(() => expect.fail('no error'), (e) => expect((e as Error).message).to.match(/accuracy\.validation: .*nonexistent/));
  });
});

// A metric whose values on 'validation' and 'holdout' depend only on how many ops of the file are
// int16 / float (inspectTflite of the real file), built to disagree: any raise scores within the
// target on 'validation', but raising the worst layer alone (hot + its reader out: 2 int16 ops)
// scores below all-int8 on 'holdout' - what a raise that was luck on 64 images looks like.
function disagreeingMetric(holdoutOfRaised: (int16Ops: number) => number, holdoutOfFloat = 1): Metric {
  const value = (set: string, tflite: Uint8Array) => {
    const p = inspectTflite(tflite).precision;
    if (p.float > 0) return set === 'holdout' ? holdoutOfFloat : 1;
    if (p.int16 === 0) return 0.9;
    return set === 'holdout' ? holdoutOfRaised(p.int16) : 0.999;
  };
  return {
    name: 'score', shortName: 'score', primary: 'score',
    check: () => {},
    load: async (spec) => ({
      count: 8,
      score: async (tflite) => ({ score: value(spec.images, tflite) }),
      floatInputs: (n = 8) => Array.from({ length: Math.min(n, 8) }, (_, i) => gridInput(300 + i)),
    }),
  };
}

describe('accuracy-aware selection with a holdout: a raise must also beat all-int8 on the holdout', function () {
  this.timeout(60_000);
  const graph = sensitiveGraph();
  const base = { representativeDataset: CALIB, numCalibrationSamples: CALIB.length, backend: 'wasm' as const };
  const plugin = { metric: disagreeingMetric((k) => (k <= 2 ? 0.85 : 0.95)) };

  it('without a holdout the first raise that meets the target on validation is chosen', async () => {
    const { report } = await quantizeCore(graph, { ...base, accuracy: { maxDrop: 1, validation: 'validation', latencyImages: 1 } }, plugin);
    const a = report.accuracy!;
    expect(a.raisedLayers.map((l) => l.node)).to.deep.equal(['hot']);
    expect(a.trials.map((t) => [t.int16, t.value, t.ok])).to.deep.equal([[0, 0.9, false], [1, 0.999, true]]);
  });

  it('with one, a raise that scores below all-int8 there is rejected and the search goes on', async () => {
    const { tflite, report } = await quantizeCore(graph, { ...base, accuracy: { maxDrop: 1, validation: 'validation', holdout: 'holdout', latencyImages: 1 } }, plugin);
    const a = report.accuracy!;
    expect(a.trials.map((t) => [t.int16, t.value, t.ok, t.holdout])).to.deep.equal([[0, 0.9, false, undefined], [1, 0.999, false, 0.85], [2, 0.999, true, 0.95]]);
    expect(a.raisedLayers.map((l) => l.node)).to.have.length(2).and.include('hot');
    expect(inspectTflite(tflite).precision.int16).to.be.greaterThan(2);
    expect(a.measuredOn).to.deep.include({ set: 'holdout', float: 1, int8: 0.9, chosen: 0.95, confirmedRaises: 2 });
  });

  it('when nothing, not even every op in float, beats all-int8 on the holdout, it says so and writes nothing', async () => {
    const never = { metric: disagreeingMetric(() => 0.85, 0.8) };
    const err = await quantizeCore(graph, { ...base, accuracy: { maxDrop: 1, validation: 'validation', holdout: 'holdout', latencyImages: 1 } }, never).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.match(/no variant that meets the target on the validation set \(every op in float included\) scores above all-int8 on the holdout set.*nothing written/);
  });
});
