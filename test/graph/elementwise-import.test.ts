// The element-wise ops of lib/ops/defs (PReLU, AddN, Maximum/Minimum, HardSwish, Div and the unary
// math ops) imported from each format and run in float by the IR executor, against the format's own
// runtime: TF.js graph models against tf.loadGraphModel, layers models against model.predict, and
// .tflite files against LiteRT running the file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { importTfjsGraphModel } from '../../lib/graph/importers/tfjs-graph.js';
import { importTfjsLayersModel } from '../../lib/graph/importers/tfjs-layers.js';
import { importTflite } from '../../lib/graph/importers/tflite.js';
import { createFloatExecutor } from '../../lib/graph/execute.js';
import { initBackend } from '../../lib/graph/backend.js';
import type { Graph } from '../../lib/ir/graph.js';
import { TfliteBuilder } from '../../lib/tflite/builder.js';
import { writeTflite } from '../../lib/tflite/writer.js';
import type { BuiltinOperatorName } from '../../lib/tflite/operators.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { loadGraphModelFromDir } from '../support/float-models.js';
import { maxAbsDiff } from '../support/compare.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Values in [-2, 2) with both signs in every channel. */
function wave(n: number, phase = 0): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => 2 * Math.sin(i * 0.37 + phase) + 0.3 * Math.cos(i * 1.3));
}

async function runIr(g: Graph, x: Float32Array): Promise<Record<string, Float32Array>> {
  const ex = await createFloatExecutor(g, { backend: 'wasm' });
  try {
    return await ex.run(x);
  } finally {
    ex.dispose();
  }
}

interface Weight { name: string; shape: number[]; data: Float32Array }

/** A graph-model directory: nodes plus float32 constants (each also a Const node). */
function writeGraphModel(nodes: object[], weights: Weight[], outputs: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ew-'));
  const consts = weights.map((w) => ({ name: w.name, op: 'Const', attr: { dtype: { type: 'DT_FLOAT' } } }));
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({
    format: 'graph-model',
    modelTopology: { node: [...consts, ...nodes], versions: { producer: 1 } },
    signature: { outputs: Object.fromEntries(outputs.map((o) => [o, { name: `${o}:0` }])) },
    weightsManifest: [{ paths: ['w.bin'], weights: weights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })) }],
  }));
  fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.concat(weights.map((w) => Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength))));
  return dir;
}

/** Imports the directory and runs it, and runs it with tf.loadGraphModel: the largest difference per output. */
async function compareGraphModel(dir: string, shape: number[], outputs: string[]): Promise<Record<string, number>> {
  const x = wave(shape.reduce((a, b) => a * b, 1));
  const g = await importTfjsGraphModel(dir);
  const mine = await runIr(g, x);
  const model = await loadGraphModelFromDir(dir);
  const want = model.execute(tf.tensor(x, shape), outputs) as tf.Tensor | tf.Tensor[];
  const list = Array.isArray(want) ? want : [want];
  const diffs = Object.fromEntries(outputs.map((o, k) => [o, maxAbsDiff(mine[o], list[k].dataSync() as Float32Array)]));
  tf.dispose(list);
  model.dispose();
  return diffs;
}

const X4 = { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '1' }, { size: '4' }, { size: '4' }, { size: '3' }] } } } };

