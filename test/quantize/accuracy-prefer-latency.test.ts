// accuracy.prefer 'latency': the search raises ranked layers straight to float (int8 + float only),
// where the default ('full-integer') raises them to int16 first. On the sensitive graph (one coarse
// layer, 'hot', read by 'out': hot's tensor must not pass an int8 grid) the target sits between the
// all-int8 SQNR and the SQNR with 'hot' and 'out' in float, both
// measured on files written independently with recipe overrides and run in LiteRT against the TF.js
// float graph; the chosen file is then measured on inputs that neither selected nor checked it.
import { expect } from 'chai';
import { formatAccuracyReport } from '../../lib/quantize/accuracy.js';
import { inspectTflite } from '../../lib/tflite/inspect.js';
import { quantizeInt8 } from '../../lib/yolo/quantize.js';
import { minSqnrCriterionDb, tfliteVsFloat } from '../support/compare.js';
import { lcg as rng } from '../support/random.js';
import { CALIB, N, sensitiveGraph } from '../support/sensitive-graph.js';

const inputs = (seed: number, n: number) => {
  const r = rng(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: N }, () => r()));
};
const VAL = inputs(5, 4);
const UNSEEN = inputs(13, 4);
const base = { representativeDataset: CALIB, numCalibrationSamples: CALIB.length, backend: 'wasm' as const };

describe("accuracy selection: prefer 'latency' raises layers to float only", function () {
  this.timeout(120_000);

  it('chooses float for the sensitive layer where the default chooses int16; the target holds on unseen inputs', async () => {
    const graph = sensitiveGraph();
    const int8 = minSqnrCriterionDb(await tfliteVsFloat((await quantizeInt8(graph, base)).tflite, graph, VAL));
    const hotFloat = minSqnrCriterionDb(await tfliteVsFloat((await quantizeInt8(graph, { ...base, recipe: { overrides: [{ match: 'hot', precision: 'float' }, { match: 'out', precision: 'float' }] } })).tflite, graph, VAL));
    expect(hotFloat - int8).to.be.greaterThan(10);
    const target = (int8 + hotFloat) / 2;

    const latency = await quantizeInt8(graph, { ...base, accuracy: { minSqnrDb: target, validation: VAL, latencyImages: 1, prefer: 'latency' } });
    const a = latency.report.accuracy!;
    expect(a.reached).to.equal(true);
    expect(a.prefer).to.equal('latency');
    expect(a.raisedLayers.map((l) => l.node)).to.include('hot');
    expect(a.raisedLayers.every((l) => l.precision === 'float')).to.equal(true);
    // No variant with an int16 layer or split weights was tried.
    expect(a.trials.every((t) => t.int16 === 0 && t.split === 0)).to.equal(true);
    expect(a.floatOps.map((f) => f.node)).to.include('hot');
    for (const f of a.floatOps) expect(f.reason).to.equal("raised to float, not int16 (accuracy.prefer 'latency')");
    const p = inspectTflite(latency.tflite).precision;
    expect(p.int16).to.equal(0);
    expect(p.float).to.be.greaterThan(0);
    expect(minSqnrCriterionDb(await tfliteVsFloat(latency.tflite, graph, UNSEEN))).to.be.at.least(target);
    expect(formatAccuracyReport(a)).to.match(/layers raised to float only \(prefer latency\)/);

    // The default on the same target stays full-integer (int16), so the option is what changed the choice.
    const integer = (await quantizeInt8(graph, { ...base, accuracy: { minSqnrDb: target, validation: VAL, latencyImages: 1 } })).report.accuracy!;
    expect(integer.prefer).to.equal('full-integer');
    expect(integer.fullInteger).to.equal(true);
    expect(integer.raisedLayers.every((l) => l.precision === 'int16')).to.equal(true);
  });

  it('an unknown prefer value is refused before calibration, naming the option', async () => {
    const graph = sensitiveGraph();
    let err: Error | undefined;
    try {
      await quantizeInt8(graph, { ...base, accuracy: { minSqnrDb: 30, validation: VAL, prefer: 'speed' as 'latency' } });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/accuracy\.prefer must be 'full-integer' .* or 'latency' .*, got "speed"/);
  });
});
