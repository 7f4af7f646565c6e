// Damaged input must give a clear Error naming the label and what is wrong, never a crash or hang.
import { expect } from 'chai';
import { readTflite } from '../../lib/tflite/reader.js';
import { writeTflite } from '../../lib/tflite/writer.js';
import { TfliteBuilder } from '../../lib/tflite/builder.js';

function smallModel(): Uint8Array {
  const b = new TfliteBuilder();
  const x = b.addTensor({ name: 'x', shape: [1, 4], type: 'int8', quantization: { scale: [0.1], zeroPoint: [0] } });
  const y = b.addTensor({ name: 'y', shape: [1, 4], type: 'int8', quantization: { scale: [0.1], zeroPoint: [0] } });
  b.addOperator('ADD', [x, x], [y], { fusedActivationFunction: 0 });
  b.setInputs([x]);
  b.setOutputs([y]);
  return writeTflite(b.build());
}

describe('tflite reader: bad input', function () {
  const good = smallModel();

  it('reads the undamaged model', function () {
    const m = readTflite(good);
    expect(m.subgraphs[0].operators).to.have.length(1);
  });

  it('rejects empty input', function () {
    expect(() => readTflite(new Uint8Array(0), { label: 'empty.tflite' })).to.throw(Error, /^empty\.tflite: invalid TFLite file: the file is empty/);
  });

  it('rejects a wrong file identifier', function () {
    const bad = good.slice();
    bad.set([0x50, 0x4b, 0x03, 0x04], 4);
    expect(() => readTflite(bad, { label: 'x.zip' })).to.throw(Error, /x\.zip: .*identifier is "PK\\x03\\x04", expected "TFL3"/);
  });

  it('rejects truncated files at every length', function () {
    for (let n = 1; n < good.length; n += Math.max(1, Math.floor(good.length / 97))) {
      expect(() => readTflite(good.subarray(0, n), { label: 'cut' }), `length ${n}`).to.throw(Error, /^cut: invalid TFLite file/);
    }
  });

  it('rejects random bytes', function () {
    let s = 7;
    for (let k = 0; k < 50; k++) {
      const bytes = Uint8Array.from({ length: 64 + k * 13 }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s >>> 24; });
      bytes.set([0x54, 0x46, 0x4c, 0x33], 4); // past the identifier check, into the offsets
      try {
        readTflite(bytes, { label: 'rand' });
      } catch (e) {
        expect(e).to.be.instanceOf(Error);
        expect((e as Error).message).to.match(/^rand: invalid TFLite file/);
      }
    }
  });

  it('rejects a root offset pointing outside the file', function () {
    const bad = good.slice();
    new DataView(bad.buffer).setUint32(0, bad.length + 100, true);
    expect(() => readTflite(bad, { label: 'root' })).to.throw(Error, /root: invalid TFLite file: root table Model lies outside the \d+-byte buffer/);
  });

  it('rejects a corrupted vtable offset', function () {
    const bad = good.slice();
    const root = new DataView(bad.buffer).getUint32(0, true);
    new DataView(bad.buffer).setInt32(root, -0x7fff0000, true);
    expect(() => readTflite(bad, { label: 'vt' })).to.throw(Error, /vt: invalid TFLite file: vtable of table Model lies outside/);
  });

  it('rejects a vector length larger than the file', function () {
    // The shape vector [1,4] of tensor x: find "01 00 00 00 04 00 00 00" preceded by its length 2.
    const bad = good.slice();
    const dv = new DataView(bad.buffer);
    let found = -1;
    for (let i = 0; i + 12 <= bad.length; i += 4) {
      if (dv.getUint32(i, true) === 2 && dv.getInt32(i + 4, true) === 1 && dv.getInt32(i + 8, true) === 4) { found = i; break; }
    }
    expect(found).to.be.greaterThan(0);
    dv.setUint32(found, 0x3fffffff, true);
    expect(() => readTflite(bad, { label: 'vec' })).to.throw(Error, /vec: invalid TFLite file: .*shape claims 1073741823 elements/);
  });

  it('rejects tensor indices out of range with the operator named', function () {
    const m = readTflite(good);
    m.subgraphs[0].operators[0].inputs = [0, 5];
    expect(() => readTflite(writeTflite(m), { label: 'idx' })).to.throw(Error, /idx: invalid TFLite file: Model\.subgraphs\[0\]\.operators\[0\]\.inputs refers to tensor 5, but the subgraph has 2 tensors/);
  });

  it('rejects unknown options union types', function () {
    const m = readTflite(good);
    expect(() => writeTflite({ ...m, subgraphs: [{ ...m.subgraphs[0], operators: [{ ...m.subgraphs[0].operators[0], builtinOptionsType: 200 }] }] }))
      .to.throw(Error, /builtinOptionsType: 200 is not a BuiltinOptions member/);
  });
});
