// The automatic cut before post-processing at the end of a graph (lib/graph/importers/cut.ts): TF.js
// graph models built here, .tflite files built with the TFLite builder, and zoo models. The cut never
// hides a real import error.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { importTfjsGraphModel } from '../../lib/graph/importers/tfjs-graph.js';
import { graphFromTflite } from '../../lib/graph/importers/tflite.js';
import { importModel } from '../../lib/graph/importers/index.js';
import { TfliteBuilder } from '../../lib/tflite/builder.js';
import { initBackend } from '../../lib/graph/backend.js';
import { fixture, requireFixtures } from '../support/fixtures.js';
import { runFloatGraph } from '../support/compare.js';
import { uniform } from '../support/random.js';

function writeModel(nodes: object[], outputs: string[], weights: { name: string; shape: number[]; dtype: string }[] = [], bytes = Buffer.alloc(0)): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cut-'));
  const signature = { outputs: Object.fromEntries(outputs.map((o) => [o, { name: o }])) };
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({
    format: 'graph-model', modelTopology: { node: nodes }, signature, weightsManifest: [{ paths: ['w.bin'], weights }],
  }));
  fs.writeFileSync(path.join(dir, 'w.bin'), bytes);
  return dir;
}

const input = { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '1' }, { size: '8' }] } } } };
const int32 = (...v: number[]) => Buffer.from(Int32Array.from(v).buffer);
const k = { name: 'k', op: 'Const' };
const kWeight = { name: 'k', shape: [], dtype: 'int32' };

async function errorOf(p: Promise<unknown>): Promise<string> {
  try { await p; } catch (e) { return (e as Error).message; }
  return '(no error)';
}

