import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { formatDemoTable, runDemo, type RunDemoResult } from '../../lib/demo/run-demo.js';
import { countImage, precisionRecall, DEMO_SCORE_THRESHOLD } from '../../lib/demo/operating-point.js';
import { demoModelDir } from '../../lib/demo/model.js';
import { loadDataset, readYoloLabels, labelsToPixels } from '../../lib/yolo/dataset.js';
import { matchImage } from '../../lib/yolo/metrics.js';
import type { Detection } from '../../lib/yolo/nms.js';

describe('demo/run-demo: precision / recall count', () => {
  it('counts a duplicate box and a wrong-class box as false positives, a missed label against recall', () => {
    const labels = [
      { classId: 0, box: [0, 0, 10, 10] as [number, number, number, number] },
      { classId: 1, box: [20, 20, 30, 30] as [number, number, number, number] },
      { classId: 2, box: [40, 40, 50, 50] as [number, number, number, number] },
    ];
    const dets: Detection[] = [
      { classId: 0, score: 0.9, box: [0, 0, 10, 10] }, // TP
      { classId: 0, score: 0.6, box: [0, 0, 11, 11] }, // duplicate of label 0 (IoU 0.83): FP
      { classId: 0, score: 0.5, box: [20, 20, 30, 30] }, // right place, wrong class: FP
      { classId: 1, score: 0.4, box: [22, 20, 32, 30] }, // IoU 80/120 = 0.67 with label 1: TP
    ];
    const acc = { truePositives: 0, detections: 0, labels: 0 };
    countImage(acc, dets, labels);
    countImage(acc, [], [labels[0]]); // a second image with one missed object
    expect(acc).to.deep.equal({ truePositives: 2, detections: 4, labels: 4 });
    expect(precisionRecall(acc)).to.deep.equal({ precision: 0.5, recall: 0.5 });
    expect(precisionRecall({ truePositives: 0, detections: 0, labels: 3 })).to.deep.equal({ precision: 0, recall: 0 });
  });

  it('the table has precision and recall columns', () => {
    const row = { name: 'm', mAP50: 0.5, mAP50_95: 0.25, precision: 0.875, recall: 0.9375, latencyMs: { median: 1, p90: 2, mean: 1.5 }, fileBytes: 2000 };
    const lines = formatDemoTable([row]).split('\n');
    expect(lines[0]).to.match(new RegExp(`mAP50-95  precision@${DEMO_SCORE_THRESHOLD}  recall@${DEMO_SCORE_THRESHOLD}`));
    expect(lines[2]).to.match(/0\.500\s+0\.250\s+0\.875\s+0\.938\s+1\.00 ms\s+2\.00 ms\s+2\.0 KB$/);
  });
});

// Issue 13.5's target: precision and recall >= 0.9 at score 0.3. The committed weights (stage 18) measure
// precision / recall float 0.904 / 0.919 and int8 0.911 / 0.915 on the demo's 64 test images.
const PRECISION_MIN = 0.9;
const RECALL_MIN = 0.9;

describe('demo/run-demo: the embedded detector, end to end (held-out images, LiteRT float and int8)', function () {
  let out = '';
  let result: RunDemoResult;
  before(async function () {
    if (!fs.existsSync(path.join(demoModelDir(), 'model.json'))) {
      console.log('  (skipped: the trained demo model models/demo/model.json is not there)');
      this.skip();
    }
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-int8-run-demo-'));
    // The demo's own settings: the embedded weights, 64 calibration and 64 held-out test images.
    result = await runDemo({ outDir: out });
    console.log(
      `      float mAP50 ${result.float.mAP50.toFixed(3)} mAP50-95 ${result.float.mAP50_95.toFixed(3)} P ${result.float.precision.toFixed(3)} R ${result.float.recall.toFixed(3)}; ` +
        `int8 mAP50 ${result.int8.mAP50.toFixed(3)} mAP50-95 ${result.int8.mAP50_95.toFixed(3)} P ${result.int8.precision.toFixed(3)} R ${result.int8.recall.toFixed(3)}; ${result.seconds.toFixed(1)} s`,
    );
  });
  after(() => {
    if (out) fs.rmSync(out, { recursive: true, force: true });
  });

  it(`precision and recall at score ${DEMO_SCORE_THRESHOLD} of float and int8 are both >= 0.9`, () => {
    for (const row of [result.float, result.int8]) {
      expect(row.precision, `${row.name} precision`).to.be.at.least(PRECISION_MIN);
      expect(row.recall, `${row.name} recall`).to.be.at.least(RECALL_MIN);
    }
  });

  it('int8 stays within 0.01 mAP50-95 of float, and the model is all-integer', () => {
    expect(Math.abs(result.int8.mAP50_95 - result.float.mAP50_95)).to.be.at.most(0.01);
    expect(result.float.mAP50_95).to.be.above(0.3); // measured 0.555: a working detector, so the comparison means something
    expect(result.allInteger).to.equal(true);
  });

  it('the annotated image shows each labelled object once, with its class', () => {
    const first = loadDataset(result.testDataset).items[0];
    const labels = labelsToPixels(readYoloLabels(first.labels), 128, 128);
    const dets: Detection[] = result.detections.map((d) => ({ classId: d.classId, score: d.score, box: d.box }));
    const { correct } = matchImage(dets, labels, [0.5]);
    expect(dets.length, JSON.stringify(result.detections)).to.equal(labels.length);
    expect(correct.every((c) => c[0]), JSON.stringify(result.detections)).to.equal(true);
    expect(fs.existsSync(result.annotatedPng)).to.equal(true);
  });
});
