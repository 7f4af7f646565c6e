import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Jimp } from 'jimp';
import { loadDataset, readYoloLabels } from '../../lib/yolo/dataset.js';
import { DEMO_CLASS_NAMES, generateSample, sampleSeed, writeDataset, formatYoloLabels } from '../../lib/demo/synthetic.js';
import { mulberry32 } from '../../lib/util/random.js';

function pixel(s: { rgb: Uint8Array; width: number }, x: number, y: number): number[] {
  const o = (y * s.width + x) * 3;
  return [s.rgb[o], s.rgb[o + 1], s.rgb[o + 2]];
}

describe('demo/synthetic', () => {
  it('mulberry32 is a deterministic uniform generator in [0,1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 10000 }, () => a());
    expect(xs.slice(0, 5)).to.deep.equal(Array.from({ length: 5 }, () => b()));
    expect(Math.min(...xs)).to.be.at.least(0);
    expect(Math.max(...xs)).to.be.below(1);
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    expect(mean).to.be.closeTo(0.5, 0.02);
  });

  it('same seed gives the same bytes and labels; another seed gives another image', () => {
    const a = generateSample(123, 128);
    const b = generateSample(123, 128);
    const c = generateSample(124, 128);
    expect(Buffer.from(a.rgb).equals(Buffer.from(b.rgb))).to.equal(true);
    expect(a.labels).to.deep.equal(b.labels);
    expect(Buffer.from(a.rgb).equals(Buffer.from(c.rgb))).to.equal(false);
    expect(a.rgb.length).to.equal(128 * 128 * 3);
    expect(sampleSeed(1, 0)).to.not.equal(sampleSeed(1, 1));
    expect(sampleSeed(1, 0)).to.not.equal(sampleSeed(2, 0));
  });

  it('labels lie inside the image, have 1-6 objects of 8%-60% size and valid classes', () => {
    const counts = new Array(DEMO_CLASS_NAMES.length).fill(0);
    for (let i = 0; i < 200; i++) {
      const s = generateSample(sampleSeed(77, i), 128);
      expect(s.labels.length).to.be.within(1, 6);
      for (const l of s.labels) {
        counts[l.classId]++;
        expect(l.cx - l.w / 2).to.be.at.least(0);
        expect(l.cy - l.h / 2).to.be.at.least(0);
        expect(l.cx + l.w / 2).to.be.at.most(1 + 1e-9);
        expect(l.cy + l.h / 2).to.be.at.most(1 + 1e-9);
        // Side 8%..60% with aspect within 4/3 each way: each dimension within [0.08*sqrt(3/4), 0.6].
        expect(l.w).to.be.within(0.069, 0.6 + 1e-9);
        expect(l.h).to.be.within(0.069, 0.6 + 1e-9);
      }
    }
    // Every class occurs (roughly uniform over ~700 objects).
    for (const c of counts) expect(c).to.be.above(100);
  });

  it('a single square fills its label box with one colour; a circle leaves the box corners', () => {
    let checkedSquare = false;
    let checkedCircle = false;
    for (let i = 0; i < 100 && !(checkedSquare && checkedCircle); i++) {
      const s = generateSample(sampleSeed(5, i), 128, { minObjects: 1, maxObjects: 1 });
      const l = s.labels[0];
      const x0 = Math.ceil((l.cx - l.w / 2) * 128) + 1;
      const x1 = Math.floor((l.cx + l.w / 2) * 128) - 2;
      const y0 = Math.ceil((l.cy - l.h / 2) * 128) + 1;
      const y1 = Math.floor((l.cy + l.h / 2) * 128) - 2;
      const centre = pixel(s, Math.round(l.cx * 128), Math.round(l.cy * 128));
      if (DEMO_CLASS_NAMES[l.classId] === 'square') {
        for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) expect(pixel(s, x, y)).to.deep.equal(centre);
        checkedSquare = true;
      }
      if (DEMO_CLASS_NAMES[l.classId] === 'circle') {
        expect(pixel(s, x0, y0)).to.not.deep.equal(centre);
        expect(pixel(s, x1, y1)).to.not.deep.equal(centre);
        checkedCircle = true;
      }
    }
    expect(checkedSquare && checkedCircle).to.equal(true);
  });

  it('rejects bad sizes and options with a clear error', () => {
    expect(() => generateSample(1, 10)).to.throw(/size must be an integer >= 32/);
    expect(() => generateSample(1, 64, { minScale: 0.5, maxScale: 0.2 })).to.throw(/minScale/);
  });

  it('writeDataset writes PNGs with the generated pixels, YOLO label files and a dataset yaml', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-int8-demo-ds-'));
    try {
      const out = await writeDataset(dir, { count: 3, seed: 11, size: 64 });
      expect(out.files.map((f) => path.basename(f))).to.deep.equal(['shapes_000000.png', 'shapes_000001.png', 'shapes_000002.png']);
      const yaml = fs.readFileSync(out.yamlPath, 'utf8');
      expect(yaml).to.match(/^path: \.$/m);
      expect(yaml).to.match(/^train: images\/val$/m);
      expect(yaml).to.match(/^val: images\/val$/m);
      for (const [i, n] of DEMO_CLASS_NAMES.entries()) expect(yaml).to.contain(`  ${i}: ${n}\n`);
      for (let i = 0; i < 3; i++) {
        const expected = generateSample(sampleSeed(11, i), 64);
        const img = await Jimp.read(out.files[i]);
        expect(img.bitmap.width).to.equal(64);
        for (let p = 0; p < 64 * 64; p++) {
          for (let c = 0; c < 3; c++) {
            if (img.bitmap.data[p * 4 + c] !== expected.rgb[p * 3 + c]) throw new Error(`pixel ${p} channel ${c} differs in ${out.files[i]}`);
          }
        }
        const txt = fs.readFileSync(path.join(out.labelsDir, `shapes_00000${i}.txt`), 'utf8');
        expect(txt).to.equal(formatYoloLabels(expected.labels));
        const parsed = txt.trim().split('\n').map((line) => line.split(' ').map(Number));
        parsed.forEach((v, k) => {
          expect(v[0]).to.equal(expected.labels[k].classId);
          expect(v[1]).to.be.closeTo(expected.labels[k].cx, 1e-6);
          expect(v[4]).to.be.closeTo(expected.labels[k].h, 1e-6);
        });
      }
      // The project's YOLO dataset reader finds the same images, labels and class names.
      const ds = loadDataset(out.yamlPath);
      expect(ds.items.map((it) => it.image)).to.deep.equal(out.files);
      expect(ds.names).to.deep.equal([...DEMO_CLASS_NAMES]);
      const first = readYoloLabels(ds.items[0].labels);
      const truth = generateSample(sampleSeed(11, 0), 64).labels;
      expect(first.map((l) => [l.classId, l.cx])).to.deep.equal(truth.map((l) => [l.classId, Number(l.cx.toFixed(6))]));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
