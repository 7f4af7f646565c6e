// Every zoo model (../shared/fixtures/zoo) and YOLO11n, as a user brings them (issue 18, "Done when"):
// import, quantize with default options on 2 coco128 images (at the model's input range), pass
// `check`, run in LiteRT, and stay within 3 dB of the output SQNR measured against the library's
// float export (also run in LiteRT) on 2 other images (65-66). Class outputs also keep their top-1.
// Models that do not quantize yet are listed with the error they stop at: the test fails when that
// error changes or goes away, so a fix cannot pass unnoticed (move the model to MEASURED then).
import assert from 'node:assert/strict';
import { checkTflite, exportFloatTflite, formatCheckResult, quantizeInt8 } from '../../lib/index.js';
import { requireFixtures } from '../support/fixtures.js';
import { cocoImages, compareOutputs, imageInputs, inputShapeOf, runOnInputs, zooModels, ZOO_DIR, type OutputComparison, type ZooModel } from '../support/zoo.js';
import fs from 'node:fs';

/** The SQNR measured may fall this far below the value measured when the floor was set. */
const MARGIN_DB = 3;

/**
 * Output SQNR (dB) per output, in the float export's output order, measured 2026-12-07 (calibration
 * coco128 1-2, comparison 65-66). A floor is the value minus MARGIN_DB.
 */
const MEASURED: Record<string, number[]> = {
  'face_detection-face_detection_short_range': [19.15, 9.63],
  'face_detection-face_detection_full_range_sparse': [13.15, 13.5],
  'hands-hand_landmark_lite': [28.31, 0.0, 17.78, 1.67],
  'pose-pose_landmark_lite': [11.3, 11.36, 4.61, 15.72, 9.02],
  'selfie_segmentation-selfie_segmentation': [17.04],
  'hands-palm_detection_lite': [15.15, 20.21],
  'human-models-blazeface': [12.78, 14.26, 19.6, 9.87],
  'human-models-movenet-lightning': [17.0, 15.1, 10.65, 7.65],
  'human-models-handlandmark-lite': [-1.52, 28.91, 13.08, 2.41],
  'human-models-faceres': [13.38, 0.72, 14.32],
  'human-models-age': [22.56],
  'human-models-efficientpose': [10.89],
  // Cut before its TopKV2 post-processing; one squeeze-excite range is floored (requant-floor.ts).
  'human-models-centernet': [-0.07, 0.0],
  'human-models-emotion': [29.19],
  'human-models-iris': [32.42],
  'human-models-selfie': [13.9],
  'human-models-handtrack': [38.61, 8.13, 38.61],
  'human-models-posenet': [13.08, 20.48, 12.36, 7.45],
  'human-models-antispoof': [24.51],
  'human-models-gear': [20.32, 24.53, 12.18],
  'human-models-facemesh-detection-short': [17.62],
  'nsfwjs-mobilenet_v2': [36.52],
  // Channels-first input, SparseToDense folded at import.
  'human-models-nanodet': [14.68, 19.29, 14.35, 12.43, 16.54, 20.32],
  // The C2PSA attention written as int8 BATCH_MATMUL.
  yolo11n: [18.15, 32.9, 15.37, 29.44, 14.81, 27.78],
};

/** Models that stop today, with the issue that tracks them and the error they stop at. */
const KNOWN_FAILURES: Record<string, { issue: string; error: RegExp }> = {};

/** Quantize on 2 images, check, and compare with the float export on 2 others. */
async function quantizeCheckCompare(m: ZooModel): Promise<OutputComparison[]> {
  const { tflite, head } = await quantizeInt8(m.source, { representativeDataset: cocoImages(1, 2), numCalibrationSamples: 2, inputRange: m.inputRange });
  const check = checkTflite(tflite, { label: m.name });
  assert.ok(check.ok, formatCheckResult(check));
  const float = (await exportFloatTflite(m.source)).tflite;
  const inputs = await imageInputs(cocoImages(65, 66), await inputShapeOf(float), m.inputRange);
  return compareOutputs(await runOnInputs(float, inputs, `${m.name} (float)`), await runOnInputs(tflite, inputs, m.name, head), m.classOutputs);
}

function describe_(c: OutputComparison[]): string {
  return `[${c.map((o) => o.sqnrDb.toFixed(2)).join(', ')}] dB`;
}

describe('zoo: every model imports, quantizes, passes check and runs in LiteRT near its float export', function () {
  before(function () {
    requireFixtures(this, ZOO_DIR, '../shared/fixtures/zoo');
  });

  it('lists every zoo model (and YOLO11n) once, with a measured floor or as a known failure', function () {
    const names = fs.existsSync(ZOO_DIR) ? zooModels().map((m) => m.name) : [];
    for (const n of names) assert.ok((n in MEASURED) !== (n in KNOWN_FAILURES), `${n}: needs exactly one of MEASURED or KNOWN_FAILURES`);
    for (const n of [...Object.keys(MEASURED), ...Object.keys(KNOWN_FAILURES)]) assert.ok(names.includes(n), `${n} is not a zoo model`);
  });

  for (const m of fs.existsSync(ZOO_DIR) ? zooModels() : []) {
    const known = KNOWN_FAILURES[m.name];
    if (known) {
      it(`${m.name}: still stops (${known.issue})`, async function () {
        let result: OutputComparison[] | undefined;
        try {
          result = await quantizeCheckCompare(m);
        } catch (e) {
          const message = (e as Error).message;
          assert.match(message, known.error, `${m.name} now stops at another error (update KNOWN_FAILURES or fix it): ${message.split('\n')[0]}`);
          return;
        }
        assert.fail(`${m.name} now quantizes, checks and runs (${describe_(result)}): move it from KNOWN_FAILURES to MEASURED with these values`);
      });
      continue;
    }
    it(`${m.name}: output SQNR within ${MARGIN_DB} dB of the measured value`, async function () {
      const result = await quantizeCheckCompare(m);
      const measured = MEASURED[m.name];
      assert.equal(result.length, measured.length, `${m.name}: ${result.length} outputs (${describe_(result)}), ${measured.length} measured`);
      result.forEach((o, k) => {
        assert.ok(o.sqnrDb >= measured[k] - MARGIN_DB, `${m.name} output '${o.name}': ${o.sqnrDb.toFixed(2)} dB, floor ${(measured[k] - MARGIN_DB).toFixed(2)} (all: ${describe_(result)})`);
        if (o.top1 !== undefined) assert.equal(o.top1, 1, `${m.name} output '${o.name}': top-1 agrees on ${o.top1 * 2} of 2 images`);
      });
    });
  }
});
