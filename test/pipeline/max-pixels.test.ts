// The image pixel limit (maxPixels / --max-pixels): checked in the header before decoding, through
// decodeImage, imageToInput and the CLI; a size within the limit decodes as before.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { Jimp } from 'jimp';
import { decodeImage } from '../../lib/pipeline/image.js';
import { imageToInput } from '../../lib/pipeline/input.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tiny-model.js';
import { expectError } from '../robustness/helpers.js';

describe('maxPixels: the image size limit', function () {
  this.timeout(60_000);
  let png: string;

  before(async () => {
    const dir = tempDir('max-pixels-');
    png = path.join(dir, 'img.png');
    const img = new Jimp({ width: 30, height: 20, color: 0x336699ff });
    fs.writeFileSync(png, await img.getBuffer('image/png'));
  });

  it('decodeImage: over the limit is an error naming the file and the size; at the limit it decodes', async () => {
    await expectError(() => decodeImage(png, undefined, 599), `${png}: the PNG header says 30x20 pixels, over the limit of 599 pixels (raise it with --max-pixels, or the maxPixels option)`);
    const img = await decodeImage(png, undefined, 600);
    expect([img.width, img.height, img.data.length]).to.deep.equal([30, 20, 30 * 20 * 3]);
    expect(Array.from(img.data.subarray(0, 3))).to.deep.equal([0x33, 0x66, 0x99]);
    await expectError(() => decodeImage(png, undefined, Number.NaN), `${png}: maxPixels must be a positive number of pixels, got NaN`);
  });

  it('imageToInput passes maxPixels on', async () => {
    const desc = { name: 'x', dtype: 'int8' as const, shape: [1, 8, 8, 3], scale: 1 / 255, zeroPoint: -128 };
    await expectError(() => imageToInput(png, desc, { maxPixels: 100 }), /img\.png: the PNG header says 30x20 pixels, over the limit of 100/);
    const ok = await imageToInput(png, desc, { maxPixels: 600 });
    expect(ok.data.length).to.equal(8 * 8 * 3);
  });

  it('the CLI takes --max-pixels as a positive integer', async () => {
    const r = await runCli(['detect', 'm.tflite', png, '--max-pixels', 'many']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.equal("yolo-int8: --max-pixels expects an integer >= 1, got 'many'\n");
  });
});
