// Bad model files: every one gives an error that names the file and the offending entry, is refused
// before the weights are read or allocated, and leaves no output file (or temporary file) behind.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { importModel } from '../../lib/graph/importers/index.js';
import { importTflite } from '../../lib/graph/importers/tflite.js';
import { TfliteBuilder } from '../../lib/tflite/builder.js';
import { writeTflite } from '../../lib/tflite/writer.js';
import { readTflite } from '../../lib/tflite/reader.js';
import { GraphBuilder } from '../../lib/graph/builder.js';
import { checkShape, resolveInsideDir, firstNonFinite } from '../../lib/util/validate.js';
import { initBackend } from '../../lib/graph/backend.js';
import { expectError, extraFiles, quantizeToFile } from './helpers.js';
import { SHARD, TINY, rewriteJson, tempDir, tinyInputs, writeTinyGraphModel, type TinyModel } from '../support/tiny-model.js';

const OUT_NAME = 'model_int8.tflite';

describe('robustness: bad model files', function () {
  this.timeout(120_000);
  let m: TinyModel;
  let outDir: string;
  let out: string;

  before(async () => {
    await initBackend('cpu');
  });
  beforeEach(() => {
    m = writeTinyGraphModel();
    outDir = tempDir('robust-out-');
    out = path.join(outDir, OUT_NAME);
  });

  /** Quantizes the (corrupted) model to `out`: must fail with the patterns, and leave nothing behind. */
  async function expectRefused(...patterns: (RegExp | string)[]): Promise<Error> {
    const err = await expectError(
      () => quantizeToFile(m.dir, out, { representativeDataset: tinyInputs(4), numCalibrationSamples: 4, backend: 'cpu' }),
      ...patterns,
    );
    expect(fs.existsSync(out), 'output file after a failure').to.equal(false);
    expect(extraFiles(outDir, []), 'files left in the output directory').to.deep.equal([]);
    return err;
  }

  it('the intact tiny model quantizes and writes an int8 .tflite (the baseline for the cases below)', async () => {
    const bytes = await quantizeToFile(m.dir, out, { representativeDataset: tinyInputs(4), numCalibrationSamples: 4, backend: 'cpu' });
    expect(fs.readFileSync(out).equals(Buffer.from(bytes))).to.equal(true);
    const model = readTflite(new Uint8Array(fs.readFileSync(out)));
    const sg = model.subgraphs[0];
    expect(sg.tensors[sg.inputs[0]].shape).to.deep.equal([1, TINY.h, TINY.w, TINY.c]);
    expect(extraFiles(outDir, [OUT_NAME])).to.deep.equal([]);
  });

  it('missing model.json / directory without one', async () => {
    fs.rmSync(m.jsonPath);
    await expectRefused(`${m.dir}: the directory has no model.json`);
    m.dir = path.join(m.dir, 'nope');
    await expectRefused('nope: no such file or directory');
  });

  it('model.json that is not JSON, not an object, or not a graph model', async () => {
    fs.writeFileSync(m.jsonPath, '{"format": "graph-model", "modelTopology": {');
    await expectRefused(`${m.jsonPath}: neither a .tflite file nor a TF.js model.json`);
    fs.writeFileSync(m.jsonPath, 'null');
    await expectRefused(`${m.jsonPath}: model.json is not a JSON object`);
    fs.writeFileSync(m.jsonPath, '{"format": "saved-model"}');
    await expectRefused(`unknown TF.js model format 'saved-model'`);
    rewriteJson(m, (j) => { j.modelTopology.node = 'x'; });
    await expectRefused(m.jsonPath, /graph-model or layers-model expected|modelTopology\.node is missing/);
  });

  it('malformed nodes: missing name, duplicate names, non-string inputs, referenced node not defined', async () => {
    rewriteJson(m, (j) => { delete j.modelTopology.node[3].name; });
    await expectRefused(`${m.jsonPath}: modelTopology.node[3] has no name`);
    rewriteJson(m, (j) => { j.modelTopology.node[4].name = 'conv'; });
    await expectRefused(`${m.jsonPath}: node name 'conv' is used twice`);
    rewriteJson(m, (j) => { j.modelTopology.node[4].input = [7]; });
    await expectRefused(`${m.jsonPath}: node 'Identity': 'input' must be a list of tensor names`);
    rewriteJson(m, (j) => { j.modelTopology.node[4].input = ['ghost']; });
    await expectRefused(`${m.jsonPath}: node 'Identity' reads 'ghost', which is not a node of the graph`);
  });

  it('a missing weight shard names the shard', async () => {
    fs.rmSync(path.join(m.dir, SHARD));
    await expectRefused(`${m.jsonPath}: weight shard '${SHARD}' not found next to model.json`);
  });

  it('a shard shorter than the manifest says names the first weight that does not fit', async () => {
    fs.truncateSync(path.join(m.dir, SHARD), 3 * 3 * 3 * 4 * 4 + 8); // the filter and half the bias
    await expectRefused(
      `${m.jsonPath}: weight shards [${SHARD}] hold 440 bytes but the manifest's weights need 448`,
      "weight 'conv/bias' [4] needs bytes 432..448",
      'missing or truncated',
    );
  });

  it('a shard that is a directory is refused', async () => {
    fs.rmSync(path.join(m.dir, SHARD));
    fs.mkdirSync(path.join(m.dir, SHARD));
    await expectRefused(`weight shard '${SHARD}' is not a regular file`);
  });

  describe('weight paths that leave the model directory are refused before reading', () => {
    // A real shard outside the model directory: reading it would succeed, so only the check stops it.
    let outside: string;
    beforeEach(() => {
      outside = path.join(tempDir('robust-outside-'), 'secret.bin');
      fs.copyFileSync(path.join(m.dir, SHARD), outside);
    });

    it('../ escape', async () => {
      const rel = path.relative(m.dir, outside);
      expect(rel.startsWith('..')).to.equal(true);
      rewriteJson(m, (j) => { j.weightsManifest[0].paths = [rel]; });
      await expectRefused(`${m.jsonPath}: weight file path '${rel}' escapes the model directory`);
      rewriteJson(m, (j) => { j.weightsManifest[0].paths = [`sub/../../${path.basename(m.dir)}/../${rel}`]; });
      await expectRefused('escapes the model directory');
    });

    it('absolute path and URL', async () => {
      rewriteJson(m, (j) => { j.weightsManifest[0].paths = [outside]; });
      await expectRefused(`weight file path '${outside}' is absolute or a URL`);
      rewriteJson(m, (j) => { j.weightsManifest[0].paths = [`file://${outside}`]; });
      await expectRefused('is absolute or a URL');
      rewriteJson(m, (j) => { j.weightsManifest[0].paths = ['C:\\Windows\\x.bin']; });
      await expectRefused('is absolute or a URL');
    });

    it('a symlink inside the directory pointing outside', async () => {
      fs.rmSync(path.join(m.dir, SHARD));
      fs.symlinkSync(outside, path.join(m.dir, SHARD));
      await expectRefused(`weight file '${SHARD}' is a link to '${fs.realpathSync(outside)}', outside the model directory`);
    });

    it('non-string paths and NUL bytes', async () => {
      rewriteJson(m, (j) => { j.weightsManifest[0].paths = [42]; });
      await expectRefused('weight file path 42 is not a file name');
      rewriteJson(m, (j) => { j.weightsManifest[0].paths = ['a\0.bin']; });
      await expectRefused('contains a NUL character');
    });

    it('a symlink that stays inside the directory is accepted', async () => {
      fs.renameSync(path.join(m.dir, SHARD), path.join(m.dir, 'real.bin'));
      fs.symlinkSync(path.join(m.dir, 'real.bin'), path.join(m.dir, SHARD));
      const g = await importModel(m.dir);
      expect(Array.from(g.tensors.get('conv/bias')!.data!)).to.deep.equal(Array.from(m.weights.subarray(108)));
    });
  });

  it('NaN and Inf weights name the weight, the element and the node reading it', async () => {
    const bad = m.weights.slice();
    bad[5] = NaN;
    fs.writeFileSync(path.join(m.dir, SHARD), new Uint8Array(bad.buffer));
    await expectRefused(`${m.jsonPath}: weight 'conv/filter' [3,3,3,4] (read by node 'conv' (Conv2D)) has NaN at element 5; all weights must be finite`);
    const inf = m.weights.slice();
    inf[109] = -Infinity;
    fs.writeFileSync(path.join(m.dir, SHARD), new Uint8Array(inf.buffer));
    await expectRefused("weight 'conv/bias' [4]", 'has -Infinity at element 1');
  });

  it('unsupported ops are listed with their nodes', async () => {
    rewriteJson(m, (j) => {
      j.modelTopology.node[4].op = 'Erf';
      j.modelTopology.node.push({ name: 'lgamma', op: 'Lgamma', input: ['Identity'] }, { name: 'Identity2', op: 'Erf', input: ['lgamma'] });
      j.signature.outputs = { Identity: { name: 'Identity2:0' } };
    });
    await expectRefused(`Unsupported ops in ${m.jsonPath}: Erf (2 nodes: Identity, Identity2), Lgamma (1 node: lgamma)`);
  });

  describe('absurd shapes are refused before allocation', () => {
    it('weights manifest: a dimension over 2^20, over 2^31 elements, negative, fractional, not a list', async () => {
      rewriteJson(m, (j) => { j.weightsManifest[0].weights[1].shape = [2 ** 20 + 1]; });
      await expectRefused(`${m.jsonPath}: weight 'conv/bias': dimension 0 of shape [1048577] is 1048577, over the limit of 1048576`);
      rewriteJson(m, (j) => { j.weightsManifest[0].weights[0].shape = [65536, 65536, 1, 1]; });
      await expectRefused("weight 'conv/filter': shape [65536,65536,1,1] has 4294967296 elements, over the limit of 2147483647");
      rewriteJson(m, (j) => { j.weightsManifest[0].weights[1].shape = [-4]; });
      await expectRefused("weight 'conv/bias': dimension 0 of shape [-4] is negative");
      rewriteJson(m, (j) => { j.weightsManifest[0].weights[1].shape = [2.5]; });
      await expectRefused("weight 'conv/bias': dimension 0 of shape [2.5] is 2.5, expected a non-negative integer");
      rewriteJson(m, (j) => { j.weightsManifest[0].weights[1].shape = 4; });
      await expectRefused("weight 'conv/bias': shape 4 is not a list of dimensions");
      rewriteJson(m, (j) => { j.weightsManifest[0].weights[1].shape = Array(9).fill(1); });
      await expectRefused("weight 'conv/bias': rank 9 is over the limit of 8");
    });

    it('placeholder shapes: huge, negative (other than the batch), absurd element count', async () => {
      rewriteJson(m, (j) => { j.modelTopology.node[0].attr.shape.shape.dim[1].size = String(2 ** 24); });
      await expectRefused(`${m.jsonPath}: input 'x': dimension 1 of shape [1,16777216,8,3] is 16777216, over the limit`);
      rewriteJson(m, (j) => { j.modelTopology.node[0].attr.shape.shape.dim[2].size = '-7'; });
      await expectRefused("input 'x': dimension 2 of shape [-1,8,-7,3] is negative");
      rewriteJson(m, (j) => { j.modelTopology.node[0].attr.shape.shape.dim = [{ size: '1' }, { size: '1000000' }, { size: '1000000' }, { size: '3' }]; });
      await expectRefused("input 'x': shape [1,1000000,1000000,3] has 3000000000000 elements");
    });

    it('graph attributes that inflate a shape (Pad paddings from the file)', async () => {
      // x -> Pad(paddings const) -> conv ...: the paddings come from the weights shard.
      const padBytes = (p: number[]) => new Uint8Array(Int32Array.from(p).buffer);
      rewriteJson(m, (j) => {
        j.modelTopology.node.splice(1, 0,
          { name: 'pad/paddings', op: 'Const', attr: { dtype: { type: 'DT_INT32' } } },
          { name: 'pad', op: 'Pad', input: ['x', 'pad/paddings'] });
        j.modelTopology.node.find((n: { name: string }) => n.name === 'conv').input[0] = 'pad';
        j.weightsManifest[0].weights.push({ name: 'pad/paddings', shape: [4, 2], dtype: 'int32' });
      });
      const shard = (p: number[]) => fs.writeFileSync(path.join(m.dir, SHARD), Buffer.concat([Buffer.from(m.weights.buffer), padBytes(p)]));
      shard([0, 0, 0, 2 ** 21, 0, 0, 0, 0]);
      await expectRefused(`${m.jsonPath}: node 'pad' (Pad) output 'pad': dimension 1 of shape [1,2097160,8,3] is 2097160, over the limit`);
      shard([0, 0, 1_000_000, 0, 1_000_000, 0, 0, 0]);
      await expectRefused("node 'pad' (Pad) output 'pad': shape [1,1000008,1000008,3] has 3000048000192 elements");
      shard([0, 0, 1, 1, 1, 1, 0, 0]); // sane paddings import fine
      const g = await importModel(m.dir);
      expect(g.tensors.get('pad')!.shape).to.deep.equal([1, 10, 10, 3]);
    });

    it('TFLite tensors with absurd shapes are refused by the importer before decoding', async () => {
      const build = (constShape: number[], dataLen: number) => {
        const b = new TfliteBuilder();
        const x = b.addTensor({ name: 'x', shape: [1, 4], type: 'float32' });
        const k = b.addTensor({ name: 'k', shape: [dataLen], type: 'float32', data: new Float32Array(dataLen) });
        const y = b.addTensor({ name: 'y', shape: [1, 4], type: 'float32' });
        b.addOperator('ADD', [x, k], [y], {});
        b.setInputs([x]);
        b.setOutputs([y]);
        const model = b.build();
        model.subgraphs[0].tensors[k].shape = constShape; // what a hostile file can claim
        return writeTflite(model);
      };
      const file = path.join(m.dir, 'bad.tflite');
      fs.writeFileSync(file, build([2 ** 21], 4));
      await expectError(() => importTflite(file), `${file}: tensor 'k': dimension 0 of shape [2097152] is 2097152, over the limit`);
      fs.writeFileSync(file, build([2 ** 16, 2 ** 16], 4));
      await expectError(() => importTflite(file), "tensor 'k': shape [65536,65536] has 4294967296 elements");
      fs.writeFileSync(file, build([-1, 4], 4));
      await expectError(() => importTflite(file), "tensor 'k': dimension 0 of shape [-1,4] is negative");
      // A claimed shape that fits the limits but not the buffer is refused too (the buffer is checked).
      fs.writeFileSync(file, build([1000], 4));
      await expectError(() => importTflite(file), "tensor 'k' [1000] has 16 bytes, needs 4000");
      m.dir = file;
      await expectRefused(`${file}: tensor 'k' [1000] has 16 bytes`);
    });
  });

  it('a Graph passed directly with a NaN constant is refused by quantizeInt8', async () => {
    const b = new GraphBuilder('built-graph');
    b.foldConstants = false;
    b.addInput('x', [1, 4]);
    b.addConstant('w', [4, 2], 'float32', Float32Array.of(1, 2, 3, 4, 5, NaN, 7, 8));
    b.emit('fc', 'FullyConnected', ['x', 'w'], { activation: 'none' });
    const g = b.build(['fc'], { source: 'built-graph', format: 'built', notes: [] });
    await expectError(
      () => quantizeToFile(g, out, { representativeDataset: [new Float32Array(4)], backend: 'cpu' }),
      "built-graph: weight 'w' [4,2] (read by node 'fc' (FullyConnected)) has NaN at element 5",
    );
    expect(fs.readdirSync(outDir)).to.deep.equal([]);
  });
});

