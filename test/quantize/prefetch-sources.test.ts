// The decode worker from the TypeScript sources (tsx), in a child process as a user's script runs:
// quantizeInt8 decodes its calibration images in the worker, then the script's later dynamic import
// and LiteRT run settle and the process ends by itself with exit code 0 (an unsettled top-level await
// would end it with 13). The worker's file is byte-identical to the one decoded in the calling thread.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { runProcess, type Run } from '../support/process.js';
import { COCO128_IMAGES, REPO_ROOT, YOLOV5N_WEB_MODEL, requireFixtures } from '../support/fixtures.js';

const CHILD = path.join(REPO_ROOT, 'test/support/quantize-then-import.ts');
const TSX_CLI = path.join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs');

interface ChildResult { sha256: string; posted: number; outputValues: number; metricsExports: number }

function resultOf(run: Run): ChildResult {
  expect(run.code, run.stderr.slice(-3000)).to.equal(0);
  const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  expect(line, run.stdout.slice(-2000)).to.be.a('string');
  return JSON.parse(line!.slice(7)) as ChildResult;
}

describe('quantize: image prefetch worker from the TypeScript sources', function () {
  this.timeout(600_000);
  let images: string[];
  before(function () {
    requireFixtures(this);
    images = fs.readdirSync(COCO128_IMAGES).filter((f) => f.endsWith('.jpg')).sort().slice(0, 4).map((f) => path.join(COCO128_IMAGES, f));
  });

  it('node --import tsx and the tsx CLI: worker decode, later import and LiteRT run settle, exit 0, same bytes as in-thread', async () => {
    const args = [CHILD, YOLOV5N_WEB_MODEL];
    const viaImport = resultOf(await runProcess([process.execPath, '--import', 'tsx', ...args, 'worker', ...images], REPO_ROOT, 240));
    const viaCli = resultOf(await runProcess([process.execPath, TSX_CLI, ...args, 'worker', ...images], REPO_ROOT, 240));
    const inThread = resultOf(await runProcess([process.execPath, '--import', 'tsx', ...args, 'thread', ...images], REPO_ROOT, 240));
    // One request per file to the worker; none when decoding in the calling thread.
    expect(viaImport.posted).to.equal(images.length);
    expect(viaCli.posted).to.equal(images.length);
    expect(inThread.posted).to.equal(0);
    expect(viaImport.sha256).to.equal(inThread.sha256);
    expect(viaCli.sha256).to.equal(inThread.sha256);
    // The LiteRT run gave YOLOv5n's split outputs and the late import its module.
    expect(viaImport.outputValues).to.be.greaterThan(0);
    expect(viaImport.metricsExports).to.be.greaterThan(0);
  });
});
