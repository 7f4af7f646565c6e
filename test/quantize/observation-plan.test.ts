// Observers do only the work the plan needs: on a small graph the tensors calibration derives instead
// of observing are exactly the expected ones for each method and mode, and the parameters (and file)
// equal those of observing every tensor.
import { expect } from 'chai';
import { GraphBuilder } from '../../lib/graph/builder.js';
import { calibrateGraph, planFor, prepareGraph, writePlan } from '../../lib/quantize/stages.js';
import { resolveRecipe } from '../../lib/quantize/recipe.js';
import type { ObserveMode } from '../../lib/quantize/observation-plan.js';
import type { CalibrationMethod } from '../../lib/calibrate/calibrate.js';
import { mulberry32 } from '../../lib/util/random.js';

const CONV = { strides: [1, 1], padding: 'VALID', dilations: [1, 1], activation: 'none' };

/**
 * c = conv(x); s = sigmoid(c) read by an Add (fixed, nothing reads its range); m = c + s;
 * p = pad(m, 1, value -9); r = reshape(p); u = upsample2x(m), v = upsample2x(c), k = concat(u, v);
 * o = sigmoid(k) (fixed model output); t = transpose(m); q = sigmoid(m) read by a conv (its range
 * is read by the requantization floor), w = conv(q).
 */
function smallGraph() {
  const rand = mulberry32(11);
  const b = new GraphBuilder('observers');
  const x = b.addInput('input', [1, 4, 4, 2]);
  const conv = (name: string, input: string, cin: number) => {
    const w = b.addConstant(`${name}/w`, [1, 1, cin, 3], 'float32', Float32Array.from({ length: cin * 3 }, () => rand() * 4 - 2));
    const bias = b.addConstant(`${name}/b`, [3], 'float32', Float32Array.of(0.5, -0.25, 0));
    return b.emit(name, 'Conv2D', [input, w, bias], CONV)[0];
  };
  const c = conv('c', x, 2);
  const s = b.emit('s', 'Sigmoid', [c], {})[0];
  const m = b.emit('m', 'Add', [c, s], {})[0];
  const p = b.emit('p', 'Pad', [m], { paddings: [0, 0, 1, 1, 1, 1, 0, 0], constantValue: -9 })[0];
  const r = b.emit('r', 'Reshape', [p], { shape: [1, 36, 3] })[0];
  const resize = { size: [8, 8], alignCorners: false, halfPixelCenters: false };
  const u = b.emit('u', 'ResizeNearest', [m], resize)[0];
  const v = b.emit('v', 'ResizeNearest', [c], resize)[0];
  const k = b.emit('k', 'Concat', [u, v], { axis: 3, activation: 'none' })[0];
  const o = b.emit('o', 'Sigmoid', [k], {})[0];
  const t = b.emit('t', 'Transpose', [m], { perm: [0, 3, 1, 2] })[0];
  const q = b.emit('q', 'Sigmoid', [m], {})[0];
  const w = conv('w', q, 3);
  return b.build([r, o, t, w], { source: 'observers', format: 'built', notes: [] });
}

const samples = () => {
  const rand = mulberry32(3);
  return Array.from({ length: 3 }, () => Float32Array.from({ length: 32 }, () => rand()));
};

async function quantizeObserving(method: CalibrationMethod, observe: ObserveMode) {
  const recipe = resolveRecipe({ calibration: method });
  const prepared = await prepareGraph(smallGraph(), { backend: 'wasm' });
  const { calibrated } = await calibrateGraph(prepared, recipe, { representativeDataset: samples(), numCalibrationSamples: 3, backend: 'wasm', observe, plannedOutputType: 'int8' });
  const plan = planFor(calibrated, recipe, { outputType: 'int8' });
  const derived = [...calibrated.calibration.ranges].filter(([, r]) => r.derived).map(([n, r]) => `${n}:${r.derived}`).sort();
  const params = new Map([...plan.tensors.values()].map((p) => [p.name, `${p.dtype} ${p.scale?.join(',')} ${p.zeroPoint?.join(',')}`]));
  return { calibrated, derived, params, tflite: writePlan(calibrated.graph, plan, { description: 'observation plan test', where: 'observation-plan.test' }) };
}

describe('quantize/observation-plan', () => {
  const expected: Record<string, string[]> = {
    'minmax exact': ['k:extremes', 'p:extremes', 'r:same-values', 't:extremes', 'u:extremes', 'v:extremes'],
    'minmax plan': ['k:extremes', 'o:given', 'p:extremes', 'r:same-values', 's:given', 't:extremes', 'u:extremes', 'v:extremes'],
    // Histograms of a padded, upsampled, concatenated or transposed tensor are not their inputs': observed.
    'mse exact': ['r:same-values'],
    'mse plan': ['o:given', 'r:same-values', 's:given'],
    'percentile plan': ['o:given', 'r:same-values', 's:given'],
  };
  for (const [key, names] of Object.entries(expected)) {
    const [method, observe] = key.split(' ') as [CalibrationMethod, ObserveMode];
    it(`${method}, observe '${observe}': derives exactly ${names.length} tensors and gives the parameters and file of observing all`, async () => {
      const all = await quantizeObserving(method, 'all');
      const some = await quantizeObserving(method, observe);
      expect(all.derived).to.deep.equal([]);
      expect(some.derived).to.deep.equal(names);
      expect(some.calibrated.calibration.observed).to.equal(all.calibrated.calibration.observed - names.length);
      // Derived ranges equal observed ones (given ones are stand-ins no parameter depends on).
      for (const [name, r] of some.calibrated.calibration.ranges) {
        if (r.derived === 'given') continue;
        const full = all.calibrated.calibration.ranges.get(name)!;
        expect([r.min, r.max, r.observedMin, r.observedMax], name).to.deep.equal([full.min, full.max, full.observedMin, full.observedMax]);
      }
      expect([...some.params]).to.deep.equal([...all.params]);
      expect(Buffer.from(some.tflite).equals(Buffer.from(all.tflite))).to.equal(true);
    });
  }

  it('the pad value counts: the padded tensor reaches down to -9 only through its padding', async () => {
    const some = await quantizeObserving('minmax', 'exact');
    const m = some.calibrated.calibration.ranges.get('m')!;
    const p = some.calibrated.calibration.ranges.get('p')!;
    expect(m.observedMin).to.be.greaterThan(-9);
    expect([p.observedMin, p.observedMax]).to.deep.equal([-9, m.observedMax]);
  });
});
