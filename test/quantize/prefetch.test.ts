// The image prefetcher: a worker thread decodes ahead of the float passes. It must give exactly the
// inputs the in-thread reader gives, in the dataset's order, report a bad file with its name, and a
// worker that dies must fail the read naming the file (never hang, never pass a partial dataset on).
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prefetchImageInputs, type ImageInput, type PrefetchOptions } from '../../lib/quantize/prefetch.js';
import { imageFileInput } from '../../lib/quantize/image-input.js';

const COCO = path.resolve(import.meta.dirname, '../../../shared/fixtures/coco128/images');
const SPEC = { height: 96, width: 128, channels: 3 as const, layout: 'nhwc' as const, inputRange: [0, 1] as [number, number] };

async function readAll(files: string[], options: PrefetchOptions = { worker: true }): Promise<{ read: ImageInput[]; waited: number }> {
  const read: ImageInput[] = [];
  let waited = 0;
  for await (const r of prefetchImageInputs(files, SPEC, (s) => (waited += s), options)) read.push(r);
  return { read, waited };
}

describe('quantize: image prefetch in a worker thread', function () {
  this.timeout(300_000);
  let dir: string;
  let files: string[];

  before(function () {
    if (!fs.existsSync(COCO)) this.skip();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-int8-prefetch-'));
    const bad = path.join(dir, 'broken.jpg');
    fs.writeFileSync(bad, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8]));
    files = fs.readdirSync(COCO).sort().slice(0, 5).map((f) => path.join(COCO, f));
    files.splice(2, 0, bad);
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  it('gives the in-thread inputs in order, and a bad file with its name and the decoder reason', async () => {
    const { read } = await readAll(files);
    expect(read.map((r) => r.file)).to.deep.equal(files);
    for (const [k, r] of read.entries()) {
      if (k === 2) {
        expect('error' in r && r.error).to.match(/broken\.jpg/);
        let inThread = '';
        await imageFileInput(files[2], SPEC).catch((e: Error) => (inThread = e.message));
        expect((r as { error: string }).error).to.equal(inThread);
        continue;
      }
      const expected = await imageFileInput(files[k], SPEC);
      expect('input' in r && r.input.length).to.equal(96 * 128 * 3);
      expect(Buffer.from((r as { input: Float32Array }).input.buffer).equals(Buffer.from(expected.buffer)), files[k]).to.equal(true);
    }
  });

  it('stops its worker when the reader stops early (the process does not wait for it)', async () => {
    const got: string[] = [];
    for await (const r of prefetchImageInputs(files, SPEC, () => undefined, { worker: true })) {
      got.push(r.file);
      if (got.length === 2) break;
    }
    expect(got).to.deep.equal(files.slice(0, 2));
  });

  it('a worker that dies (out of memory) fails the read naming the file, without hanging', async () => {
    let message = '';
    const started = Date.now();
    try {
      await readAll(files, { worker: true, resourceLimits: { maxOldGenerationSizeMb: 4, maxYoungGenerationSizeMb: 1 } });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).to.match(/image decode worker (failed|stopped)/);
    // The first file is decoded in the calling thread while the worker starts; the second is the worker's first.
    expect(message).to.contain(path.basename(files[1]));
    expect(Date.now() - started).to.be.lessThan(120_000);
  });
});
