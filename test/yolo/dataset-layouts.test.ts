// Datasets as users lay them out, built in temp folders from a few coco128 images and labels
// (symlinks), resolved for calibration (train preferred) and evaluation (val preferred): an images
// folder, a dataset root with images/ + labels/ (no split, images/<split>/, <split>/images/), the
// ultralytics yaml variants (path/train/val/names, lists of folders, a .txt list of image paths), a
// .txt list, a glob. The expected file lists are the ones the test itself laid out.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { resolveDataset, loadDataset, labelPathFor, type DatasetPurpose } from '../../lib/yolo/dataset.js';
import { FIXTURES, requireFixtures, YOLOV5N_INT8 } from '../support/fixtures.js';

const COCO = path.join(FIXTURES, 'coco128');

/** The first n coco128 images (by name) that have a label file, as base names without extension. */
function labelledStems(n: number): string[] {
  return fs.readdirSync(path.join(COCO, 'images')).filter((f) => f.endsWith('.jpg')).sort()
    .map((f) => f.slice(0, -4))
    .filter((s) => fs.existsSync(path.join(COCO, 'labels', `${s}.txt`)))
    .slice(0, n);
}

/** Links coco128 image + label of each stem into `imagesDir` and `labelsDir`; returns the image paths. */
function place(stems: string[], imagesDir: string, labelsDir?: string): string[] {
  fs.mkdirSync(imagesDir, { recursive: true });
  if (labelsDir) fs.mkdirSync(labelsDir, { recursive: true });
  return stems.map((s) => {
    const img = path.join(imagesDir, `${s}.jpg`);
    fs.symlinkSync(path.join(COCO, 'images', `${s}.jpg`), img);
    if (labelsDir) fs.symlinkSync(path.join(COCO, 'labels', `${s}.txt`), path.join(labelsDir, `${s}.txt`));
    return img;
  });
}

const both: DatasetPurpose[] = ['calibration', 'evaluation'];