describe('element-wise ops: TF.js graph-model import vs tf.loadGraphModel', function () {
  before(async () => { await initBackend('wasm'); });

  it('Prelu, _FusedConv2D + BiasAdd + Prelu, FusedDepthwiseConv2dNative + Prelu and AddN', async () => {
    const fused = (ops: string[]) => ({ fused_ops: { list: { s: ops.map(b64) } }, num_args: { i: String(ops.length) }, strides: { list: { i: ['1', '1', '1', '1'] } }, padding: { s: b64('SAME') }, data_format: { s: b64('NHWC') }, dilations: { list: { i: ['1', '1', '1', '1'] } } });
    const dir = writeGraphModel([
      X4,
      { name: 'prelu', op: 'Prelu', input: ['x', 'alpha'] },
      { name: 'conv', op: '_FusedConv2D', input: ['x', 'w', 'b', 'alpha2'], attr: fused(['BiasAdd', 'Prelu']) },
      { name: 'dw', op: 'FusedDepthwiseConv2dNative', input: ['conv', 'dw_w', 'dw_b', 'alpha'], attr: fused(['BiasAdd', 'Prelu']) },
      { name: 'sum', op: 'AddN', input: ['prelu', 'conv', 'dw'], attr: { N: { i: '3' } } },
    ], [
      { name: 'alpha', shape: [1, 1, 3], data: Float32Array.of(0.1, 0.5, -0.25) },
      { name: 'alpha2', shape: [3], data: Float32Array.of(0.3, 0.02, 0.7) },
      { name: 'w', shape: [3, 3, 3, 3], data: wave(81, 1).map((v) => v / 4) },
      { name: 'b', shape: [3], data: Float32Array.of(-0.2, 0.1, 0.05) },
      { name: 'dw_w', shape: [3, 3, 3, 1], data: wave(27, 2).map((v) => v / 3) },
      { name: 'dw_b', shape: [3], data: Float32Array.of(0.1, -0.3, 0) },
    ], ['sum', 'prelu', 'conv', 'dw']);
    const g = await importTfjsGraphModel(dir);
    expect(g.nodes.map((n) => n.op).sort()).to.deep.equal(['Add', 'Add', 'Conv2D', 'DepthwiseConv2D', 'Prelu', 'Prelu', 'Prelu']);
    const diffs = await compareGraphModel(dir, [1, 4, 4, 3], ['sum', 'prelu', 'conv', 'dw']);
    for (const [k, d] of Object.entries(diffs)) expect(d, k).to.be.below(1e-5);
  });

  it('clip_by_value (Minimum/Maximum by scalars), ClipByValue, Maximum of two tensors, RealDiv by a tensor and Reciprocal', async () => {
    const dir = writeGraphModel([
      X4,
      { name: 'lo', op: 'Minimum', input: ['x', 'six'] },
      { name: 'clip', op: 'Maximum', input: ['zero', 'lo'] },
      { name: 'clip2', op: 'ClipByValue', input: ['x', 'neg', 'one'] },
      { name: 'max2', op: 'Maximum', input: ['clip', 'clip2'] },
      { name: 'sig', op: 'Sigmoid', input: ['x'] },
      { name: 'div', op: 'RealDiv', input: ['max2', 'sig'] },
      { name: 'recip', op: 'Reciprocal', input: ['sig'] },
    ], [
      { name: 'six', shape: [], data: Float32Array.of(1.5) },
      { name: 'zero', shape: [], data: Float32Array.of(0) },
      { name: 'neg', shape: [], data: Float32Array.of(-0.5) },
      { name: 'one', shape: [], data: Float32Array.of(1) },
    ], ['div', 'recip', 'clip', 'clip2']);
    const g = await importTfjsGraphModel(dir);
    const ops = g.nodes.map((n) => `${n.op}${n.inputs.length === 1 && n.attrs.scalar !== undefined ? `(${n.attrs.scalar})` : ''}`);
    expect(ops.sort()).to.deep.equal(['Div', 'Div', 'Maximum', 'Maximum(-0.5)', 'Maximum(0)', 'Minimum(1)', 'Minimum(1.5)', 'Sigmoid']);
    const diffs = await compareGraphModel(dir, [1, 4, 4, 3], ['div', 'recip', 'clip', 'clip2']);
    for (const [k, d] of Object.entries(diffs)) expect(d, k).to.be.below(1e-5);
  });
  it('Sqrt, Rsqrt, Exp, Abs, Neg, Floor, Sin, Cos, SquaredDifference, FloorDiv, FloorMod and Cast', async () => {
    const dir = writeGraphModel([
      X4,
      { name: 'abs', op: 'Abs', input: ['x'] },
      { name: 'sqrt', op: 'Sqrt', input: ['abs'] },
      { name: 'pos', op: 'AddV2', input: ['abs', 'half'] },
      { name: 'rsqrt', op: 'Rsqrt', input: ['pos'] },
      { name: 'exp', op: 'Exp', input: ['x'] },
      { name: 'neg', op: 'Neg', input: ['exp'] },
      { name: 'floor', op: 'Floor', input: ['x'] },
      { name: 'sin', op: 'Sin', input: ['x'] },
      { name: 'cos', op: 'Cos', input: ['sin'] },
      { name: 'sqd', op: 'SquaredDifference', input: ['grid', 'x'] },
      { name: 'fdiv', op: 'FloorDiv', input: ['x', 'three'] },
      { name: 'fmod', op: 'FloorMod', input: ['x', 'three'] },
      { name: 'cast', op: 'Cast', input: ['fmod'], attr: { SrcT: { type: 'DT_FLOAT' }, DstT: { type: 'DT_FLOAT' } } },
      { name: 'sum', op: 'AddN', input: ['sqrt', 'rsqrt', 'neg', 'floor', 'cos', 'sqd', 'fdiv', 'cast'], attr: { N: { i: '8' } } },
    ], [
      { name: 'half', shape: [], data: Float32Array.of(0.5) },
      { name: 'grid', shape: [4, 4, 1], data: wave(16, 3) },
      { name: 'three', shape: [3], data: Float32Array.of(0.75, -1.5, 2) },
    ], ['sum']);
    const g = await importTfjsGraphModel(dir);
    expect(g.nodes.map((n) => n.op)).to.include.members(['Sqrt', 'Rsqrt', 'Exp', 'Abs', 'Neg', 'Floor', 'Sin', 'Cos', 'SquaredDifference', 'FloorDiv', 'FloorMod', 'Identity']);
    const diffs = await compareGraphModel(dir, [1, 4, 4, 3], ['sum']);
    expect(diffs.sum).to.be.below(1e-4);
  });

  it('Cast: to float32 of an int32 constant folds to a float32 constant; a cast to int32 is refused, naming the node', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ew-'));
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({
      format: 'graph-model',
      modelTopology: { node: [
        X4,
        { name: 'k', op: 'Const', attr: { dtype: { type: 'DT_INT32' } } },
        { name: 'kf', op: 'Cast', input: ['k'], attr: { DstT: { type: 'DT_FLOAT' } } },
        { name: 'y', op: 'Mul', input: ['x', 'kf'] },
      ] },
      weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'k', shape: [3], dtype: 'int32' }] }],
    }));
    fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.from(Int32Array.of(2, -3, 4).buffer));
    const g = await importTfjsGraphModel(dir, { outputs: ['y'] });
    expect(g.tensors.get('kf')!.dtype).to.equal('float32');
    expect(Array.from(g.tensors.get('kf')!.data!)).to.deep.equal([2, -3, 4]);
    // Integer arithmetic on computed tensors is post-processing: a cast to int32 does not import.
    const b = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    b.modelTopology.node.push({ name: 'xi', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '3' }] } } } });
    b.modelTopology.node.push({ name: 'xf', op: 'FloorDiv', input: ['xi', 'kf'] });
    b.modelTopology.node.push({ name: 'bad', op: 'Cast', input: ['xf'], attr: { DstT: { type: 'DT_INT32' } } });
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(b));
    let err: Error | undefined;
    try { await importTfjsGraphModel(dir, { outputs: ['bad'] }); } catch (e) { err = e as Error; }
    expect(err?.message).to.match(/node 'bad' \(Cast\): a cast of the float32 tensor 'xf' to DT_INT32 is not supported/);
  });
});

