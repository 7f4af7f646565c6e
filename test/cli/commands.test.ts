import { execFileSync } from 'node:child_process';
// Every CLI command end to end, in-process (main(argv) with captured stdout/stderr).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { demoModelDir } from '../../lib/demo/model.js';
import { buildDemoModels } from '../../scripts/demo-training/architecture.js';
import { fsSaveHandler } from '../../scripts/demo-training/save-model.js';
import { writeDataset } from '../../lib/demo/synthetic.js';
import { inspectTflite } from '../../lib/tflite/inspect.js';
import { decodeImage } from '../../lib/pipeline/image.js';
import { boxIou } from '../../lib/yolo/nms.js';
import { formatBar } from '../../lib/cli/progress.js';
import { runCli } from '../support/cli.js';
import { BUS_JPG, COCO128_YAML, YOLOV5N_FP16, YOLOV5N_INT8, requireFixtures } from '../support/fixtures.js';
import * as tf from '@tensorflow/tfjs';
import { readyQuietly } from '../../lib/graph/backend.js';

describe('cli: quantize and inspect (small TF.js layers model, generated images)', function () {
  let work: string;
  let modelDir: string;
  let imagesDir: string;

  before(async function () {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-quantize-'));
    modelDir = path.join(work, 'model');
    // The demo architecture, untrained (seeded), saved as a TF.js layers model folder. Building it
    // creates tensors, so the TF.js backend must have finished starting.
    await readyQuietly(); // tf.ready() without the cpu backend's Node.js banner
    await buildDemoModels(3).inference.save(fsSaveHandler(modelDir));
    imagesDir = (await writeDataset(path.join(work, 'images'), { count: 6, seed: 11, size: 128 })).imagesDir;
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('--json: writes a valid full-integer .tflite and the report; stdout is one JSON object', async () => {
    const out = path.join(work, 'm.tflite');
    const report = path.join(work, 'report.json');
    const r = await runCli(['quantize', modelDir, '--calib', path.join(imagesDir, 'shapes_*.png'), '--num', '4', '-o', out, '--report', report, '--json']);
    // The one message: six images are too few to calibrate well (a warning, not an error).
    expect(r.stderr.split('\n').filter((l) => l.startsWith('yolo-int8:'))).to.deep.equal([
      'yolo-int8: warning: 6 calibration image(s); ranges from so few are rarely representative (use 64 or more)',
    ]);
    expect(r.code).to.equal(0);
    const json = JSON.parse(r.stdout);
    expect(json.command).to.equal('quantize');
    expect(json.output).to.equal(out);
    const bytes = new Uint8Array(fs.readFileSync(out));
    expect(json.report.fileBytes).to.equal(bytes.length);
    expect(json.report.calibration.samples).to.equal(4);
    expect(json.report.calibration.method).to.equal('mse'); // the default
    expect(JSON.parse(fs.readFileSync(report, 'utf8'))).to.deep.equal(json.report);
    // The file itself, read back independently of the report.
    const info = inspectTflite(bytes);
    expect(info.allInteger).to.equal(true);
    expect(info.inputs).to.have.length(1);
    expect(info.inputs[0].dtype).to.equal('int8');
    expect(info.inputs[0].shape).to.deep.equal([1, 128, 128, 3]);
    // pixel/255 input: scale 1/255, zero point -128 (so int8 = pixel - 128).
    expect(info.inputs[0].scale).to.be.closeTo(1 / 255, 1e-9);
    expect(info.inputs[0].zeroPoint).to.equal(-128);
    expect(info.outputs.every((o) => o.dtype === 'int8')).to.equal(true);
    // Progress went to stderr as plain lines (not a TTY), ending at 4/4.
    expect(r.stderr).to.match(/calibrate: 4\/4 \(\d+\.\d\/s, 0 s left\)\n/);
  });

  it('--bias-correction sequential --bias-samples 2: the report and the text say what was corrected', async () => {
    const out = path.join(work, 'bc.tflite');
    const r = await runCli(['quantize', modelDir, '--calib', imagesDir, '-n', '3', '--bias-correction', 'sequential', '--bias-samples', '2', '-o', out, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const { report } = JSON.parse(r.stdout);
    expect(report.recipe.biasCorrection).to.deep.equal({ enabled: true, samples: 2, mode: 'sequential' });
    expect(report.biasCorrection.samples).to.equal(2);
    expect(report.biasCorrection.layers).to.be.above(0);
    const corrected = report.plan.tensors.filter((t: { origin: { kind: string; corrected?: boolean } }) => t.origin.kind === 'bias' && t.origin.corrected);
    expect(corrected.length).to.equal(report.biasCorrection.layers);
    const text = await runCli(['quantize', modelDir, '--calib', imagesDir, '-n', '3', '--bias-correction', 'one-shot', '-o', out]);
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.match(/bias correction \(one-shot\): \d+ of \d+ weighted layers corrected on 3 samples in 1 pass/);
    expect(text.stdout).to.match(/bias correction: on \(8 samples, one-shot\)/);
  });

  it('text mode: prints the report, --output-type float32 is honoured, TTY progress is a bar', async () => {
    const out = path.join(work, 'f.tflite');
    const r = await runCli(['quantize', path.join(modelDir, 'model.json'), '--calib', imagesDir, '-n', '2', '--output-type', 'float32', '-o', out], true);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/calibration: 2 samples, mse/);
    expect(r.stdout).to.contain(`wrote ${out}`);
    expect(r.stderr).to.match(/\rcalibrate \[#{24}\] 2\/2 100%, \d+\.\d\/s, 0 s left\x1b\[K\n/);
    const info = inspectTflite(new Uint8Array(fs.readFileSync(out)));
    expect(info.inputs[0].dtype).to.equal('int8');
    expect(info.outputs.every((o) => o.dtype === 'float32')).to.equal(true);
  });

  it('--precision int16 --plan: a 16x8 model whose report says so, with the plan printed', async () => {
    const out = path.join(work, 'p16.tflite');
    const r = await runCli(['quantize', path.join(modelDir, 'model.json'), '--calib', imagesDir, '-n', '2', '--precision', 'int16', '--plan', '-o', out]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/precision: mixed - 0 ops int8, \d+ int16 \(/);
    expect(r.stdout).to.match(/^plan \(quantized\): 0 int8 ops, \d+ int16 ops, 0 float ops, 1 precision conversions$/m);
    expect(r.stdout).to.match(/^QUANTIZE (\S+) -> \1\/int16 \(precision\)$/m);
    const info = inspectTflite(new Uint8Array(fs.readFileSync(out)));
    expect(info.precision.int8).to.equal(0);
    expect(info.precision.int16).to.be.above(0);
    expect(info.inputs[0].dtype).to.equal('int8');
    expect(info.outputs.every((o) => o.dtype === 'int8')).to.equal(true);
    const bad = await runCli(['quantize', modelDir, '--calib', imagesDir, '--precision', 'int4', '-o', out]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain('int4');
  });

  it('a missing output folder fails before any work, naming the folder', async () => {
    const r = await runCli(['quantize', modelDir, '--calib', imagesDir, '-o', path.join(work, 'no', 'such', 'dir', 'x.tflite')]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/^yolo-int8: cannot write the model '.*x\.tflite': the directory '.*dir' does not exist\n$/);
  });

  it('inspect prints the op histogram and --json the same report', async () => {
    const file = path.join(work, 'm.tflite');
    const r = await runCli(['inspect', file]);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain('all integer: yes');
    expect(r.stdout).to.match(/CONV_2D\s+\d+/);
    const j = await runCli(['inspect', file, '--json']);
    const json = JSON.parse(j.stdout);
    const direct = inspectTflite(new Uint8Array(fs.readFileSync(file)), file);
    expect(json.opHistogram).to.deep.equal(direct.opHistogram);
    expect(json.sizeBytes).to.equal(fs.statSync(file).size);
  });
});

describe('cli: eval / compare / detect (YOLOv5n fixtures)', function () {
  const int8 = YOLOV5N_INT8;
  const fp16 = YOLOV5N_FP16;
  const coco = COCO128_YAML;
  const bus = BUS_JPG;

  before(function () {
    requireFixtures(this);
  });

  it('detect: bus.jpg with the official int8 model finds the reference detections, in original-image pixels', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cli-detect-')), 'bus.png');
    const r = await runCli(['detect', int8, bus, '-o', out, '--names', coco, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const json = JSON.parse(r.stdout);
    // Float reference (fixtures README, TF.js and LiteRT agree): boxes in the 640x640 letterbox of the
    // 810x1080 image: scale 640/1080, 80 px padding left and right.
    const s = 640 / 1080;
    const toOrig = (b: number[]) => [(b[0] - 80) / s, b[1] / s, (b[2] - 80) / s, b[3] / s];
    const reference = [
      { cls: 'person', box: toOrig([209.6, 241.3, 287.1, 511.2]) },
      { cls: 'person', box: toOrig([111.0, 236.5, 202.5, 529.9]) },
      { cls: 'person', box: toOrig([483.0, 223.9, 562.9, 515.9]) },
      { cls: 'bus', box: toOrig([109.5, 140.1, 566.4, 457.4]) },
    ];
    for (const ref of reference) {
      const best = Math.max(0, ...json.detections.filter((d: { className: string }) => d.className === ref.cls).map((d: { box: number[] }) => boxIou(d.box, ref.box)));
      expect(best, `${ref.cls} [${ref.box.map((v) => v.toFixed(0))}]`).to.be.greaterThan(0.85);
    }
    const png = await decodeImage(new Uint8Array(fs.readFileSync(out)));
    expect([png.width, png.height]).to.deep.equal([810, 1080]);
    // Text mode: one line per detection with the class name.
    const t = await runCli(['detect', int8, bus, '--names', coco, '--conf', '0.5', '--no-save']);
    expect(t.code).to.equal(0);
    const lines = t.stdout.trim().split('\n');
    expect(lines[0]).to.match(/bus\.jpg: \d+ detection\(s\)/);
    expect(lines.slice(1).every((l) => /^\s+(person|bus)\s+0\.\d{3}\s+\[/.test(l))).to.equal(true);
    expect(json.detections.filter((d: { score: number }) => d.score > 0.5).length).to.equal(lines.length - 1);
  });

  it('eval: mAP on coco128 images 65-68, text table and --json agree', async () => {
    const j = await runCli(['eval', int8, '--data', coco, '--offset', '64', '--limit', '4', '--json']);
    expect(j.code, j.stderr).to.equal(0);
    const { result } = JSON.parse(j.stdout);
    expect(result.images).to.equal(4);
    expect(result.labels).to.be.greaterThan(0);
    expect(result.mAP50).to.be.within(0.2, 1);
    expect(result.mAP50_95).to.be.within(0, result.mAP50);
    expect(result.fileBytes).to.equal(fs.statSync(int8).size);
    expect(j.stderr).to.match(/evaluate: 4\/4/);
    const t = await runCli(['eval', int8, '--data', coco, '--offset', '64', '--limit', '4', '--quiet']);
    expect(t.stderr).to.equal('');
    const f3 = (x: number) => x.toFixed(3);
    expect(t.stdout).to.match(new RegExp(`yolov5n-int8\\.tflite\\s+${f3(result.precision)}\\s+${f3(result.recall)}\\s+${f3(result.mAP50)}\\s+${f3(result.mAP50_95)}\\s`));
    // The per-class table of yolo val: 'all', then every labelled class with its name (coco128 yaml ids).
    expect(t.stdout).to.match(new RegExp(`^all\\s+4\\s+${result.labels}\\s+${f3(result.precision)}\\s+${f3(result.recall)}\\s+${f3(result.mAP50)}\\s+${f3(result.mAP50_95)}$`, 'm'));
    for (const c of result.classes) {
      expect(t.stdout).to.match(new RegExp(`^${c.name ?? `class ${c.classId}`}\\s+${c.images}\\s+${c.instances}\\s+${f3(c.precision)}\\s+${f3(c.recall)}\\s+${f3(c.mAP50)}\\s+${f3(c.mAP50_95)}$`, 'm'));
    }
    expect(result.classes.reduce((a: number, c: { instances: number }) => a + c.instances, 0)).to.equal(result.labels);
    expect(t.stdout).to.contain('P, R: precision and recall at IoU 0.5, at the one confidence where the class-mean F1 is highest');
    expect(t.stdout).to.match(/4 images from #64, \d+ labelled objects/);
  });

  it('compare: one table of both models on the same images, with fidelity to the first', async () => {
    const r = await runCli(['compare', fp16, int8, '--data', coco, '--offset', '64', '--limit', '3', '--fidelity', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const json = JSON.parse(r.stdout);
    expect(json.models.map((m: { model: string }) => m.model)).to.deep.equal([fp16, int8]);
    expect(json.models.every((m: { result: { images: number } }) => m.result.images === 3)).to.equal(true);
    expect(json.models[0].result.labels).to.equal(json.models[1].result.labels);
    const fid = json.fidelity[0].result;
    // The official converter's int8 model keeps most float detections.
    expect(fid.detections.fractionMatched).to.be.greaterThan(0.7);
    expect(fid.outputs[0].meanErrorOfRange).to.be.within(0, 0.02);
    // Text: the table says what its columns mean; --per-class adds each model's class table.
    const t = await runCli(['compare', fp16, int8, '--data', coco, '--offset', '64', '--limit', '3', '--fidelity', '--per-class', '--quiet']);
    expect(t.stdout).to.contain('max output error / range: the largest |model - reference|');
    expect(t.stdout).to.contain('detections matched: the reference\'s detections that the model also finds');
    expect(t.stdout.match(/^all\s+3\s+\d+/gm)).to.have.length(2);
  });
});

describe('cli: demo', function () {
  before(function () {
    if (!fs.existsSync(path.join(demoModelDir(), 'model.json'))) {
      console.log('  (skipped: the trained demo model models/demo/model.json is not there yet)');
      this.skip();
    }
  });

  it('runs end to end: int8 within reach of float, a PNG and a valid int8 model', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-demo-'));
    const r = await runCli(['demo', '--out', out, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const json = JSON.parse(r.stdout);
    expect(json.float.mAP50).to.be.greaterThan(0.3);
    expect(json.int8.mAP50).to.be.greaterThan(json.float.mAP50 - 0.1);
    expect(json.int8.fileBytes).to.be.lessThan(json.float.fileBytes / 2);
    expect(inspectTflite(new Uint8Array(fs.readFileSync(json.int8Model))).allInteger).to.equal(true);
    const png = await decodeImage(new Uint8Array(fs.readFileSync(json.annotatedPng)));
    // The 128 px test image is drawn enlarged by a whole factor to at least 480 px (readable labels).
    expect(png.width).to.equal(512);
    expect(png.height).to.equal(512);
    fs.rmSync(out, { recursive: true, force: true });
  });
});

describe('cli: outputs that never clobber (checked before any work)', function () {
  this.timeout(60_000);
  it('refuses the source as the output, a path inside the source model folder, and a FIFO, before calibrating', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-clobber-'));
    try {
      const src = path.join(work, 'm.tflite');
      fs.writeFileSync(src, 'not read: the output check comes first');
      fs.mkdirSync(path.join(work, 'web_model'));
      fs.writeFileSync(path.join(work, 'web_model', 'model.json'), '{}');
      execFileSync('mkfifo', [path.join(work, 'fifo.tflite')]);
      const cases: [string, string, RegExp][] = [
        [src, src, /cannot write the model '.*m\.tflite': it is the source model/],
        [path.join(work, 'web_model'), path.join(work, 'web_model', 'model.json'), /cannot write the model '.*model\.json': it is inside the source model folder/],
        [src, path.join(work, 'fifo.tflite'), /cannot write the model '.*fifo\.tflite': it is a FIFO \(named pipe\), not a regular file/],
      ];
      for (const [model, out, re] of cases) {
        const t0 = performance.now();
        const r = await runCli(['quantize', model, '--calib', work, '-o', out]);
        expect(r.code).to.equal(1);
        expect(r.stderr).to.match(re);
        expect(performance.now() - t0).to.be.lessThan(10_000);
      }
      expect(fs.readFileSync(src, 'utf8')).to.equal('not read: the output check comes first');
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
