// Models with several inputs. Tensor inputs: the representative dataset yields one Float32Array per
// input (an array in input order, or a record by input name; the same file either way), each input's
// int8 parameters come from its observed extremes, and LiteRT's int8 run is compared with the float
// graph. Image inputs: each input gets every image letterboxed to its own size; the TF.js layers model
// (two inputs of different sizes) is quantized with bias correction, learned rounding and the layer
// analysis, and compared in LiteRT with tfjs' own predict. Wrong counts, lengths and names are
// refused in one line naming the sample and the input.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../../lib/graph/builder.js';
import { initBackend } from '../../lib/graph/backend.js';
import { exportFloatTflite, quantizeInt8 } from '../../lib/quantize/index.js';
import { analyzeSensitivity } from '../../lib/quantize/sensitivity.js';
import { analyzeSensitivity as analyzeYoloSensitivity, quantizeInt8 as quantizeWithYoloPlugin } from '../../lib/yolo/quantize.js';
import { datasetInputs, listImageFiles, modelSamples, runnerInputs, type ModelSample } from '../../lib/quantize/dataset.js';
import { writeDataset } from '../../lib/demo/synthetic.js';
import { mulberry32 } from '../../lib/util/random.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { dequantizeOutput } from '../../lib/pipeline/quantize.js';
import { toChannelsFirst } from '../../lib/pipeline/layout.js';
import { maxAbsDiff, runFloatGraph, sqnrDb } from '../support/compare.js';
import { runCli } from '../support/cli.js';

const N = 16;

/** y = a * ka + b * kb: two tensor inputs with very different ranges. */
function twoTensorGraph() {
  const b = new GraphBuilder('two-tensors');
  const xa = b.addInput('a', [1, N]);
  const xb = b.addInput('b', [1, N]);
  const r = mulberry32(7);
  const ka = b.addConstant('ka', [N], 'float32', Float32Array.from({ length: N }, () => r() * 0.2 + 0.05));
  const kb = b.addConstant('kb', [N], 'float32', Float32Array.from({ length: N }, () => r() * 4 - 2));
  const [ma] = b.emit('mul_a', 'Mul', [xa, ka], {});
  const [mb] = b.emit('mul_b', 'Mul', [xb, kb], {});
  const [y] = b.emit('sum', 'Add', [ma, mb], {});
  return b.build([y], { source: 'two-tensors', format: 'built', notes: [] });
}

/** Samples: 'a' in [0, 10], 'b' in [-1, 1]. */
function tensorSamples(count: number, seed: number): ModelSample[] {
  const r = mulberry32(seed);
  return Array.from({ length: count }, () => [
    Float32Array.from({ length: N }, () => r() * 10),
    Float32Array.from({ length: N }, () => r() * 2 - 1),
  ]);
}

/** Output SQNR of a .tflite in LiteRT against `reference` on the samples (inputs quantized by their own parameters). */
async function outputSqnr(tflite: Uint8Array, samples: ModelSample[], reference: (x: ModelSample) => Promise<Float32Array>): Promise<number> {
  const runner = await TfliteRunner.load(tflite);
  let signal = 0;
  let noise = 0;
  try {
    for (const x of samples) {
      const got = dequantizeOutput((await runner.run(runnerInputs(x, runner.inputs)))[0], runner.outputs[0]);
      const want = await reference(x);
      for (let i = 0; i < want.length; i++) {
        signal += want[i] * want[i];
        noise += (got[i] - want[i]) ** 2;
      }
    }
  } finally {
    runner.dispose();
  }
  return sqnrDb(signal, noise);
}

async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

/** Two image inputs of different sizes (16x16 and 8x8), a conv and a global average each, added, then a dense layer. */
function twoImageLayersModel(): tf.LayersModel {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  const left = tf.input({ shape: [16, 16, 3], name: 'left' });
  const right = tf.input({ shape: [8, 8, 3], name: 'right' });
  const branch = (x: tf.SymbolicTensor, seed: number) => {
    const c = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(seed) }).apply(x) as tf.SymbolicTensor;
    return tf.layers.globalAveragePooling2d({}).apply(c) as tf.SymbolicTensor;
  };
  const sum = tf.layers.add().apply([branch(left, 1), branch(right, 2)]) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 4, kernelInitializer: init(3) }).apply(sum) as tf.SymbolicTensor;
  return tf.model({ inputs: [left, right], outputs: out });
}

