import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Jimp } from 'jimp';
import {
  letterbox, letterboxTransform, resizeBilinear, boxToOriginal, boxToLetterbox, roundHalfEven,
} from '../../lib/pipeline/letterbox.js';
import { quantizeInput, dequantize, pixelsToInput, dequantizeOutput } from '../../lib/pipeline/quantize.js';
import { decodeImage } from '../../lib/pipeline/image.js';
import { imageToInput, toModelInput } from '../../lib/pipeline/input.js';

describe('pipeline/letterbox', () => {
  it('geometry of bus.jpg (810x1080) into 640x640: 480x640 centred with 80 px each side', () => {
    const t = letterboxTransform(810, 1080, { size: 640 });
    expect(t).to.include({ resizedW: 480, resizedH: 640, padX: 80, padY: 0, outW: 640, outH: 640 });
    expect(t.scale).to.be.closeTo(640 / 1080, 1e-12);
  });

  it('odd padding goes right/bottom like ultralytics (round(d/2 -+ 0.1))', () => {
    // 500x375 -> r = 1.28, 640x480, dh = 160 -> 80/80; 481x640 stays, dw = 159 -> 79 left, 80 right.
    const t = letterboxTransform(481, 640, { size: 640 });
    expect(t).to.include({ resizedW: 481, padX: 79, outW: 640 });
    expect(roundHalfEven(2.5)).to.equal(2);
    expect(roundHalfEven(3.5)).to.equal(4);
    expect(roundHalfEven(-0.5)).to.equal(-0);
  });

  it('stride mode pads only to a multiple of the stride; scaleUp=false keeps small images small', () => {
    const t = letterboxTransform(810, 1080, { size: 640, mode: 'stride', stride: 32 });
    expect([t.outW, t.outH]).to.deep.equal([480, 640]);
    const u = letterboxTransform(100, 50, { size: 640, scaleUp: false });
    expect([u.resizedW, u.resizedH, u.padX, u.padY]).to.deep.equal([100, 50, 270, 295]);
  });

  it('pixels: pad value 114 around the resized image, which lands at (padX, padY)', () => {
    const img = { width: 4, height: 2, data: new Uint8Array(4 * 2 * 3).fill(200) };
    const { image, transform } = letterbox(img, { size: 8 });
    expect(transform).to.include({ padX: 0, padY: 2, resizedW: 8, resizedH: 4 });
    const px = (x: number, y: number) => Array.from(image.data.subarray((y * 8 + x) * 3, (y * 8 + x) * 3 + 3));
    expect(px(0, 0)).to.deep.equal([114, 114, 114]);
    expect(px(7, 7)).to.deep.equal([114, 114, 114]);
    expect(px(3, 2)).to.deep.equal([200, 200, 200]);
    expect(px(3, 5)).to.deep.equal([200, 200, 200]);
  });

  it('box round trip original -> letterbox -> original is the identity', () => {
    const t = letterboxTransform(810, 1080, { size: 640 });
    const box: [number, number, number, number] = [10.5, 300, 800, 1000];
    const back = boxToOriginal(boxToLetterbox(box, t), t);
    back.forEach((v, i) => expect(v).to.be.closeTo(box[i], 1e-9));
    // And a box in the pad area clips to the image.
    expect(boxToOriginal([0, 0, 40, 640], t)).to.deep.equal([0, 0, 0, 1080]);
  });

  it('bilinear resize uses half-pixel centres (hand-computed 2x upscale of a 2x1 ramp)', () => {
    // src x = (dst + 0.5)/2 - 0.5: dst 0 -> -0.25 (clamped to 0), 1 -> 0.25, 2 -> 0.75, 3 -> 1.25 (clamped to 1).
    const img = { width: 2, height: 1, data: new Uint8Array([0, 0, 0, 100, 100, 100]) };
    const r = resizeBilinear(img, 4, 1);
    expect(Array.from(r.data.filter((_, i) => i % 3 === 0))).to.deep.equal([0, 25, 75, 100]);
    // Downscale by 2: src = 2*dst + 0.5 -> the mean of each pixel pair.
    const d = resizeBilinear({ width: 4, height: 1, data: new Uint8Array([0, 0, 0, 10, 10, 10, 20, 20, 20, 40, 40, 40]) }, 2, 1);
    expect(Array.from(d.data.filter((_, i) => i % 3 === 0))).to.deep.equal([5, 30]);
  });
});

