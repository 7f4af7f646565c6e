// The quantization plan (lib/quantize/plan.ts): shared-parameter groups and their conflicts,
// constants of shared-rule ops, precision conversions as explicit steps, the float plan, the JSON
// and printed forms; and mixed-precision models run in LiteRT against the float graph.
import { expect } from 'chai';
import { GraphBuilder } from '../../lib/graph/builder.js';
import type { Graph } from '../../lib/ir/graph.js';
import { createFloatExecutor } from '../../lib/graph/execute.js';
import { getOpDef } from '../../lib/ops/registry.js';
import { buildPlan, formatPlan, planPrecisionSummary, planToJson, type QuantPlan } from '../../lib/quantize/plan.js';
import { chooseActivationParams, chooseInt16ActivationParams } from '../../lib/int8/arithmetic.js';
import type { IrNode } from '../../lib/ir/graph.js';
import type { OpQuant, Precision } from '../../lib/ops/types.js';
import { quantizeInt8 } from '../../lib/yolo/quantize.js';
import { readTflite } from '../../lib/tflite/reader.js';
import { dtypeName } from '../../lib/tflite/model.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { mulberry32 } from '../../lib/util/random.js';
import { formatInspectReport, inspectTflite } from '../../lib/tflite/inspect.js';
import { formatQuantizeReport } from '../../lib/quantize/report.js';
import { int8FromUnit } from '../support/int8-input.js';

const quantOf = (n: IrNode): OpQuant => getOpDef(n.op).quant!;
const INPUT_PARAMS = { scale: 1 / 255, zeroPoint: -128 };

function conv(b: GraphBuilder, x: string, name: string, oc: number, seed: number): string {
  const r = mulberry32(seed);
  const ic = b.tensor(x).shape[3];
  const w = b.addConstant(`${name}/w`, [1, 1, ic, oc], 'float32', Float32Array.from({ length: ic * oc }, () => r() * 2 - 1));
  return b.emit(name, 'Conv2D', [x, w], { strides: [1, 1], padding: 'VALID', dilations: [1, 1], activation: 'none' })[0];
}

/** input -> conv c1 -> conv c2 -> Sigmoid sig -> conv c3: one op of each precision in the mixed tests. */
function mixedGraph(name: string): Graph {
  const b = new GraphBuilder(name);
  const x = b.addInput('input', [1, 4, 4, 2]);
  const c1 = conv(b, x, 'c1', 3, 7);
  const c2 = conv(b, c1, 'c2', 3, 8);
  const s = b.emit('sig', 'Sigmoid', [c2], {})[0];
  const c3 = conv(b, s, 'c3', 2, 9);
  return b.build([c3], { source: name, format: 'built', notes: [] });
}

/** input -> conv a (range [-3, 5]) and conv s -> sigmoid; concat(a, sigmoid) -> maxpool. */
function concatConvSigmoid(): Graph {
  const b = new GraphBuilder('cat');
  const x = b.addInput('input', [1, 4, 4, 2]);
  const a = conv(b, x, 'a', 3, 1);
  const s = b.emit('sig', 'Sigmoid', [conv(b, x, 's', 2, 2)], {})[0];
  const cat = b.emit('cat', 'Concat', [a, s], { axis: 3 })[0];
  const pool = b.emit('pool', 'MaxPool', [cat], { filter: [2, 2], strides: [2, 2], padding: 'VALID' })[0];
  return b.build([pool], { source: 'cat', format: 'built', notes: [] });
}

const RANGES = new Map([
  ['a', { min: -3, max: 5 }],
  ['s', { min: -4, max: 4 }],
  ['sig', { min: 0.02, max: 0.98 }],
  ['cat', { min: -3, max: 5 }],
  ['pool', { min: -3, max: 5 }],
]);

function plan(graph: Graph, precisionOf?: (n: IrNode) => Precision, ranges = RANGES): QuantPlan {
  return buildPlan(graph, ranges, { quantOf, precisionOf, inputParams: new Map([['input', INPUT_PARAMS]]) });
}

const params = (p: QuantPlan, t: string) => ({ scale: p.tensors.get(t)!.scale![0], zeroPoint: p.tensors.get(t)!.zeroPoint![0] });

