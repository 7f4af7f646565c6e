// The floor on near-constant outputs of weighted ops (lib/quantize/requant-floor.ts, issue 18 item 4):
// the widened range against a hand calculation, and a model whose ReLU output is near-dead on the
// calibration data: without the floor its file breaks XNNPACK's requantization limit (check refuses
// it); with it the file passes check, runs in LiteRT, and the plan's origin says why the range moved.
import { expect } from 'chai';
import { GraphBuilder } from '../../lib/graph/builder.js';
import type { Graph } from '../../lib/ir/graph.js';
import { floorRequantizationRanges, REQUANTIZATION_SCALE_TARGET } from '../../lib/quantize/requant-floor.js';
import { quantOf } from '../../lib/quantize/stages.js';
import { quantizeInt8 } from '../../lib/quantize/index.js';
import { checkTflite } from '../../lib/tflite/check.js';
import { requantizationScales } from '../../lib/tflite/check-xnnpack.js';
import { readTflite } from '../../lib/tflite/reader.js';
import { builtinOperatorName } from '../../lib/tflite/operators.js';
import { runFloatGraph, runTflite } from '../support/compare.js';
import { dequantizeOutput } from '../../lib/pipeline/quantize.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { int8FromUnit } from '../support/int8-input.js';

/**
 * input [1,4,4,3] -> 'near' (1x1 conv, one output channel, weight 1 on channel 0, bias -(1 - 1e-5),
 * ReLU: positive only where channel 0 is 1, and then by 1e-5) -> 'out' (1x1 conv to 2 channels).
 */
function nearDeadGraph(bias = -(1 - 1e-5)): Graph {
  const b = new GraphBuilder('near-dead');
  const x = b.addInput('input', [1, 4, 4, 3]);
  const w1 = b.addConstant('near/w', [1, 1, 3, 1], 'float32', Float32Array.from([1, 0, 0]));
  const b1 = b.addConstant('near/b', [1], 'float32', Float32Array.of(bias));
  const near = b.emit('near', 'Conv2D', [x, w1, b1], { strides: [1, 1], padding: 'SAME', dilations: [1, 1], activation: 'relu' })[0];
  const w2 = b.addConstant('out/w', [1, 1, 1, 2], 'float32', Float32Array.from([2000, -3000]));
  const b2 = b.addConstant('out/b', [2], 'float32', Float32Array.from([0.5, 0.25]));
  const out = b.emit('out', 'Conv2D', [near, w2, b2], { strides: [1, 1], padding: 'SAME', dilations: [1, 1], activation: 'none' })[0];
  return b.build([out], { source: 'near-dead', format: 'built', notes: [] });
}

/** Inputs on the 1/255 grid; the first pixel's channel 0 is 1 in every sample. */
const samples = Array.from({ length: 4 }, (_, s) => Float32Array.from({ length: 48 }, (_, i) => (i === 0 ? 1 : ((i * 37 + s * 11) % 255) / 255)));