describe('models with several inputs', () => {
  let dir: string;
  let imagesDir: string;
  let images: string[];
  before(async () => {
    // The backend first, as the library starts it (quietly): tfjs would otherwise pick one, with its banner, when the layers model is built.
    await initBackend('wasm');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'multi-input-'));
    ({ imagesDir } = await writeDataset(path.join(dir, 'images'), { count: 10, seed: 4, size: 32 }));
    images = listImageFiles(imagesDir);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('tensor inputs', () => {
    it('quantizes from one tensor per input (array or record: the same bytes), each input at its observed range, close to the float graph in LiteRT', async () => {
      const calib = tensorSamples(24, 1);
      const { tflite, report } = await quantizeInt8(twoTensorGraph(), { representativeDataset: calib, backend: 'wasm' });
      expect(report.allInteger).to.equal(true);
      const byName = await quantizeInt8(twoTensorGraph(), { representativeDataset: calib.map(([a, b]) => ({ a, b })), backend: 'wasm' });
      expect(Buffer.from(byName.tflite).equals(Buffer.from(tflite))).to.equal(true);

      // Each input's int8 scale is its observed range (widened to 0) over 255, computed here from the samples.
      const extremes = [0, 1].map((k) => calib.reduce(([lo, hi], s) => [Math.min(lo, ...s[k]), Math.max(hi, ...s[k])], [0, 0]));
      const runner = await TfliteRunner.load(tflite);
      try {
        expect(runner.inputs.map((i) => i.name)).to.deep.equal(['a', 'b']);
        runner.inputs.forEach((d, k) => {
          expect(d.dtype).to.equal('int8');
          // At least the observed range's step, at most 1 % wider (the range is snapped outward to the grid).
          const step = (extremes[k][1] - extremes[k][0]) / 255;
          expect(d.scale).to.be.within(step, step * 1.01);
        });
      } finally {
        runner.dispose();
      }
      const held = tensorSamples(8, 2);
      const graph = twoTensorGraph();
      const sqnr = await outputSqnr(tflite, held, async ([a, b]) => (await runFloatGraph(graph, { a, b }))[graph.outputs[0]]);
      // Measured 42.2 dB (two int8 inputs, one int8 product each, an int8 sum).
      expect(sqnr).to.be.above(39);
    });

    it('refuses a wrong tensor count, length or name in one line naming the sample and the input', async () => {
      const graph = twoTensorGraph();
      const [s0, s1] = tensorSamples(2, 3);
      const inputs = "('a' [1,16], 'b' [1,16])";
      const hint = 'pass one tensor per input, in this order (an array), or a record by input name';
      expect(await errorOf(quantizeInt8(graph, { representativeDataset: [s0[0]] }))).to.equal(
        `representative dataset item 0: one tensor, but the model has 2 inputs ${inputs}; ${hint}`);
      expect(await errorOf(quantizeInt8(graph, { representativeDataset: [s0, [...s1, s1[0]]] }))).to.equal(
        `representative dataset item 1: 3 tensors, but the model has 2 inputs ${inputs}; ${hint}`);
      expect(await errorOf(quantizeInt8(graph, { representativeDataset: [s0, s1, [s0[0], new Float32Array(15)]] }))).to.equal(
        "representative dataset item 2, input 'b': 15 values, but the input [1,16] needs 16");
      expect(await errorOf(quantizeInt8(graph, { representativeDataset: [{ a: s0[0], c: s0[1] }] }))).to.equal(
        "representative dataset item 0: 'c' is not a model input (inputs: 'a' [1,16], 'b' [1,16])");
      expect(await errorOf(quantizeInt8(graph, { representativeDataset: [{ a: s0[0] }] }))).to.equal(
        `representative dataset item 0: no tensor for input 'b' [1,16] (${hint})`);
      expect(await errorOf(quantizeInt8(graph, { representativeDataset: imagesDir }))).to.equal(
        "representative dataset: images cannot feed every input of the model ('a' [1,16] (not image-like), 'b' [1,16] (not image-like)); " +
          'pass tensors as the representative dataset: an iterable with one Float32Array per input (in this order), or records by input name');
      expect(await errorOf(quantizeInt8(graph, { representativeDataset: [s0], inputNormalization: { mean: [1] } }))).to.equal(
        "two-tensors: inputNormalization applies to a model with one input; this one has 2 ('a' [1,16], 'b' [1,16])");
    });

    it('the CLI (images only) names the inputs and points to the API; no output is written', async () => {
      const model = path.join(dir, 'two-tensors.tflite');
      fs.writeFileSync(model, (await exportFloatTflite(twoTensorGraph())).tflite);
      const out = path.join(dir, 'two-tensors-int8.tflite');
      const r = await runCli(['quantize', model, '--calib', imagesDir, '-o', out]);
      expect(r.code).to.not.equal(0);
      expect(r.stderr).to.contain(
        `${model}: the CLI calibrates from images, which cannot feed its inputs ('a' [1,16] (not image-like), 'b' [1,16] (not image-like)); ` +
          'use the API: quantizeInt8 with one tensor per input in each sample (README: Several inputs)\n');
      expect(fs.existsSync(out)).to.equal(false);
    });

    it('a model with an image input and a tensor input is told which input images cannot feed', async () => {
      const b = new GraphBuilder('image-and-bias');
      const image = b.addInput('image', [1, 8, 8, 3]);
      const bias = b.addInput('bias', [1, 3]);
      const [y] = b.emit('add', 'Add', [image, bias], {});
      const graph = b.build([y], { source: 'image-and-bias', format: 'built', notes: [] });
      expect(await errorOf(quantizeInt8(graph, { representativeDataset: imagesDir }))).to.equal(
        "representative dataset: images cannot feed every input of the model ('image' [1,8,8,3] (image-like), 'bias' [1,3] (not image-like)); " +
          'pass tensors as the representative dataset: an iterable with one Float32Array per input (in this order), or records by input name');
    });
  });

  describe('image inputs', () => {
    it('each input gets the image letterboxed to its own size and layout', async () => {
      const inputs = [{ name: 'big', shape: [1, 16, 16, 3] }, { name: 'small', shape: [1, 3, 8, 8] }];
      const samples: ModelSample[] = [];
      for await (const s of modelSamples(images.slice(0, 2), inputs, { used: 0, skipped: [] })) samples.push(s);
      expect(samples.length).to.equal(2);
      for (let i = 0; i < 2; i++) {
        // The single-input reader of the same file at each size (NCHW: its channels-first planes).
        const [big] = await collect(datasetInputs([images[i]], [1, 16, 16, 3], { used: 0, skipped: [] }));
        const [small] = await collect(datasetInputs([images[i]], [1, 8, 8, 3], { used: 0, skipped: [] }));
        expect(Array.from(samples[i][0])).to.deep.equal(Array.from(big));
        expect(Array.from(samples[i][1])).to.deep.equal(Array.from(toChannelsFirst(small, 3)));
      }
    });

    it('quantizes a two-input TF.js layers model from images (bias correction, learned rounding, layer analysis) and runs it in LiteRT close to tfjs', async () => {
      const model = twoImageLayersModel();
      const { tflite, report } = await quantizeInt8(model, {
        representativeDataset: images.slice(0, 6), backend: 'wasm', biasCorrection: { samples: 4 }, learnedRounding: { samples: 4 }, analyzeLayers: images.slice(6, 8),
      });
      expect(report.allInteger).to.equal(true);
      expect(report.inputs.map((i) => i.shape)).to.deep.equal([[1, 16, 16, 3], [1, 8, 8, 3]]);
      expect(report.biasCorrection!.layers).to.be.above(0);
      expect(report.learnedRounding).to.not.equal(undefined);
      expect(report.layerErrors!.length).to.be.above(0);
      for (const e of report.layerErrors!) expect(e.sqnrDb).to.be.above(15);

      const held: ModelSample[] = [];
      for await (const s of modelSamples(images.slice(6), [{ name: 'left', shape: [1, 16, 16, 3] }, { name: 'right', shape: [1, 8, 8, 3] }], { used: 0, skipped: [] })) held.push(s);
      const predict = async ([l, r]: ModelSample) => tf.tidy(() => (model.predict([tf.tensor(l, [1, 16, 16, 3]), tf.tensor(r, [1, 8, 8, 3])]) as tf.Tensor).dataSync() as Float32Array);
      const sqnr = await outputSqnr(tflite, held, predict);
      // Measured 33.9 dB on the 4 held-out images.
      expect(sqnr).to.be.above(30);

      // The float export runs with both inputs in LiteRT like tfjs.
      const float = await exportFloatTflite(model);
      const runner = await TfliteRunner.load(float.tflite);
      try {
        for (const x of held) {
          const got = (await runner.run(x))[0] as Float32Array;
          expect(maxAbsDiff(got, await predict(x))).to.be.below(1e-4);
        }
      } finally {
        runner.dispose();
      }
    });

    it('the CLI quantizes a model whose inputs are all image-like from --calib images, like the API', async () => {
      const model = twoImageLayersModel();
      const source = path.join(dir, 'two-images.tflite');
      fs.writeFileSync(source, (await exportFloatTflite(model)).tflite);
      const out = path.join(dir, 'two-images-int8.tflite');
      const r = await runCli(['quantize', source, '--calib', imagesDir, '-n', '6', '-o', out, '--json']);
      expect(r.code, r.stderr).to.equal(0);
      const runner = await TfliteRunner.load(fs.readFileSync(out));
      try {
        expect(runner.inputs.map((i) => [i.dtype, ...i.shape])).to.deep.equal([['int8', 1, 16, 16, 3], ['int8', 1, 8, 8, 3]]);
      } finally {
        runner.dispose();
      }
      // The library with the CLI's plug-in and options writes the same bytes.
      const api = await quantizeWithYoloPlugin(source, { representativeDataset: imagesDir, numCalibrationSamples: 6, backend: 'wasm' });
      expect(api.report.allInteger).to.equal(true);
      expect(Buffer.from(api.tflite).equals(fs.readFileSync(out))).to.equal(true);
    });

    it('the image metrics (accuracy.maxDrop, sensitivity data) apply to one input and refuse several by name', async () => {
      const source = path.join(dir, 'two-images-metric.tflite');
      fs.writeFileSync(source, (await exportFloatTflite(twoImageLayersModel())).tflite);
      const inputs = "('left' [1,16,16,3] (image-like), 'right' [1,8,8,3] (image-like))";
      const calib = { representativeDataset: images.slice(0, 2), backend: 'wasm' as const };
      expect(await errorOf(quantizeWithYoloPlugin(source, { ...calib, accuracy: { maxDrop: 1, validation: imagesDir } }))).to.equal(
        `${source}: accuracy.maxDrop (a metric scored on images) applies to a model with one input; this one has 2 ${inputs}`);
      expect(await errorOf(analyzeYoloSensitivity(source, { ...calib, data: imagesDir }))).to.equal(
        `${source}: data (a metric scored on images) applies to a model with one input; this one has 2 ${inputs}`);
    });

    it('a one-shot iterator of records gives the same file as a list (bias correction and learned rounding read the kept samples)', async () => {
      const samples = await collect(modelSamples(images.slice(0, 6), [{ name: 'left', shape: [1, 16, 16, 3] }, { name: 'right', shape: [1, 8, 8, 3] }], { used: 0, skipped: [] }));
      const options = { backend: 'wasm' as const, biasCorrection: { samples: 4 }, learnedRounding: { samples: 4 } };
      const model = twoImageLayersModel();
      const listed = await quantizeInt8(model, { ...options, representativeDataset: samples });
      async function* oneShot() {
        for (const [left, right] of samples) yield { left, right };
      }
      const streamed = await quantizeInt8(model, { ...options, representativeDataset: oneShot() });
      expect(streamed.report.biasCorrection!.layers).to.be.above(0);
      expect(Buffer.from(streamed.tflite).equals(Buffer.from(listed.tflite))).to.equal(true);
    });

    it('the sensitivity analysis and the accuracy-aware selection (minSqnrDb) take several inputs', async () => {
      const model = twoImageLayersModel();
      const s = await analyzeSensitivity(model, { representativeDataset: images.slice(0, 4), numImages: 2, backend: 'wasm' });
      // Two convolutions, two global averages, the add and the dense layer, each measured in LiteRT with both inputs.
      expect(s.layers.map((l) => l.op).sort()).to.deep.equal(['Add', 'Conv2D', 'Conv2D', 'FullyConnected', 'Mean', 'Mean']);
      for (const l of s.layers) expect(l.variantSqnrDb).to.be.within(20, 120);
      const { report } = await quantizeInt8(model, {
        representativeDataset: images.slice(0, 4), backend: 'wasm', accuracy: { minSqnrDb: 60, validation: images.slice(4, 6), writeBest: true },
      });
      // 60 dB is above what all-int8 reaches (about 34 dB): layers were raised.
      expect(report.accuracy!.int8).to.be.below(60);
      expect(report.precision.int16 + report.precision.float).to.be.above(0);
    });
  });
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