describe('cut before post-processing', function () {
  before(async () => { await initBackend('wasm'); });

  it('TF.js: top-k with comparison glue and gathers after it is cut; the note names the ops and the host calls', async () => {
    const dir = writeModel([
      input, k,
      { name: 'r', op: 'Relu', input: ['x'] },
      { name: 's', op: 'Sigmoid', input: ['x'] },
      { name: 'e', op: 'Equal', input: ['r', 's'] },
      { name: 'c', op: 'Cast', input: ['e'], attr: { DstT: { type: 'DT_FLOAT' } } },
      { name: 'p', op: 'Mul', input: ['r', 'c'] },
      { name: 't', op: 'TopKV2', input: ['p', 'k'] },
      { name: 'g', op: 'GatherV2', input: ['s', 't:1', 'k'] },
    ], ['t', 'g'], [kWeight], int32(3));
    const g = await importTfjsGraphModel(dir);
    expect(g.outputs).to.deep.equal(['r', 's']);
    expect(g.meta.cutAt).to.deep.equal(['r', 's']);
    expect(g.nodes.map((n) => n.op).sort()).to.deep.equal(['Relu', 'Sigmoid']);
    expect(g.meta.notes[0]).to.equal(
      "cut before post-processing at 'r', 's': 5 ops left to the host (TopKV2 x1, GatherV2 x1, Cast x1, Equal x1, Mul x1); " +
      'run them on the float outputs (top-k with tf.topk; gathers with tf.gather), or with the source model\'s own post-processing code');
  });

  it('TF.js: a single tensor feeding all the post-processing through weightless arithmetic is the cut (YOLO style)', async () => {
    const dir = writeModel([
      input, k,
      { name: 'head', op: 'Sigmoid', input: ['x'] },
      { name: 'boxes', op: 'Mul', input: ['head', 'head'] },
      { name: 'scores', op: 'Relu', input: ['head'] },
      { name: 'nms', op: 'NonMaxSuppressionV3', input: ['boxes', 'scores', 'k'] },
    ], ['nms']);
    const g = await importTfjsGraphModel(dir);
    expect(g.outputs).to.deep.equal(['head']);
    expect(g.meta.notes[0]).to.match(/^cut before post-processing at 'head': 3 ops left to the host \(NonMaxSuppressionV3 x1, Mul x1, Relu x1\)/);
  });

  it('TF.js: arg-max at the end of a classifier is cut; outputs that do not go through it are kept', async () => {
    const dir = writeModel([
      input, k,
      { name: 'probs', op: 'Softmax', input: ['x'] },
      { name: 'cls', op: 'ArgMax', input: ['probs', 'k'] },
    ], ['probs', 'cls'], [kWeight], int32(1));
    const g = await importTfjsGraphModel(dir);
    expect(g.outputs).to.deep.equal(['probs']);
    expect(g.meta.notes[0]).to.match(/ArgMax x1\); run them on the float outputs \(arg-max with tf\.argMax\)/);
  });

  it('never hides the real error: an unknown op, an arg-max with layers after it, a bad shape', async () => {
    const unknown = writeModel([
      input, k,
      { name: 'f', op: 'FooBar', input: ['x'] },
      { name: 'r', op: 'Relu', input: ['f'] },
      { name: 'nms', op: 'NonMaxSuppressionV3', input: ['r', 'r', 'k'] },
    ], ['nms']);
    expect(await errorOf(importTfjsGraphModel(unknown))).to.match(/^Unsupported ops in .*model\.json: FooBar \(1 node: f\)$/);
    // FooBar only feeding the post-processing is not glue the cut may take: still reported.
    const beside = writeModel([
      input, k,
      { name: 'r', op: 'Relu', input: ['x'] },
      { name: 'f', op: 'FooBar', input: ['r'] },
      { name: 'nms', op: 'NonMaxSuppressionV3', input: ['r', 'f', 'k'] },
    ], ['nms']);
    expect(await errorOf(importTfjsGraphModel(beside))).to.match(/Unsupported ops in .*: FooBar \(1 node: f\)$/);
    const notAtEnd = writeModel([
      input, k, { name: 'w', op: 'Const' },
      { name: 'a', op: 'ArgMax', input: ['x', 'k'] },
      { name: 'c', op: 'Cast', input: ['a'], attr: { DstT: { type: 'DT_FLOAT' } } },
      { name: 'm', op: 'MatMul', input: ['c', 'w'] },
    ], ['m'], [kWeight, { name: 'w', shape: [8, 2], dtype: 'float32' }], Buffer.concat([int32(1), Buffer.alloc(64)]));
    // ArgMax imports (it runs in float); with a layer after it, it is no post-processing and stays: the
    // model's real problem is reported: the MatMul cannot take the arg-max's [1] indices.
    const msg0 = await errorOf(importTfjsGraphModel(notAtEnd));
    expect(msg0).to.match(/node 'm' \(FullyConnected\): FullyConnected input \[1\] is not a multiple of in=8$/);
    expect(msg0).not.to.match(/post-processing/);
    const badShape = writeModel([
      input, k, { name: 'shape', op: 'Const' },
      { name: 'r', op: 'Reshape', input: ['x', 'shape'] },
      { name: 'nms', op: 'NonMaxSuppressionV3', input: ['r', 'r', 'k'] },
    ], ['nms'], [kWeight, { name: 'shape', shape: [2], dtype: 'int32' }], Buffer.concat([int32(1), int32(3, 5)]));
    const msg = await errorOf(importTfjsGraphModel(badShape));
    expect(msg).to.match(/node 'r' \(Reshape\)/);
    expect(msg).not.to.match(/post-processing/);
  });

  function tfliteTopK(unknownBefore: boolean) {
    const b = new TfliteBuilder();
    const x = b.addTensor({ name: 'x', shape: [1, 8], type: 'float32' });
    const s = b.addTensor({ name: 'scores', shape: [1, 8], type: 'float32' });
    const kk = b.addTensor({ name: 'k', shape: [], type: 'int32', data: Int32Array.of(3) });
    const v = b.addTensor({ name: 'values', shape: [1, 3], type: 'float32' });
    const i = b.addTensor({ name: 'indices', shape: [1, 3], type: 'int32' });
    if (unknownBefore) {
      const ax = b.addTensor({ name: 'axis', shape: [1], type: 'int32', data: Int32Array.of(1) });
      const rev = b.addTensor({ name: 'rev', shape: [1, 8], type: 'float32' });
      b.addOperator('REVERSE_V2', [x, ax], [rev]);
      b.addOperator('LOGISTIC', [rev], [s]);
    } else {
      b.addOperator('LOGISTIC', [x], [s]);
    }
    b.addOperator('TOPK_V2', [s, kk], [v, i]);
    b.setInputs([x]);
    b.setOutputs([v, i]);
    return b.build();
  }

  it('TFLite: TOPK_V2 at the end is cut (its int32 output too); an unknown op before it is reported', () => {
    const g = graphFromTflite(tfliteTopK(false), {}, 'topk.tflite');
    expect(g.outputs).to.deep.equal(['scores']);
    expect(g.nodes.map((n) => n.op)).to.deep.equal(['Sigmoid']);
    expect(g.meta.notes[0]).to.match(/^cut before post-processing at 'scores': 1 ops left to the host \(TOPK_V2 x1\); run them on the float outputs \(top-k with tf\.topk\)/);
    expect(() => graphFromTflite(tfliteTopK(true), {}, 'topk.tflite')).to.throw(/^Unsupported ops in topk\.tflite: REVERSE_V2 \(1 node: rev\)$/);
  });

  it("TFLite: MediaPipe's landmark custom ops at the end are cut, the note says how to run them", () => {
    const b = new TfliteBuilder();
    const x = b.addTensor({ name: 'x', shape: [1, 8], type: 'float32' });
    const lm = b.addTensor({ name: 'landmarks', shape: [1, 8], type: 'float32' });
    const m = b.addTensor({ name: 'matrix', shape: [1, 4, 4], type: 'float32' });
    const out = b.addTensor({ name: 'world', shape: [1, 8], type: 'float32' });
    b.addOperator('LOGISTIC', [x], [lm]);
    b.addOperator('LOGISTIC', [x], [out]);
    b.setInputs([x]);
    b.setOutputs([out]);
    const model = b.build();
    // Two custom operators: Landmarks2TransformMatrix then TransformLandmarks writing the output.
    const sg = model.subgraphs[0];
    const custom = (name: string) => { model.operatorCodes.push({ builtinCode: 32, customCode: name, version: 1 }); return model.operatorCodes.length - 1; };
    sg.operators[1] = { opcodeIndex: custom('Landmarks2TransformMatrix'), inputs: [lm], outputs: [m], builtinOptionsType: 0, builtinOptions: null };
    sg.operators.push({ opcodeIndex: custom('TransformLandmarks'), inputs: [lm, m], outputs: [out], builtinOptionsType: 0, builtinOptions: null });
    const g = graphFromTflite(model, {}, 'landmarks.tflite');
    expect(g.outputs).to.deep.equal(['landmarks']);
    expect(g.meta.notes[0]).to.equal(
      "cut before post-processing at 'landmarks': 2 ops left to the host (CUSTOM(Landmarks2TransformMatrix) x1, CUSTOM(TransformLandmarks) x1); " +
      "run them on the float outputs (the landmark transforms as MediaPipe's graph does), or with the source model's own post-processing code");
  });

  it('YOLOv5n TF.js with NMS: a damaged backbone reports its own error, not a failed cut', async function () {
    const source = fixture('yolov5n_web_model');
    requireFixtures(this, source, 'the YOLOv5n web model');
    const json = JSON.parse(fs.readFileSync(path.join(source, 'model.json'), 'utf8'));
    const dirs: string[] = [];
    try {
      const damaged = (edit: (nodes: { name: string; op: string; attr?: Record<string, { s?: string }> }[]) => string) => {
        const copy = structuredClone(json);
        const name = edit(copy.modelTopology.node);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-damaged-'));
        dirs.push(dir);
        fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(copy));
        for (const f of fs.readdirSync(source)) if (f.endsWith('.bin')) fs.copyFileSync(path.join(source, f), path.join(dir, f));
        return { dir, name };
      };
      const unknown = damaged((nodes) => { const n = nodes.find((x) => x.op === 'Sigmoid')!; n.op = 'FooOp'; return n.name; });
      expect(await errorOf(importTfjsGraphModel(unknown.dir))).to.match(new RegExp(`^Unsupported ops in .*: FooOp \\(1 node: ${unknown.name.replace(/[/.]/g, '.')}\\)$`));
      const padding = damaged((nodes) => { const n = nodes.find((x) => x.op === '_FusedConv2D')!; n.attr!.padding = { s: Buffer.from('BOGUS').toString('base64') }; return n.name; });
      const msg = await errorOf(importTfjsGraphModel(padding.dir));
      expect(msg).to.contain(`node '${padding.name}' (_FusedConv2D): padding 'BOGUS' is not supported`);
      const layout = damaged((nodes) => { const n = nodes.find((x) => x.op === '_FusedConv2D')!; n.attr!.data_format = { s: Buffer.from('NCHW').toString('base64') }; return n.name; });
      expect(await errorOf(importTfjsGraphModel(layout.dir))).to.contain(`node '${layout.name}' (_FusedConv2D): data_format NCHW is not supported`);
    } finally {
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('zoo: CenterNet imports without outputs, cut before TopKV2 and its gathers', async function () {
    const dir = fixture('zoo/human-models-centernet');
    requireFixtures(this, dir, 'the zoo');
    const g = await importModel(dir);
    expect(g.meta.cutAt).to.include('tower_0/keypoints');
    expect(g.meta.notes[0]).to.match(/^cut before post-processing at .*TopKV2 x1.*top-k with tf\.topk/);
    for (const o of g.outputs) expect(g.tensors.get(o)!.shape[0]).to.be.greaterThan(0);
  });

  it('zoo: MoveNet keeps its heatmaps and offsets; the keypoint decoding (ArgMax, GatherNd) is left to the host', async function () {
    const dir = fixture('zoo/human-models-movenet-lightning');
    requireFixtures(this, dir, 'the zoo');
    const g = await importModel(dir);
    expect(g.outputs).to.include('StatefulPartitionedCall/Sigmoid');
    expect(g.meta.notes[0]).to.match(/ArgMax x2, GatherNd x4.*arg-max with tf\.argMax/);
  });
});

describe('cut after pre-processing', function () {
  before(async () => { await initBackend('wasm'); });

  it('zoo: the hand tracker starts after its map/while resize loop and ends before its NMS loops; the float graph runs', async function () {
    const dir = fixture('zoo/human-models-handtrack');
    requireFixtures(this, dir, 'the zoo');
    const g = await importModel(dir);
    const start = 'StatefulPartitionedCall/map/TensorArrayV2Stack/TensorListStack';
    expect(g.inputs).to.deep.equal([start]);
    expect(g.tensors.get(start)!.shape).to.deep.equal([1, 320, 320, 3]);
    expect(g.meta.notes.join('\n')).to.contain(`cut after pre-processing: the graph starts at '${start}' instead of 'input_tensor'`);
    expect(g.meta.notes[0]).to.match(/^cut before post-processing at 'Identity_6', 'Identity_7'.*NonMaxSuppressionV5 x7/);
    expect(g.nodes.some((n) => /map\/while|SortByField/.test(n.name))).to.equal(false);
    const out = await runFloatGraph(g, uniform(320 * 320 * 3, 3, -1, 1));
    expect(out.Identity_6.length).to.equal(12804 * 4);
    expect(out.Identity_6.every(Number.isFinite)).to.equal(true);
  });
});
