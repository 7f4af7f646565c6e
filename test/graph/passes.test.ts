// Every pass on small built graphs: structure after the pass, and the float output unchanged
// (computed by running the IR before and after, plus hand values where simple).
import { expect } from 'chai';
import { GraphBuilder } from '../../lib/graph/builder.js';
import type { Graph } from '../../lib/ir/graph.js';
import { createFloatExecutor } from '../../lib/graph/execute.js';
import { initBackend } from '../../lib/graph/backend.js';
import {
  foldBatchNorm, foldBias, foldConstants, fuseActivations, fuseSilu, inferShapes, removeDeadNodes, removeIdentity, runDefaultPasses,
} from '../../lib/graph/passes/index.js';
import { batchNormAffine } from '../../lib/ops/util.js';
import { maxAbsDiff } from './helpers.js';

function seq(n: number, scale = 0.1, offset = 0): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.3 + offset) * scale);
}

async function run(g: Graph, x: Float32Array, fetch?: string[]) {
  const ex = await createFloatExecutor(g);
  try { return await ex.run(x, fetch); } finally { ex.dispose(); }
}

/** x[1,6,6,3] -> Conv2D(3x3, 4) -> Add(bias) -> BatchNorm -> Relu6 -> Identity -> Sigmoid/Mul (SiLU) */
function buildChain(): Graph {
  const b = new GraphBuilder('test');
  b.foldConstants = false;
  const x = b.addInput('x', [1, 6, 6, 3]);
  const w = b.addConstant('w', [3, 3, 3, 4], 'float32', seq(108, 0.3));
  const conv = b.emit('conv', 'Conv2D', [x, w], { strides: [1, 1], dilations: [1, 1], padding: 'SAME', activation: 'none' })[0];
  const bias = b.emit('bias', 'Add', [conv, b.addConstant('b', [4], 'float32', seq(4, 0.5, 1))], { activation: 'none' })[0];
  const bn = b.emit('bn', 'BatchNorm', [bias, b.addConstant('g', [4], 'float32', Float32Array.of(1.5, 0.5, 2, 1)),
    b.addConstant('beta', [4], 'float32', Float32Array.of(0.1, -0.2, 0, 0.3)), b.addConstant('mean', [4], 'float32', Float32Array.of(0.05, 0, -0.1, 0.2)),
    b.addConstant('var', [4], 'float32', Float32Array.of(1, 0.5, 2, 0.25))], { epsilon: 1e-3 })[0];
  const relu = b.emit('relu6', 'Relu6', [bn], {})[0];
  const id = b.emit('id', 'Identity', [relu], {})[0];
  const sig = b.emit('sig', 'Sigmoid', [id], {})[0];
  const silu = b.emit('silu', 'Mul', [sig, id], { activation: 'none' })[0];
  b.emit('dead', 'Tanh', [relu], {});
  return b.build([silu], { source: 'test', format: 'built', notes: [] });
}

