// Determinism: the same model, data and options give byte-identical .tflite files across runs and
// across the TF.js float backends (cpu and wasm). When the backends disagree, the test names the
// tensors whose int8 parameters differ.
import { expect } from 'chai';
import { quantizeInt8 } from '../../lib/yolo/quantize.js';
import { readTflite } from '../../lib/tflite/reader.js';
import { GraphBuilder } from '../../lib/graph/builder.js';
import type { Graph } from '../../lib/ir/graph.js';
import { tinyInputs, writeTinyGraphModel, TINY } from '../support/tiny-model.js';
import { mulberry32 as prng } from '../support/random.js';

/** A slightly deeper built graph: conv -> relu -> depthwise -> add(skip) -> mean -> fully connected. */
function builtGraph(): Graph {
  const rnd = prng(11);
  const w = (n: number, s = 0.5) => Float32Array.from({ length: n }, () => (rnd() - 0.5) * s);
  const b = new GraphBuilder('det-graph');
  b.addInput('x', [1, TINY.h, TINY.w, TINY.c]);
  b.addConstant('c1/w', [3, 3, 3, 6], 'float32', w(162));
  b.addConstant('c1/b', [6], 'float32', w(6, 0.1));
  b.emit('c1', 'Conv2D', ['x', 'c1/w', 'c1/b'], { strides: [1, 1], dilations: [1, 1], padding: 'SAME', activation: 'relu' });
  b.addConstant('dw/w', [3, 3, 6, 1], 'float32', w(54));
  b.addConstant('dw/b', [6], 'float32', w(6, 0.1));
  b.emit('dw', 'DepthwiseConv2D', ['c1', 'dw/w', 'dw/b'], { strides: [1, 1], dilations: [1, 1], padding: 'SAME', activation: 'none' });
  b.emit('sum', 'Add', ['dw', 'c1'], { activation: 'none' });
  b.emit('gap', 'Mean', ['sum'], { axes: [1, 2], keepDims: false });
  b.addConstant('fc/w', [6, 5], 'float32', w(30));
  b.emit('fc', 'FullyConnected', ['gap', 'fc/w'], { activation: 'none' });
  return b.build(['fc'], { source: 'det-graph', format: 'built', notes: [] });
}

/** Tensors whose quantization or data differ between two files (for the failure message). */
function differingTensors(a: Uint8Array, b: Uint8Array): string[] {
  const ma = readTflite(a), mb = readTflite(b);
  const ta = ma.subgraphs[0].tensors, tb = mb.subgraphs[0].tensors;
  const out: string[] = [];
  if (ta.length !== tb.length) return [`tensor counts ${ta.length} vs ${tb.length}`];
  ta.forEach((t, i) => {
    const u = tb[i];
    const qa = JSON.stringify(t.quantization ?? null), qb = JSON.stringify(u.quantization ?? null);
    const da = ma.buffers[t.buffer]?.data ?? new Uint8Array(0), db = mb.buffers[u.buffer]?.data ?? new Uint8Array(0);
    const sameData = da.length === db.length && da.every((v, k) => v === db[k]);
    if (t.name !== u.name || qa !== qb || !sameData) out.push(`${t.name}: ${qa} vs ${qb}${sameData ? '' : ' (data differs)'}`);
  });
  return out;
}

function expectSame(a: Uint8Array, b: Uint8Array, what: string): void {
  const same = a.length === b.length && a.every((v, i) => v === b[i]);
  expect(same, `${what}: files differ in ${differingTensors(a, b).join('; ') || 'non-tensor bytes'}`).to.equal(true);
}

describe('robustness: deterministic output', function () {
  this.timeout(300_000);
  const inputs = tinyInputs(16, 21);

  for (const [name, source] of [
    ['TF.js graph model (model.json + shard)', () => writeTinyGraphModel().dir],
    ['built Graph (conv, depthwise, add, mean, fully connected)', builtGraph],
  ] as const) {
    it(`${name}: byte-identical across runs and across cpu / wasm`, async () => {
      const run = async (backend: 'cpu' | 'wasm') =>
        (await quantizeInt8(source(), { representativeDataset: inputs, numCalibrationSamples: 16, backend })).tflite;
      const cpu1 = await run('cpu');
      const cpu2 = await run('cpu');
      const wasm1 = await run('wasm');
      const wasm2 = await run('wasm');
      expect(cpu1.length).to.be.above(500);
      expectSame(cpu1, cpu2, 'two cpu runs');
      expectSame(wasm1, wasm2, 'two wasm runs');
      expectSame(cpu1, wasm1, 'cpu vs wasm');
      // The comparison can fail: other calibration data (half the input range) gives another file.
      const halved = inputs.map((x) => x.map((v) => v * 0.5));
      const other = (await quantizeInt8(source(), { representativeDataset: halved, numCalibrationSamples: 16, backend: 'cpu' })).tflite;
      expect(differingTensors(cpu1, other).length).to.be.above(0);
    });
  }

  it('histogram calibration (entropy) is deterministic too', async () => {
    const run = async (backend: 'cpu' | 'wasm') =>
      (await quantizeInt8(builtGraph(), { representativeDataset: inputs, numCalibrationSamples: 16, backend, calibration: 'entropy' })).tflite;
    const a = await run('cpu');
    expectSame(a, await run('cpu'), 'two cpu runs (entropy)');
    expectSame(a, await run('wasm'), 'cpu vs wasm (entropy)');
  });
});
