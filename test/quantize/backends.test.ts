// Every float backend gives the same file: the observers read activations as views on the wasm heap
// (default), as copies out of it (activationViews: false) or from the cpu backend, and the written
// .tflite must not depend on which. Real models: the trained demo detector (small enough for the cpu
// backend with minmax) and YOLOv5n (wasm: views against copies, head probing included).
import { expect } from 'chai';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { quantizeInt8 } from '../../lib/yolo/quantize.js';
import { YOLO_PLUGIN } from '../../lib/yolo/plugin.js';
import { resolveRecipe } from '../../lib/quantize/recipe.js';
import { calibrateGraph, planFor, prepareGraph, writePlan } from '../../lib/quantize/stages.js';
import { correctBiases } from '../../lib/quantize/bias-correction.js';
import { correctionInputs, modelInputShapes } from '../../lib/quantize/dataset.js';
import type { BackendName } from '../../lib/graph/backend.js';
import type { CalibrationMethod } from '../../lib/calibrate/calibrate.js';

const root = path.resolve(import.meta.dirname, '../..');
const fixtures = path.resolve(root, '../shared/fixtures');
const DEMO = path.join(root, 'models/demo/model.json');
const YOLOV5N = path.join(fixtures, 'yolov5n_web_model');
const COCO = path.join(fixtures, 'coco128/images');

const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

interface Variant {
  backend: BackendName;
  activationViews: boolean;
  calibration?: CalibrationMethod;
  /** Bias correction on this many calibration samples (as quantizeInt8's biasCorrection: { samples }). */
  biasSamples?: number;
}

/** quantizeInt8's path (prepare, calibrate, plan, bias correction, write) with the executor's view choice exposed. */
async function quantizeWith(source: string, images: string[], v: Variant): Promise<Uint8Array> {
  const options = {
    representativeDataset: images, backend: v.backend, activationViews: v.activationViews,
    ...(v.calibration ? { calibration: v.calibration } : {}), ...(v.biasSamples ? { biasCorrection: { samples: v.biasSamples } } : {}),
  };
  const recipe = resolveRecipe(options);
  const prepared = await prepareGraph(source, { backend: v.backend }, YOLO_PLUGIN);
  const { calibrated, executor } = await calibrateGraph(prepared, recipe, { ...options, keepExecutor: v.biasSamples !== undefined }, YOLO_PLUGIN);
  try {
    expect(calibrated.backend).to.equal(v.backend);
    expect(executor?.activationViews ?? v.activationViews).to.equal(v.activationViews);
    const graph = calibrated.graph;
    let plan = planFor(calibrated, recipe, { outputType: 'int8' });
    if (executor) {
      plan = (await correctBiases(plan, graph, {
        floatExec: executor,
        inputs: correctionInputs(images, modelInputShapes(graph), undefined, YOLO_PLUGIN.resolveImages)!,
        settings: { mode: recipe.resolved.biasCorrection.mode, samples: v.biasSamples! },
        write: (p) => writePlan(graph, p, { description: 'yolo-int8 bias correction', where: 'backends.test', check: false }),
      })).plan;
    }
    return writePlan(graph, plan, { metadata: calibrated.fileMetadata, description: 'yolo-int8 full-integer quantization', where: 'backends.test' });
  } finally {
    executor?.dispose();
  }
}

describe('quantize: every float backend gives byte-identical files', function () {
  this.timeout(600_000);
  const have = (p: string) => fs.existsSync(p);
  const coco = have(COCO) ? fs.readdirSync(COCO).sort().map((f) => path.join(COCO, f)) : [];

  it('demo detector (minmax): wasm views, wasm copies and cpu write the same bytes as quantizeInt8', async function () {
    if (!have(DEMO) || coco.length === 0) this.skip();
    const images = coco.slice(0, 4);
    const reference = sha((await quantizeInt8(DEMO, { representativeDataset: images, backend: 'wasm', calibration: 'minmax' })).tflite);
    for (const [how, v] of [['wasm, views', { backend: 'wasm', activationViews: true }], ['wasm, copies', { backend: 'wasm', activationViews: false }], ['cpu', { backend: 'cpu', activationViews: true }]] as const) {
      expect(sha(await quantizeWith(DEMO, images, { ...v, calibration: 'minmax' })), how).to.equal(reference);
    }
  });

  // The cpu backend's float kernels sum in another order than wasm's (XNNPACK): activations differ in
  // the last bits (b0_bn's maximum 6.7329173 on wasm, 6.7329168 on cpu), which moves histogram bins and
  // bias means, so mse and bias correction are compared between views and copies of the same engine.
  it('demo detector (mse, bias correction on 2 samples): wasm views and wasm copies write the same bytes as quantizeInt8', async function () {
    if (!have(DEMO) || coco.length === 0) this.skip();
    const images = coco.slice(0, 3);
    const reference = sha((await quantizeInt8(DEMO, { representativeDataset: images, backend: 'wasm', calibration: 'mse', biasCorrection: { samples: 2 } })).tflite);
    const variant = { backend: 'wasm', calibration: 'mse', biasSamples: 2 } as const;
    expect(sha(await quantizeWith(DEMO, images, { ...variant, activationViews: true })), 'wasm, views').to.equal(reference);
    expect(sha(await quantizeWith(DEMO, images, { ...variant, activationViews: false })), 'wasm, copies').to.equal(reference);
  });

  it('YOLOv5n (mse, head probed): wasm views and wasm copies write the same bytes as quantizeInt8', async function () {
    if (!have(YOLOV5N) || coco.length === 0) this.skip();
    const images = coco.slice(0, 2);
    const reference = sha((await quantizeInt8(YOLOV5N, { representativeDataset: images, backend: 'wasm', calibration: 'mse' })).tflite);
    expect(sha(await quantizeWith(YOLOV5N, images, { backend: 'wasm', activationViews: true, calibration: 'mse' })), 'views').to.equal(reference);
    expect(sha(await quantizeWith(YOLOV5N, images, { backend: 'wasm', activationViews: false, calibration: 'mse' })), 'copies').to.equal(reference);
  });
});
