import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { DEMO_HEAD } from '../../lib/demo/model.js';
import { generateSample, sampleSeed } from '../../lib/demo/synthetic.js';
import { buildDemoModels } from '../../scripts/demo-training/architecture.js';
import { rgbToFloat01 } from '../../scripts/demo-training/evaluate.js';
import { buildLevelTargets, yoloLoss, DEMO_LOSS_WEIGHTS } from '../../scripts/demo-training/loss.js';
import { registerWasmConvGradients } from '../../scripts/demo-training/wasm-grad.js';

/** A few steps of the scripts/demo-training/train.ts loop; returns the losses and the final weights. */
function shortRun(steps: number, batch: number): { losses: number[]; weights: Float32Array[] } {
  const { logits, inference } = buildDemoModels(3);
  const optimizer = tf.train.adam(0.003);
  const size = DEMO_HEAD.inputSize[0];
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const samples = Array.from({ length: batch }, (_, b) => generateSample(sampleSeed(99, step * batch + b), size));
    const pixels = new Float32Array(batch * size * size * 3);
    samples.forEach((s, b) => pixels.set(rgbToFloat01(s.rgb), b * size * size * 3));
    const targets = DEMO_HEAD.levels.map((_, li) => buildLevelTargets(samples.map((s) => s.labels), DEMO_HEAD, li));
    const x = tf.tensor4d(pixels, [batch, size, size, 3]);
    const loss = optimizer.minimize(() => yoloLoss(logits.apply(x, { training: true }) as tf.Tensor[], targets, DEMO_HEAD, DEMO_LOSS_WEIGHTS, 'iou').total, true)!;
    losses.push(loss.dataSync()[0]);
    tf.dispose([x, loss]);
  }
  const weights = inference.getWeights().map((w) => w.dataSync().slice() as Float32Array);
  optimizer.dispose();
  inference.dispose();
  return { losses, weights };
}

describe('demo/train (the training loop on the wasm backend)', function () {
  let previous: string | undefined;
  before(async () => {
    previous = tf.engine().backendName ?? undefined;
    registerWasmConvGradients();
    await tf.setBackend('wasm');
  });
  after(async () => {
    if (previous) await tf.setBackend(previous);
  });

  it('is deterministic: two identical short runs give bit-identical losses and weights', () => {
    const a = shortRun(2, 2);
    const b = shortRun(2, 2);
    expect(a.losses).to.deep.equal(b.losses);
    expect(a.losses.every(Number.isFinite)).to.equal(true);
    expect(a.weights.length).to.equal(b.weights.length);
    a.weights.forEach((w, i) => expect(Buffer.from(w.buffer).equals(Buffer.from(b.weights[i].buffer)), `weight ${i}`).to.equal(true));
  });

  it('repeated steps on one fixed batch drive its loss down (gradients point downhill)', () => {
    const { logits } = buildDemoModels(4);
    const optimizer = tf.train.adam(0.003);
    const size = DEMO_HEAD.inputSize[0];
    const samples = [generateSample(sampleSeed(98, 0), size), generateSample(sampleSeed(98, 1), size)];
    const pixels = new Float32Array(2 * size * size * 3);
    samples.forEach((s, b) => pixels.set(rgbToFloat01(s.rgb), b * size * size * 3));
    const targets = DEMO_HEAD.levels.map((_, li) => buildLevelTargets(samples.map((s) => s.labels), DEMO_HEAD, li));
    const x = tf.tensor4d(pixels, [2, size, size, 3]);
    const losses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const loss = optimizer.minimize(() => yoloLoss(logits.apply(x, { training: true }) as tf.Tensor[], targets, DEMO_HEAD).total, true)!;
      losses.push(loss.dataSync()[0]);
      loss.dispose();
    }
    console.log(`      loss ${losses[0].toFixed(4)} -> ${losses[losses.length - 1].toFixed(4)}`);
    expect(losses[losses.length - 1]).to.be.below(0.85 * losses[0]);
    tf.dispose(x);
    optimizer.dispose();
  });
});
