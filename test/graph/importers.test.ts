// Graph-model importer details on small synthetic model.json files: unsupported-op error, weight
// decoding (compressed forms), the explicit cut, and strided-slice normalisation vs TF.js.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { importTfjsGraphModel } from '../../lib/graph/importers/tfjs-graph.js';
import { decodeWeight, float16ToFloat32 } from '../../lib/graph/importers/tfjs-weights.js';
import { normalizeStridedSlice, stridedSliceShape } from '../../lib/ops/defs/strided-slice.js';
import { OP_DEFS, getOpDef } from '../../lib/ops/registry.js';
import { createFloatExecutor } from '../../lib/graph/execute.js';
import { initBackend } from '../../lib/graph/backend.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function writeModel(nodes: object[], weights: { name: string; shape: number[]; dtype: string; quantization?: object }[], bytes: Buffer): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-'));
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({
    format: 'graph-model', modelTopology: { node: nodes }, weightsManifest: [{ paths: ['w.bin'], weights }],
  }));
  fs.writeFileSync(path.join(dir, 'w.bin'), bytes);
  return dir;
}

const placeholder = { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: '4' }] } } } };

describe('TF.js graph-model importer (synthetic models)', function () {
  before(async () => { await initBackend('wasm'); });

  it('lists every unsupported op with its nodes before anything runs', async () => {
    const dir = writeModel([
      placeholder,
      { name: 'a', op: 'Foo', input: ['x'] },
      { name: 'b', op: 'Foo', input: ['a'] },
      { name: 'c', op: 'Bar', input: ['b'] },
      { name: 'd', op: 'Relu', input: ['c'] },
    ], [], Buffer.alloc(0));
    let err: Error | undefined;
    try { await importTfjsGraphModel(dir); } catch (e) { err = e as Error; }
    expect(err?.message).to.equal(`Unsupported ops in ${path.join(dir, 'model.json')}: Bar (1 node: c), Foo (2 nodes: a, b)`);
  });

  it('names at most three nodes per unsupported op (a long list stays one readable line)', async () => {
    const foos = Array.from({ length: 130 }, (_, i) => ({ name: `foo${i}`, op: 'Foo', input: [i ? `foo${i - 1}` : 'x'] }));
    const dir = writeModel([placeholder, ...foos], [], Buffer.alloc(0));
    let err: Error | undefined;
    try { await importTfjsGraphModel(dir); } catch (e) { err = e as Error; }
    expect(err?.message).to.equal(`Unsupported ops in ${path.join(dir, 'model.json')}: Foo (130 nodes: foo0, foo1, foo2, ...)`);
  });

  it('takes uint8 and int32 inputs as float32 holding the same integers, and says so; refuses other dtypes', async () => {
    for (const [dtype, name] of [['DT_UINT8', 'uint8'], ['DT_INT32', 'int32']]) {
      const input = { ...placeholder, attr: { ...placeholder.attr, dtype: { type: dtype } } };
      const g = await importTfjsGraphModel(writeModel([input, { name: 'y', op: 'Relu', input: ['x'] }], [], Buffer.alloc(0)));
      expect(g.meta.integerInputs).to.deep.equal({ x: name });
      expect(g.meta.notes.join('\n')).to.include(`input 'x' is ${name} in the source: the IR input is float32 holding the same integers`);
      const ex = await createFloatExecutor(g);
      expect(Array.from((await ex.run(Float32Array.of(0, 17, 255, 128)))[g.outputs[0]])).to.deep.equal([0, 17, 255, 128]);
      ex.dispose();
    }
    const bad = { ...placeholder, attr: { ...placeholder.attr, dtype: { type: 'DT_STRING' } } };
    let err: Error | undefined;
    try { await importTfjsGraphModel(writeModel([bad, { name: 'y', op: 'Relu', input: ['x'] }], [], Buffer.alloc(0))); } catch (e) { err = e as Error; }
    expect(err?.message).to.match(/input 'x' has dtype DT_STRING; float32, uint8 and int32 inputs are supported$/);
  });

  it('decodes float16 / uint8 / uint16 compressed weights, keeps graphs without post-processing and runs them', async () => {
    // w: float16 [4,2]; b: uint8 quantized [2]; y = relu(x @ w + b) * s where s is uint16 quantized
    const wVals = [0.5, -1, 2, 0.25, -0.75, 1.5, 1, -2];
    const half = Buffer.alloc(16);
    const toHalf = (v: number) => { const f = new Float32Array([v]); const u = new Uint32Array(f.buffer)[0]; const e = ((u >> 23) & 0xff) - 127 + 15; return ((u >> 16) & 0x8000) | (e << 10) | ((u >> 13) & 0x3ff); };
    wVals.forEach((v, i) => half.writeUInt16LE(toHalf(v), 2 * i));
    const bBytes = Buffer.from([10, 200]);
    const sBytes = Buffer.alloc(4); sBytes.writeUInt16LE(3, 0); sBytes.writeUInt16LE(1000, 2);
    const dir = writeModel([
      placeholder,
      { name: 'w', op: 'Const' }, { name: 'b', op: 'Const' }, { name: 's', op: 'Const' },
      { name: 'fc', op: '_FusedMatMul', input: ['x', 'w', 'b'], attr: { fused_ops: { list: { s: [b64('BiasAdd'), b64('Relu')] } }, transpose_a: { b: false }, transpose_b: { b: false } } },
      { name: 'out', op: 'Mul', input: ['fc', 's'] },
    ], [
      { name: 'w', shape: [4, 2], dtype: 'float32', quantization: { dtype: 'float16' } },
      { name: 'b', shape: [2], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.01, min: -1 } },
      { name: 's', shape: [2], dtype: 'float32', quantization: { dtype: 'uint16', scale: 0.001, min: 0 } },
    ], Buffer.concat([half, bBytes, sBytes]));
    const g = await importTfjsGraphModel(dir);
    expect(g.meta.cutAt).to.equal(undefined);
    expect(g.outputs).to.deep.equal(['out']);
    expect(Array.from(g.tensors.get('w')!.data!)).to.deep.equal(wVals);
    expect(g.tensors.get('b')!.data![0]).to.be.closeTo(-0.9, 1e-6);
    expect(g.tensors.get('b')!.data![1]).to.be.closeTo(1.0, 1e-6);
    const x = Float32Array.of(1, 2, -1, 0.5);
    const ex = await createFloatExecutor(g);
    const out = (await ex.run(x)).out;
    ex.dispose();
    const fc = [0, 1].map((j) => Math.max(0, x.reduce((a, xi, i) => a + xi * wVals[i * 2 + j], 0) + [-0.9, 1.0][j]));
    expect(out[0]).to.be.closeTo(fc[0] * 0.003, 1e-6);
    expect(out[1]).to.be.closeTo(fc[1] * 1.0, 1e-5);
  });

  it('cuts at opts.outputs and drops what follows', async () => {
    const dir = writeModel([
      placeholder,
      { name: 'r', op: 'Relu', input: ['x'] },
      { name: 'nms', op: 'NonMaxSuppressionV3', input: ['r', 'r'] },
    ], [], Buffer.alloc(0));
    const g = await importTfjsGraphModel(dir, { outputs: ['r:0'] });
    expect(g.outputs).to.deep.equal(['r']);
    expect(g.meta.cutAt).to.deep.equal(['r']);
    expect(g.nodes.map((n) => n.op)).to.deep.equal(['Relu']);
    // Without outputs, the graph is cut before its post-processing all the same, with a note.
    const auto = await importTfjsGraphModel(dir);
    expect(auto.outputs).to.deep.equal(['r']);
    expect(auto.meta.notes[0]).to.match(/^cut before post-processing at 'r': 1 ops left to the host \(NonMaxSuppressionV3 x1\); .*tf\.image\.nonMaxSuppression/);
  });

  it('float16ToFloat32 decodes normals, subnormals and infinities', () => {
    expect(float16ToFloat32(0x3c00)).to.equal(1);
    expect(float16ToFloat32(0xc000)).to.equal(-2);
    expect(float16ToFloat32(0x0001)).to.equal(2 ** -24);
    expect(float16ToFloat32(0x7c00)).to.equal(Infinity);
    const t = decodeWeight({ name: 'i', shape: [2], dtype: 'int32' }, new Uint8Array(Int32Array.of(-5, 7).buffer), 'l');
    expect(Array.from(t.data!)).to.deep.equal([-5, 7]);
  });

  it('normalizeStridedSlice matches tf.stridedSlice for masks, ellipsis, negative indices and shrink', () => {
    const shape = [2, 5, 6, 4];
    const x = tf.range(0, 240).reshape(shape);
    const cases: [number[], number[], number[], Record<string, number>][] = [
      [[0, 0], [0, 2], [1, 1], { ellipsisMask: 1 }],
      [[0, 4], [0, 85], [1, 1], { ellipsisMask: 1 }],
      [[0, 1, -4, 0], [0, -1, 6, 3], [1, 2, 1, 1], { beginMask: 1, endMask: 1 }],
      [[0, -1], [0, 0], [1, 1], { ellipsisMask: 1, shrinkAxisMask: 2 }],
    ];
    for (const [b, e, s, m] of cases) {
      const n = normalizeStridedSlice(shape, b, e, s, m);
      const want = tf.stridedSlice(x, b, e, s, m.beginMask ?? 0, m.endMask ?? 0, m.ellipsisMask ?? 0, 0, m.shrinkAxisMask ?? 0);
      const got = getOpDef('StridedSlice').runFloat(tf, [x], { ...n }, [undefined])[0];
      expect(stridedSliceShape(shape, n)).to.deep.equal(want.shape);
      expect(Array.from(got.dataSync())).to.deep.equal(Array.from(want.dataSync()));
    }
  });
});
