// Output files: written atomically (temporary file in the same directory, then rename). Every
// failure gives a clear error and leaves neither a partial output nor a temporary file.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { checkOutputPath, writeFileAtomic } from '../../lib/util/fs.js';
import { expectError } from './helpers.js';
import { tempDir } from '../support/tiny-model.js';
import { REPO_ROOT } from '../support/fixtures.js';

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

describe('robustness: outputs never clobber', () => {
  it('writeFileAtomic refuses a FIFO or a device (through a symlink) instead of replacing it', async () => {
    const dir = tempDir('robust-w-');
    const fifo = path.join(dir, 'out.tflite');
    execFileSync('mkfifo', [fifo]);
    await expectError(() => writeFileAtomic(fifo, 'x'), `cannot write '${fifo}': it is a FIFO (named pipe), not a regular file`);
    const toNull = path.join(dir, 'null.tflite');
    fs.symlinkSync('/dev/null', toNull);
    await expectError(() => writeFileAtomic(toNull, 'x'), `cannot write '${toNull}': it is a character device, not a regular file`);
    expect(fs.lstatSync(toNull).isSymbolicLink()).to.equal(true);
    expect(fs.readdirSync(dir).sort()).to.deep.equal(['null.tflite', 'out.tflite']);
  });

  it('checkOutputPath refuses the source, a path inside a source model folder, directories, special files and missing folders', () => {
    const dir = tempDir('robust-w-');
    const model = path.join(dir, 'web_model');
    fs.mkdirSync(model);
    fs.writeFileSync(path.join(model, 'model.json'), '{}');
    const tfl = path.join(dir, 'm.tflite');
    fs.writeFileSync(tfl, 'x');
    fs.symlinkSync(tfl, path.join(dir, 'link.tflite'));
    const cases: [string, string[], RegExp][] = [
      [tfl, [tfl], /it is the source model/],
      [path.join(dir, 'link.tflite'), [tfl], /it is the source model/],
      [path.join(model, 'model.json'), [model], /inside the source model folder/],
      [path.join(model, 'model.json'), [path.join(model, 'model.json')], /it is the source model/],
      [path.join(model, 'int8.tflite'), [path.join(model, 'model.json')], /inside the source model folder/],
      [model, [], /it is a directory/],
      [path.join(dir, 'missing', 'a.tflite'), [], /the directory '.*missing' does not exist/],
    ];
    for (const [out, sources, re] of cases) expect(() => checkOutputPath(out, sources, 'model'), out).to.throw(re);
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    expect(() => checkOutputPath(path.join(dir, 'fifo'))).to.throw(/it is a FIFO \(named pipe\), not a regular file/);
    expect(() => checkOutputPath(path.join(dir, 'new.tflite'), [tfl, model])).to.not.throw();
  });

  it('SIGTERM during a write removes the temporary file', async function () {
    this.timeout(60_000);
    const dir = tempDir('robust-w-');
    const script = path.join(dir, 'writer.mts');
    const lib = path.join(REPO_ROOT, 'lib/util/fs.ts');
    // Large enough that the write and its fsync are still running when the signal arrives.
    fs.writeFileSync(script, `import { writeFileAtomic } from ${JSON.stringify(lib)};\nawait writeFileAtomic(${JSON.stringify(path.join(dir, 'big.bin'))}, new Uint8Array(768 * 2 ** 20).fill(1));\nconsole.log('finished');\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const deadline = Date.now() + 30_000;
    while (!fs.readdirSync(dir).some((f) => f.endsWith('.tmp')) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
    expect(fs.readdirSync(dir).some((f) => f.endsWith('.tmp')), 'the temporary file appeared').to.equal(true);
    child.kill('SIGTERM');
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.on('exit', (c, s) => r([c, s])));
    expect(out).to.not.include('finished');
    expect(signal ?? code).to.not.equal(0);
    expect(fs.readdirSync(dir).sort()).to.deep.equal(['writer.mts']);
  });
});