describe('quantization plan', () => {
  it('Concat(conv, sigmoid): only the sigmoid, whose parameters are fixed elsewhere, is requantized', () => {
    const p = plan(concatConvSigmoid());
    const want = chooseActivationParams(-3, 5);
    // conv a, the concat and the max pool (a copy) share one group with the union range.
    for (const t of ['a', 'cat', 'pool']) expect(params(p, t), t).to.deep.equal(want);
    expect(p.tensors.get('a')!.group).to.equal(p.tensors.get('cat')!.group);
    expect(params(p, 'sig')).to.deep.equal({ scale: 1 / 256, zeroPoint: -128 });
    const conversions = p.steps.filter((s) => s.kind === 'convert');
    expect(conversions).to.deep.equal([{ kind: 'convert', op: 'QUANTIZE', from: 'sig', to: 'sig/requantized_for_cat', reason: 'requantize' }]);
    expect(params(p, 'sig/requantized_for_cat')).to.deep.equal(want);
    expect(p.tensors.get('sig/requantized_for_cat')!.origin).to.deep.equal({ kind: 'requantized', from: 'sig', for: 'cat' });
    const cat = p.steps.find((s) => s.kind === 'op' && s.node === 'cat');
    expect(cat).to.include({ precision: 'int8' });
    expect((cat as { inputs: string[] }).inputs).to.deep.equal(['a', 'sig/requantized_for_cat']);
    expect(p.notes).to.deep.equal(["cat: input 'sig' is requantized (its parameters are fixed elsewhere)"]);
  });

  it('two sigmoids into a concat whose range they hold: tied, no requantization', () => {
    const b = new GraphBuilder('cat2');
    const x = b.addInput('input', [1, 4, 4, 2]);
    const s1 = b.emit('s1', 'Sigmoid', [conv(b, x, 'c1', 2, 3)], {})[0];
    const s2 = b.emit('s2', 'Sigmoid', [conv(b, x, 'c2', 2, 4)], {})[0];
    const cat = b.emit('cat', 'Concat', [s1, s2], { axis: 3 })[0];
    const ranges = new Map([
      ['c1', { min: -2, max: 2 }], ['c2', { min: -2, max: 2 }], ['s1', { min: 0.1, max: 0.9 }], ['s2', { min: 0.1, max: 0.9 }], ['cat', { min: 0.1, max: 0.9 }],
    ]);
    const p = plan(b.build([cat], { source: 'cat2', format: 'built', notes: [] }), undefined, ranges);
    expect(p.steps.filter((s) => s.kind === 'convert')).to.deep.equal([]);
    expect(params(p, 'cat')).to.deep.equal({ scale: 1 / 256, zeroPoint: -128 });
  });

  it('a copy op (Reshape) takes the fixed parameters of what it copies (a hard tie); Tanh has its own', () => {
    const b = new GraphBuilder('copy');
    const x = b.addInput('input', [1, 4, 4, 2]);
    const t = b.emit('t', 'Tanh', [conv(b, x, 'c', 2, 5)], {})[0];
    const s = b.emit('s', 'Sigmoid', [t], {})[0];
    const r = b.emit('r', 'Reshape', [s], { shape: [1, 32] })[0];
    const g = b.build([r], { source: 'copy', format: 'built', notes: [] });
    const p = plan(g, undefined, new Map([['c', { min: -2, max: 2 }], ['t', { min: -1, max: 1 }], ['s', { min: 0.2, max: 0.8 }], ['r', { min: 0.2, max: 0.8 }]]));
    expect(params(p, 't')).to.deep.equal({ scale: 1 / 128, zeroPoint: 0 });
    expect(params(p, 'r')).to.deep.equal({ scale: 1 / 256, zeroPoint: -128 });
    expect(p.tensors.get('r')!.group).to.equal(p.tensors.get('s')!.group);
    expect(p.tensors.get('r')!.origin).to.deep.equal({ kind: 'fixed', by: 'LOGISTIC int8 output', via: 's' });
  });

  it('a constant read by a concat is written in the concat group parameters, its range part of the group', () => {
    const b = new GraphBuilder('catk');
    const x = b.addInput('input', [1, 4, 4, 2]);
    const c = conv(b, x, 'c', 2, 6);
    const k = b.addConstant('k', [1, 4, 4, 1], 'float32', new Float32Array(16).fill(9));
    const cat = b.emit('cat', 'Concat', [c, k], { axis: 3 })[0];
    const p = plan(b.build([cat], { source: 'catk', format: 'built', notes: [] }), undefined, new Map([['c', { min: -1, max: 2 }], ['cat', { min: -1, max: 2 }]]));
    const want = chooseActivationParams(-1, 9);
    expect(params(p, 'cat')).to.deep.equal(want);
    const kt = p.tensors.get('k@cat')!;
    expect(kt).to.include({ name: 'k', dtype: 'int8', role: 'constant' });
    expect(kt.scale).to.deep.equal([want.scale]);
    // 9 / scale + zp, saturated at 127 (9 is the top of the range).
    expect(Array.from(kt.data as Int8Array).every((v) => v === Math.min(127, Math.round(9 / want.scale) + want.zeroPoint))).to.equal(true);
  });

  it('precision conversions are steps: int8 -> int16 QUANTIZE, int16 -> float DEQUANTIZE, float -> int8 QUANTIZE', () => {
    const g = mixedGraph('mixed');
    const prec: Record<string, Precision> = { c1: 'int8', c2: 'int16', sig: 'float', c3: 'int8' };
    const ranges = new Map([['c1', { min: -2, max: 2 }], ['c2', { min: -3, max: 1 }], ['sig', { min: 0, max: 1 }], ['c3', { min: -1, max: 1 }]]);
    const p = plan(g, (n) => prec[n.name], ranges);
    const steps = p.steps.map((st) => (st.kind === 'op' ? `${st.node}:${st.precision}` : `${st.op} ${st.from}->${st.to}`));
    expect(steps).to.deep.equal(['c1:int8', 'QUANTIZE c1->c1/int16', 'c2:int16', 'DEQUANTIZE c2->c2/float32', 'sig:float', 'QUANTIZE sig->sig/int8', 'c3:int8']);
    expect(p.tensors.get('c1/int16')).to.include({ dtype: 'int16' });
    expect(params(p, 'c1/int16')).to.deep.equal(chooseInt16ActivationParams(-2, 2));
    expect(params(p, 'c2')).to.deep.equal(chooseInt16ActivationParams(-3, 1));
    expect(p.tensors.get('c2#bias')).to.include({ dtype: 'int64' });
    expect(p.tensors.get('sig')).to.include({ dtype: 'float32' });
    // The float sigmoid's int8 copy is calibrated from the sigmoid's range, not fixed at 1/256.
    expect(params(p, 'sig/int8')).to.deep.equal(chooseActivationParams(0, 1));
    expect(planPrecisionSummary(p)).to.deep.include({ int8: 2, int16: 1, float: 1, conversions: 3 });
    const printed = formatPlan(p);
    expect(printed).to.contain('plan (quantized): 2 int8 ops, 1 int16 ops, 1 float ops, 3 precision conversions');
    expect(printed).to.contain('QUANTIZE c1 -> c1/int16 (precision)');
    const json = JSON.parse(JSON.stringify(planToJson(p)));
    expect(json.tensors.find((t: { name: string }) => t.name === 'c2').dtype).to.equal('int16');
    expect(json.tensors.some((t: { data?: unknown }) => t.data !== undefined)).to.equal(false);
  });

  it('the float plan has only float32 activations, weights and biases', () => {
    const p = buildPlan(concatConvSigmoid(), new Map(), { mode: 'float', quantOf });
    for (const t of p.tensors.values()) expect(t.dtype, t.name).to.equal('float32');
    expect(p.steps.every((s) => s.kind === 'op' && s.precision === 'float')).to.equal(true);
  });

  it('a precision an op cannot have is an error naming the node', () => {
    const g = concatConvSigmoid();
    const restricted = (n: IrNode): OpQuant => (n.op === 'MaxPool' ? { ...quantOf(n), precisions: ['int8', 'float'] } : quantOf(n));
    expect(() => buildPlan(g, RANGES, { quantOf: restricted, precisionOf: () => 'int16', inputParams: new Map([['input', INPUT_PARAMS]]) })).to.throw(
      "plan: node 'pool' (MaxPool) cannot be written in int16 (its op supports int8, float)",
    );
  });
});

