import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { validateHeadSpec } from '../../lib/yolo/head.js';
import { DEMO_CLASS_NAMES, DEMO_HEAD, demoModelDir, fsLoadHandler, loadDemoModel } from '../../lib/demo/model.js';
import { packageRoot } from '../../lib/util/package.js';
import { DEMO_SEEDS, generateSample, sampleSeed } from '../../lib/demo/synthetic.js';
import { buildDemoModels } from '../../scripts/demo-training/architecture.js';
import { evaluateDemoFloat } from '../../scripts/demo-training/evaluate.js';
import { fsSaveHandler } from '../../scripts/demo-training/save-model.js';

const REPO_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

describe('demo/model', function () {
  let previous: string | undefined;
  before(async () => {
    previous = tf.engine().backendName ?? undefined;
    await tf.setBackend('wasm');
  });
  after(async () => {
    if (previous) await tf.setBackend(previous);
  });

  it('locates the package root and the committed model folder', () => {
    expect(packageRoot()).to.equal(REPO_ROOT);
    expect(demoModelDir()).to.equal(path.join(REPO_ROOT, 'models', 'demo'));
    for (const f of ['model.json', 'weights.bin', 'README.md']) expect(fs.existsSync(path.join(demoModelDir(), f)), f).to.equal(true);
  });

  it('the calibration and test sets are different images (each set has its own seed)', () => {
    const size = DEMO_HEAD.inputSize[0];
    const calib = generateSample(sampleSeed(DEMO_SEEDS.calibration, 0), size);
    const test = generateSample(sampleSeed(DEMO_SEEDS.test, 0), size);
    expect(Buffer.from(calib.rgb).equals(Buffer.from(test.rgb))).to.equal(false);
    expect(new Set(Object.values(DEMO_SEEDS)).size).to.equal(3);
  });

  it('the architecture uses only plain layer classes, is small, and its head matches DEMO_HEAD', () => {
    const { inference } = buildDemoModels(1);
    const allowed = new Set(['InputLayer', 'Conv2D', 'BatchNormalization', 'Activation', 'Add', 'Concatenate', 'MaxPooling2D', 'UpSampling2D', 'ZeroPadding2D']);
    for (const l of inference.layers) expect(allowed.has(l.getClassName()), l.getClassName()).to.equal(true);
    expect(inference.countParams()).to.be.within(50_000, 300_000);
    const [h, w] = DEMO_HEAD.inputSize;
    expect(inference.inputs[0].shape).to.deep.equal([null, h, w, 3]);
    DEMO_HEAD.levels.forEach((level, i) => {
      expect(inference.outputs[i].shape).to.deep.equal([null, level.gridH, level.gridW, 3 * (5 + DEMO_CLASS_NAMES.length)]);
      expect(inference.outputNames[i]).to.equal(level.output);
      expect(level.gridH * level.stride).to.equal(h);
    });
    inference.dispose();
  });

  it('fsSaveHandler / fsLoadHandler round-trip topology, weights and userDefinedMetadata', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-int8-demo-model-'));
    try {
      const { inference } = buildDemoModels(7);
      inference.setUserDefinedMetadata({ yoloHead: DEMO_HEAD, classNames: [...DEMO_CLASS_NAMES] });
      await inference.save(fsSaveHandler(dir));
      const reloaded = await tf.loadLayersModel(fsLoadHandler(dir));
      expect(reloaded.getUserDefinedMetadata()).to.deep.equal({ yoloHead: DEMO_HEAD, classNames: [...DEMO_CLASS_NAMES] });
      const x = tf.randomUniform([1, ...DEMO_HEAD.inputSize, 3], 0, 1, 'float32', 5);
      const a = inference.predict(x) as tf.Tensor[];
      const b = reloaded.predict(x) as tf.Tensor[];
      a.forEach((t, i) => expect(Array.from(b[i].dataSync())).to.deep.equal(Array.from(t.dataSync())));
      tf.dispose([x, ...a, ...b]);
      // Errors surface on await, not when load() is called.
      let pending: Promise<unknown> | undefined;
      expect(() => (pending = fsLoadHandler(path.join(dir, 'missing')).load!())).to.not.throw();
      let message = '';
      await pending!.catch((e: Error) => (message = e.message));
      expect(message).to.match(/model\.json: not found/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the committed model carries the head spec and class names in userDefinedMetadata', async () => {
    const model = await loadDemoModel();
    const meta = model.getUserDefinedMetadata() as { yoloHead: unknown; classNames: string[] };
    expect(validateHeadSpec(meta.yoloHead, 'models/demo/model.json')).to.deep.equal(DEMO_HEAD);
    expect(meta.classNames).to.deep.equal([...DEMO_CLASS_NAMES]);
    expect(model.outputNames).to.deep.equal(DEMO_HEAD.levels.map((l) => l.output));
    const weightsBytes = fs.statSync(path.join(demoModelDir(), 'weights.bin')).size;
    expect(weightsBytes).to.be.below(1_500_000);
    model.dispose();
  });

  it('the trained float model detects the held-out shapes (64 test images, score 0.3, NMS IoU 0.45, match IoU 0.5)', async () => {
    const model = await loadDemoModel();
    const t0 = Date.now();
    // The demo's held-out set (the same 64 seed-3 images yolo-int8 demo writes), run on TF.js: independent
    // of the LiteRT path of test/demo/run-demo.test.ts; decoded and counted as the demo counts.
    const r = evaluateDemoFloat(model, { count: 64, seed: DEMO_SEEDS.test, scoreThreshold: 0.3, nmsIoU: 0.45 });
    console.log(`      recall ${r.recall.toFixed(3)} precision ${r.precision.toFixed(3)} (${r.truePositives}/${r.objects} objects, ${r.detections} detections, ${Date.now() - t0} ms)`);
    expect(r.objects).to.be.above(200);
    expect(r.recall).to.be.at.least(RECALL_MIN);
    expect(r.precision).to.be.at.least(PRECISION_MIN);
    model.dispose();
  });
});

// Issue 13.5 asks for precision and recall >= 0.9. The committed weights (models/demo/README.md, stage 18)
// measure recall 0.919 (217/236) and precision 0.904 (240 detections) on these 64 images.
const RECALL_MIN = 0.9;
const PRECISION_MIN = 0.9;
