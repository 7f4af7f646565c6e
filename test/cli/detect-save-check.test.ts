// What a newcomer sees from `detect` and `check` (issue 22): detect saves its picture where ultralytics
// would (runs/detect/predict, predict2, ... of the current folder) and says so; --no-save writes
// nothing; check notes a file that is valid but not full-integer.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { decodeImage } from '../../lib/pipeline/image.js';
import { runCli } from '../support/cli.js';
import { BUS_JPG, YOLOV5N_INT8, YOLOV8N_DYNAMIC, YOLOV8N_FULL_INT, YOLOV8N_INT_FLOAT_IO, requireFixtures } from '../support/fixtures.js';

/** All files under `dir`, relative, sorted. */
function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
}

describe('cli: detect saves an annotated picture by default; check notes non-integer files', function () {
  let work: string;
  let cwd: string;
  before(function () {
    requireFixtures(this);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-newcomer-'));
    cwd = process.cwd();
  });
  afterEach(() => process.chdir(cwd));
  after(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('detect without -o writes runs/detect/predict/bus.png, then predict2, and prints where; --no-save writes nothing', async () => {
    process.chdir(work);
    const first = await runCli(['detect', YOLOV5N_INT8, BUS_JPG]);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout.trim().split('\n').at(-1)).to.equal(`wrote ${path.join('runs', 'detect', 'predict', 'bus.png')}`);
    const second = await runCli(['detect', YOLOV5N_INT8, BUS_JPG, '--json']);
    expect(JSON.parse(second.stdout).output).to.equal(path.join('runs', 'detect', 'predict2', 'bus.png'));
    const none = await runCli(['detect', YOLOV5N_INT8, BUS_JPG, '--no-save', '--json']);
    expect(JSON.parse(none.stdout).output).to.equal(null);
    expect(filesUnder(work)).to.deep.equal([path.join('runs', 'detect', 'predict', 'bus.png'), path.join('runs', 'detect', 'predict2', 'bus.png')]);
    // The picture is the original image, annotated: same size as bus.jpg (810x1080).
    const png = await decodeImage(new Uint8Array(fs.readFileSync(path.join(work, 'runs', 'detect', 'predict', 'bus.png'))));
    expect([png.width, png.height]).to.deep.equal([810, 1080]);
  });

  it('check: a dynamic-range or float-I/O file is ok but noted as not full-integer; a full-integer file is not', async () => {
    const dynamic = await runCli(['check', YOLOV8N_DYNAMIC]);
    expect(dynamic.code, dynamic.stderr).to.equal(0);
    expect(dynamic.stdout).to.match(/: ok \(no violations\)\n {2}note: not full-integer: \d+ float tensor\(s\) \(e\.g\. images,/);
    const floatIo = await runCli(['check', YOLOV8N_INT_FLOAT_IO, '--json']);
    // The official integer_quant model: integer compute, float input and output (2 float tensors).
    expect(JSON.parse(floatIo.stdout)).to.include({ ok: true, fullInteger: false });
    const full = await runCli(['check', YOLOV8N_FULL_INT]);
    expect(full.stdout).to.not.contain('not full-integer');
    expect(JSON.parse((await runCli(['check', YOLOV8N_FULL_INT, '--json'])).stdout).fullInteger).to.equal(true);
  });
});
