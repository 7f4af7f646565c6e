// The int16 writers of ops that have no int16 TFLite kernel (HardSwish, Prelu) or whose kernel keeps
// the input's parameters (AvgPool): the internal tensors' parameters by hand, and the files written
// with them (which TFLite ops, which parameters). Their values against the float op in LiteRT are the
// registry examples' (every-op.test.ts, int16).
import { expect } from 'chai';
import { GraphBuilder } from '../../lib/graph/builder.js';
import { quantizeInt8 } from '../../lib/quantize/index.js';
import { hardSwishGateRange, representableInt16, sixthParams } from '../../lib/ops/defs/hard-swish.js';
import { preluInt16Form } from '../../lib/ops/defs/prelu.js';
import { isGlobalPool } from '../../lib/ops/defs/avg-pool.js';
import { readTflite } from '../../lib/tflite/reader.js';
import { builtinOperatorName } from '../../lib/tflite/operators.js';
import type { TfliteModel } from '../../lib/tflite/model.js';
import { mulberry32 } from '../../lib/util/random.js';

describe('HardSwish int16: internal ranges by hand', () => {
  it('the gate relu6(x + 3) over the input range', () => {
    expect(hardSwishGateRange({ min: -5, max: 2 })).to.deep.equal({ min: 0, max: 5 });
    expect(hardSwishGateRange({ min: -1, max: 10 })).to.deep.equal({ min: 2, max: 6 });
    expect(hardSwishGateRange({ min: -0.5, max: 0.5 })).to.deep.equal({ min: 2.5, max: 3.5 });
    // Entirely below -3: the gate is 0 everywhere.
    expect(hardSwishGateRange({ min: -10, max: -4 })).to.deep.equal({ min: 0, max: 0 });
  });

  it('x / 6 in x step over 6 (so the MUL by 1/6 maps every integer to itself)', () => {
    expect(sixthParams({ scale: 0.003, zeroPoint: 0 })).to.deep.equal({ scale: Math.fround(0.0005), zeroPoint: 0 });
    expect(sixthParams({ scale: 6 / 32767, zeroPoint: 0 }).scale).to.equal(Math.fround(1 / 32767));
  });
});

describe('representableInt16', () => {
  it('what symmetric int16 parameters hold', () => {
    expect(representableInt16({ scale: 0.5, zeroPoint: 0 })).to.deep.equal({ min: -16384, max: 16383.5 });
    // Below -3 and above 3 the gate saturates: x up to 32767 * 1e-4 = 3.2767 gives a gate of [0, 6].
    expect(hardSwishGateRange(representableInt16({ scale: 1e-4, zeroPoint: 0 }))).to.deep.equal({ min: 0, max: 6 });
    // A small x: the gate spans [3 - 0.32768, 3 + 0.32767].
    const g = hardSwishGateRange(representableInt16({ scale: 1e-5, zeroPoint: 0 }));
    expect(g.min).to.be.closeTo(2.67232, 1e-9);
    expect(g.max).to.be.closeTo(3.32767, 1e-9);
  });
});

describe('Prelu int16: the form by the slopes', () => {
  it("'max' only when every alpha is in [0, 1]", () => {
    expect(preluInt16Form(Float32Array.of(0, 0.25, 1))).to.equal('max');
    expect(preluInt16Form(Float32Array.of(0.1, 1.01))).to.equal('relu-min');
    expect(preluInt16Form(Float32Array.of(-0.01, 0.5))).to.equal('relu-min');
    expect(preluInt16Form(Float32Array.of(NaN))).to.equal('relu-min');
    expect(preluInt16Form(undefined)).to.equal('relu-min');
  });
});