describe('pipeline/quantize', () => {
  it('quantizeInput saturates instead of wrapping, rounds half away from zero', () => {
    const q = quantizeInput([0, 1, 2, -2, 0.5 / 255, -0.5 / 255, 1.5 / 255], { dtype: 'int8', scale: 1 / 255, zeroPoint: -128 });
    expect(Array.from(q)).to.deep.equal([-128, 127, 127, -128, -127, -128, -126]);
    const u = quantizeInput([-1, 0, 0.1, 10], { dtype: 'uint8', scale: 0.01, zeroPoint: 3 });
    expect(Array.from(u)).to.deep.equal([0, 3, 13, 255]);
    expect(u).to.be.instanceOf(Uint8Array);
  });

  it('pixel p maps to p - 128 for int8 (scale 1/255, zp -128) and to p for uint8 (zp 0), same as the general formula', () => {
    const pixels = Uint8Array.from({ length: 256 }, (_, i) => i);
    const f32Scale = Math.fround(1 / 255);
    const i8 = pixelsToInput(pixels, { dtype: 'int8', scale: f32Scale, zeroPoint: -128 });
    expect(Array.from(i8)).to.deep.equal(Array.from(pixels, (p) => p - 128));
    const general = quantizeInput(Array.from(pixels, (p) => p / 255), { dtype: 'int8', scale: f32Scale, zeroPoint: -128 });
    expect(Array.from(general)).to.deep.equal(Array.from(i8));
    const u8 = pixelsToInput(pixels, { dtype: 'uint8', scale: f32Scale, zeroPoint: 0 });
    expect(Array.from(u8)).to.deep.equal(Array.from(pixels));
    const f = pixelsToInput(pixels, { dtype: 'float32' });
    expect(f[255]).to.equal(1);
    expect(f[51]).to.be.closeTo(0.2, 1e-7);
    // Any other quantization goes through the general path: scale 2/255, zp 0 -> round(p/2) saturating at 127.
    const other = pixelsToInput(pixels, { dtype: 'int8', scale: 2 / 255, zeroPoint: 0 });
    expect([other[0], other[3], other[254], other[255]]).to.deep.equal([0, 2, 127, 127]);
  });

  it('dequantize = scale * (q - zp); float outputs pass through', () => {
    expect(Array.from(dequantize(new Uint8Array([3, 4, 255]), 0.5, 3))).to.deep.equal([0, 0.5, 126]);
    expect(Array.from(dequantizeOutput(new Int8Array([-128, 127]), { dtype: 'int8', scale: 0.1, zeroPoint: -128 }))
      .map((v) => +v.toFixed(4))).to.deep.equal([0, 25.5]);
    const f = new Float32Array([1, 2]);
    expect(dequantizeOutput(f, { dtype: 'float32' })).to.equal(f);
  });

  it('rejects missing or invalid quantization with the tensor name', () => {
    expect(() => quantizeInput([0], { dtype: 'int8', name: 'images' })).to.throw(/'images'.*scale/);
    expect(() => quantizeInput([0], { dtype: 'int8', scale: 1, zeroPoint: 200, name: 'x' })).to.throw(/zero point 200.*int8/);
    expect(() => quantizeInput([0], { dtype: 'float32', scale: 1 })).to.throw(/only int8, uint8 and int16/);
  });
});

