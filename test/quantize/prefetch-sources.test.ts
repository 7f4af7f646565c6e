// The decode worker from the TypeScript sources (tsx), in a child process as a user's script runs:
// quantizeInt8 decodes its calibration images in the worker, then the script's later dynamic import
// and LiteRT run settle and the process ends by itself with exit code 0 (an unsettled top-level await
// would end it with 13). The worker's file is byte-identical to the one decoded in the calling thread,
// a file that does not decode is skipped naming it, and a worker that dies fails the run naming the
// file it was reading, without hanging and without writing the output.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runProcess, type Run } from '../support/process.js';
import { COCO128_IMAGES, REPO_ROOT, YOLOV5N_WEB_MODEL, requireFixtures } from '../support/fixtures.js';

const CHILD = path.join(REPO_ROOT, 'test/support/quantize-then-import.ts');
const TSX_CLI = path.join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs');

interface ChildResult { sha256: string; posted: number; skipped: { file: string; reason: string }[]; outputValues: number; metricsExports: number }

function resultOf(run: Run): ChildResult {
  expect(run.code, run.stderr.slice(-3000)).to.equal(0);
  const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  expect(line, run.stdout.slice(-2000)).to.be.a('string');
  return JSON.parse(line!.slice(7)) as ChildResult;
}

describe('quantize: image prefetch worker from the TypeScript sources', function () {
  this.timeout(600_000);
  let dir: string;
  let images: string[];
  let broken: string;
  before(function () {
    requireFixtures(this);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-int8-prefetch-sources-'));
    broken = path.join(dir, 'broken.jpg');
    fs.writeFileSync(broken, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8]));
    images = fs.readdirSync(COCO128_IMAGES).filter((f) => f.endsWith('.jpg')).sort().slice(0, 4).map((f) => path.join(COCO128_IMAGES, f));
    images.splice(2, 0, broken);
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  const child = (launcher: string[], mode: string, out: string) =>
    runProcess([process.execPath, ...launcher, CHILD, YOLOV5N_WEB_MODEL, mode, path.join(dir, out), ...images], REPO_ROOT, 240);

  it('node --import tsx and the tsx CLI: worker decode, later import and LiteRT run settle, exit 0, same bytes as in-thread', async () => {
    const viaImport = resultOf(await child(['--import', 'tsx'], 'worker', 'import.tflite'));
    const viaCli = resultOf(await child([TSX_CLI], 'worker', 'cli.tflite'));
    const inThread = resultOf(await child(['--import', 'tsx'], 'thread', 'thread.tflite'));
    // One request per file but the first (decoded while the worker starts) to the worker; none when
    // decoding in the calling thread.
    expect(viaImport.posted).to.equal(images.length - 1);
    expect(viaCli.posted).to.equal(images.length - 1);
    expect(inThread.posted).to.equal(0);
    expect(viaImport.sha256).to.equal(inThread.sha256);
    expect(viaCli.sha256).to.equal(inThread.sha256);
    // The file that does not decode is skipped by both readers, named, with the same reason.
    expect(viaImport.skipped.map((s) => s.file)).to.deep.equal([broken]);
    expect(viaImport.skipped[0].reason).to.contain('broken.jpg');
    expect(viaImport.skipped).to.deep.equal(inThread.skipped);
    // The LiteRT run gave outputs and the late import its module.
    expect(viaImport.outputValues).to.be.greaterThan(0);
    expect(viaImport.metricsExports).to.be.greaterThan(0);
  });

  it('a decode worker that dies fails quantizeInt8 naming the file, exits without hanging, writes nothing', async () => {
    const run = await child(['--import', 'tsx'], 'crash', 'crash.tflite');
    expect(run.code, run.stdout.slice(-2000)).to.not.equal(0);
    // The first file the worker had not answered is named (the worker stopped while still starting).
    const named = images.find((f) => run.stderr.includes(`${f}: the image decode worker`));
    expect(named, run.stderr.slice(-2000)).to.be.a('string');
    expect(run.stderr).to.match(/: the image decode worker (failed|stopped) .*while reading it/);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('crash'))).to.deep.equal([]);
  });
});
