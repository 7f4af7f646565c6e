// Weights that already lie on an int8 grid (a per-tensor int8 source imported as float, like the
// official YOLO11n file) are written exactly (int8/arithmetic.ts gridExactScales): read back from the
// file, q x scale gives the float weights, with the per-channel scale g / floor(127 / m) computed
// by hand; the symmetric scale max|w| / 127 would have rounded them.
import { expect } from 'chai';
import { GraphBuilder } from '../../lib/graph/builder.js';
import type { Graph } from '../../lib/ir/graph.js';
import { quantizeInt8 } from '../../lib/quantize/index.js';
import { readTflite } from '../../lib/tflite/reader.js';
import { builtinOperatorName } from '../../lib/tflite/operators.js';
import { dequantizeOutput } from '../../lib/pipeline/quantize.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { runFloatGraph, runTflite } from '../support/compare.js';
import { int8FromUnit } from '../support/int8-input.js';

const STEP = 0.05;
/** Integer steps per [input][output channel]: channel maxima 20, 7, 3 and 13 steps (the last: smallest |k| 6). */
const STEPS = [
  [20, -7, 3, 13],
  [-11, 2, -1, 6],
  [4, 5, 0, -9],
];

/** input [1,4,4,3] -> 1x1 conv to 4 channels, weights STEP x STEPS (HWIO), small biases. */
function gridGraph(): Graph {
  const b = new GraphBuilder('grid');
  const x = b.addInput('input', [1, 4, 4, 3]);
  const w = b.addConstant('conv/w', [1, 1, 3, 4], 'float32', Float32Array.from(STEPS.flat(), (k) => k * STEP));
  const bias = b.addConstant('conv/b', [4], 'float32', Float32Array.from([0.1, -0.2, 0.05, 0]));
  const out = b.emit('conv', 'Conv2D', [x, w, bias], { strides: [1, 1], padding: 'SAME', dilations: [1, 1], activation: 'none' })[0];
  return b.build([out], { source: 'grid', format: 'built', notes: [] });
}

const samples = Array.from({ length: 4 }, (_, s) => Float32Array.from({ length: 48 }, (_, i) => ((i * 37 + s * 11) % 255) / 255));

describe('weights on an int8 grid are written exactly', function () {
  this.timeout(120_000);

  it('the file holds per-channel scales STEP / floor(127 / m) and q x scale = the float weights; LiteRT runs it', async () => {
    const g = gridGraph();
    const { tflite } = await quantizeInt8(g, { representativeDataset: samples, numCalibrationSamples: samples.length });
    const model = readTflite(tflite);
    const sg = model.subgraphs[0];
    const conv = sg.operators.find((op) => builtinOperatorName(model.operatorCodes[op.opcodeIndex].builtinCode) === 'CONV_2D')!;
    const wt = sg.tensors[conv.inputs[1]];
    const scales = wt.quantization!.scale;
    // m = 20, 7, 3 steps: floor(127 / m) = 6, 18, 42. The last channel (13, 6, -9 steps) is on the grid too,
    // but its smallest value is 6 steps and the search tries only 1-4 (GRID_DIVISORS): it keeps max|w| / 127.
    expect(scales).to.deep.equal([...[6, 18, 42].map((j) => Math.fround(STEP / j)), Math.fround(Math.fround(13 * STEP) / 127)]);
    const data = model.buffers[wt.buffer].data;
    const q = new Int8Array(data.buffer, data.byteOffset, data.length);
    // TFLite filters are OHWI: element (o, i) at o * 3 + i.
    for (let o = 0; o < 3; o++) {
      for (let i = 0; i < 3; i++) {
        const want = Math.fround(STEPS[i][o] * STEP);
        expect(q[o * 3 + i] * scales[o], `weight (${o}, ${i})`).to.be.closeTo(want, 1e-7);
      }
    }
    // With max|w| / 127 the first channel (1.0 / 127 per step) would write -0.55 as -70 x 1/127 = -0.5512.
    expect(Math.abs(Math.round(-0.55 * 127) / 127 + 0.55)).to.be.above(1e-3);
    // LiteRT runs it: only activation rounding is left, within 2 output steps of the float graph.
    const runner = await TfliteRunner.load(tflite);
    const outDesc = runner.outputs[0];
    runner.dispose();
    const x = samples[2];
    const got = dequantizeOutput((await runTflite(tflite, [int8FromUnit(x)]))[0], outDesc);
    const want = (await runFloatGraph(g, x))['conv'];
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `element ${i}`).to.be.at.most(2 * outDesc.scale! + 1e-6);
  });
});