describe('element-wise ops: TF.js layers-model import vs model.predict', function () {
  before(async () => { await initBackend('wasm'); });

  it('PReLU (per-channel and shared axes), Maximum and Minimum layers', async () => {
    const input = tf.input({ shape: [4, 4, 3] });
    const c = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }).apply(input) as tf.SymbolicTensor;
    const p1 = tf.layers.prelu({ alphaInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.8, seed: 3 }) }).apply(c) as tf.SymbolicTensor;
    const p2 = tf.layers.prelu({ sharedAxes: [1, 2], alphaInitializer: tf.initializers.constant({ value: 0.2 }) }).apply(input) as tf.SymbolicTensor;
    const mx = tf.layers.maximum().apply([p1, p2, c]) as tf.SymbolicTensor;
    const mn = tf.layers.minimum().apply([mx, p2]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: mn });
    const x = wave(48);
    const want = (model.predict(tf.tensor(x, [1, 4, 4, 3])) as tf.Tensor).dataSync() as Float32Array;
    const g = await importTfjsLayersModel(model);
    expect(g.nodes.filter((n) => n.op === 'Prelu')).to.have.length(2);
    const got = (await runIr(g, x))[g.outputs[0]];
    expect(maxAbsDiff(got, want)).to.be.below(1e-5);
    model.dispose();
  });
});