describe('graph passes', function () {
  const x = seq(108, 1, 0.5);
  let reference: Float32Array;
  before(async () => {
    await initBackend('wasm');
    reference = (await run(buildChain(), x)).silu;
  });

  it('removeDeadNodes drops nodes that do not feed an output', async () => {
    const g = removeDeadNodes(buildChain());
    expect(g.nodes.map((n) => n.op)).to.not.include('Tanh');
    expect(g.tensors.has('dead')).to.equal(false);
    expect(maxAbsDiff((await run(g, x)).silu, reference)).to.equal(0);
  });

  it('removeIdentity rewires readers to the Identity input', async () => {
    const g = removeIdentity(buildChain());
    expect(g.nodes.map((n) => n.op)).to.not.include('Identity');
    expect(g.nodes.find((n) => n.name === 'sig')!.inputs).to.deep.equal(['relu6']);
    expect(maxAbsDiff((await run(g, x)).silu, reference)).to.equal(0);
  });

  it('removeIdentity keeps a graph output name', () => {
    const b = new GraphBuilder('t');
    const i = b.addInput('x', [2]);
    b.emit('r', 'Relu', [i], {});
    b.emit('out', 'Identity', ['r'], {});
    const g = removeIdentity(b.build(['out'], { source: 't', format: 'built', notes: [] }));
    expect(g.nodes).to.have.length(1);
    expect(g.nodes[0].outputs).to.deep.equal(['out']);
  });

  it('foldBias moves a per-channel Add into the conv bias', async () => {
    const g = foldBias(buildChain());
    const conv = g.nodes.find((n) => n.op === 'Conv2D')!;
    expect(g.nodes.map((n) => n.op)).to.not.include('Add');
    expect(Array.from(g.tensors.get(conv.inputs[2])!.data!)).to.deep.equal(Array.from(seq(4, 0.5, 1)));
    expect(maxAbsDiff((await run(g, x)).silu, reference)).to.be.below(1e-6);
  });

  it('foldBatchNorm scales weights and bias per output channel', async () => {
    const g = foldBatchNorm(foldBias(buildChain()));
    expect(g.nodes.map((n) => n.op)).to.not.include('BatchNorm');
    const conv = g.nodes.find((n) => n.op === 'Conv2D')!;
    // channel 0: s = 1.5/sqrt(1.001); w' = w*s; b' = (b - mean)*s + beta
    const s0 = 1.5 / Math.sqrt(1.001);
    expect(g.tensors.get(conv.inputs[1])!.data![0]).to.be.closeTo(seq(108, 0.3)[0] * s0, 1e-6);
    expect(g.tensors.get(conv.inputs[2])!.data![0]).to.be.closeTo((seq(4, 0.5, 1)[0] - 0.05) * s0 + 0.1, 1e-6);
    expect(maxAbsDiff((await run(g, x)).silu, reference)).to.be.below(1e-5);
  });

  it('batchNormAffine matches the formula', () => {
    const { mul, add } = batchNormAffine({ scale: Float32Array.of(2), offset: Float32Array.of(1), mean: Float32Array.of(3), variance: Float32Array.of(3.99), epsilon: 0.01 });
    expect(mul[0]).to.be.closeTo(1, 1e-7);
    expect(add[0]).to.be.closeTo(-2, 1e-6);
  });

  it('fuseActivations puts Relu6 into the producer activation attr', async () => {
    const g = fuseActivations(removeIdentity(foldBatchNorm(foldBias(buildChain()))));
    const conv = g.nodes.find((n) => n.op === 'Conv2D')!;
    expect(conv.attrs.activation).to.equal('relu6');
    expect(g.nodes.map((n) => n.op)).to.not.include('Relu6');
    expect(maxAbsDiff((await run(g, x)).silu, reference)).to.be.below(1e-5);
  });

  it('fuseActivations leaves a Relu whose input has other readers', () => {
    const b = new GraphBuilder('t');
    const i = b.addInput('x', [1, 2]);
    const a = b.emit('a', 'Add', [i, i], { activation: 'none' })[0];
    const r = b.emit('r', 'Relu', [a], {})[0];
    b.emit('o', 'Mul', [a, r], { activation: 'none' });
    const g = fuseActivations(b.build(['o'], { source: 't', format: 'built', notes: [] }));
    expect(g.nodes.map((n) => n.op)).to.deep.equal(['Add', 'Relu', 'Mul']);
  });

  it('fuseSilu turns x*sigmoid(x) into one Silu node', async () => {
    const g = fuseSilu(removeIdentity(buildChain()));
    const silu = g.nodes.find((n) => n.op === 'Silu')!;
    expect(silu.inputs).to.deep.equal(['relu6']);
    expect(silu.outputs).to.deep.equal(['silu']);
    expect(g.nodes.map((n) => n.op)).to.not.include('Sigmoid');
    expect(maxAbsDiff((await run(g, x)).silu, reference)).to.be.below(1e-6);
  });

  it('foldConstants evaluates constant-only nodes', async () => {
    const b = new GraphBuilder('t');
    b.foldConstants = false;
    const i = b.addInput('x', [1, 3]);
    const c = b.emit('c', 'Mul', [b.addConstant('k', [3], 'float32', Float32Array.of(1, 2, 3)), b.addConstant('two', [1], 'float32', Float32Array.of(2))], { activation: 'none' })[0];
    b.emit('o', 'Add', [i, c], { activation: 'none' });
    const g = foldConstants(b.build(['o'], { source: 't', format: 'built', notes: [] }));
    expect(g.nodes.map((n) => n.op)).to.deep.equal(['Add']);
    expect(Array.from(g.tensors.get('c')!.data!)).to.deep.equal([2, 4, 6]);
    expect(Array.from((await run(g, Float32Array.of(1, 1, 1))).o)).to.deep.equal([3, 5, 7]);
  });

  it('inferShapes recomputes shapes and rejects unknown ones', () => {
    const g = buildChain();
    g.tensors.get('conv')!.shape = [];
    expect(inferShapes(g).tensors.get('conv')!.shape).to.deep.equal([1, 6, 6, 4]);
    const bad = buildChain();
    bad.nodes[0].attrs = { ...bad.nodes[0].attrs, padding: 'EXPLICIT' };
    expect(() => inferShapes(bad)).to.throw(/node 'conv' \(Conv2D\).*padding/);
  });

  it('runDefaultPasses gives Conv2D(relu6, folded bias) -> Silu and the same output', async () => {
    const g = runDefaultPasses(buildChain());
    expect(g.nodes.map((n) => `${n.op}:${n.attrs.activation ?? ''}`)).to.deep.equal(['Conv2D:relu6', 'Silu:']);
    expect(maxAbsDiff((await run(g, x)).silu, reference)).to.be.below(1e-5);
  });

  it('passes do not modify their input graph', () => {
    const g = buildChain();
    const before = JSON.stringify(g.nodes);
    runDefaultPasses(g);
    expect(JSON.stringify(g.nodes)).to.equal(before);
  });
});

