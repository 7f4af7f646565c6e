// Where the tests find the project and the shared fixtures, and the one way a test that needs the
// fixtures says it is skipped. The fixtures live beside the project (../shared/fixtures), never in it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = path.resolve(REPO_ROOT, '../shared/fixtures');

/** A path under the fixtures folder. */
export const fixture = (...parts: string[]): string => path.join(FIXTURES, ...parts);

export const YOLOV5N_WEB_MODEL = fixture('yolov5n_web_model');
export const YOLOV5N_FP16 = fixture('yolov5n/yolov5n-fp16.tflite');
export const YOLOV5N_INT8 = fixture('yolov5n/yolov5n-int8.tflite');
export const YOLOV8N_DIR = fixture('yolov8n');
/** ultralytics' YOLOv8n TFLite exports: dynamic-range, full-integer (int8 I/O), integer with float I/O. */
export const YOLOV8N_DYNAMIC = fixture('yolov8n/yolov8n_int8.tflite');
export const YOLOV8N_FULL_INT = fixture('yolov8n/yolov8n_full_integer_quant.tflite');
export const YOLOV8N_INT_FLOAT_IO = fixture('yolov8n/yolov8n_integer_quant.tflite');
export const DARTS_WEB_MODEL = fixture('yolov8n_darts_web_model');
export const POSE_WEB_MODEL = fixture('yolov8n-pose_hand_web_model');
export const BUS_JPG = fixture('images/bus.jpg');
export const ZIDANE_JPG = fixture('images/zidane.jpg');
export const COCO128_IMAGES = fixture('coco128/images');
export const COCO128_YAML = fixture('coco128/config.yaml');

/** The line a skipped suite prints, so that a run without the fixtures says what it did not test. */
export const FIXTURES_SKIP_MESSAGE = '  (skipped: ../shared/fixtures not found)';

export function haveFixtures(): boolean {
  return fs.existsSync(FIXTURES);
}

/**
 * Skips the running suite or test, visibly, when the fixtures are absent: `requireFixtures(this)` in a
 * `before` hook or a test body (`what` names a narrower fixture in the message).
 */
export function requireFixtures(ctx: Mocha.Context, file = FIXTURES, what = '../shared/fixtures'): void {
  if (!fs.existsSync(file)) {
    console.log(file === FIXTURES ? FIXTURES_SKIP_MESSAGE : `  (skipped: ${what} not found)`);
    ctx.skip();
  }
}
