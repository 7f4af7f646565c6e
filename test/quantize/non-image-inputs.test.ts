// Models whose inputs images cannot feed: a feature vector [1,40] fed image files is told to pass
// tensors, and quantizes from Float32Arrays (then runs in LiteRT like the float graph); a model with
// two inputs fed images is refused with each input named, its shape, and whether it is image-like
// (multi-input.test.ts quantizes models with several inputs).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { GraphBuilder } from '../../lib/graph/builder.js';
import { quantizeInt8 } from '../../lib/quantize/index.js';
import { writeDataset } from '../../lib/demo/synthetic.js';
import { mulberry32 } from '../../lib/util/random.js';
import { sqnrDb, tfliteVsFloat } from '../support/compare.js';

function featureGraph() {
  const b = new GraphBuilder('features');
  const x = b.addInput('features', [1, 40]);
  const r = mulberry32(5);
  const k = b.addConstant('k', [40], 'float32', Float32Array.from({ length: 40 }, () => r() + 0.5));
  const [y] = b.emit('scale', 'Mul', [x, k], {});
  return b.build([y], { source: 'features', format: 'built', notes: [] });
}

describe('inputs images cannot feed', () => {
  let dir: string;
  let imagesDir: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'non-image-'));
    ({ imagesDir } = await writeDataset(path.join(dir, 'images'), { count: 2, seed: 3, size: 32 }));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a feature-vector input fed images is told to pass tensors, and quantizes from them', async () => {
    let err: Error | undefined;
    await quantizeInt8(featureGraph(), { representativeDataset: imagesDir }).catch((e) => (err = e));
    expect(err?.message).to.equal(
      'representative dataset: the model input [1,40] cannot be fed from images ([1,H,W,3], 1 channel as gray, or channels first [1,3,H,W]); ' +
        'pass tensors as the representative dataset: an iterable of Float32Array, 40 values each',
    );
    const r = mulberry32(11);
    const samples = Array.from({ length: 12 }, () => Float32Array.from({ length: 40 }, () => Math.round(r() * 255) / 255));
    const { tflite, report } = await quantizeInt8(featureGraph(), { representativeDataset: samples.slice(0, 8), backend: 'wasm' });
    expect(report.allInteger).to.equal(true);
    const { signal, noise } = await tfliteVsFloat(tflite, featureGraph(), samples.slice(8));
    expect(sqnrDb(signal, noise)).to.be.above(35);
  });

});
