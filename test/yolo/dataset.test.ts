import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDataset, parseDatasetYaml, readYoloLabels, labelsToPixels, labelPathFor } from '../../lib/yolo/dataset.js';
import { percentile } from '../../lib/yolo/evaluate.js';
import { COCO128_IMAGES, COCO128_YAML, FIXTURES, requireFixtures } from '../support/fixtures.js';

describe('yolo/dataset', () => {
  it('parses names as a map or a list, and path/train/val', () => {
    const a = parseDatasetYaml('path: ../data # root\ntrain: images/train\nval: images/val\nnames:\n  0: person\n  1: "traffic light"\nnc: 2\n');
    expect(a).to.deep.equal({ path: '../data', train: 'images/train', val: 'images/val', names: ['person', 'traffic light'] });
    expect(parseDatasetYaml("names: ['a', 'b']").names).to.deep.equal(['a', 'b']);
    expect(parseDatasetYaml('names:\n  - x\n  - y\n').names).to.deep.equal(['x', 'y']);
    expect(() => parseDatasetYaml('names:\n  0: a\n  2: c\n', 'd.yaml')).to.throw(/d\.yaml: 'names' has gaps/);
  });

  it('labels: path convention, parsing, pixel conversion, errors with file:line', () => {
    expect(labelPathFor('/d/images/sub/x.jpg')).to.equal('/d/labels/sub/x.txt');
    expect(labelPathFor('/d/images/x.png', '/l')).to.equal('/l/x.txt');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-int8-labels-'));
    try {
      const f = path.join(dir, 'a.txt');
      fs.writeFileSync(f, '3 0.5 0.5 0.2 0.4\n\n0 0.1 0.1 0.2 0.2\n');
      const l = readYoloLabels(f);
      expect(l).to.deep.equal([{ classId: 3, cx: 0.5, cy: 0.5, w: 0.2, h: 0.4 }, { classId: 0, cx: 0.1, cy: 0.1, w: 0.2, h: 0.2 }]);
      const px = labelsToPixels(l, 100, 50);
      px[0].box.forEach((v, i) => expect(v).to.be.closeTo([40, 15, 60, 35][i], 1e-9));
      expect(readYoloLabels(path.join(dir, 'none.txt'))).to.deep.equal([]);
      fs.writeFileSync(f, '0 0.5 0.5 0.2 0.4\nperson 0.5 0.5 0.1 0.1\n');
      expect(() => readYoloLabels(f)).to.throw(/a\.txt:2: expected 'class cx cy w h'/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('percentile interpolates like numpy', () => {
    expect(percentile([4, 1, 3, 2], 50)).to.equal(2.5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).to.be.closeTo(9.1, 1e-12);
  });

  describe('coco128 fixture', function () {
    before(function () { requireFixtures(this); });
    it('the yaml resolves to the images folder, sorted by name, with 80 class names', () => {
      const ds = loadDataset(COCO128_YAML);
      expect(ds.items).to.have.length(128);
      expect(ds.names).to.have.length(80);
      expect(ds.names![5]).to.equal('bus');
      expect(path.basename(ds.items[0].image)).to.equal('000000000009.jpg');
      expect(path.basename(ds.items[64].image)).to.equal('000000000370.jpg');
      expect(ds.items[64].labels).to.equal(path.join(FIXTURES, 'coco128/labels/000000000370.txt'));
      const byDir = loadDataset(COCO128_IMAGES);
      expect(byDir.items.map((i) => i.image)).to.deep.equal(ds.items.map((i) => i.image));
    });
  });
});
