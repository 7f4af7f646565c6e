// Sensitivity analysis and accuracy-aware selection on the real YOLOv5n (TF.js graph model), kept
// quick: 4 calibration images, 1 image for the SQNR, and the layers of the stem and the detect convs.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { COCO128_IMAGES, FIXTURES, requireFixtures } from '../support/fixtures.js';
import { analyzeSensitivity, quantizeInt8 } from '../../lib/yolo/quantize.js';
import { inspectTflite } from '../../lib/tflite/inspect.js';

describe('sensitivity on YOLOv5n (fixture)', function () {
  this.timeout(300_000);
  const LAYERS = '/^(model\\/(tf_conv|tf_conv_1|tf_detect)\\/|yolo_head\\/)/';

  it('ranks the stem and head layers, and an accuracy target on the worst output raises the worst layer first, to int16 (still full-integer)', async function () {
    requireFixtures(this);
    const images = COCO128_IMAGES;
    const calib = fs.readdirSync(images).sort().slice(0, 4).map((f) => path.join(images, f));
    const model = path.join(FIXTURES, 'yolov5n_web_model/model.json');
    const val = calib.slice(0, 1);
    const r = await analyzeSensitivity(model, { representativeDataset: calib, numCalibrationSamples: 4, images: val, numImages: 1, layers: LAYERS });
    // 2 + 2 stem layers, 3 detect convs, 3 head sigmoids.
    expect(r.layers).to.have.length(10);
    expect(r.family).to.equal('yolov5');
    expect(r.int8SqnrDb).to.be.greaterThan(10).and.below(60);
    const worst = r.layers[0];
    expect(worst.sqnrDb).to.be.finite;
    expect(worst.variantSqnrDb).to.be.greaterThan(r.int8SqnrDb);
    for (let i = 1; i < r.layers.length; i++) expect(r.layers[i].sqnrDb).to.be.at.least(r.layers[i - 1].sqnrDb);

    // The accuracy target is on the worst output's SQNR (the ranking above pools all outputs): first
    // the all-int8 model's value on the same image, then a target just above it.
    const options = { representativeDataset: calib, numCalibrationSamples: 4 };
    const base = (await quantizeInt8(model, { ...options, accuracy: { minSqnrDb: -1000, validation: val, layers: LAYERS, latencyImages: 1 } })).report.accuracy!;
    expect(base.raisedLayers).to.deep.equal([]);
    expect(base.int8).to.be.at.most(r.int8SqnrDb + 1e-6); // the worst output is at most the pooled value
    const target = base.int8 + 0.05;
    const { tflite, report } = await quantizeInt8(model, { ...options, accuracy: { minSqnrDb: target, validation: val, layers: LAYERS, latencyImages: 1 } });
    const a = report.accuracy!;
    expect(a.reached).to.equal(true);
    expect(a.int8).to.be.closeTo(base.int8, 1e-6);
    expect(a.chosen).to.be.at.least(target);
    // The search ranks the same layers with its own variants (int16 tensors with 4x range headroom, so
    // its order can differ from the analysis above) and raises the worst of its ranking first.
    expect([...a.ranking].sort()).to.deep.equal(r.layers.map((l) => l.node).sort());
    const first = r.layers.find((l) => l.node === a.ranking[0])!;
    expect(a.raisedLayers[0]).to.deep.equal({ node: first.node, op: first.op, precision: 'int16' });
    expect(a.raisedLayers.every((x) => x.precision === 'int16')).to.equal(true);
    expect(report.precision.notInt8.map((x) => x.node)).to.include(first.node);
    expect(inspectTflite(tflite).allInteger).to.equal(true);
    expect(a.fileBytes.chosen).to.equal(tflite.length);
  });
});
