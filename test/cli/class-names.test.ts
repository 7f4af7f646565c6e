// Class names travel with the model (issue 22): `quantize` stores them in the written file's head
// spec ('yolo_int8_head' metadata) from --names (a file or the built-in COCO-80 list), from the
// --calib dataset's yaml when the source has none (a YOLOv5 TF.js export), or from the source's own
// metadata (the ultralytics YOLOv8 .tflite files); `detect` prints and draws them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { readHeadSpec } from '../../lib/yolo/head.js';
import { readTflite } from '../../lib/tflite/reader.js';
import { COCO_CLASS_NAMES } from '../../lib/yolo/coco-names.js';
import { runCli } from '../support/cli.js';
import { BUS_JPG, COCO128_IMAGES, COCO128_YAML, YOLOV5N_WEB_MODEL, YOLOV8N_DYNAMIC, fixture, requireFixtures } from '../support/fixtures.js';

/** The class names the file's head spec carries, read back from its bytes. */
function storedNames(file: string): string[] | undefined {
  return readHeadSpec(readTflite(new Uint8Array(fs.readFileSync(file))), file)?.classNames;
}

/** The 80 names of coco128's config.yaml, read independently of the library's yaml parser. */
function cocoYamlNames(): string[] {
  return [...fs.readFileSync(COCO128_YAML, 'utf8').matchAll(/^\s+(\d+):\s*(.+?)\s*$/gm)].map((m) => m[2]);
}

describe('cli: class names stored by quantize, used by detect', function () {
  this.timeout(900_000);
  let work: string;
  before(function () {
    requireFixtures(this);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-names-'));
  });
  after(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('a YOLOv5 TF.js export with --names coco: the file names its 80 classes and detect prints "bus"', async () => {
    const out = path.join(work, 'v5-coco.tflite');
    const q = await runCli(['quantize', YOLOV5N_WEB_MODEL, '--calib', COCO128_IMAGES, '--num', '1', '--names', 'coco', '-o', out, '--quiet']);
    expect(q.code, q.stderr).to.equal(0);
    expect(storedNames(out)).to.deep.equal(cocoYamlNames()); // the built-in list is COCO's, as coco128 names it
    const d = await runCli(['detect', out, BUS_JPG, '--no-save', '--json']);
    const names = JSON.parse(d.stdout).detections.map((x: { className: string | null }) => x.className);
    expect(names).to.include('bus');
    expect(names).to.include('person');
  });

  it("without --names, the --calib dataset yaml's names; a count that does not fit the head is refused before calibration", async () => {
    // A yaml of our own (names nobody else has) whose images are coco128's.
    const yaml = path.join(work, 'data.yaml');
    const own = Array.from({ length: 80 }, (_, i) => `thing${i}`);
    fs.writeFileSync(yaml, `path: ${path.dirname(COCO128_IMAGES)}\ntrain: images\nval: images\nnames: [${own.join(', ')}]\n`);
    const out = path.join(work, 'v5-yaml.tflite');
    const q = await runCli(['quantize', YOLOV5N_WEB_MODEL, '--calib', yaml, '--num', '1', '-o', out, '--quiet']);
    expect(q.code, q.stderr).to.equal(0);
    expect(storedNames(out)).to.deep.equal(own);
    const three = path.join(work, 'three.txt');
    fs.writeFileSync(three, 'a\nb\nc\n');
    const bad = await runCli(['quantize', YOLOV5N_WEB_MODEL, '--calib', COCO128_IMAGES, '--num', '1', '--names', three, '-o', path.join(work, 'bad.tflite'), '--quiet']);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.match(/^yolo-int8: .*yolov5n_web_model.*: 3 class names given, but the detection head has 80 classes\n$/);
    expect(fs.existsSync(path.join(work, 'bad.tflite'))).to.equal(false);
  });

  it("a YOLOv8 .tflite keeps its own embedded names", async () => {
    const out = path.join(work, 'v8.tflite');
    const q = await runCli(['quantize', YOLOV8N_DYNAMIC, '--calib', COCO128_IMAGES, '--num', '1', '-o', out, '--quiet']);
    expect(q.code, q.stderr).to.equal(0);
    // ultralytics' metadata of that file (fixtures/yolov8n/README): the COCO names.
    expect(storedNames(out)).to.deep.equal(cocoYamlNames());
    expect(storedNames(out)).to.deep.equal([...COCO_CLASS_NAMES]);
    const d = await runCli(['detect', out, BUS_JPG, '--no-save']);
    expect(d.stdout).to.match(/^\s+bus\s+0\.\d{3}/m);
    expect(fs.existsSync(fixture('yolov8n', 'yolov8n_int8.tflite'))).to.equal(true);
  });
});
