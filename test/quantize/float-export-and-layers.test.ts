// exportFloatTflite writes the same graph in float32 (checked against the TF.js float executor in
// LiteRT), and analyzeLayers reports a per-tensor SQNR that matches an independent computation.
import { expect } from 'chai';
import { GraphBuilder } from '../../lib/graph/builder.js';
import type { Graph } from '../../lib/ir/graph.js';
import { exportFloatTflite, quantizeInt8 } from '../../lib/yolo/quantize.js';
import { inspectTflite } from '../../lib/tflite/inspect.js';
import { lcg as rng } from '../support/random.js';
import { maxAbsDiff, runFloatGraph, runTflite, sqnrDb, tfliteVsFloat } from '../support/compare.js';
import { int8FromUnit } from '../support/int8-input.js';

function buildGraph(): Graph {
  const r = rng(7);
  const rand = (n: number, a: number) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * a);
  const b = new GraphBuilder('small');
  const x = b.addInput('input', [1, 16, 16, 3]);
  const w1 = b.addConstant('c1/w', [3, 3, 3, 8], 'float32', rand(3 * 3 * 3 * 8, 0.5));
  const b1 = b.addConstant('c1/b', [8], 'float32', rand(8, 0.1));
  const c1 = b.emit('c1', 'Conv2D', [x, w1, b1], { strides: [1, 1], padding: 'SAME', dilations: [1, 1], activation: 'none' })[0];
  const s1 = b.emit('silu1', 'Silu', [c1], {})[0];
  const w2 = b.addConstant('c2/w', [3, 3, 8, 6], 'float32', rand(3 * 3 * 8 * 6, 0.3));
  const b2 = b.addConstant('c2/b', [6], 'float32', rand(6, 0.1));
  const c2 = b.emit('c2', 'Conv2D', [s1, w2, b2], { strides: [2, 2], padding: 'SAME', dilations: [1, 1], activation: 'none' })[0];
  return b.build([c2], { source: 'small', format: 'built', notes: [] });
}

const input = (seed: number) => {
  const r = rng(seed);
  return Float32Array.from({ length: 16 * 16 * 3 }, () => Math.round(r() * 255) / 255);
};

describe('exportFloatTflite and layer-by-layer analysis', () => {
  it('the float32 export runs in LiteRT like the TF.js float graph', async () => {
    const graph = buildGraph();
    const { tflite } = await exportFloatTflite(graph, { backend: 'wasm' });
    const info = inspectTflite(tflite);
    expect(info.inputs[0].dtype).to.equal('float32');
    expect(info.opHistogram).to.deep.include({ CONV_2D: 2, LOGISTIC: 1, MUL: 1 });
    const x = input(3);
    const [got] = await runTflite(tflite, [x]);
    const want = (await runFloatGraph(graph, x))[graph.outputs[0]];
    expect(maxAbsDiff(got, want)).to.be.below(1e-5);
  });

  it('analyzeLayers reports each activation\'s SQNR against the float graph', async () => {
    const graph = buildGraph();
    const calib = [1, 2, 3, 4, 5, 6, 7, 8].map(input);
    const { tflite, report } = await quantizeInt8(graph, {
      representativeDataset: calib,
      numCalibrationSamples: 8,
      backend: 'wasm',
      analyzeLayers: [input(100), input(101)],
    });
    const layers = report.layerErrors!;
    expect(layers.map((l) => l.tensor)).to.deep.equal(['c1', 'silu1', 'c2']);
    // Independent check of the last tensor: the real int8 model's output vs the float graph.
    const { signal, noise } = await tfliteVsFloat(tflite, graph, [input(100), input(101)]);
    const sqnr = sqnrDb(signal, noise);
    expect(layers[2].sqnrDb).to.be.closeTo(sqnr, 0.01);
    // A two-conv int8 network with calibrated ranges keeps most of the signal.
    for (const l of layers) expect(l.sqnrDb, l.tensor).to.be.above(20);
  });

  it('uint8 and float32 model I/O wrap the same int8 graph (QUANTIZE/DEQUANTIZE at the boundary only)', async () => {
    const graph = buildGraph();
    const calib = [1, 2, 3, 4].map(input);
    const opts = { representativeDataset: calib, numCalibrationSamples: 4, backend: 'wasm' as const };
    const int8 = await quantizeInt8(graph, opts);
    const u8 = await quantizeInt8(graph, { ...opts, inputType: 'uint8', outputType: 'uint8' });
    const f32 = await quantizeInt8(graph, { ...opts, inputType: 'float32', outputType: 'float32' });
    expect(u8.report.ops.QUANTIZE).to.equal(2);
    expect(f32.report.ops.QUANTIZE).to.equal(1);
    expect(f32.report.ops.DEQUANTIZE).to.equal(1);
    expect(u8.report.outputs[0].name).to.equal(int8.report.outputs[0].name);
    expect(u8.report.outputs[0].zeroPoint).to.equal(int8.report.outputs[0].zeroPoint! + 128);
    const x = input(42);
    const run = async (bytes: Uint8Array, data: Float32Array | Int8Array | Uint8Array) => (await runTflite(bytes, [data]))[0];
    const qi = await run(int8.tflite, int8FromUnit(x));
    const qu = await run(u8.tflite, Uint8Array.from(x, (v) => Math.round(v * 255)));
    const qf = await run(f32.tflite, x);
    const o = int8.report.outputs[0];
    for (let i = 0; i < qi.length; i++) {
      expect(qu[i]).to.equal((qi[i] as number) + 128);
      expect(qf[i]).to.be.closeTo(((qi[i] as number) - o.zeroPoint!) * o.scale!, 1e-6);
    }
  });
});