describe('requantization floor: near-constant outputs of weighted ops', function () {
  this.timeout(120_000);

  it('widens a near-constant output to the hand-computed range and leaves normal and dead ones alone', () => {
    const g = nearDeadGraph();
    const ranges = new Map([
      ['input', { min: 0, max: 1 }],
      ['near', { min: 0, max: 1e-6 }],
      ['out', { min: -3, max: 2 }],
    ]);
    const { ranges: floored, floors } = floorRequantizationRanges(g, ranges, { quantOf, isInt8: () => true, perChannelFor: () => true });
    // input scale 1/255, weight scale 1/127 (max |w| = 1), target 128: output scale (1/255)(1/127)/128,
    // i.e. a range of 255 x that = 1 / (127 x 128), starting at 0.
    expect(floored.get('near')!.min).to.equal(0);
    expect(floored.get('near')!.max).to.be.closeTo(1 / (127 * REQUANTIZATION_SCALE_TARGET), 1e-12);
    expect(floors.get('near')!.requantization).to.be.closeTo(1 / 127 / 1e-6, 1e-3); // the weight scale is a float32 (relative 1e-7)
    expect(floored.get('out')).to.deep.equal({ min: -3, max: 2 });
    expect([...floors.keys()]).to.deep.equal(['near']);
    // A dead output (span 0) is left to the [0, 1] parameters; the input map is not modified.
    const dead = floorRequantizationRanges(g, new Map([...ranges, ['near', { min: 0, max: 0 }]]), { quantOf, isInt8: () => true, perChannelFor: () => true });
    expect(dead.floors.size).to.equal(0);
    expect(ranges.get('near')).to.deep.equal({ min: 0, max: 1e-6 });
  });

  it('a near-dead ReLU: the file keeps XNNPACK\'s limit, passes check, runs in LiteRT close to float, and the origin says why', async () => {
    const g = nearDeadGraph();
    const { tflite, report } = await quantizeInt8(g, { representativeDataset: samples, numCalibrationSamples: samples.length, recipe: { calibration: 'minmax' } });
    expect(checkTflite(tflite).violations).to.deep.equal([]);
    const model = readTflite(tflite);
    const sg = model.subgraphs[0];
    const tensorAt = (i: number | undefined) => (i === undefined ? undefined : sg.tensors[i]);
    const convs = sg.operators.filter((op) => builtinOperatorName(model.operatorCodes[op.opcodeIndex].builtinCode) === 'CONV_2D');
    const near = convs.find((op) => sg.tensors[op.outputs[0]].name.startsWith('near'))!;
    const requant = requantizationScales('CONV_2D', near, tensorAt)!;
    expect(Math.max(...requant)).to.be.below(256).and.above(64);
    const origin = report.plan.tensors.find((t) => t.key === 'near')!.origin as { kind: string; floor?: string };
    expect(origin.kind).to.equal('calibrated');
    const m = /^range \[0, (\S+)\] widened to \[0, (\S+)\]: near's requantization scale would be (\S+) \(XNNPACK refuses >= 256\)$/.exec(origin.floor ?? '');
    expect(m, origin.floor).to.not.equal(null);
    // The calibrated range (~1e-5: only the pixels where channel 0 is 1) would have given a scale XNNPACK refuses.
    expect(Number(m![1])).to.be.closeTo(1e-5, 2e-6);
    expect(Number(m![3])).to.be.above(256);
    expect(Number(m![2])).to.be.closeTo(1 / (127 * REQUANTIZATION_SCALE_TARGET), 1e-7);
    expect(report.plan.notes.some((n) => n.startsWith("'near': range"))).to.equal(true);
    // LiteRT runs it; the output is the float model's within a few output steps (near is ~0 everywhere).
    const runner = await TfliteRunner.load(tflite);
    const outDesc = runner.outputs[0];
    runner.dispose();
    const x = samples[1];
    const got = dequantizeOutput((await runTflite(tflite, [int8FromUnit(x)]))[0], outDesc);
    const want = (await runFloatGraph(g, x))['out'];
    const step = outDesc.scale!;
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `element ${i}`).to.be.at.most(3 * step + 0.05);
  });

  it('a dead ReLU (never positive on the calibration data): the origin says it took the [0, 1] parameters', async () => {
    const { tflite, report } = await quantizeInt8(nearDeadGraph(-2), { representativeDataset: samples, numCalibrationSamples: samples.length });
    expect(checkTflite(tflite).violations).to.deep.equal([]);
    const near = report.plan.tensors.find((t) => t.key === 'near')!;
    expect(near.scale).to.deep.equal([Math.fround(1 / 255)]);
    expect(near.zeroPoint).to.deep.equal([-128]);
    expect((near.origin as { floor?: string }).floor).to.equal('dead on the calibration data (range [0, 0]): takes the [0, 1] parameters');
  });
});
