import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { readyQuietly } from '../../lib/graph/backend.js';
import { registerWasmConvGradients } from '../../scripts/demo-training/wasm-grad.js';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; scale: number } {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { diff, scale };
}

describe('demo/wasm-grad (training kernels for the wasm backend)', function () {
  let previous: string | undefined;
  before(async () => {
    // The backend other test files were using (undefined when none was initialised yet).
    previous = tf.engine().backendName ?? undefined;
    registerWasmConvGradients();
    // The cpu backend prints TF.js's tfjs-node banner on its first write: start it quietly.
    await tf.setBackend('cpu');
    await readyQuietly();
  });
  after(async () => {
    if (previous) await tf.setBackend(previous);
  });

  // Reference: the same gradients on the cpu backend (tfjs-core's own pure-JS kernels).
  const cases: { x: number[]; w: number[]; stride: number; pad: 'same' | 'valid' }[] = [
    { x: [2, 9, 9, 3], w: [3, 3, 3, 4], stride: 1, pad: 'same' },
    { x: [2, 10, 10, 3], w: [3, 3, 3, 5], stride: 2, pad: 'same' },
    { x: [2, 9, 9, 3], w: [3, 3, 3, 5], stride: 2, pad: 'same' },
    { x: [1, 7, 8, 6], w: [1, 1, 6, 2], stride: 1, pad: 'valid' },
    { x: [2, 11, 11, 4], w: [5, 5, 4, 3], stride: 2, pad: 'valid' },
  ];
  for (const c of cases) {
    it(`conv2d input and filter gradients match the cpu backend: x ${c.x} w ${c.w} stride ${c.stride} ${c.pad}`, async () => {
      const grads: Float32Array[][] = [];
      for (const backend of ['cpu', 'wasm']) {
        await tf.setBackend(backend);
        const x = tf.randomNormal(c.x, 0, 1, 'float32', 1);
        const w = tf.randomNormal(c.w, 0, 1, 'float32', 2);
        const [gx, gw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, c.stride, c.pad).square().sum())([x, w]);
        grads.push([gx.dataSync() as Float32Array, gw.dataSync() as Float32Array]);
        tf.dispose([x, w, gx, gw]);
      }
      for (const k of [0, 1]) {
        const { diff, scale } = maxAbsDiff(grads[1][k], grads[0][k]);
        expect(scale).to.be.above(1);
        expect(diff).to.be.below(1e-5 * scale);
      }
    });
  }

  it('the FusedBatchNorm gradient equals the gradient of the explicit formula (x-m)*rsqrt(v+eps)*g+b', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 3);
    const mean = tf.tensor1d([0.1, -0.2, 0.3]);
    const variance = tf.tensor1d([0.5, 1.5, 2.0]);
    const scale = tf.tensor1d([1.2, 0.7, -0.4]);
    const offset = tf.tensor1d([0.05, 0.0, -0.1]);
    const weights = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 4);
    const loss = (f: (a: tf.Tensor[]) => tf.Tensor) => (...a: tf.Tensor[]) => f(a).mul(weights).sum();
    const fused = tf.grads(loss(([a, m, v, s, o]) => tf.batchNorm(a, m, v, o, s, 1e-3)))([x, mean, variance, scale, offset]);
    const explicit = tf.grads(loss(([a, m, v, s, o]) => a.sub(m).mul(tf.rsqrt(v.add(1e-3))).mul(s).add(o)))([x, mean, variance, scale, offset]);
    fused.forEach((g, i) => {
      const { diff, scale: mag } = maxAbsDiff(g.dataSync(), explicit[i].dataSync());
      expect(mag).to.be.above(0.01);
      expect(diff).to.be.below(1e-4 * Math.max(1, mag));
    });
  });
});
