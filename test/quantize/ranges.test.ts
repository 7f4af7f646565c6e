// Range choices quantizeInt8 makes beyond calibration: tensors read only by LOGISTIC are clipped where
// the int8 sigmoid saturates, recipe overrides win, and every calibrated range contains 0.
import { expect } from 'chai';
import { GraphBuilder } from '../../lib/graph/builder.js';
import { quantizeInt8 } from '../../lib/quantize/index.js';
import { mulberry32 } from '../../lib/util/random.js';

function graphWithWideLogits() {
  const r = mulberry32(5);
  const b = new GraphBuilder('wide');
  const x = b.addInput('input', [1, 4, 4, 2]);
  // Large weights: conv outputs far beyond +-6.24, where sigmoid's int8 output is already saturated.
  const w = b.addConstant('c/w', [1, 1, 2, 3], 'float32', Float32Array.from({ length: 6 }, () => (r() * 2 - 1) * 40));
  const bias = b.addConstant('c/b', [3], 'float32', Float32Array.of(-10, 0, 10));
  const c = b.emit('c', 'Conv2D', [x, w, bias], { strides: [1, 1], padding: 'VALID', dilations: [1, 1], activation: 'none' })[0];
  const s = b.emit('s', 'Sigmoid', [c], {})[0];
  return b.build([s], { source: 'wide', format: 'built', notes: [] });
}

const samples = () => {
  const r = mulberry32(9);
  return Array.from({ length: 4 }, () => Float32Array.from({ length: 32 }, () => Math.round(r() * 255) / 255));
};

describe('quantizeInt8 range choices', () => {
  it('clips a tensor read only by LOGISTIC to where the int8 sigmoid saturates (ln(255.5/0.5))', async () => {
    const { report } = await quantizeInt8(graphWithWideLogits(), { representativeDataset: samples(), numCalibrationSamples: 4, backend: 'wasm' });
    const conv = report.tensors.find((t) => t.tensor === 'c')!;
    const limit = Math.log(255.5 / 0.5); // 6.2363
    // Snapped outward to a 2^-5 grid (span ~12.5): at most one grid step beyond the limit.
    expect(conv.min).to.be.within(-limit - 1 / 32, -limit);
    expect(conv.max).to.be.within(limit, limit + 1 / 32);
    const sig = report.tensors.find((t) => t.tensor === 's')!;
    expect(sig.scale).to.equal(1 / 256);
    expect(sig.zeroPoint).to.equal(-128);
  });

  it('a recipe range override is used as given', async () => {
    const { report } = await quantizeInt8(graphWithWideLogits(), {
      representativeDataset: samples(),
      numCalibrationSamples: 4,
      backend: 'wasm',
      recipe: { overrides: [{ match: 'c', range: [-3, 5] }] },
    });
    const conv = report.tensors.find((t) => t.tensor === 'c')!;
    expect(conv.min).to.equal(-3);
    expect(conv.max).to.equal(5);
    expect(conv.scale).to.be.closeTo(8 / 255, 1e-7);
    expect(report.recipe.overrides).to.deep.equal([{ match: 'c', range: [-3, 5] }]);
  });
});
