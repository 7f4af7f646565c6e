// A ReLU after a Concat must not be fused into the CONCATENATION: TFLite's kernel refuses any fused
// activation (concatenation.cc Prepare: activation must be NONE), in every dtype; only XNNPACK's int8 /
// float path ran such a file, so an int16 concat with a ReLU (as the accuracy search writes) was refused
// (seen on the zoo's CenterNet). The file must run in LiteRT and match max(concat, 0) by hand.
import { expect } from 'chai';
import { GraphBuilder } from '../../lib/graph/builder.js';
import type { Graph } from '../../lib/ir/graph.js';
import { quantizeInt8 } from '../../lib/yolo/quantize.js';
import { readTflite } from '../../lib/tflite/reader.js';
import { writeTflite } from '../../lib/tflite/writer.js';
import { checkTflite } from '../../lib/tflite/check.js';
import { builtinOperatorName } from '../../lib/tflite/operators.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { dequantizeOutput } from '../../lib/pipeline/quantize.js';
import { mulberry32 } from '../../lib/util/random.js';
import { int8FromUnit } from '../support/int8-input.js';

/** input [1,4,4,2] -> two 1x1 convs -> Concat -> Relu; the weights are returned for the hand reference. */
function concatRelu(): { graph: Graph; weights: Float32Array[] } {
  const b = new GraphBuilder('concat-relu');
  const x = b.addInput('input', [1, 4, 4, 2]);
  const r = mulberry32(3);
  const weights = [3, 2].map((oc) => Float32Array.from({ length: 2 * oc }, () => r() * 2 - 1));
  const convs = weights.map((w, i) => {
    const wt = b.addConstant(`c${i}/w`, [1, 1, 2, w.length / 2], 'float32', w);
    return b.emit(`c${i}`, 'Conv2D', [x, wt], { strides: [1, 1], padding: 'VALID', dilations: [1, 1], activation: 'none' })[0];
  });
  const cat = b.emit('cat', 'Concat', convs, { axis: 3 })[0];
  const y = b.emit('relu', 'Relu', [cat], {})[0];
  return { graph: b.build([y], { source: 'concat-relu', format: 'built', notes: [] }), weights };
}

/** max(concat(x W0, x W1), 0) per pixel, by hand. */
function reference(x: Float32Array, weights: Float32Array[]): Float32Array {
  const out: number[] = [];
  for (let p = 0; p < 16; p++) {
    for (const w of weights) {
      const oc = w.length / 2;
      for (let o = 0; o < oc; o++) out.push(Math.max(0, x[2 * p] * w[o] + x[2 * p + 1] * w[oc + o]));
    }
  }
  return Float32Array.from(out);
}

describe('Concat followed by a ReLU', function () {
  for (const precision of ['int16', 'float'] as const) {
    it(`with the concat in ${precision}: CONCATENATION has no fused activation and LiteRT runs the file`, async () => {
      const { graph, weights } = concatRelu();
      const r = mulberry32(9);
      const samples = Array.from({ length: 8 }, () => Float32Array.from({ length: 32 }, () => Math.round(r() * 255) / 255));
      const { tflite } = await quantizeInt8(graph, {
        representativeDataset: samples,
        backend: 'wasm',
        recipe: { overrides: [{ match: 'cat', precision }, { match: 'relu', precision }] },
      });
      const m = readTflite(tflite);
      const concats = m.subgraphs[0].operators.filter((op) => builtinOperatorName(m.operatorCodes[op.opcodeIndex].builtinCode) === 'CONCATENATION');
      expect(concats.length).to.equal(1);
      expect(concats[0].builtinOptions?.fusedActivationFunction ?? 0).to.equal(0); // ActivationFunctionType NONE
      const runner = await TfliteRunner.load(tflite);
      try {
        const x = samples[0];
        const got = dequantizeOutput((await runner.run([int8FromUnit(x)]))[0], runner.outputs[0]);
        const want = reference(x, weights);
        let maxErr = 0;
        for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - want[i]));
        // int8 input and output around int16/float inner ops: a few int8 output steps at most.
        expect(maxErr).to.be.below(0.05);
      } finally {
        runner.dispose();
      }
    });
  }
});

describe('checkTflite: a CONCATENATION with a fused activation', function () {
  it('the int16 file with a RELU fused back into its CONCATENATION: the checker names the op, LiteRT refuses it too', async () => {
    const { graph } = concatRelu();
    const r = mulberry32(9);
    const samples = Array.from({ length: 8 }, () => Float32Array.from({ length: 32 }, () => Math.round(r() * 255) / 255));
    const { tflite } = await quantizeInt8(graph, {
      representativeDataset: samples,
      backend: 'wasm',
      recipe: { overrides: [{ match: 'cat', precision: 'int16' }, { match: 'relu', precision: 'int16' }] },
    });
    const m = readTflite(tflite);
    const concat = m.subgraphs[0].operators.find((op) => builtinOperatorName(m.operatorCodes[op.opcodeIndex].builtinCode) === 'CONCATENATION')!;
    concat.builtinOptions = { ...concat.builtinOptions, fusedActivationFunction: 1 }; // RELU
    const edited = writeTflite(m);
    const result = checkTflite(edited, { label: 'edited.tflite' });
    expect(result.violations.map((v) => `${v.where}: [${v.rule}] ${v.message}`)).to.deep.equal([
      `operator ${m.subgraphs[0].operators.indexOf(concat)} CONCATENATION (output 'cat'): [op-options] fused activation RELU (1); TFLite's CONCATENATION kernel accepts only NONE (put the activation in an op of its own)`,
    ]);
    // What LiteRT says with the checker bypassed: the int16 CONCATENATION kernel's Prepare fails.
    let refusal: string | undefined;
    try {
      const runner = await TfliteRunner.load(edited, { check: false });
      try {
        await runner.run([new Int8Array(32)]);
      } finally {
        runner.dispose();
      }
    } catch (e) {
      refusal = (e as Error).message;
    }
    expect(refusal, 'LiteRT refuses it').to.be.a('string');
  });
});
