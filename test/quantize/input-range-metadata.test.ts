// The input range travels with the file: quantizeInt8 records a range other than [0, 1] in the
// file's metadata, TfliteRunner reads it into inputs[0].inputRange, and imageToInput / pixelsToInput
// map pixels into it (lo + (hi - lo) x p / 255) before the input's own quantization.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { GraphBuilder } from '../../lib/graph/builder.js';
import { quantizeInt8 } from '../../lib/quantize/index.js';
import { writeDataset } from '../../lib/demo/synthetic.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { readTflite } from '../../lib/tflite/reader.js';
import { imageToInput } from '../../lib/pipeline/input.js';
import { INPUT_RANGE_METADATA, pixelsToInput, quantizeInput } from '../../lib/pipeline/quantize.js';

function convGraph() {
  const b = new GraphBuilder('range');
  const x = b.addInput('input', [1, 16, 16, 3]);
  const w = b.addConstant('w', [3, 3, 3, 2], 'float32', Float32Array.from({ length: 54 }, (_, i) => ((i % 7) - 3) / 8));
  const [y] = b.emit('conv', 'Conv2D', [x, w], { strides: [1, 1], padding: 'SAME', dilations: [1, 1], activation: 'none' });
  return b.build([y], { source: 'range', format: 'built', notes: [] });
}

describe('the input range in the file and the pipeline', () => {
  let dir: string;
  let imagesDir: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'range-'));
    ({ imagesDir } = await writeDataset(path.join(dir, 'images'), { count: 4, seed: 2, size: 32 }));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('[-1, 1] is recorded, read back by the runner, and used by imageToInput', async () => {
    const { tflite } = await quantizeInt8(convGraph(), { representativeDataset: imagesDir, inputRange: [-1, 1], backend: 'wasm' });
    const runner = await TfliteRunner.load(tflite);
    try {
      const input = runner.inputs[0];
      expect(input.inputRange).to.deep.equal([-1, 1]);
      expect(input.scale).to.be.closeTo(2 / 255, 1e-9);
      const image = { width: 16, height: 16, data: Uint8Array.from({ length: 16 * 16 * 3 }, (_, i) => (i * 37) % 256) };
      const { data } = await imageToInput(image, input);
      // By hand: pixel p is the float 2p/255 - 1, quantized with the input's own scale and zero point.
      const want = quantizeInput(Float32Array.from(image.data, (p) => (2 * p) / 255 - 1), input);
      expect(Array.from(data)).to.deep.equal(Array.from(want));
      expect([data[0], data[3 * 7]]).to.deep.equal([want[0], want[21]]);
    } finally {
      runner.dispose();
    }
  });

  it('the default [0, 1] writes no entry, and pixels stay pixel / 255', async () => {
    const { tflite } = await quantizeInt8(convGraph(), { representativeDataset: imagesDir, backend: 'wasm' });
    expect(readTflite(tflite).metadata.map((m) => m.name)).to.not.include(INPUT_RANGE_METADATA);
    expect(Array.from(pixelsToInput(Uint8Array.of(0, 51, 255), { dtype: 'float32' }))).to.deep.equal([0, Math.fround(0.2), 1]);
    expect(Array.from(pixelsToInput(Uint8Array.of(0, 51, 255), { dtype: 'float32', inputRange: [0, 255] }))).to.deep.equal([0, 51, 255]);
    expect(Array.from(pixelsToInput(Uint8Array.of(0, 255), { dtype: 'float32', inputRange: [-1, 1] }))).to.deep.equal([-1, 1]);
  });
});
