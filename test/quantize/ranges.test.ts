// Range choices quantizeInt8 makes beyond calibration: tensors read only by LOGISTIC are clipped where
// the int8 sigmoid saturates, recipe overrides win, and every calibrated range contains 0.
import { expect } from 'chai';
import { GraphBuilder } from '../../lib/graph/builder.js';
import { quantizeInt8 } from '../../lib/yolo/quantize.js';
import { siluNegligibleBelow } from '../../lib/quantize/index.js';
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

describe('siluNegligibleBelow', () => {
  it('finds the T beyond which |x sigmoid(x)| stays under the tolerance', () => {
    for (const tol of [0.1, 0.01, 0.001]) {
      const t = siluNegligibleBelow(tol);
      const silu = (x: number) => x / (1 + Math.exp(-x));
      expect(Math.abs(silu(-t))).to.be.closeTo(tol, tol * 1e-6);
      // Beyond T it only shrinks (monotone for x < -1.2785).
      for (const x of [t + 0.5, t + 2, t + 10]) expect(Math.abs(silu(-x))).to.be.below(tol);
    }
    // A tolerance above SiLU's deepest value (-0.2785 at x = -1.2785) needs no range below that point.
    expect(siluNegligibleBelow(0.3)).to.equal(1.2785);
  });

  it('a tensor read only by SiLU keeps no negative range below where SiLU rounds to 0', async () => {
    const r = mulberry32(21);
    const b = new GraphBuilder('silu-clip');
    const x = b.addInput('input', [1, 4, 4, 2]);
    const w = b.addConstant('c/w', [1, 1, 2, 4], 'float32', Float32Array.from({ length: 8 }, () => (r() * 2 - 1) * 30));
    const bias = b.addConstant('c/b', [4], 'float32', Float32Array.of(-20, -5, 0, 5));
    const c = b.emit('c', 'Conv2D', [x, w, bias], { strides: [1, 1], padding: 'VALID', dilations: [1, 1], activation: 'none' })[0];
    const s = b.emit('s', 'Silu', [c], {})[0];
    const graph = b.build([s], { source: 'silu-clip', format: 'built', notes: [] });
    const { report } = await quantizeInt8(graph, { representativeDataset: samples(), numCalibrationSamples: 4, backend: 'wasm' });
    const conv = report.tensors.find((t) => t.tensor === 'c')!;
    const out = report.tensors.find((t) => t.tensor === 's')!;
    const t = siluNegligibleBelow(out.scale / 2);
    expect(conv.min).to.be.below(-t + 1e-9);
    expect(conv.min).to.be.above(-t - (conv.max - conv.min) / 128); // at most one snap step beyond
  });
});
