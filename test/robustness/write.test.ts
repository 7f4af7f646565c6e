// Output files: written atomically (temporary file in the same directory, then rename). Every
// failure gives a clear error and leaves neither a partial output nor a temporary file.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { writeFileAtomic } from '../../lib/util/fs.js';
import { expectError } from './helpers.js';
import { tempDir } from '../support/tiny-model.js';

describe('robustness: writeFileAtomic', () => {
  const data = Uint8Array.from({ length: 4096 }, (_, i) => (i * 31) & 255);

  it('writes the bytes and leaves no temporary file; replaces an existing file whole', async () => {
    const dir = tempDir('robust-w-');
    const file = path.join(dir, 'a.tflite');
    await writeFileAtomic(file, data);
    expect(new Uint8Array(fs.readFileSync(file))).to.deep.equal(data);
    await writeFileAtomic(file, 'short');
    expect(fs.readFileSync(file, 'utf8')).to.equal('short');
    expect(fs.readdirSync(dir)).to.deep.equal(['a.tflite']);
  });

  it('concurrent writes of one file never share a temporary file; the result is one of the writes', async () => {
    const dir = tempDir('robust-w-');
    const file = path.join(dir, 'a.bin');
    const versions = Array.from({ length: 8 }, (_, k) => new Uint8Array(20000).fill(k));
    await Promise.all(versions.map((v) => writeFileAtomic(file, v)));
    const got = new Uint8Array(fs.readFileSync(file));
    expect(got.length).to.equal(20000);
    expect(got.every((b) => b === got[0])).to.equal(true);
    expect(fs.readdirSync(dir)).to.deep.equal(['a.bin']);
  });

  it('a directory that does not exist', async () => {
    const dir = tempDir('robust-w-');
    const file = path.join(dir, 'missing', 'a.tflite');
    await expectError(() => writeFileAtomic(file, data), `cannot write '${file}': the directory '${path.join(dir, 'missing')}' does not exist`);
    expect(fs.readdirSync(dir)).to.deep.equal([]);
  });

  it('a parent that is a file', async () => {
    const dir = tempDir('robust-w-');
    fs.writeFileSync(path.join(dir, 'f'), 'x');
    const file = path.join(dir, 'f', 'a.tflite');
    await expectError(() => writeFileAtomic(file, data), `cannot write '${file}': `, /not a directory/);
    expect(fs.readdirSync(dir)).to.deep.equal(['f']);
  });

  it('an output path that is a directory', async () => {
    const dir = tempDir('robust-w-');
    fs.mkdirSync(path.join(dir, 'out.tflite'));
    await expectError(() => writeFileAtomic(path.join(dir, 'out.tflite'), data), 'it is a directory (give a file name)');
    expect(fs.readdirSync(dir)).to.deep.equal(['out.tflite']);
    expect(fs.readdirSync(path.join(dir, 'out.tflite'))).to.deep.equal([]);
  });

  it('a directory that cannot be written to', async function () {
    // chmod does not stop root; /sys refuses file creation even to root (EACCES), so use it then.
    const dir = tempDir('robust-w-');
    fs.chmodSync(dir, 0o555);
    let target = dir;
    let probeWorked = false;
    try {
      fs.writeFileSync(path.join(dir, 'probe'), 'x');
      probeWorked = true;
      fs.rmSync(path.join(dir, 'probe'));
    } catch {
      // not root: the read-only directory works as intended
    }
    if (probeWorked) {
      target = '/sys';
      if (!fs.existsSync(target)) {
        console.log('      (skipped: running as root and /sys is not available to test a read-only directory)');
        this.skip();
      }
    }
    const before = fs.readdirSync(target);
    const file = path.join(target, 'robust-int8.tflite');
    await expectError(() => writeFileAtomic(file, data), `cannot write '${file}': `, /permission denied \(EACCES\)|read-only file system \(EROFS\)|operation not permitted \(EPERM\)/);
    expect(fs.existsSync(file)).to.equal(false);
    expect(fs.readdirSync(target)).to.deep.equal(before);
    fs.chmodSync(dir, 0o755);
  });
});
