// An image list (.txt) is read bounded: a sparse 3 GB list is refused by name at once instead of
// being read (found by scripts/hostile-table.ts: `--calib huge.txt` ran past its 30 s limit).
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { readImageList } from '../../lib/util/image-files.js';
import { tempDir } from '../support/tiny-model.js';
import { expectError } from './helpers.js';

describe('robustness: image lists are read bounded', () => {
  it('refuses a sparse 3 GB list by name within a second and still reads a small one', async () => {
    const dir = tempDir('image-list-');
    const huge = path.join(dir, 'huge.txt');
    fs.closeSync(fs.openSync(huge, 'w'));
    fs.truncateSync(huge, 3 * 2 ** 30);
    const t0 = performance.now();
    await expectError(() => readImageList(huge), huge, 'image list', 'over the limit');
    expect(performance.now() - t0).to.be.below(1000);
    const ok = path.join(dir, 'ok.txt');
    fs.writeFileSync(path.join(dir, 'a.jpg'), 'x');
    fs.writeFileSync(ok, 'a.jpg\n');
    expect(readImageList(ok)).to.deep.equal([path.join(dir, 'a.jpg')]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
