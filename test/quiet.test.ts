// The library and the CLI print nothing the caller did not ask for: no TF.js "Hi, looks like you are
// running TensorFlow.js in Node.js" banner (it used to appear when two quantizations started at once,
// racing to initialise the backend), no LiteRT / WebGPU start-up chatter, and the caller's own
// console is never silenced. Each check runs in a fresh process, since TF.js and LiteRT print once
// per process.
import { runTsx, type Run } from './support/process.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { Jimp } from 'jimp';
import { writeTinyGraphModel } from './support/tiny-model.js';
import { FIXTURES, REPO_ROOT, YOLOV5N_INT8, requireFixtures } from './support/fixtures.js';

const ROOT = REPO_ROOT;
const lib = (p: string) => pathToFileURL(path.join(ROOT, p)).href;


function runNode(args: string[], limitSeconds = 240): Promise<Run> {
  return runTsx(args, ROOT, limitSeconds);
}

/** A plain (non-TTY) progress line of the CLI: `calibrate: 3/3`. */
const PROGRESS_LINE = /^[\w ./-]+: \d+\/\d+( \(\d+\.\d\/s, [\d a-z]+ left\))?$/;

describe('quiet: nothing printed that the caller did not ask for', function () {
  this.timeout(300_000);
  let work: string;
  let model: string;
  let images: string;
  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-int8-quiet-'));
    model = writeTinyGraphModel(fs.mkdtempSync(path.join(work, 'model-'))).dir;
    images = path.join(work, 'images');
    fs.mkdirSync(images);
    for (const [i, color] of [0xff0000ff, 0x00ff00ff, 0x3050a0ff].entries()) {
      await new Jimp({ width: 8, height: 8, color }).write(path.join(images, `im${i}.png`) as `${string}.png`);
    }
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  /** Writes `source` as <work>/<name>.mts and runs it with tsx. */
  async function runScript(name: string, source: string): Promise<Run> {
    const script = path.join(work, `${name}.mts`);
    fs.writeFileSync(script, source);
    return runNode([script]);
  }
  function expectSilent(r: Run): void {
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.equal('');
  }

  it('two concurrent quantizeInt8 calls (auto backend, then cpu) and two LiteRT runs print nothing', async () => {
    const r = await runScript('concurrent', `import { quantizeInt8, TfliteRunner } from ${JSON.stringify(lib('lib/index.ts'))};
const model = ${JSON.stringify(model)};
const images = ${JSON.stringify(images)};
const inputs = () => [0.1, 0.5, 0.9].map((v) => new Float32Array(8 * 8 * 3).fill(v));
// The race of the issue: two quantizations started in the same tick, on the automatic backend.
const [a, b] = await Promise.all([
  quantizeInt8(model, { representativeDataset: images, numCalibrationSamples: 3 }),
  quantizeInt8(model, { representativeDataset: images, numCalibrationSamples: 3, analyzeLayers: inputs() }),
]);
// The cpu backend asked for explicitly, twice at once.
const [c, d] = await Promise.all([
  quantizeInt8(model, { representativeDataset: inputs(), backend: 'cpu' }),
  quantizeInt8(model, { representativeDataset: inputs(), backend: 'cpu' }),
]);
// Same inputs, same bytes: neither run disturbed the other.
if (Buffer.compare(Buffer.from(a.tflite), Buffer.from(b.tflite)) !== 0) throw new Error('concurrent runs on the same images differ');
if (Buffer.compare(Buffer.from(c.tflite), Buffer.from(d.tflite)) !== 0) throw new Error('concurrent cpu runs differ');
if (!a.report.allInteger || !c.report.allInteger) throw new Error('not all integer');
const [ra, rc] = await Promise.all([TfliteRunner.load(a.tflite), TfliteRunner.load(c.tflite)]);
const out = await Promise.all([ra.run([new Int8Array(8 * 8 * 3)]), rc.run([new Int8Array(8 * 8 * 3)])]);
if (out[0][0].length !== 8 * 8 * 4) throw new Error('unexpected output length ' + out[0][0].length);
ra.dispose();
rc.dispose();
process.exit(0);
`);
    expectSilent(r);
  });

  it('loading the embedded demo detector (a layers model) and quantizing it twice at once prints nothing', async () => {
    const r = await runScript('layers', `import { quantizeInt8 } from ${JSON.stringify(lib('lib/index.ts'))};
import { loadDemoModel, DEMO_INPUT_SIZE } from ${JSON.stringify(lib('lib/demo/model.ts'))};
const model = await loadDemoModel();
const n = DEMO_INPUT_SIZE * DEMO_INPUT_SIZE * 3;
const inputs = () => [0.2, 0.7].map((v) => new Float32Array(n).fill(v));
const [a, b] = await Promise.all([
  quantizeInt8(model, { representativeDataset: inputs() }),
  quantizeInt8(model, { representativeDataset: inputs() }),
]);
if (Buffer.compare(Buffer.from(a.tflite), Buffer.from(b.tflite)) !== 0) throw new Error('concurrent runs differ');
process.exit(0);
`);
    expectSilent(r);
  });

  it("the caller's console.warn keeps working while LiteRT loads (it is not swapped out)", async () => {
    const r = await runScript('console', `import { quantizeInt8, TfliteRunner } from ${JSON.stringify(lib('lib/index.ts'))};
const { tflite } = await quantizeInt8(${JSON.stringify(model)}, { representativeDataset: [new Float32Array(8 * 8 * 3).fill(0.5)] });
let warned = 0;
const timer = setInterval(() => { console.warn('caller warning'); warned++; }, 1);
// The load may finish before the timer first fires (LiteRT is already loaded by quantizeInt8's
// check), so one warning is also written synchronously while the load is in flight.
const loading = TfliteRunner.load(tflite);
console.warn('caller warning'); warned++;
const runner = await loading;
clearInterval(timer);
runner.dispose();
process.stdout.write(String(warned));
process.exit(0);
`);
    expect(r.code, r.stderr).to.equal(0);
    const warned = Number(r.stdout);
    expect(warned).to.be.greaterThan(0);
    expect(r.stderr).to.equal('caller warning\n'.repeat(warned));
  });

  it('the CLI: --json --quiet prints one JSON object and nothing on stderr; without --quiet only progress lines', async () => {
    const out = path.join(work, 'cli.tflite');
    const quiet = await runNode(['lib/cli/main.ts', 'quantize', model, '--calib', images, '-o', out, '--json', '--quiet']);
    expect(quiet.code, quiet.stderr).to.equal(0);
    expect(quiet.stderr).to.equal('');
    const json = JSON.parse(quiet.stdout);
    expect(json.report.calibration.samples).to.equal(3);
    expect(json.report.calibration.dataset).to.deep.include({ layout: 'images-folder', images: 3 });

    const loud = await runNode(['lib/cli/main.ts', 'quantize', model, '--calib', images, '-o', out]);
    expect(loud.code, loud.stderr).to.equal(0);
    // Progress lines, and the one warning the user should see: three images are too few to calibrate on.
    const warning = 'yolo-int8: warning: 3 calibration image(s); ranges from so few are rarely representative (use 64 or more)';
    const lines = loud.stderr.split('\n').filter((l) => l !== '' && l !== warning);
    expect(loud.stderr.split('\n')).to.include(warning);
    expect(lines.length).to.be.greaterThan(0);
    for (const l of lines) expect(l).to.match(PROGRESS_LINE);
    expect(loud.stdout).to.contain('all tensors integer: yes');

    const inspect = await runNode(['lib/cli/main.ts', 'inspect', out]);
    expect(inspect.code, inspect.stderr).to.equal(0);
    expect(inspect.stderr).to.equal('');
  });

  it('the CLI says on stderr which split of a dataset root it used (and nothing with --quiet)', async function () {
    requireFixtures(this);
    const root = path.join(work, 'split-root');
    for (const split of ['train2017', 'val2017']) {
      fs.mkdirSync(path.join(root, 'images', split), { recursive: true });
      fs.mkdirSync(path.join(root, 'labels', split), { recursive: true });
    }
    const stems = fs.readdirSync(path.join(FIXTURES, 'coco128/labels')).sort().slice(0, 2).map((f) => f.slice(0, -4));
    for (const [i, s] of stems.entries()) {
      const split = i === 0 ? 'train2017' : 'val2017';
      fs.symlinkSync(path.join(FIXTURES, 'coco128/images', `${s}.jpg`), path.join(root, 'images', split, `${s}.jpg`));
      fs.symlinkSync(path.join(FIXTURES, 'coco128/labels', `${s}.txt`), path.join(root, 'labels', split, `${s}.txt`));
    }
    const int8 = YOLOV5N_INT8;
    const r = await runNode(['lib/cli/main.ts', 'eval', int8, '--data', root]);
    expect(r.code, r.stderr).to.equal(0);
    const [first, ...rest] = r.stderr.split('\n').filter((l) => l !== '');
    expect(first).to.equal(`yolo-int8: ${root}: using split 'val2017' (images/val2017, 1 image) for evaluation; splits found: train2017, val2017`);
    for (const l of rest) expect(l).to.match(PROGRESS_LINE);
    expect(r.stdout).to.contain(`${root}: 1 images`);
    const q = await runNode(['lib/cli/main.ts', 'eval', int8, '--data', root, '--quiet', '--json']);
    expect(q.code, q.stderr).to.equal(0);
    expect(q.stderr).to.equal('');
    expect(JSON.parse(q.stdout).result.dataset).to.deep.include({ layout: 'dataset-root', split: 'val2017', images: 1 });
  });
});
