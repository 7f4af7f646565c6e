// 1-channel image models (the human library's emotion model): calibration images become one gray
// channel as OpenCV weighs it (BT.601 luma), and the model quantizes from an image folder.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { grayInput } from '../../lib/quantize/image-input.js';
import { GraphBuilder } from '../../lib/graph/builder.js';
import { quantizeInt8 } from '../../lib/quantize/index.js';
import { writeDataset } from '../../lib/demo/synthetic.js';

describe('1-channel image inputs', () => {
  it('gray is 0.299 R + 0.587 G + 0.114 B rounded, then mapped like any pixel', () => {
    const rgb = Uint8Array.of(255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30);
    expect(Array.from(grayInput(rgb), (v) => Math.round(v * 255))).to.deep.equal([76, 150, 29, 18]);
    expect(Array.from(grayInput(rgb, [0, 255]))).to.deep.equal([76, 150, 29, 18]);
  });

  it('a 1-channel model quantizes from a folder of color images', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gray-'));
    try {
      const { imagesDir } = await writeDataset(path.join(dir, 'images'), { count: 8, seed: 3, size: 32 });
      const b = new GraphBuilder('gray');
      const x = b.addInput('input', [1, 16, 16, 1]);
      const w = b.addConstant('w', [3, 3, 1, 2], 'float32', Float32Array.from({ length: 18 }, (_, i) => ((i % 5) - 2) / 4));
      const [y] = b.emit('conv', 'Conv2D', [x, w], { strides: [1, 1], padding: 'SAME', dilations: [1, 1], activation: 'relu' });
      const graph = b.build([y], { source: 'gray', format: 'built', notes: [] });
      const { report } = await quantizeInt8(graph, { representativeDataset: imagesDir, numCalibrationSamples: 8, backend: 'wasm' });
      expect(report.calibration.samples).to.equal(8);
      expect(report.allInteger).to.equal(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