/** A conv (its output spanning about [-6, 6]) into one op under test, quantized in int16. */
async function int16File(op: string, extra: (b: GraphBuilder) => string[]) {
  const r = mulberry32(3);
  const b = new GraphBuilder(op);
  const x = b.addInput('input', [1, 4, 4, 2]);
  const w = b.addConstant('c/w', [1, 1, 2, 4], 'float32', Float32Array.from({ length: 8 }, () => (r() * 2 - 1) * 6));
  const c = b.emit('c', 'Conv2D', [x, w, b.addConstant('c/b', [4], 'float32', Float32Array.of(-1, 0, 1, 2))], {
    strides: [1, 1], padding: 'VALID', dilations: [1, 1], activation: 'none',
  })[0];
  const y = b.emit('y', op, [c, ...extra(b)], {})[0];
  const graph = b.build([y], { source: op, format: 'built', notes: [] });
  const samples = Array.from({ length: 4 }, () => Float32Array.from({ length: 32 }, () => Math.round(r() * 255) / 255));
  const { tflite, report } = await quantizeInt8(graph, { representativeDataset: samples, numCalibrationSamples: 4, backend: 'wasm', precision: 'int16', outputType: 'int16' });
  return { model: readTflite(tflite), report };
}

/** The ops after the conv, by name, with their tensors' names and parameters. */
function opsAfterConv(m: TfliteModel) {
  const sg = m.subgraphs[0];
  const t = (i: number) => ({ name: sg.tensors[i].name, scale: sg.tensors[i].quantization?.scale[0], zeroPoint: sg.tensors[i].quantization?.zeroPoint[0] });
  const ops = sg.operators.map((o) => ({ op: builtinOperatorName(m.operatorCodes[o.opcodeIndex].builtinCode), inputs: o.inputs.map(t), outputs: o.outputs.map(t), options: o.builtinOptions }));
  return ops.slice(ops.findIndex((o) => o.op === 'CONV_2D') + 1);
}

