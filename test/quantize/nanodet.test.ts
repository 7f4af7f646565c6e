// NanoDet (the human library's TF.js graph model, exported from PyTorch through ONNX): a channels-first
// input [1,3,416,416], SparseToDense building its anchor offsets from constants, and PadV2 with -inf
// before a max-pool. It imports, quantizes from coco128 images (fed as three planes), passes the
// checker and runs in LiteRT next to its own float export.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { exportFloatTflite, quantizeInt8 } from '../../lib/quantize/index.js';
import { checkTflite } from '../../lib/tflite/check.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { imageToInput } from '../../lib/pipeline/input.js';
import { dequantizeOutput } from '../../lib/pipeline/quantize.js';
import { COCO128_IMAGES, fixture, requireFixtures } from '../support/fixtures.js';
import { sqnrDb } from '../support/compare.js';
import { scatterDense, sparseIndexRows } from '../../lib/ops/defs/sparse-to-dense.js';
import { GraphBuilder } from '../../lib/graph/builder.js';

const NANODET = fixture('zoo/human-models-nanodet');

describe('NanoDet (channels-first input, SparseToDense, -inf padding)', function () {
  before(function () {
    requireFixtures(this, NANODET, 'zoo/human-models-nanodet');
  });

  it('quantizes from images fed as NCHW, passes check, and follows its float export in LiteRT', async () => {
    const images = fs.readdirSync(COCO128_IMAGES).filter((f) => f.endsWith('.jpg')).sort().map((f) => path.join(COCO128_IMAGES, f));
    const { tflite, report } = await quantizeInt8(NANODET, { representativeDataset: images.slice(0, 4), backend: 'wasm' });
    expect(report.calibration.samples).to.equal(4);
    expect(report.precision.float, 'ops kept in float').to.equal(0);
    expect(report.inputs[0].shape).to.deep.equal([1, 3, 416, 416]);
    const check = checkTflite(tflite, { label: 'nanodet int8' });
    expect(check.violations, JSON.stringify(check.violations.slice(0, 3))).to.deep.equal([]);

    const float = await exportFloatTflite(NANODET);
    const int8Runner = await TfliteRunner.load(tflite, { label: 'nanodet int8' });
    const floatRunner = await TfliteRunner.load(float.tflite, { label: 'nanodet float' });
    try {
      // A comparison image the calibration did not see, through the pipeline helper (three planes).
      const q = await imageToInput(images[10], int8Runner.inputs[0]);
      const f = await imageToInput(images[10], floatRunner.inputs[0]);
      expect(q.data).to.be.instanceOf(Int8Array);
      const got = await int8Runner.run([q.data]);
      const want = await floatRunner.run([f.data]);
      expect(got.length).to.equal(want.length).and.to.equal(6);
      for (let k = 0; k < want.length; k++) {
        const g = dequantizeOutput(got[k], int8Runner.outputs[k]);
        const w = want[k] as Float32Array;
        let signal = 0;
        let noise = 0;
        for (let i = 0; i < w.length; i++) {
          signal += w[i] * w[i];
          noise += (g[i] - w[i]) ** 2;
        }
        // Measured 10.1-21.9 dB over the six outputs with 4 calibration images; a wrong layout or pad gives < 0.
        expect(sqnrDb(signal, noise), `output ${int8Runner.outputs[k].name}`).to.be.above(8);
      }
    } finally {
      int8Runner.dispose();
      floatRunner.dispose();
    }
  });

  it('SparseToDense scatters its values over the default, row-major, and refuses an index outside the shape', () => {
    const rows = sparseIndexRows({ name: 'i', shape: [2, 2], dtype: 'int32', data: Int32Array.of(0, 1, 1, 2) }, 2);
    expect(rows).to.deep.equal([[0, 1], [1, 2]]);
    expect(scatterDense([2, 3], rows, [5, 7], -1)).to.deep.equal([-1, 5, -1, -1, -1, 7]);
    expect(scatterDense([4], sparseIndexRows({ name: 'i', shape: [2], dtype: 'int32', data: Int32Array.of(3, 0) }, 1), [9], 0)).to.deep.equal([9, 0, 0, 9]);
    expect(() => scatterDense([2], [[2]], [1], 0)).to.throw(/index \[2\] is outside the output shape \[2\]/);
  });

  it('the float model\'s channels-first input is the image\'s R, G and B planes', async () => {
    const input = { name: 'x', dtype: 'float32', shape: [1, 3, 2, 2] };
    const image = { width: 2, height: 2, data: Uint8Array.of(255, 0, 0, 0, 255, 0, 0, 0, 255, 51, 102, 153) };
    const { data } = await imageToInput(image, input);
    expect(Array.from(data, (v) => Math.round(v * 255))).to.deep.equal([255, 0, 0, 51, 0, 255, 0, 102, 0, 0, 255, 153]);
  });
});

describe('ops without a writer', () => {
  it('are listed once each, with a count and a few nodes, when their inputs are computed', async () => {
    const b = new GraphBuilder('computed-sparse');
    const x = b.addInput('x', [2]);
    const outs = ['s0', 's1', 's2', 's3'].map((name) => {
      const indices = b.addConstant(`${name}/i`, [2], 'int32', Int32Array.of(0, 3));
      const shape = b.addConstant(`${name}/shape`, [1], 'int32', Int32Array.of(4));
      const fill = b.addConstant(`${name}/fill`, [], 'float32', Float32Array.of(0));
      return b.emit(name, 'SparseToDense', [indices, shape, x, fill], {})[0];
    });
    const graph = b.build(outs, { source: 'computed-sparse', format: 'built', notes: [] });
    let err: Error | undefined;
    await quantizeInt8(graph, { representativeDataset: [Float32Array.of(1, 2)] }).catch((e) => (err = e));
    expect(err?.message).to.equal('computed-sparse: ops that are folded from constant inputs only have computed inputs here: SparseToDense (4 nodes: s0, s1, s2, ...)');
  });
});
