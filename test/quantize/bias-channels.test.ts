// Per-channel weights whose scales happen to be all equal (identical output channels, as in
// EfficientPose's upsampling kernels) still get a per-channel bias: XNNPACK refuses the node otherwise,
// and the checker says so.
import { expect } from 'chai';
import { GraphBuilder } from '../../lib/graph/builder.js';
import { quantizeInt8 } from '../../lib/quantize/index.js';
import { readTflite } from '../../lib/tflite/reader.js';
import { writeTflite } from '../../lib/tflite/writer.js';
import { checkTflite } from '../../lib/tflite/check.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { mulberry32 } from '../../lib/util/random.js';
import { sqnrDb, tfliteVsFloat } from '../support/compare.js';

function sameChannels() {
  const b = new GraphBuilder('same-channels');
  const x = b.addInput('input', [1, 6, 6, 3]);
  // HWIO weights: every output channel has the same 3x3x3 kernel.
  const kernel = [0.2, -0.1, 0.3, 0.05, -0.25, 0.15, 0.1, 0, -0.2];
  const w = Float32Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => kernel[Math.floor(i / 12) % 9] * (1 + (Math.floor(i / 4) % 3)));
  const [y] = b.emit('conv', 'Conv2D', [x, b.addConstant('w', [3, 3, 3, 4], 'float32', w), b.addConstant('b', [4], 'float32', Float32Array.of(0.1, -0.2, 0.3, 0))], {
    strides: [1, 1], padding: 'SAME', dilations: [1, 1], activation: 'none',
  });
  return b.build([y], { source: 'same-channels', format: 'built', notes: [] });
}

describe('bias parameters follow per-channel weights', () => {
  it('writes one bias scale per channel when the weight scales are equal, and LiteRT runs it', async () => {
    const r = mulberry32(5);
    const inputs = Array.from({ length: 12 }, () => Float32Array.from({ length: 108 }, () => Math.round(r() * 255) / 255));
    const { tflite } = await quantizeInt8(sameChannels(), { representativeDataset: inputs.slice(0, 8), numCalibrationSamples: 8, backend: 'wasm' });
    const model = readTflite(tflite);
    const sg = model.subgraphs[0];
    const w = sg.tensors.find((t) => t.type === 9 && t.quantization!.scale.length > 1)!;
    const bias = sg.tensors.find((t) => t.type === 2 && t.quantization)!;
    expect(new Set(w.quantization!.scale).size).to.equal(1);
    expect(w.quantization!.scale.length).to.equal(4);
    expect(bias.quantization!.scale.length).to.equal(4);
    const { signal, noise } = await tfliteVsFloat(tflite, sameChannels(), inputs.slice(8));
    expect(sqnrDb(signal, noise)).to.be.greaterThan(30);
    // The per-tensor bias the writer used to produce: refused by the checker (and by XNNPACK).
    bias.quantization!.scale = [bias.quantization!.scale[0]];
    bias.quantization!.zeroPoint = [0];
    const bad = writeTflite(model);
    expect(checkTflite(bad).violations.map((v) => v.message).join('\n')).to.match(/has one scale but the weights .* have 4 \(per channel\); the bias needs one per channel/);
    let error = '';
    try {
      const runner = await TfliteRunner.load(bad, { check: false });
      await runner.run([new Int8Array(108)]);
      runner.dispose();
    } catch (e) {
      error = (e as Error).message;
    }
    expect(error).to.match(/LiteRT/);
  });
});
