// A model whose source takes integer pixels (MoveNet's int32 input, uint8 images) is calibrated on
// pixel values 0..255 as they are, and its int8 input is pixel - 128 at scale 1: the image pipeline
// stays exact, and the int8 model agrees with the float graph fed the same pixels.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { quantizeInt8 } from '../../lib/quantize/index.js';
import { importModel } from '../../lib/graph/importers/index.js';
import { runDefaultPasses } from '../../lib/graph/passes/index.js';
import { createFloatExecutor } from '../../lib/graph/execute.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { dequantizeOutput } from '../../lib/pipeline/quantize.js';
import { SHARD, writeTinyGraphModel } from '../support/tiny-model.js';
import { mulberry32 } from '../../lib/util/random.js';

describe('integer-pixel inputs', () => {
  it('calibrate on 0..255, write an int8 input of scale 1 and zero point -128, and agree with float', async () => {
    const m = writeTinyGraphModel();
    // The same model declaring an int32 input (the converter keeps the source's dtype), its filter
    // divided by 255 so that pixels 0..255 give the activations [0, 1] inputs gave.
    m.json.modelTopology.node[0].attr.dtype.type = 'DT_INT32';
    fs.writeFileSync(m.jsonPath, JSON.stringify(m.json));
    const filterLength = 3 * 3 * 3 * 4;
    const scaled = Float32Array.from(m.weights, (v, i) => (i < filterLength ? v / 255 : v));
    fs.writeFileSync(path.join(m.dir, SHARD), Buffer.from(scaled.buffer));
    const r = mulberry32(4);
    const pixels = () => Uint8Array.from({ length: 8 * 8 * 3 }, () => Math.floor(r() * 256));
    const { tflite, report } = await quantizeInt8(m.dir, { representativeDataset: Array.from({ length: 8 }, pixels), numCalibrationSamples: 8, backend: 'wasm' });
    expect(report.notes.join('\n')).to.include("input 'x' is int32 in the source");
    const runner = await TfliteRunner.load(tflite);
    const graph = runDefaultPasses(await importModel(m.dir));
    const ex = await createFloatExecutor(graph, { backend: 'wasm' });
    try {
      expect(runner.inputs[0].scale).to.equal(1);
      expect(runner.inputs[0].zeroPoint).to.equal(-128);
      let worst = 0;
      for (let k = 0; k < 4; k++) {
        const p = pixels();
        const got = dequantizeOutput((await runner.run([Int8Array.from(p, (v) => v - 128)]))[0], runner.outputs[0]);
        const want = (await ex.run(Float32Array.from(p)))[graph.outputs[0]];
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      }
      // Sigmoid output at scale 1/256: a few steps.
      expect(worst).to.be.lessThan(4 / 256);
    } finally {
      runner.dispose();
      ex.dispose();
      fs.rmSync(path.dirname(m.jsonPath), { recursive: true, force: true });
    }
  });
});