describe('int16 decompositions as written', () => {
  it('HardSwish: MUL(x, 1/6), ADD(x, 3) with RELU6, MUL; x/6 and the gate from x by hand', async () => {
    const { model } = await int16File('HardSwish', () => []);
    const ops = opsAfterConv(model);
    expect(ops.map((o) => o.op)).to.deep.equal(['MUL', 'ADD', 'MUL']);
    const xScale = ops[0].inputs[0].scale!;
    expect(ops[0].outputs[0].scale).to.equal(Math.fround(xScale / 6));
    expect((ops[1].options as { fusedActivationFunction: number }).fusedActivationFunction).to.equal(3);
    // The gate covers every value x's parameters hold: relu6(32767 * scale + 3).
    const gateMax = Math.min(6, Math.max(0, 32767 * xScale + 3));
    expect(ops[1].outputs[0].scale).to.equal(Math.fround(gateMax / 32767));
    expect(ops[2].inputs.map((i) => i.name)).to.deep.equal([ops[0].outputs[0].name, ops[1].outputs[0].name]);
    for (const o of ops) for (const u of [...o.inputs, ...o.outputs]) expect(u.zeroPoint, u.name).to.equal(0);
  });

  it('Prelu with a slope outside [0, 1]: RELU, MINIMUM, MUL, ADD; both terms in the output parameters', async () => {
    const { model } = await int16File('Prelu', (b) => [b.addConstant('alpha', [4], 'float32', Float32Array.of(-1.5, 0.2, 2.5, 0.7))]);
    const ops = opsAfterConv(model);
    expect(ops.map((o) => o.op)).to.deep.equal(['RELU', 'MINIMUM', 'MUL', 'ADD']);
    const [relu, min, mul, add] = ops;
    const out = add.outputs[0].scale;
    expect(relu.outputs[0].scale).to.equal(out);
    expect(mul.outputs[0].scale).to.equal(out);
    // MINIMUM compares integers: x, the 0 and min(x, 0) share x's parameters.
    expect(min.inputs.map((i) => i.scale)).to.deep.equal([relu.inputs[0].scale, relu.inputs[0].scale]);
    expect(min.outputs[0].scale).to.equal(relu.inputs[0].scale);
  });

  it('Prelu with every slope in [0, 1]: MUL, QUANTIZE, MAXIMUM, all in the output parameters', async () => {
    const { model } = await int16File('Prelu', (b) => [b.addConstant('alpha', [1, 1, 4], 'float32', Float32Array.of(0, 0.2, 0.5, 0.9))]);
    const ops = opsAfterConv(model);
    expect(ops.map((o) => o.op)).to.deep.equal(['MUL', 'QUANTIZE', 'MAXIMUM']);
    const out = ops[2].outputs[0].scale;
    expect(ops[2].inputs.map((i) => i.scale)).to.deep.equal([out, out]);
    expect(ops[1].inputs[0].scale).to.not.equal(out);
  });

  it('Prelu max form: no QUANTIZE when x already has the output parameters (a slope of 1 keeps x whole)', async () => {
    // alpha 1 on the channel that reaches the lowest value: the output's range is then x's.
    const { model } = await int16File('Prelu', (b) => [b.addConstant('alpha', [1, 1, 4], 'float32', Float32Array.of(1, 1, 1, 1))]);
    const ops = opsAfterConv(model);
    expect(ops.map((o) => o.op)).to.deep.equal(['MUL', 'MAXIMUM']);
    expect(ops[1].inputs[0].scale).to.equal(ops[1].outputs[0].scale);
  });

  it('AvgPool: a global pool is MEAN into its own (finer) parameters; a 2x2 pool AVERAGE_POOL_2D then QUANTIZE', async () => {
    for (const [filter, want] of [[[4, 4], ['MEAN']], [[2, 2], ['AVERAGE_POOL_2D', 'QUANTIZE']]] as const) {
      // conv -> pool -> conv: the pool's output is no model output, so its range comes from calibration as for any layer.
      const r = mulberry32(4);
      const b = new GraphBuilder('pool');
      const x = b.addInput('input', [1, 4, 4, 2]);
      const conv = (name: string, t: string, ic: number) =>
        b.emit(name, 'Conv2D', [t, b.addConstant(`${name}/w`, [1, 1, ic, 4], 'float32', Float32Array.from({ length: 4 * ic }, () => (r() * 2 - 1) * 6)), b.addConstant(`${name}/b`, [4], 'float32', new Float32Array(4))], {
          strides: [1, 1], padding: 'VALID', dilations: [1, 1], activation: 'none',
        })[0];
      const p = b.emit('p', 'AvgPool', [conv('c', x, 2)], { filter: [...filter], strides: [...filter], padding: 'VALID' })[0];
      const graph = b.build([conv('c2', p, 4)], { source: 'pool', format: 'built', notes: [] });
      const samples = Array.from({ length: 4 }, () => Float32Array.from({ length: 32 }, () => Math.round(r() * 255) / 255));
      const { tflite } = await quantizeInt8(graph, { representativeDataset: samples, numCalibrationSamples: 4, backend: 'wasm', precision: 'int16', outputType: 'int16' });
      const ops = opsAfterConv(readTflite(tflite));
      const pool = ops.slice(0, want.length);
      expect(pool.map((o) => o.op)).to.deep.equal(want);
      // The pool's output has parameters of its own, finer than its input's (a mean's range lies within its input's).
      const inScale = pool[0].inputs[0].scale!;
      const outScale = pool[pool.length - 1].outputs[0].scale!;
      expect(outScale).to.be.below(inScale);
      if (want.length === 2) expect(pool[0].outputs[0].scale).to.equal(inScale);
    }
  });

  it('isGlobalPool: one output position whose window covers the plane', () => {
    expect(isGlobalPool([1, 16, 16, 8], [1, 1, 1, 8], [16, 16])).to.equal(true);
    expect(isGlobalPool([1, 16, 16, 8], [1, 1, 1, 8], [8, 16])).to.equal(false);
    expect(isGlobalPool([1, 16, 16, 8], [1, 2, 2, 8], [16, 16])).to.equal(false);
  });
});