describe('robustness: validation helpers', () => {
  it('checkShape accepts sane shapes and the limits themselves', () => {
    expect(checkShape([1, 640, 640, 3], 't')).to.deep.equal([1, 640, 640, 3]);
    expect(checkShape(['1', '25200', '85'], 't')).to.deep.equal([1, 25200, 85]);
    expect(checkShape([], 't')).to.deep.equal([]);
    expect(checkShape([0, 5], 't')).to.deep.equal([0, 5]);
    expect(checkShape([2 ** 20, 2047], 't')).to.deep.equal([2 ** 20, 2047]); // 2^31 - 2^20 elements
    expect(() => checkShape([2 ** 20, 2048], 't')).to.throw('t: shape [1048576,2048] has 2147483648 elements');
    expect(() => checkShape([1, null], 't')).to.throw('t: dimension 1 of shape [1,null] is null');
    expect(() => checkShape([1, 'abc'], 't')).to.throw("dimension 1 of shape [1,\"abc\"] is 'abc'");
  });

  it('firstNonFinite finds the first NaN or infinity', () => {
    expect(firstNonFinite(Float32Array.of(1, 2, 3))).to.equal(undefined);
    expect(firstNonFinite(Float32Array.of(1, Infinity, NaN))).to.deep.equal({ index: 1, value: Infinity });
    expect(firstNonFinite([0, NaN])!.index).to.equal(1);
  });

  it('resolveInsideDir keeps plain names and nested paths', () => {
    const dir = tempDir();
    expect(resolveInsideDir(dir, 'a.bin', 'L')).to.equal(path.join(dir, 'a.bin'));
    expect(resolveInsideDir(dir, 'sub/./b.bin', 'L')).to.equal(path.join(dir, 'sub/b.bin'));
    expect(() => resolveInsideDir(dir, '.', 'L')).to.throw("L: weight file path '.' escapes the model directory");
    expect(() => resolveInsideDir(dir, '', 'L')).to.throw("L: weight file path '' is not a file name");
  });
});
