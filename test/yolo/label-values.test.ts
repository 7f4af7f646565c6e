// Label files with impossible values (issue 21, item 4) are errors naming the file and line, not a
// silent mAP of 0: a class id beyond any class count, zero/negative sizes, coordinates outside [0, 1].
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { readYoloLabels } from '../../lib/yolo/dataset.js';
import { tempDir } from '../support/tiny-model.js';

describe('label files: impossible values', () => {
  const dir = tempDir('labels-');
  const write = (text: string) => {
    const p = path.join(dir, `l${Math.random().toString(36).slice(2)}.txt`);
    fs.writeFileSync(p, text);
    return p;
  };

  it('refuses each with file:line and what was expected', () => {
    const cases: [string, RegExp][] = [
      ['4000000000 0.5 0.5 0.1 0.1', /:1: class id 4000000000 is beyond any class count \(at most 65535\), got '4000000000 0\.5 0\.5 0\.1 0\.1'$/],
      ['0 0.5 0.5 -0.1 0.2', /:1: box size -0\.1 x 0\.2; width and height must be > 0/],
      ['1 0.5 0.5 0.2 0', /:1: box size 0\.2 x 0; width and height must be > 0/],
      ['0 0.5 0.5 0.1 0.1\n2 1.5 0.5 0.1 0.1', /:2: cx cy w h are normalised to the image and must lie in \[0, 1\]/],
      ['3 0.5 -0.01 0.1 0.1', /:1: cx cy w h are normalised/],
      ['0 0.5 0.5 Infinity 0.1', /:1: expected 'class cx cy w h'/],
    ];
    for (const [text, re] of cases) {
      const file = write(text);
      expect(() => readYoloLabels(file), text).to.throw(Error, re);
      expect(() => readYoloLabels(file)).to.throw(file);
    }
  });

  it('reads valid rows, the [0, 1] edges included', () => {
    const file = write('0 0.5 0.5 1 1\n79 0 1 0.001 0.5\n');
    expect(readYoloLabels(file)).to.deep.equal([
      { classId: 0, cx: 0.5, cy: 0.5, w: 1, h: 1 },
      { classId: 79, cx: 0, cy: 1, w: 0.001, h: 0.5 },
    ]);
  });
});
