// A TFLite source whose CONCATENATION carries a fused activation (the schema allows one; TFLite's own
// kernel refuses it in every dtype, XNNPACK's int8 / float path runs it) must import as Concat + a
// Relu / Relu6 node of its own, so the file we write has a CONCATENATION without one and runs in
// LiteRT in int8, int16 and float. Source: x [1,2,2,2] float -> 1x1 CONV_2D (3 channels, hand
// weights) -> CONCATENATION(x, conv, axis 3, fused RELU or RELU6) -> y [1,2,2,5]; the reference is
// computed by hand.
import { expect } from 'chai';
import { TfliteBuilder } from '../../lib/tflite/builder.js';
import { writeTflite } from '../../lib/tflite/writer.js';
import { readTflite } from '../../lib/tflite/reader.js';
import { builtinOperatorName } from '../../lib/tflite/operators.js';
import { checkTflite } from '../../lib/tflite/check.js';
import { importTflite } from '../../lib/graph/importers/tflite.js';
import { quantizeInt8 } from '../../lib/quantize/index.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { dequantizeOutput } from '../../lib/pipeline/quantize.js';
import { int8FromUnit } from '../support/int8-input.js';

/** Conv weights [out 3][in 2] and bias: outputs reach about -2.6 to +7 on inputs in [0, 1] (RELU6 clips both ends). */
const W = [[4, 3], [-2, 1.5], [1, -3]];
const BIAS = [0.25, -0.5, 0.1];
const RELU = 1;
const RELU6 = 3;

function source(activation: number): Uint8Array {
  const b = new TfliteBuilder();
  const x = b.addTensor({ name: 'x', shape: [1, 2, 2, 2], type: 'float32' });
  const w = b.addTensor({ name: 'w', shape: [3, 1, 1, 2], type: 'float32', data: Float32Array.from(W.flat()) });
  const bias = b.addTensor({ name: 'bias', shape: [3], type: 'float32', data: Float32Array.from(BIAS) });
  const c = b.addTensor({ name: 'c', shape: [1, 2, 2, 3], type: 'float32' });
  b.addOperator('CONV_2D', [x, w, bias], [c], { padding: 1, strideW: 1, strideH: 1, fusedActivationFunction: 0, dilationWFactor: 1, dilationHFactor: 1 });
  const y = b.addTensor({ name: 'y', shape: [1, 2, 2, 5], type: 'float32' });
  b.addOperator('CONCATENATION', [x, c], [y], { axis: 3, fusedActivationFunction: activation });
  b.setInputs([x]);
  b.setOutputs([y]);
  return writeTflite(b.build());
}

/** clamp(concat(x, x W^T + bias)) per pixel, by hand. */
function reference(x: Float32Array, activation: number): Float32Array {
  const hi = activation === RELU6 ? 6 : Infinity;
  const out: number[] = [];
  for (let p = 0; p < 4; p++) {
    const px = [x[2 * p], x[2 * p + 1]];
    const conv = W.map((row, o) => row[0] * px[0] + row[1] * px[1] + BIAS[o]);
    for (const v of [...px, ...conv]) out.push(Math.min(hi, Math.max(0, v)));
  }
  return Float32Array.from(out);
}

const opsOf = (bytes: Uint8Array) => {
  const m = readTflite(bytes);
  return m.subgraphs[0].operators.map((op) => ({ name: builtinOperatorName(m.operatorCodes[op.opcodeIndex].builtinCode), act: op.builtinOptions?.fusedActivationFunction }));
};

describe('TFLite CONCATENATION with a fused activation', function () {
  this.timeout(60_000);

  it('the source file itself breaks the checker rule, naming the operator', () => {
    const r = checkTflite(source(RELU), { label: 'src.tflite' });
    const v = r.violations.find((x) => x.rule === 'op-options');
    expect(v, JSON.stringify(r.violations)).to.not.equal(undefined);
    expect(`${v!.where}: ${v!.message}`).to.match(/operator 1 CONCATENATION \(output 'y'\): fused activation RELU \(1\); TFLite's CONCATENATION kernel accepts only NONE/);
  });

  for (const [actName, act, irOp] of [['RELU', RELU, 'Relu'], ['RELU6', RELU6, 'Relu6']] as const) {
    it(`${actName}: imports as Concat + ${irOp}`, async () => {
      const g = await importTflite(source(act), { label: 'src.tflite' });
      const cat = g.nodes.find((n) => n.op === 'Concat')!;
      const act2 = g.nodes.find((n) => n.op === irOp)!;
      expect(cat.attrs.activation).to.equal(undefined);
      expect(act2.inputs).to.deep.equal(cat.outputs);
      expect(g.outputs).to.deep.equal(act2.outputs);
    });

    for (const precision of ['int8', 'int16', 'float'] as const) {
      it(`${actName}, concat in ${precision}: no fused activation in the file, LiteRT runs it and matches the hand reference`, async () => {
        const graph = await importTflite(source(act), { label: 'src.tflite' });
        const samples = Array.from({ length: 6 }, (_, s) => Float32Array.from({ length: 8 }, (_, i) => ((s * 53 + i * 97) % 256) / 255));
        const { tflite } = await quantizeInt8(graph, {
          representativeDataset: samples,
          backend: 'wasm',
          ...(precision === 'int8' ? {} : { recipe: { overrides: [{ match: '/.*/', precision }] } }),
        });
        const ops = opsOf(tflite);
        const concat = ops.filter((o) => o.name === 'CONCATENATION');
        expect(concat.length).to.equal(1);
        expect(concat[0].act ?? 0).to.equal(0);
        // The activation is an op of its own after the concat.
        expect(ops.map((o) => o.name).indexOf(actName)).to.be.above(ops.map((o) => o.name).indexOf('CONCATENATION'));
        expect(checkTflite(tflite).violations).to.deep.equal([]);
        const runner = await TfliteRunner.load(tflite);
        try {
          for (const x of [samples[0], samples[3]]) {
            const got = dequantizeOutput((await runner.run([int8FromUnit(x)]))[0], runner.outputs[0]);
            const want = reference(x, act);
            const step = runner.outputs[0].scale ?? 0;
            let maxErr = 0;
            for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - want[i]));
            // int8 output: one output step of rounding plus the weights' int8 rounding (< 1 % of 7).
            expect(maxErr, `${precision} max error ${maxErr} (output step ${step})`).to.be.below(step + 0.08);
          }
        } finally {
          runner.dispose();
        }
      });
    }
  }
});