describe('element-wise ops: TFLite import vs LiteRT', function () {
  /** A float model x[1,4,4,3] -> ops in order; returns the bytes. */
  function tfliteModel(ops: { op: BuiltinOperatorName; inputs: (string | number[])[]; options?: Record<string, unknown> }[], consts: Record<string, { shape: number[]; data: Float32Array }>): Uint8Array {
    const b = new TfliteBuilder();
    const shape = [1, 4, 4, 3];
    const t = new Map<string, number>([['x', b.addTensor({ name: 'x', shape, type: 'float32' })]]);
    for (const [name, c] of Object.entries(consts)) t.set(name, b.addTensor({ name, shape: c.shape, type: 'float32', data: c.data }));
    let last = 0;
    ops.forEach((o, k) => {
      last = b.addTensor({ name: `y${k}`, shape, type: 'float32' });
      b.addOperator(o.op, o.inputs.map((i) => (typeof i === 'string' ? t.get(i)! : i[0])), [last], o.options as never);
      t.set(`y${k}`, last);
    });
    b.setInputs([t.get('x')!]);
    b.setOutputs([last]);
    return writeTflite(b.build());
  }

  async function compareTflite(bytes: Uint8Array): Promise<number> {
    const x = wave(48);
    const g = await importTflite(bytes, { label: 'ew.tflite' });
    const got = (await runIr(g, x))[g.outputs[0]];
    const runner = await TfliteRunner.load(bytes, { label: 'ew.tflite' });
    try {
      const [want] = await runner.run([x]);
      return maxAbsDiff(got, want as Float32Array);
    } finally {
      runner.dispose();
    }
  }

  it('PRELU, HARD_SWISH, MAXIMUM, MINIMUM and DIV by a constant and by a tensor', async () => {
    const bytes = tfliteModel([
      { op: 'PRELU', inputs: ['x', 'alpha'] },
      { op: 'HARD_SWISH', inputs: ['y0'] },
      { op: 'MAXIMUM', inputs: ['y1', 'lo'] },
      { op: 'MINIMUM', inputs: ['y2', 'x'] },
      { op: 'DIV', inputs: ['y3', 'den'], options: { fusedActivationFunction: 0 } },
      { op: 'DIV', inputs: ['y4', 'y2'], options: { fusedActivationFunction: 1 } },
    ], {
      alpha: { shape: [3], data: Float32Array.of(0.2, -0.4, 0.9) },
      lo: { shape: [], data: Float32Array.of(-0.1) },
      den: { shape: [1, 1, 1, 3], data: Float32Array.of(2, -0.5, 4) },
    });
    const g = await importTflite(bytes, { label: 'ew.tflite' });
    // DIV by a constant becomes MUL by its reciprocal (an integer kernel exists), by a tensor Div.
    expect(g.nodes.map((n) => n.op)).to.deep.equal(['Prelu', 'HardSwish', 'Maximum', 'Minimum', 'Mul', 'Div']);
    expect(await compareTflite(bytes)).to.be.below(1e-5);
  });

  it('SQRT, RSQRT, EXP, ABS, NEG, FLOOR, SIN, COS, SQUARED_DIFFERENCE, FLOOR_DIV and FLOOR_MOD', async () => {
    const bytes = tfliteModel([
      { op: 'ABS', inputs: ['x'] },
      { op: 'SQRT', inputs: ['y0'] },
      { op: 'ADD', inputs: ['y1', 'half'], options: { fusedActivationFunction: 0 } },
      { op: 'RSQRT', inputs: ['y2'] },
      { op: 'EXP', inputs: ['y3'] },
      { op: 'NEG', inputs: ['y4'] },
      { op: 'SQUARED_DIFFERENCE', inputs: ['y5', 'x'] },
      { op: 'FLOOR_DIV', inputs: ['y6', 'd'] },
      { op: 'FLOOR_MOD', inputs: ['x', 'd'] },
      { op: 'ADD', inputs: ['y7', 'y8'], options: { fusedActivationFunction: 0 } },
      { op: 'FLOOR', inputs: ['y9'] },
      { op: 'SIN', inputs: ['y10'] },
      { op: 'COS', inputs: ['y11'] },
    ], {
      half: { shape: [], data: Float32Array.of(0.5) },
      d: { shape: [3], data: Float32Array.of(0.75, -1.5, 2) },
    });
    const g = await importTflite(bytes, { label: 'ew.tflite' });
    expect(g.nodes.map((n) => n.op)).to.deep.equal(['Abs', 'Sqrt', 'Add', 'Rsqrt', 'Exp', 'Neg', 'SquaredDifference', 'FloorDiv', 'FloorMod', 'Add', 'Floor', 'Sin', 'Cos']);
    expect(await compareTflite(bytes)).to.be.below(1e-4);
  });
});
