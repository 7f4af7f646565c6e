// The examples/ scripts run as a user would run them (node + tsx, separate process, time limit),
// with fewer calibration images than their defaults to keep CI time down.
import { runTsx, type Run } from './support/process.js';
import { BUS_JPG, COCO128_YAML, REPO_ROOT, haveFixtures, requireFixtures } from './support/fixtures.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { inspectTflite } from '../lib/tflite/inspect.js';
import { boxIou } from '../lib/yolo/nms.js';

const ROOT = REPO_ROOT;


/** Runs `node --import tsx examples/<name> ...args`, killing it after `limitSeconds`. */
function runExample(name: string, args: string[], limitSeconds: number): Promise<Run> {
  return runTsx([path.join(ROOT, 'examples', name), ...args], ROOT, limitSeconds);
}

/** "  person  0.804  [219.1, 408.0, 352.1, 866.9]" lines of run-int8-on-image. */
function parseDetections(stdout: string): { name: string; score: number; box: number[] }[] {
  return [...stdout.matchAll(/^\s+(\S.*?)\s+(\d\.\d{3})\s+\[([^\]]+)\]$/gm)].map((m) => ({
    name: m[1],
    score: Number(m[2]),
    box: m[3].split(',').map(Number),
  }));
}

describe('examples', function () {
  let work: string;
  before(function () {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'examples-'));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  describe('without fixtures', function () {
    it('a fixture example says it is skipped and exits 0 when ../shared/fixtures is absent', async function () {
      if (haveFixtures()) this.skip();
      const r = await runExample('quantize-tfjs-yolov5.ts', [], 60);
      expect(r.code).to.equal(0);
      expect(r.stdout).to.match(/^skipped: /);
    });
  });

  describe('with the YOLOv5n fixtures', function () {
    const int8Path = () => path.join(work, 'y.tflite');
    before(function () {
      requireFixtures(this);
    });

    it('quantize-tfjs-yolov5.ts writes an all-integer model and prints the report', async () => {
      const r = await runExample('quantize-tfjs-yolov5.ts', [int8Path(), '--num', '16'], 240);
      expect(r.code, r.stderr.slice(-2000)).to.equal(0);
      expect(r.stdout).to.contain('calibration: 16 samples, mse');
      expect(r.stdout).to.contain('all tensors integer: yes');
      expect(r.stdout).to.match(/detection head: split .*YOLOv5 .* 3 per-level sigmoid outputs/);
      expect(r.stdout).to.contain(`wrote ${int8Path()}`);
      const info = inspectTflite(new Uint8Array(fs.readFileSync(int8Path())));
      expect(info.allInteger).to.equal(true);
      expect(info.inputs[0].dtype).to.equal('int8');
    });

    it('run-int8-on-image.ts finds the bus.jpg objects with that model, in original-image pixels', async function () {
      if (!fs.existsSync(int8Path())) this.skip();
      const r = await runExample(
        'run-int8-on-image.ts',
        [int8Path(), BUS_JPG, COCO128_YAML],
        120,
      );
      expect(r.code, r.stderr.slice(-2000)).to.equal(0);
      expect(r.stdout).to.match(/input x: int8 \[1,640,640,3\] scale 0\.0039\d+ zero point -128/);
      const dets = parseDetections(r.stdout);
      // Float YOLOv5n reference (fixtures README), letterbox 640 -> 810x1080 original: scale 640/1080, 80 px pad.
      const s = 640 / 1080;
      const toOrig = (b: number[]) => [(b[0] - 80) / s, b[1] / s, (b[2] - 80) / s, b[3] / s];
      const reference = [
        ['person', [209.6, 241.3, 287.1, 511.2]],
        ['person', [111.0, 236.5, 202.5, 529.9]],
        ['person', [483.0, 223.9, 562.9, 515.9]],
        ['bus', [109.5, 140.1, 566.4, 457.4]],
      ] as const;
      for (const [name, box] of reference) {
        const ref = toOrig([...box]);
        const best = Math.max(0, ...dets.filter((d) => d.name === name).map((d) => boxIou(d.box, ref)));
        expect(best, `${name} ${ref.map((v) => v.toFixed(0))}`).to.be.greaterThan(0.8);
      }
    });

    it('quantize-float-tflite.ts quantizes the FP16 .tflite to an all-integer model', async () => {
      const out = path.join(work, 'from-tflite.tflite');
      const r = await runExample('quantize-float-tflite.ts', [out, '--num', '8'], 240);
      expect(r.code, r.stderr.slice(-2000)).to.equal(0);
      expect(r.stdout).to.match(/\(tflite\)/);
      expect(r.stdout).to.contain('calibration: 8 samples');
      expect(r.stdout).to.contain('all tensors integer: yes');
      expect(inspectTflite(new Uint8Array(fs.readFileSync(out))).allInteger).to.equal(true);
    });

    it('embed-in-a-tool.ts reports progress, checks the report and evaluates', async () => {
      const r = await runExample('embed-in-a-tool.ts', ['--num', '4', '--eval', '2'], 240);
      expect(r.code, r.stderr.slice(-2000)).to.equal(0);
      expect(r.stderr).to.contain('[my-tool] calibration 4/4');
      expect(r.stdout).to.match(/: 4 calibration images, \d+ ops, \d+ bytes, all integer: true/);
      expect(r.stdout).to.contain('problems: none');
      const m = /mAP50 (\d\.\d{3}) mAP50-95 (\d\.\d{3}) on 2 images/.exec(r.stdout);
      expect(m, r.stdout).to.not.equal(null);
      expect(Number(m![1])).to.be.greaterThan(0.2);
    });
  });

  describe('offline (embedded demo model)', function () {
    it('run-int8-on-image.ts without arguments quantizes the demo detector and detects shapes', async () => {
      const r = await runExample('run-int8-on-image.ts', [], 240);
      expect(r.code, r.stderr.slice(-2000)).to.equal(0);
      if (/^skipped: /.test(r.stdout)) {
        console.log('  (the demo model is not there yet: the example skipped itself)');
        return;
      }
      expect(r.stdout).to.match(/input images: int8 \[1,128,128,3\]/);
      const dets = parseDetections(r.stdout);
      expect(dets.length).to.be.greaterThan(0);
      expect(dets.every((d) => ['circle', 'square', 'triangle', 'cross'].includes(d.name))).to.equal(true);
    });
  });
});
