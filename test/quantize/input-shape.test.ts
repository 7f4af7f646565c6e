// Inputs of any size: a model whose input is [-1,-1,-1,3] is refused with an error naming the input
// and the option, quantizes with inputShape (API) / --input-shape (CLI), and the file runs in LiteRT
// like the float graph; a given shape that contradicts a declared dimension is refused.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { quantizeInt8 } from '../../lib/quantize/index.js';
import { importModel } from '../../lib/graph/importers/index.js';
import { resolveInputShape } from '../../lib/graph/importers/input-shape.js';
import { TINY, rewriteJson, tinyInputs, writeTinyGraphModel, type TinyModel } from '../support/tiny-model.js';
import { sqnrDb, tfliteVsFloat } from '../support/compare.js';
import { runCli } from '../support/cli.js';
import { writeDataset } from '../../lib/demo/synthetic.js';
import { TfliteRunner } from '../../lib/runtime/index.js';

/** The tiny model with every dimension of its input unknown. */
function anySizeModel(): TinyModel {
  const m = writeTinyGraphModel();
  rewriteJson(m, (json) => {
    json.modelTopology.node[0].attr.shape.shape.dim = [{ size: '-1' }, { size: '-1' }, { size: '-1' }, { size: '3' }];
  });
  return m;
}

describe('inputShape: models with inputs of any size', () => {
  let m: TinyModel;
  before(() => {
    m = anySizeModel();
  });
  after(() => fs.rmSync(m.dir, { recursive: true, force: true }));

  it('without it, the error names the input, its shape and the option', async () => {
    let err: Error | undefined;
    await quantizeInt8(m.dir, { representativeDataset: tinyInputs(2) }).catch((e) => (err = e));
    expect(err?.message).to.match(/input 'x' has shape \[-1,-1,-1,3\] with unknown dimensions; give its shape with the inputShape option \(CLI: --input-shape 1,H,W,C\)$/);
  });

  it('with it, the file takes that shape and follows the float graph in LiteRT', async () => {
    const shape = [1, TINY.h, TINY.w, TINY.c];
    const { tflite, report } = await quantizeInt8(m.dir, { representativeDataset: tinyInputs(8), inputShape: shape, backend: 'wasm' });
    expect(report.inputs[0].shape).to.deep.equal(shape);
    const graph = await importModel(m.dir, { inputShape: shape });
    const { signal, noise } = await tfliteVsFloat(tflite, graph, tinyInputs(4, 99));
    expect(sqnrDb(signal, noise)).to.be.above(30);
  });

  it('a shape that contradicts a declared dimension, or another count of inputs, is refused', () => {
    expect(() => resolveInputShape({ inputShape: [1, 8, 8, 4] }, 'x', [-1, -1, -1, 3], 1, 'm')).to.throw(
      "m: input 'x' has shape [-1,-1,-1,3]; the shape given, [1,8,8,4], does not fit it",
    );
    expect(() => resolveInputShape({ inputShape: [1, 8, 8, 3] }, 'x', [-1, -1, -1, 3], 2, 'm')).to.throw(/the model has 2 inputs; inputShape gives one shape, pass inputShapes per input name/);
    expect(() => resolveInputShape({}, 'b', [1, -1], 2, 'm')).to.throw(/input 'b' has shape \[1,-1\] with unknown dimensions; give its shape with the inputShapes option \(\{ 'b': \[\.\.\.\] \}\)/);
    expect(resolveInputShape({}, 'x', [-1, 4, 4, 3], 1, 'm')).to.deep.equal([1, 4, 4, 3]);
  });

  it('the CLI takes --input-shape and refuses a malformed one before any work', async () => {
    const out = path.join(m.dir, 'out.tflite');
    const bad = await runCli(['quantize', m.dir, '--calib', m.dir, '-o', out, '--input-shape', '1,8,x,3']);
    expect(bad.code).to.not.equal(0);
    expect(bad.stderr).to.match(/--input-shape expects positive integers, e\.g\. 1,320,320,3 \(got '1,8,x,3'\)/);
    const range = await runCli(['quantize', m.dir, '--calib', m.dir, '-o', out, '--input-range', '1,-1']);
    expect(range.stderr).to.match(/--input-range expects lo,hi with lo < hi/);
    expect(fs.existsSync(out)).to.equal(false);
  });

  it('quantize --input-shape --input-range writes a file of that shape that records the range', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ranged-'));
    try {
      const { imagesDir } = await writeDataset(path.join(work, 'images'), { count: 2, seed: 4, size: 32 });
      const out = path.join(work, 'ranged.tflite');
      const r = await runCli(['quantize', m.dir, '--calib', imagesDir, '-o', out, '--input-shape', '1,8,8,3', '--input-range', '-1,1']);
      expect(r.code, r.stderr).to.equal(0);
      const runner = await TfliteRunner.load(out);
      try {
        expect(runner.inputs[0].shape).to.deep.equal([1, 8, 8, 3]);
        expect(runner.inputs[0].inputRange).to.deep.equal([-1, 1]);
      } finally {
        runner.dispose();
      }
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