describe('float executor', function () {
  before(async () => { await initBackend('wasm'); });

  it('streams every produced tensor once and fetches intermediates', async () => {
    const g = buildChain();
    const ex = await createFloatExecutor(g);
    expect(ex.backend).to.equal('wasm');
    const seen: string[] = [];
    const x = seq(108, 1);
    const out = await ex.stream(x, { fetch: ['conv', 'silu'], onTensor: (name, data, shape) => { seen.push(name); expect(data.length).to.equal(shape.reduce((a, b) => a * b, 1)); } });
    expect(seen).to.deep.equal(['x', 'conv', 'bias', 'bn', 'relu6', 'id', 'sig', 'silu', 'dead']);
    // conv at (0,0,0,0) by hand: SAME 3x3 at the corner reads x[0..1][0..1]
    const w = seq(108, 0.3);
    let expected = 0;
    for (let kh = 1; kh < 3; kh++) for (let kw = 1; kw < 3; kw++) for (let c = 0; c < 3; c++) {
      expected += x[((kh - 1) * 6 + (kw - 1)) * 3 + c] * w[((kh * 3 + kw) * 3 + c) * 4];
    }
    expect(out.conv[0]).to.be.closeTo(expected, 1e-5);
    ex.dispose();
  });

  it('does not leak tensors between runs', async () => {
    const tf = await import('@tensorflow/tfjs');
    const ex = await createFloatExecutor(buildChain());
    await ex.run(seq(108, 1));
    const n = tf.memory().numTensors;
    await ex.run(seq(108, 1));
    await ex.stream(seq(108, 1), { onTensor: () => undefined });
    expect(tf.memory().numTensors).to.equal(n);
    ex.dispose();
  });

  it('rejects wrong inputs clearly', async () => {
    const ex = await createFloatExecutor(buildChain());
    let err: Error | undefined;
    try { await ex.run(new Float32Array(5)); } catch (e) { err = e as Error; }
    expect(err?.message).to.match(/graph input 'x' expects \[1,6,6,3\] = 108 values, got 5/);
    ex.dispose();
  });
});
