// Hostile inputs per category (issue 21, item 5), each through the CLI in a child process with a time
// bound and a peak-RSS bound: special files, bombs, cycles and busy loops, mutated models, output
// clobbering. Every case must end with one clean error line within a few seconds of work and under 1 GB.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { runTsx } from '../support/process.js';
import { REPO_ROOT } from '../support/fixtures.js';
import { tempDir, writeTinyGraphModel } from '../support/tiny-model.js';
import { handBuilt } from '../tflite/mutate.js';
import { writeTflite } from '../../lib/tflite/writer.js';
import { baseModel } from '../tflite/models.js';
import { pngBomb } from '../support/image-bombs.js';

const MAX_RSS_KIB = 1024 * 1024;
const MAX_SECONDS = 5;

describe('robustness: time and memory bounds per category (CLI in a child process)', function () {
  this.timeout(300_000);
  const dir = tempDir('bounds-');
  const file = (name: string, bytes: string | Uint8Array) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, bytes);
    return p;
  };

  async function expectBoundedError(argv: string[], named: string): Promise<void> {
    // --quiet: no progress or warning lines, so the error is the only line.
    const r = await runTsx([path.join(REPO_ROOT, 'test/support/cli-rss.ts'), ...argv, '--quiet'], REPO_ROOT, 120);
    const lines = r.stderr.split('\n').filter(Boolean);
    const stats = lines.pop()!.split(' ');
    expect(stats[0], r.stderr).to.equal('cli-rss');
    const what = argv.join(' ');
    expect(r.code, `${what}\n${r.stderr}`).to.be.oneOf([1, 2]);
    expect(lines, `${what}: one error line`).to.have.length(1);
    expect(lines[0], what).to.include(named);
    expect(Number(stats[1]), `${what}: seconds`).to.be.below(MAX_SECONDS);
    expect(Number(stats[2]), `${what}: peak RSS KiB`).to.be.below(MAX_RSS_KIB);
  }

  it('special files: /dev/zero as a model, a FIFO as a model', async () => {
    await expectBoundedError(['check', '/dev/zero'], '/dev/zero');
    await expectBoundedError(['inspect', '/dev/zero'], '/dev/zero');
    const fifo = path.join(dir, 'fifo.tflite');
    execFileSync('mkfifo', [fifo]);
    await expectBoundedError(['check', fifo], fifo);
  });

  it('bombs: a 33-byte PNG claiming 30000 x 30000 pixels, a .tflite whose zip claims gigabytes', async () => {
    const model = file('model.tflite', writeTflite(baseModel()));
    const bomb = file('bomb.png', pngBomb(30000, 30000));
    await expectBoundedError(['detect', model, bomb], bomb);
    // A zip local header promising 4 GB of deflated data after the model.
    const zip = new Uint8Array(64);
    const v = new DataView(zip.buffer);
    v.setUint32(0, 0x04034b50, true);
    v.setUint16(8, 8, true);
    v.setUint32(18, 40, true);
    v.setUint32(22, 0xffffffff, true);
    v.setUint16(26, 4, true);
    zip.set([0x6d, 0x65, 0x74, 0x61], 30);
    const withZip = file('with-zip.tflite', new Uint8Array([...handBuilt(), ...zip]));
    await expectBoundedError(['detect', withZip, bomb], 'with-zip.tflite');
  });

  it('cycles and busy loops: a layers model whose inbound_nodes form a cycle, an exponential glob', async () => {
    const tiny = writeTinyGraphModel(fs.mkdtempSync(path.join(dir, 'tiny-')));
    const layers = path.join(dir, 'cycle');
    fs.mkdirSync(layers);
    const conf = (name: string, from: string) => ({ class_name: 'ReLU', name, config: { name }, inbound_nodes: [[[from, 0, 0, {}]]] });
    fs.writeFileSync(path.join(layers, 'model.json'), JSON.stringify({
      format: 'layers-model',
      modelTopology: { class_name: 'Model', config: { name: 'm', layers: [conf('a', 'b'), conf('b', 'a')], input_layers: [['a', 0, 0]], output_layers: [['b', 0, 0]] } },
      weightsManifest: [],
    }));
    const images = path.join(dir, 'imgs');
    fs.mkdirSync(images);
    fs.writeFileSync(path.join(images, 'i.png'), pngBomb(8, 8));
    await expectBoundedError(['quantize', layers, '--calib', images, '-o', path.join(dir, 'c.tflite')], 'cycle');
    fs.writeFileSync(path.join(dir, `${'a'.repeat(60)}.jpg`), 'x');
    await expectBoundedError(['quantize', tiny.dir, '--calib', path.join(dir, '*a*a*a*a*a*a*a*a*a*a*b.jpg'), '-o', path.join(dir, 'g.tflite')], '*a*a*a');
  });

  it('mutated models: a truncated file, an input scale of 0 (refused before LiteRT)', async () => {
    const src = writeTflite(baseModel());
    await expectBoundedError(['check', file('cut.tflite', src.subarray(0, src.length >> 1))], 'cut.tflite');
    const m = baseModel();
    m.subgraphs[0].tensors[0].quantization!.scale = [0];
    await expectBoundedError(['detect', file('scale0.tflite', writeTflite(m)), file('i.png', pngBomb(8, 8))], 'scale0.tflite');
  });

  it('output clobbering: -o the source model, a FIFO, a directory, a symlink to /dev/zero; nothing left in the output\'s folder', async () => {
    const tiny = writeTinyGraphModel(fs.mkdtempSync(path.join(dir, 'tiny-')));
    const images = fs.mkdtempSync(path.join(dir, 'imgs-'));
    fs.writeFileSync(path.join(images, 'i.png'), pngBomb(8, 8));
    const sourceFiles = fs.readdirSync(tiny.dir).sort();
    await expectBoundedError(['quantize', tiny.dir, '--calib', images, '-o', tiny.jsonPath], tiny.jsonPath);
    expect(fs.readdirSync(tiny.dir).sort(), 'the source folder').to.deep.equal(sourceFiles);
    const outDir = fs.mkdtempSync(path.join(dir, 'out-'));
    const fifo = path.join(outDir, 'fifo.tflite');
    execFileSync('mkfifo', [fifo]);
    const folder = path.join(outDir, 'folder.tflite');
    fs.mkdirSync(folder);
    const zero = path.join(outDir, 'zero.tflite');
    fs.symlinkSync('/dev/zero', zero);
    for (const out of [fifo, folder, zero]) {
      await expectBoundedError(['quantize', tiny.dir, '--calib', images, '-o', out], out);
      // No temporary or partial file beside the output, nor inside the folder it named.
      expect(fs.readdirSync(outDir).sort(), out).to.deep.equal(['fifo.tflite', 'folder.tflite', 'zero.tflite']);
      expect(fs.readdirSync(folder), out).to.deep.equal([]);
    }
  });
});
