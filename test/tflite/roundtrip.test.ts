// Reading and rewriting the real YOLOv5n fixtures: the rewritten files must run bit-identically in
// LiteRT, and inspect must report the known structure of both files.
import fs from 'node:fs';
import { expect } from 'chai';
import { readTflite } from '../../lib/tflite/reader.js';
import { writeTflite } from '../../lib/tflite/writer.js';
import { inspectTflite, formatInspectReport } from '../../lib/tflite/inspect.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { Model } from '../../schema/generated/tflite/model.js';
import * as flatbuffers from 'flatbuffers';
import { YOLOV5N_FP16, YOLOV5N_INT8, requireFixtures } from '../support/fixtures.js';

const INT8 = YOLOV5N_INT8;
const FP16 = YOLOV5N_FP16;

/** A deterministic image-like 640x640x3 input: smooth gradients plus seeded noise, values 0..255. */
function imageLike(): Uint8Array {
  const out = new Uint8Array(640 * 640 * 3);
  let s = 12345;
  for (let y = 0; y < 640; y++) for (let x = 0; x < 640; x++) for (let c = 0; c < 3; c++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const base = c === 0 ? x * 0.4 : c === 1 ? y * 0.4 : (x + y) * 0.2;
    out[(y * 640 + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(base + 0.5 * Math.sin(x / 23) * 60 + ((s >>> 24) % 32))));
  }
  return out;
}

describe('tflite reader/writer on the YOLOv5n fixtures', function () {
  before(function () {
    requireFixtures(this);
  });

  for (const [name, file] of [['int8', INT8], ['fp16', FP16]] as const) {
    it(`${name}: read -> write -> read gives the same model, and LiteRT outputs are bit-identical`, async function () {
      const original = new Uint8Array(fs.readFileSync(file));
      const model = readTflite(original, { label: file });
      const rewritten = writeTflite(model);
      expect(readTflite(rewritten)).to.deep.equal(model);
      // Same model -> same bytes.
      expect(Buffer.compare(Buffer.from(writeTflite(readTflite(rewritten))), Buffer.from(rewritten))).to.equal(0);

      const pixels = imageLike();
      const a = await TfliteRunner.load(original, { label: `${name} original` });
      const b = await TfliteRunner.load(rewritten, { label: `${name} rewritten` });
      try {
        const input = a.inputs[0].dtype === 'uint8' ? pixels : Float32Array.from(pixels, (v) => v / 255);
        const [outA] = await a.run([input]);
        const [outB] = await b.run([input]);
        expect(outA.length).to.equal(25200 * 85);
        expect(Buffer.compare(Buffer.from(outA.buffer, outA.byteOffset, outA.byteLength), Buffer.from(outB.buffer, outB.byteOffset, outB.byteLength))).to.equal(0);
        // The input is not degenerate: the outputs vary.
        expect(new Set(Array.from(outA.subarray(0, 5000))).size).to.be.greaterThan(10);
      } finally {
        a.dispose();
        b.dispose();
      }
    });
  }

  it('agrees with the flatc-generated accessors on the int8 fixture', function () {
    const bytes = new Uint8Array(fs.readFileSync(INT8));
    const ours = readTflite(bytes);
    const gen = Model.getRootAsModel(new flatbuffers.ByteBuffer(bytes));
    expect(gen.operatorCodesLength()).to.equal(ours.operatorCodes.length);
    const sg = gen.subgraphs(0)!;
    expect(sg.tensorsLength()).to.equal(ours.subgraphs[0].tensors.length);
    for (let i = 0; i < sg.tensorsLength(); i += 7) {
      const t = sg.tensors(i)!;
      const o = ours.subgraphs[0].tensors[i];
      expect(t.name()).to.equal(o.name);
      expect(Array.from(t.shapeArray() ?? [])).to.deep.equal(o.shape);
      expect(Array.from(t.quantization()?.scaleArray() ?? [])).to.deep.equal(o.quantization?.scale ?? []);
    }
    for (let i = 0; i < sg.operatorsLength(); i += 5) {
      expect(sg.operators(i)!.builtinOptionsType()).to.equal(ours.subgraphs[0].operators[i].builtinOptionsType);
    }
  });

  it('inspect reports the fp16 model: op counts, float I/O, not integer', function () {
    const r = inspectTflite(new Uint8Array(fs.readFileSync(FP16)), 'fp16');
    expect(r.opHistogram).to.deep.equal({
      CONV_2D: 60, LOGISTIC: 66, MUL: 75, ADD: 10, CONCATENATION: 17, PAD: 7, MAX_POOL_2D: 3,
      RESIZE_NEAREST_NEIGHBOR: 2, RESHAPE: 6, STRIDED_SLICE: 9, DEQUANTIZE: 131,
    });
    expect(r.inputs).to.deep.equal([{ name: 'input_1', dtype: 'float32', shape: [1, 640, 640, 3], scale: undefined, zeroPoint: undefined }]);
    expect(r.outputs[0]).to.include({ name: 'Identity', dtype: 'float32' });
    expect(r.allInteger).to.equal(false);
    expect(r.weightBytesByDtype.float16).to.be.greaterThan(3_000_000);
    expect(r.minRuntimeVersion).to.equal('2.3.0');
    console.log(formatInspectReport(r).split('\n').map((l) => `      ${l}`).join('\n'));
  });

  it('inspect reports the int8 model: uint8 I/O with the known scales, integer weights', function () {
    const r = inspectTflite(new Uint8Array(fs.readFileSync(INT8)), 'int8');
    expect(r.inputs[0]).to.deep.include({ name: 'input_1', dtype: 'uint8', shape: [1, 640, 640, 3], zeroPoint: 0 });
    expect(r.inputs[0].scale).to.be.closeTo(1 / 255, 1e-9);
    expect(r.outputs[0]).to.deep.include({ dtype: 'uint8', shape: [1, 25200, 85], zeroPoint: 3 });
    expect(r.outputs[0].scale).to.be.closeTo(0.004483, 1e-6);
    expect(r.opHistogram.QUANTIZE).to.equal(26);
    expect(r.opHistogram.CONV_2D).to.equal(60);
    expect(r.weightBytesByDtype.float32 ?? 0).to.equal(0);
    expect(r.weightBytesByDtype.int8).to.be.greaterThan(1_000_000);
    expect(r.operatorCodes.find((c) => c.name === 'CONV_2D')?.version).to.equal(3);
  });
});