describe('pipeline/image + input', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-int8-pipeline-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('decodes RGBA PNG to RGB (alpha dropped) and grayscale-looking images keep R=G=B', async () => {
    const img = new Jimp({ width: 2, height: 1, color: 0x00000000 });
    img.bitmap.data.set([10, 20, 30, 0, 40, 40, 40, 255]);
    const file = path.join(dir, 'rgba.png');
    await img.write(file as `${string}.png`);
    const rgb = await decodeImage(file);
    expect([rgb.width, rgb.height]).to.deep.equal([2, 1]);
    expect(Array.from(rgb.data)).to.deep.equal([10, 20, 30, 40, 40, 40]);
  });

  it('decodes grayscale and palette PNGs and a JPEG from bytes', async () => {
    // A hand-written 2x1 8-bit grayscale PNG: pixels 0 and 255.
    const png = Buffer.from(
      '89504e470d0a1a0a0000000d4948445200000002000000010800000000d14920560000000b49444154789c6360f80f000102010042bebc680000000049454e44ae426082',
      'hex',
    );
    const gray = await decodeImage(new Uint8Array(png), 'gray.png');
    expect(Array.from(gray.data)).to.deep.equal([0, 0, 0, 255, 255, 255]);
    // A palette PNG (colour type 3), palette [red, blue], pixels [blue, red].
    const pal = Buffer.from(
      '89504e470d0a1a0a0000000d4948445200000002000000010803000000c3fc8fb800000006504c5445ff00000000ff6ca1fd8e0000000b49444154789c636064000000050002d16633780000000049454e44ae426082',
      'hex',
    );
    expect(Array.from((await decodeImage(new Uint8Array(pal))).data)).to.deep.equal([0, 0, 255, 255, 0, 0]);
    const jpg = await new Jimp({ width: 8, height: 8, color: 0x808080ff }).getBuffer('image/jpeg');
    const j = await decodeImage(new Uint8Array(jpg));
    expect(j.width).to.equal(8);
    for (const v of j.data) expect(v).to.be.within(126, 130);
  });

  it('errors name the file', async () => {
    const bad = path.join(dir, 'broken.jpg');
    fs.writeFileSync(bad, 'not an image');
    let err: Error | undefined;
    try {
      await decodeImage(bad);
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/broken\.jpg: cannot decode/);
    err = undefined;
    try {
      await decodeImage(path.join(dir, 'missing.png'));
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/missing\.png: cannot read the image file: no such file$/);
  });

  it('imageToInput returns the typed array of the input dtype plus the transform', async () => {
    const img = { width: 4, height: 2, data: new Uint8Array(24).fill(200) };
    const desc = { name: 'images', shape: [1, 8, 8, 3] };
    const f = await imageToInput(img, { ...desc, dtype: 'float32' });
    expect(f.data).to.be.instanceOf(Float32Array);
    expect(f.data[0]).to.be.closeTo(114 / 255, 1e-7);
    expect(f.transform.padY).to.equal(2);
    const i8 = await imageToInput(img, { ...desc, dtype: 'int8', scale: 1 / 255, zeroPoint: -128 });
    expect(i8.data).to.be.instanceOf(Int8Array);
    expect([i8.data[0], i8.data[(3 * 8 + 3) * 3]]).to.deep.equal([114 - 128, 200 - 128]);
    const u8 = await imageToInput(img, { ...desc, dtype: 'uint8', scale: 1 / 255, zeroPoint: 0 });
    expect(u8.data).to.be.instanceOf(Uint8Array);
    expect(u8.data[0]).to.equal(114);
    let err: Error | undefined;
    try {
      await imageToInput(img, { name: 'x', dtype: 'float32', shape: [1, 4, 8, 8] });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/input 'x' has shape \[1,4,8,8\].*\[1,H,W,3\] \(or channels first, \[1,3,H,W\]\)/);
  });

  it('toModelInput rejects a tf.Tensor-like float32 for an int8 input, naming dtype, shape, scale, zero point and the fix', () => {
    const desc = { name: 'images', dtype: 'int8', shape: [1, 2, 2, 3], scale: 1 / 255, zeroPoint: -128 };
    const fakeTensor = { dtype: 'float32', shape: [1, 2, 2, 3], dataSync: () => new Float32Array(12) };
    expect(() => toModelInput(fakeTensor, desc, 'm.tflite')).to.throw(
      TypeError,
      /m\.tflite: input 'images' expects int8 \[1,2,2,3\], scale 0\.00392\d*, zero point -128, got a tf\.Tensor of dtype float32.*quantizeInput/,
    );
    expect(() => toModelInput(new Float32Array(12), desc)).to.throw(/expects int8 .* got a Float32Array\(12\).*quantizeInput/);
    expect(() => toModelInput(new Int8Array(11), desc)).to.throw(RangeError, /12 elements, got 11/);
    expect(toModelInput(new Int8Array(12), desc)).to.be.instanceOf(Int8Array);
    const floatDesc = { name: 'x', dtype: 'float32', shape: [1, 2] };
    expect(() => toModelInput(new Uint8Array(2), floatDesc)).to.throw(/float input.*imageToInput/);
    const ok = toModelInput({ dtype: 'float32', shape: [1, 2], dataSync: () => new Float32Array([1, 2]) }, floatDesc);
    expect(Array.from(ok)).to.deep.equal([1, 2]);
    expect(() => toModelInput({ dtype: 'float32', shape: [2, 1], dataSync: () => new Float32Array(2) }, floatDesc)).to.throw(RangeError, /shape \[2,1\]/);
  });
});