describe('yolo/dataset: layouts users have', function () {
  let work: string;
  let train: string[];
  let val: string[];
  before(function () {
    requireFixtures(this);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-int8-layouts-'));
    const stems = labelledStems(6);
    train = stems.slice(0, 3);
    val = stems.slice(3);
  });
  after(() => work && fs.rmSync(work, { recursive: true, force: true }));

  /** Every image's label file is the linked coco128 one (same content). */
  function expectLabels(ds: ReturnType<typeof resolveDataset>) {
    for (const img of ds.images) {
      const stem = path.basename(img, '.jpg');
      expect(fs.readFileSync(ds.labelsFor(img), 'utf8')).to.equal(fs.readFileSync(path.join(COCO, 'labels', `${stem}.txt`), 'utf8'));
    }
  }

  it('an images folder, and a dataset root holding images/ and labels/ (no split)', () => {
    const root = path.join(work, 'flat');
    const imgs = place([...train, ...val], path.join(root, 'images'), path.join(root, 'labels'));
    for (const purpose of both) {
      const byFolder = resolveDataset(path.join(root, 'images'), { purpose });
      expect(byFolder.layout).to.equal('images-folder');
      expect(byFolder.images).to.deep.equal([...imgs].sort());
      expect(byFolder.note).to.equal(undefined);
      expectLabels(byFolder);
      const byRoot = resolveDataset(root, { purpose });
      expect(byRoot).to.include({ layout: 'dataset-root', root, split: undefined, note: undefined });
      expect(byRoot.images).to.deep.equal(byFolder.images);
      expectLabels(byRoot);
    }
  });

  it('a root with images/<split>/ and labels/<split>/: val for evaluation, train for calibration, and says so', () => {
    const root = path.join(work, 'coco-like');
    const t = place(train, path.join(root, 'images/train2017'), path.join(root, 'labels/train2017'));
    const v = place(val, path.join(root, 'images/val2017'), path.join(root, 'labels/val2017'));
    fs.writeFileSync(path.join(root, 'coco.yaml'), 'names:\n  0: person\n  1: bicycle\n');
    const ev = resolveDataset(root, { purpose: 'evaluation' });
    expect(ev).to.include({ layout: 'dataset-root', split: 'val2017' });
    expect(ev.splits).to.deep.equal(['train2017', 'val2017']);
    expect(ev.images).to.deep.equal(v);
    expect(ev.note).to.equal(`${root}: using split 'val2017' (images/val2017, 3 images) for evaluation; splits found: train2017, val2017`);
    expect(ev.labelsFor(v[0])).to.equal(path.join(root, 'labels/val2017', `${val[0]}.txt`));
    expect(ev.names).to.deep.equal(['person', 'bicycle']); // the one yaml of the root
    expectLabels(ev);
    const cal = resolveDataset(root, { purpose: 'calibration' });
    expect(cal.split).to.equal('train2017');
    expect(cal.images).to.deep.equal(t);
    expect(cal.note).to.match(/using split 'train2017' .* for calibration/);
    // The images/ folder of that root, given directly, holds the same splits.
    expect(resolveDataset(path.join(root, 'images'), { purpose: 'evaluation' }).images).to.deep.equal(v);
    expect(resolveDataset(path.join(root, 'images'), { purpose: 'calibration' }).images).to.deep.equal(t);
    // One split folder is no choice: used, and named.
    expect(resolveDataset(path.join(root, 'images/val2017'), { purpose: 'calibration' }).images).to.deep.equal(v);
  });

  it('a root with <split>/images/ and <split>/labels/ (Roboflow): valid for evaluation, train for calibration', () => {
    const root = path.join(work, 'roboflow');
    const t = place(train, path.join(root, 'train/images'), path.join(root, 'train/labels'));
    const v = place(val.slice(0, 2), path.join(root, 'valid/images'), path.join(root, 'valid/labels'));
    place(val.slice(2), path.join(root, 'test/images'), path.join(root, 'test/labels'));
    const ev = resolveDataset(root, { purpose: 'evaluation' });
    expect(ev.split).to.equal('valid');
    expect(ev.images).to.deep.equal(v);
    expect(ev.labelsFor(v[1])).to.equal(path.join(root, 'valid/labels', `${val[1]}.txt`));
    expectLabels(ev);
    expect(resolveDataset(root, { purpose: 'calibration' }).images).to.deep.equal(t);
  });

  it('several splits none of which is train/val/test: an error that lists them', () => {
    const root = path.join(work, 'odd-splits');
    place(train, path.join(root, 'images/a'), path.join(root, 'labels/a'));
    place(val, path.join(root, 'images/b'), path.join(root, 'labels/b'));
    expect(() => resolveDataset(root, { purpose: 'evaluation' })).to.throw(`'${root}': several splits (a, b) and none is a val or test split`);
    expect(() => resolveDataset(root, { purpose: 'calibration' })).to.throw(/none is a train or val split; pass the folder of the one to use/);
  });

  describe('ultralytics dataset yaml', () => {
    let root: string;
    let t: string[];
    let v: string[];
    before(() => {
      root = path.join(work, 'yaml-root');
      t = place(train, path.join(root, 'images/train2017'), path.join(root, 'labels/train2017'));
      v = place(val, path.join(root, 'images/val2017'), path.join(root, 'labels/val2017'));
    });
    const writeYaml = (name: string, text: string) => {
      const f = path.join(work, name);
      fs.writeFileSync(f, text);
      return f;
    };

    it('path / train / val / names: val for evaluation, train for calibration, names from the yaml', () => {
      const y = writeYaml('abs.yaml', `path: ${root}\ntrain: images/train2017\nval: images/val2017 # 3 images\ntest:  # none\nnames:\n  0: person\n  1: bicycle\n`);
      const ev = resolveDataset(y, { purpose: 'evaluation' });
      expect(ev).to.include({ layout: 'yaml', root, split: 'val' });
      expect(ev.images).to.deep.equal(v);
      expect(ev.names).to.deep.equal(['person', 'bicycle']);
      expect(ev.note).to.equal(`${y}: using 'val' (3 images) for evaluation`);
      expectLabels(ev);
      const cal = resolveDataset(y, { purpose: 'calibration' });
      expect(cal.split).to.equal('train');
      expect(cal.images).to.deep.equal(t);
      // `path` relative to the yaml's folder, and no `path` at all (the yaml's folder is the root).
      const rel = writeYaml('rel.yaml', `path: ./yaml-root\ntrain: images/train2017\nval: images/val2017\n`);
      expect(resolveDataset(rel, { purpose: 'evaluation' }).images).to.deep.equal(v);
      fs.writeFileSync(path.join(root, 'data.yaml'), 'train: images/train2017\nval: images/val2017\nnames: [person, bicycle]\n');
      const inRoot = resolveDataset(path.join(root, 'data.yaml'), { purpose: 'evaluation' });
      expect(inRoot.images).to.deep.equal(v);
      expect(inRoot.names).to.deep.equal(['person', 'bicycle']);
    });

    it('lists of folders (flow and block style), searched recursively', () => {
      const flow = writeYaml('flow.yaml', `path: ${root}\ntrain: [images/train2017, images/val2017]\nval: images/val2017\n`);
      expect(resolveDataset(flow, { purpose: 'calibration' }).images).to.deep.equal([...t, ...v].sort());
      const block = writeYaml('block.yaml', `path: ${root}\ntrain:\n  - images/train2017\n  - images/val2017\nval:\n  - images/val2017\n`);
      expect(resolveDataset(block, { purpose: 'calibration' }).images).to.deep.equal([...t, ...v].sort());
      expect(resolveDataset(block, { purpose: 'evaluation' }).images).to.deep.equal(v);
      // A folder holding split folders: its images, recursively (as ultralytics reads it).
      const all = writeYaml('all.yaml', `path: ${root}\ntrain: images\n`);
      expect(resolveDataset(all, { purpose: 'calibration' }).images).to.deep.equal([...t, ...v].sort());
    });

    it('a .txt file listing image paths (./ relative to the list), in the yaml or on its own', () => {
      fs.writeFileSync(path.join(root, 'val.txt'), v.map((f) => `./${path.relative(root, f)}`).reverse().join('\n') + '\n');
      fs.writeFileSync(path.join(root, 'train.txt'), `# calibration\n${t.join('\n')}\n`); // absolute paths too
      const y = writeYaml('txt.yaml', `path: ${root}\ntrain: train.txt\nval: val.txt\n`);
      const ev = resolveDataset(y, { purpose: 'evaluation' });
      expect(ev.images).to.deep.equal(v); // sorted, whatever the order of the list
      expectLabels(ev);
      expect(resolveDataset(y, { purpose: 'calibration' }).images).to.deep.equal(t);
      const list = resolveDataset(path.join(root, 'val.txt'), { purpose: 'evaluation' });
      expect(list.layout).to.equal('list-file');
      expect(list.images).to.deep.equal(v);
      fs.writeFileSync(path.join(root, 'bad.txt'), `${t[0]}\n./images/missing.jpg\n`);
      expect(() => resolveDataset(path.join(root, 'bad.txt'), { purpose: 'calibration' })).to.throw(`bad.txt:2: './images/missing.jpg' does not exist`);
    });

    it('no val: evaluation uses train and says why; folders that do not exist fall back to images/ beside the yaml, said too', () => {
      const trainOnly = writeYaml('train-only.yaml', `path: ${root}\ntrain: images/train2017\n`);
      const ev = resolveDataset(trainOnly, { purpose: 'evaluation' });
      expect(ev.images).to.deep.equal(t);
      expect(ev.note).to.equal(`${trainOnly}: using 'train' (3 images) for evaluation; the yaml has no 'val'`);
      const missingVal = writeYaml('missing-val.yaml', `path: ${root}\ntrain: images/train2017\nval: images/nope\n`);
      expect(resolveDataset(missingVal, { purpose: 'evaluation' }).note).to.match(/using 'train' \(3 images\) for evaluation; not found: val: .*images\/nope$/);
      // coco128 as it ships in the fixtures: config.yaml names images/train2017, images/val2017; only images/ exists.
      const fixture = resolveDataset(path.join(COCO, 'config.yaml'), { purpose: 'evaluation' });
      expect(fixture.images).to.have.length(128);
      expect(fixture.names).to.have.length(80);
      expect(fixture.note).to.match(/its folders do not exist .*; using .*coco128\/images \(128 images\)$/);
      const nowhere = writeYaml('nowhere.yaml', 'path: /nonexistent-root\nval: images/val\n');
      expect(() => resolveDataset(nowhere, { purpose: 'evaluation' })).to.throw(/nowhere\.yaml: none of its image folders exist: val: \/nonexistent-root\/images\/val/);
    });
  });

  it('a glob on the file name, and one image file', () => {
    const dir = path.join(work, 'glob/images');
    const imgs = place([...train, ...val], dir, path.join(work, 'glob/labels'));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not an image');
    const g = resolveDataset(path.join(dir, '*'), { purpose: 'evaluation' });
    expect(g.layout).to.equal('glob');
    expect(g.images).to.deep.equal([...imgs].sort()); // notes.txt matches '*' but is not an image
    expectLabels(g);
    const first = resolveDataset(path.join(dir, `${train[0].slice(0, -1)}?.jpg`), { purpose: 'calibration' });
    expect(first.images).to.deep.equal(imgs.filter((f) => path.basename(f).startsWith(train[0].slice(0, -1))));
    expect(resolveDataset(imgs[0], { purpose: 'calibration' })).to.include({ layout: 'image-file' });
    expect(() => resolveDataset(path.join(dir, '*.png'), { purpose: 'calibration' })).to.throw(/no file in .* matches '\*\.png'/);
  });

  it('errors say what was expected, and point at a yaml in a folder without images', () => {
    const empty = path.join(work, 'no-images');
    fs.mkdirSync(empty);
    fs.writeFileSync(path.join(empty, 'data.yaml'), 'train: somewhere\n');
    expect(() => resolveDataset(empty, { purpose: 'evaluation' })).to.throw(
      `'${empty}': no images found (expected an images folder, a dataset root with images/ and labels/`,
    );
    expect(() => resolveDataset(empty, { purpose: 'evaluation' })).to.throw(`to use its dataset yaml pass ${path.join(empty, 'data.yaml')}`);
    expect(() => resolveDataset(path.join(work, 'missing'), { purpose: 'calibration' })).to.throw(/missing': no such file or folder \(expected/);
  });

  it('loadDataset (evaluation) and the labels folder option follow the same resolution', () => {
    const root = path.join(work, 'coco-like');
    const ds = loadDataset(root);
    expect(ds.items.map((i) => i.image)).to.deep.equal(resolveDataset(root, { purpose: 'evaluation' }).images);
    expect(ds.info).to.deep.include({ layout: 'dataset-root', split: 'val2017', images: 3 });
    const other = loadDataset(root, { labelsDir: '/elsewhere' });
    expect(other.items[0].labels).to.equal(labelPathFor(other.items[0].image, '/elsewhere'));
  });

  describe('end to end', function () {
    this.timeout(300_000);

    it('evaluate() on a split root gives the result of the val folder itself, and echoes the split', async () => {
      const { evaluate } = await import('../../lib/yolo/evaluate.js');
      const root = path.join(work, 'coco-like');
      const a = await evaluate(YOLOV5N_INT8, { images: root, limit: 2 });
      const b = await evaluate(YOLOV5N_INT8, { images: path.join(root, 'images/val2017'), limit: 2 });
      expect(a.dataset).to.deep.include({ layout: 'dataset-root', split: 'val2017', images: 3 });
      expect(a.labels).to.be.greaterThan(0);
      expect([a.images, a.labels, a.mAP50, a.mAP50_95]).to.deep.equal([b.images, b.labels, b.mAP50, b.mAP50_95]);
    });

    it('evaluate() on images without any label file is an error naming where labels were looked for', async () => {
      const { evaluate } = await import('../../lib/yolo/evaluate.js');
      const dir = path.join(work, 'unlabelled/images');
      place(val.slice(0, 1), dir);
      let err: Error | undefined;
      await evaluate(YOLOV5N_INT8, { images: dir }).catch((e) => (err = e));
      expect(err?.message).to.contain(`none of the 1 images has a YOLO label file (looked for ${path.join(work, 'unlabelled/labels', `${val[0]}.txt`)})`);
    });

    it('quantizeInt8 calibrates on the train split of a root: the same file as from that list, and the report says which split', async () => {
      const { quantizeInt8 } = await import('../../lib/yolo/quantize.js');
      const { writeTinyGraphModel } = await import('../support/tiny-model.js');
      const m = writeTinyGraphModel();
      const root = path.join(work, 'coco-like');
      const fromRoot = await quantizeInt8(m.dir, { representativeDataset: root, numCalibrationSamples: 10, backend: 'cpu' });
      const trainFiles = train.map((s) => path.join(root, 'images/train2017', `${s}.jpg`));
      const fromList = await quantizeInt8(m.dir, { representativeDataset: trainFiles, numCalibrationSamples: 10, backend: 'cpu' });
      expect(fromRoot.report.calibration.samples).to.equal(3);
      expect(fromRoot.report.calibration.dataset).to.deep.include({ layout: 'dataset-root', split: 'train2017', images: 3 });
      expect(Buffer.from(fromRoot.tflite).equals(Buffer.from(fromList.tflite))).to.equal(true);
      fs.rmSync(m.dir, { recursive: true, force: true });
    });
  });
});
