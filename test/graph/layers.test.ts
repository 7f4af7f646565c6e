// The layers-model importer on small models built here, IR float output vs model.predict.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { importTfjsLayersModel } from '../../lib/graph/importers/tfjs-layers.js';
import { importModel } from '../../lib/graph/importers/index.js';
import { runDefaultPasses } from '../../lib/graph/passes/index.js';
import { createFloatExecutor } from '../../lib/graph/execute.js';
import { initBackend } from '../../lib/graph/backend.js';
import { maxAbsDiff } from '../support/compare.js';

function randomInput(shape: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7) * 0.9 + Math.cos(i * 0.13) * 0.3);
}

/** Gives BatchNormalization non-trivial statistics so folding is really tested. */
function perturbWeights(model: tf.LayersModel): void {
  let k = 1;
  for (const l of model.layers) {
    const ws = l.getWeights();
    if (!ws.length) continue;
    l.setWeights(ws.map((w, i) => tf.tidy(() => {
      const name = l.weights[i].name;
      const noise = tf.mul(tf.sin(tf.add(tf.range(0, w.size).reshape(w.shape), k++)), 0.2);
      return /variance/.test(name) ? tf.add(tf.abs(noise), 0.5) : tf.add(w, noise);
    })));
  }
}

async function compare(model: tf.LayersModel, inputShape: number[]): Promise<number> {
  const x = randomInput(inputShape);
  const expected = (model.predict(tf.tensor(x, inputShape)) as tf.Tensor).dataSync() as Float32Array;
  const g = runDefaultPasses(await importTfjsLayersModel(model));
  const ex = await createFloatExecutor(g);
  const out = (await ex.run(x))[g.outputs[0]];
  ex.dispose();
  return maxAbsDiff(out, expected);
}

describe('TF.js layers-model importer', function () {
  before(async () => { await initBackend('wasm'); });

  it('a model.json loaded twice in one process keeps its input name (TF.js numbers symbolic tensor names per process)', async () => {
    const demo = path.resolve(import.meta.dirname, '../../models/demo/model.json');
    const first = await importTfjsLayersModel(demo);
    const second = await importTfjsLayersModel(demo);
    expect(first.inputs).to.deep.equal(['images']);
    expect(second.inputs).to.deep.equal(first.inputs);
  });

  it('CNN: Conv2D+BN+ReLU, DepthwiseConv2D, pooling, upsampling, padding, Add, Concatenate, GAP, Dense softmax', async () => {
    const input = tf.input({ shape: [16, 16, 3] });
    const c1 = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false }).apply(input) as tf.SymbolicTensor;
    const bn = tf.layers.batchNormalization().apply(c1) as tf.SymbolicTensor;
    const r = tf.layers.reLU({ maxValue: 6 }).apply(bn) as tf.SymbolicTensor;
    const dw = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'relu' }).apply(r) as tf.SymbolicTensor;
    const add = tf.layers.add().apply([r, dw]) as tf.SymbolicTensor;
    const mp = tf.layers.maxPooling2d({ poolSize: 2 }).apply(add) as tf.SymbolicTensor;
    const ap = tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same' }).apply(mp) as tf.SymbolicTensor;
    const up = tf.layers.upSampling2d({ size: [2, 2] }).apply(ap) as tf.SymbolicTensor;
    const zp = tf.layers.zeroPadding2d({ padding: 1 }).apply(up) as tf.SymbolicTensor;
    const c2 = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, activation: 'swish' }).apply(zp) as tf.SymbolicTensor;
    const act = tf.layers.activation({ activation: 'sigmoid' }).apply(c2) as tf.SymbolicTensor;
    const cat = tf.layers.concatenate().apply([c2, act]) as tf.SymbolicTensor;
    const gap = tf.layers.globalAveragePooling2d({}).apply(cat) as tf.SymbolicTensor;
    const dense = tf.layers.dense({ units: 5, activation: 'softmax' }).apply(gap) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: dense });
    perturbWeights(model);
    const g = runDefaultPasses(await importTfjsLayersModel(model));
    const ops = g.nodes.map((n) => n.op);
    expect(ops).to.not.include('BatchNorm');
    expect(ops).to.include('Silu');
    expect(g.nodes.find((n) => n.op === 'Conv2D')!.attrs.activation).to.equal('relu6');
    const diff = await compare(model, [1, 16, 16, 3]);
    expect(diff).to.be.below(1e-5);
    model.dispose();
  });

  it('Sequential with Flatten, Reshape, Dense tanh and LeakyReLU', async () => {
    const model = tf.sequential({ layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 2], filters: 3, kernelSize: 2, activation: 'tanh' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 12, activation: 'relu6' }),
      tf.layers.reshape({ targetShape: [3, 4] }),
      tf.layers.flatten(),
      tf.layers.leakyReLU({ alpha: 0.1 }),
      tf.layers.dense({ units: 3 }),
    ] });
    perturbWeights(model);
    expect(await compare(model, [1, 8, 8, 2])).to.be.below(1e-5);
    model.dispose();
  });

  it('loads a saved layers-model model.json through importModel', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, activation: 'sigmoid' })] });
    perturbWeights(model);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layers-'));
    await model.save(tf.io.withSaveHandler(async (art) => {
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({
        format: 'layers-model', modelTopology: art.modelTopology,
        weightsManifest: [{ paths: ['w.bin'], weights: art.weightSpecs }],
      }));
      fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.from(art.weightData as ArrayBuffer));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const g = await importModel(dir);
    expect(g.meta.format).to.equal('tfjs-layers-model');
    const x = Float32Array.of(0.5, -1, 2, 0.25);
    const expected = (model.predict(tf.tensor2d(x, [1, 4])) as tf.Tensor).dataSync();
    const ex = await createFloatExecutor(runDefaultPasses(g));
    expect(maxAbsDiff((await ex.run(x))[g.outputs[0]], expected)).to.be.below(1e-6);
    ex.dispose();
    fs.rmSync(dir, { recursive: true });
    model.dispose();
  });

  it('rejects unsupported layers naming them', async () => {
    const model = tf.sequential({ layers: [
      tf.layers.dense({ inputShape: [4], units: 4 }),
      tf.layers.gaussianNoise({ stddev: 0.1 }),
      tf.layers.dense({ units: 2, name: 'head' }),
      tf.layers.gaussianNoise({ stddev: 0.1 }),
    ] });
    let err: Error | undefined;
    try { await importTfjsLayersModel(model); } catch (e) { err = e as Error; }
    expect(err?.message).to.match(/^Unsupported ops in tf\.LayersModel: GaussianNoise \(2 nodes: gaussian_noise_\w+, gaussian_noise_\w+\)$/);
    model.dispose();
  });
});