describe('recipes with precision', () => {
  const samples = () => {
    const r = mulberry32(11);
    return Array.from({ length: 4 }, () => Float32Array.from({ length: 32 }, () => Math.round(r() * 255) / 255));
  };

  it('an override naming no layer is an error listing close names', async () => {
    let msg = '';
    try {
      await quantizeInt8(concatConvSigmoid(), { representativeDataset: samples(), backend: 'wasm', recipe: { overrides: [{ match: 'sigg', precision: 'int16' }] } });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).to.match(/^recipe\.overrides\[0\]: 'sigg' names no node or tensor of the model; close names: sig, /);
  });

  it('an unknown precision is an error', async () => {
    let msg = '';
    try {
      await quantizeInt8(concatConvSigmoid(), { representativeDataset: samples(), backend: 'wasm', recipe: { overrides: [{ match: 'sig', precision: 'int4' as never }] } });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).to.equal("recipe.overrides[0]: precision 'int4' is not one of int8, int16, float");
  });

  it('mixed int8 / int16 / float model: LiteRT output within the int8 output step of the float graph; the report says it is not full-integer', async () => {
    const graph = mixedGraph('mixed-run');
    const calib = samples();
    const { tflite, report } = await quantizeInt8(graph, {
      representativeDataset: calib,
      backend: 'wasm',
      recipe: { overrides: [{ match: 'c2', precision: 'int16' }, { match: 'sig', precision: 'float' }] },
    });
    expect(report.allInteger).to.equal(false);
    expect(report.precision.notInt8).to.deep.equal([{ node: 'c2', op: 'Conv2D', precision: 'int16' }, { node: 'sig', op: 'Sigmoid', precision: 'float' }]);
    // inspect reads the same from the file alone (ops by output dtype; conversions apart).
    const inspected = inspectTflite(tflite);
    expect(inspected.precision).to.deep.include({ int8: 2, int16: 1, float: 1, conversions: 3 });
    expect(inspected.precision.notInt8.map((o) => `${o.op}:${o.precision}`)).to.deep.equal(['CONV_2D:int16', 'LOGISTIC:float']);
    expect(formatInspectReport(inspected)).to.contain('NOT full-integer');
    expect(formatQuantizeReport(report)).to.contain('precision: mixed - 2 ops int8, 1 int16 (c2), 1 float (sig); 3 precision conversions; NOT full-integer (float ops)');
    expect(formatQuantizeReport(report, { plan: true })).to.contain('c2 (Conv2D) int16');
    // No head family and no float tail: the report says it treated the graph as a plain model.
    expect(report.head.treatment).to.equal('none');
    expect(formatQuantizeReport(report)).to.contain('model: no detection head or float tail found (a plain model)');
    expect(formatQuantizeReport({ ...report, head: { treatment: 'keep', family: 'x' } })).to.not.contain('a plain model');
    const types = readTflite(tflite).subgraphs[0].tensors.map((t) => dtypeName(t.type));
    expect(new Set(types)).to.deep.equal(new Set(['int8', 'int16', 'int64', 'float32', 'int32']));
    const runner = await TfliteRunner.load(tflite);
    const exec = await createFloatExecutor(graph, { backend: 'wasm' });
    try {
      for (const input of calib) {
        const q = int8FromUnit(input);
        const y = (await runner.run([q]))[0] as Int8Array;
        const o = runner.outputs[0];
        const ref = (await exec.run({ input }, ['c3'])).c3;
        for (let i = 0; i < ref.length; i++) {
          // c3 reads int8 sigmoid values (step 1/255 of [0,1]) with weights |w| <= 1 over 3 channels:
          // output rounding (half a step), input rounding 3 x 0.5/255, weight rounding, upstream int16.
          expect(Math.abs((y[i] - o.zeroPoint!) * o.scale! - ref[i])).to.be.at.most(2 * o.scale! + 3 * (0.5 / 255));
        }
      }
    } finally {
      runner.dispose();
      exec.dispose();
    }
  });
});
