// Quantized .tflite files imported as the float graph they approximate: dynamic-range models
// (int8 weights, float compute) and full-integer models (int8 weights and activations, QUANTIZE /
// DEQUANTIZE at the edges). References: hand calculations on models made with the project's own
// TFLite builder, and the real LiteRT runtime running the quantized files themselves.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { TfliteBuilder, type TensorSpec } from '../../lib/tflite/builder.js';
import { writeTflite } from '../../lib/tflite/writer.js';
import { readTflite } from '../../lib/tflite/reader.js';
import { builtinOperatorName } from '../../lib/tflite/operators.js';
import type { TfliteModel } from '../../lib/tflite/model.js';
import { importTflite, graphFromTflite } from '../../lib/graph/importers/tflite.js';
import { importModel } from '../../lib/graph/importers/index.js';
import { dequantizeAffine } from '../../lib/graph/importers/tflite-dequantize.js';
import { runDefaultPasses } from '../../lib/graph/passes/index.js';
import type { Graph } from '../../lib/ir/graph.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { quantizeInput, dequantize } from '../../lib/pipeline/quantize.js';
import { exportFloatTflite } from '../../lib/yolo/quantize.js';
import { inspectTflite } from '../../lib/tflite/inspect.js';
import { mulberry32 } from '../../lib/util/random.js';
import { maxAbsDiff, runFloatGraph } from '../support/compare.js';
import { YOLOV5N_FP16, YOLOV5N_INT8, YOLOV8N_DYNAMIC, YOLOV8N_FULL_INT, YOLOV8N_INT_FLOAT_IO, requireFixtures } from '../support/fixtures.js';
import { letterboxedBus } from '../support/float-models.js';

const runIr = runFloatGraph;

/** The import error for a model given as file bytes, or as a parsed model (to carry values our writer refuses, e.g. NaN). */
async function importError(model: TfliteModel | Uint8Array, label: string): Promise<string> {
  try {
    if (model instanceof Uint8Array) await importTflite(model, { label });
    else graphFromTflite(model, {}, label);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`${label}: the import was expected to fail`);
}

describe('TFLite import of quantized sources: dequantization by hand', function () {
  it('dequantizes per tensor: real = scale * (q - zero point)', function () {
    const got = dequantizeAffine([-128, -1, 0, 5, 127], [5], { scale: [0.5], zeroPoint: [-1], axis: null });
    expect(Array.from(got)).to.deep.equal([-63.5, 0, 0.5, 3, 64]);
  });

  it('dequantizes per channel along the first and the last axis', function () {
    // [2,3] along axis 0: row r uses scale[r], zero point[r].
    const axis0 = dequantizeAffine([1, 2, 3, 4, 5, 6], [2, 3], { scale: [2, 0.5], zeroPoint: [1, -2], axis: 0 });
    expect(Array.from(axis0)).to.deep.equal([0, 2, 4, 3, 3.5, 4]);
    // [2,3] along axis 1: column c uses scale[c], zero point[c].
    const axis1 = dequantizeAffine([1, 2, 3, 4, 5, 6], [2, 3], { scale: [1, 0.5, 0.25], zeroPoint: [0, 1, 2], axis: 1 });
    expect(Array.from(axis1)).to.deep.equal([1, 0.5, 0.25, 4, 2, 1]);
    // A middle axis of [2,2,2]: the channel is the second index.
    const mid = dequantizeAffine([1, 1, 1, 1, 1, 1, 1, 1], [2, 2, 2], { scale: [1, 3], zeroPoint: [0, 0], axis: 1 });
    expect(Array.from(mid)).to.deep.equal([1, 1, 3, 3, 1, 1, 3, 3]);
  });

  /** input [1,1,1,3] -> CONV_2D 1x1 (int8 per-channel weights) -> ADD uint8 constant -> MUL DEQUANTIZE(int16 constant). */
  function dynamicRangeModel(): TfliteModel {
    const b = new TfliteBuilder();
    const x = b.addTensor({ name: 'x', shape: [1, 1, 1, 3], type: 'float32' });
    // Per-channel along axis 0 (output channels): q row o times scale[o].
    const w = b.addTensor({ name: 'w', shape: [2, 1, 1, 3], type: 'int8', data: Int8Array.from([1, -2, 3, 4, 5, -6]), quantization: { scale: [0.5, 0.25], zeroPoint: [0, 0], quantizedDimension: 0 } });
    const bias = b.addTensor({ name: 'bias', shape: [2], type: 'float32', data: Float32Array.from([0.1, -0.2]) });
    const conv = b.addTensor({ name: 'conv', shape: [1, 1, 1, 2], type: 'float32' });
    const addC = b.addTensor({ name: 'add_c', shape: [1, 1, 1, 2], type: 'uint8', data: Uint8Array.from([13, 3]), quantization: { scale: [0.1], zeroPoint: [3] } });
    const add = b.addTensor({ name: 'add', shape: [1, 1, 1, 2], type: 'float32' });
    const mulC = b.addTensor({ name: 'mul_c', shape: [1, 1, 1, 2], type: 'int16', data: Int16Array.from([2000, -500]), quantization: { scale: [0.001], zeroPoint: [0] } });
    const mulF = b.addTensor({ name: 'mul_f', shape: [1, 1, 1, 2], type: 'float32' });
    const y = b.addTensor({ name: 'y', shape: [1, 1, 1, 2], type: 'float32' });
    b.addOperator('CONV_2D', [x, w, bias], [conv], { padding: 1, strideW: 1, strideH: 1, fusedActivationFunction: 0, dilationWFactor: 1, dilationHFactor: 1 });
    b.addOperator('ADD', [conv, addC], [add], { fusedActivationFunction: 0 });
    // Weight-only quantization: a DEQUANTIZE of a constant folds into a float32 constant.
    b.addOperator('DEQUANTIZE', [mulC], [mulF]);
    b.addOperator('MUL', [add, mulF], [y], { fusedActivationFunction: 0 });
    b.setInputs([x]);
    b.setOutputs([y]);
    return b.build();
  }

  it('imports int8 per-channel, uint8 and int16 constants as float32 (dynamic-range)', async function () {
    const g = await importTflite(writeTflite(dynamicRangeModel()), { label: 'dyn.tflite' });
    const conv = g.nodes.find((n) => n.op === 'Conv2D')!;
    const filter = g.tensors.get(conv.inputs[1])!;
    // OHWI [[1,-2,3] * 0.5, [4,5,-6] * 0.25] = [[0.5,-1,1.5],[1,1.25,-1.5]] -> HWIO [1,1,3,2].
    expect(filter.shape).to.deep.equal([1, 1, 3, 2]);
    expect(Array.from(filter.data!)).to.deep.equal([0.5, 1, -1, 1.25, 1.5, -1.5]);
    expect(Array.from(g.tensors.get('add_c')!.data!)).to.deep.equal([Math.fround(Math.fround(0.1) * 10), 0]);
    expect(Array.from(g.tensors.get('mul_f')!.data!)).to.deep.equal([Math.fround(Math.fround(0.001) * 2000), Math.fround(Math.fround(0.001) * -500)]);
    expect(g.nodes.map((n) => n.op)).to.deep.equal(['Conv2D', 'Add', 'Mul']);
    expect(g.meta.sourceQuantization).to.equal('dynamic-range');
    expect(g.meta.notes.join('\n')).to.match(/weights were already .*int8.*-rounded by the source model \(dynamic-range\): 3 quantized constants .*\(1 per channel, 2 per tensor\)/);
    // x = [1,2,3]: conv = [0.5-2+4.5+0.1, 1+2.5-4.5-0.2] = [3.1, -1.2]; + [1, 0]; * [2, -0.5] = [8.2, 0.6].
    const out = (await runIr(g, Float32Array.from([1, 2, 3])))['y'];
    expect(out[0]).to.be.closeTo(8.2, 1e-5);
    expect(out[1]).to.be.closeTo(0.6, 1e-5);
  });

  it('rejects bad quantization parameters with errors naming the tensor and the file', async function () {
    const withWeights = (quantization: TensorSpec['quantization']) => {
      const m = dynamicRangeModel();
      const t = m.subgraphs[0].tensors.find((x) => x.name === 'w')!;
      if (quantization) t.quantization = { scale: quantization.scale, zeroPoint: quantization.zeroPoint, quantizedDimension: quantization.quantizedDimension ?? 0 };
      else delete t.quantization;
      return m;
    };
    expect(await importError(writeTflite(withWeights(undefined)), 'noscale.tflite')).to.match(/^noscale\.tflite: constant tensor 'w' \(int8 \[2,1,1,3\]\) has no quantization scales/);
    expect(await importError(withWeights({ scale: [], zeroPoint: [] }), 'empty.tflite')).to.match(/^empty\.tflite: constant tensor 'w' .*has no quantization scales/);
    expect(await importError(withWeights({ scale: [0.5, 0.25], zeroPoint: [0, 0], quantizedDimension: 4 }), 'axis.tflite'))
      .to.match(/^axis\.tflite: constant tensor 'w' .*per channel along axis 4, which is out of range for rank 4/);
    expect(await importError(withWeights({ scale: [0.5, 0.25, 1], zeroPoint: [0, 0, 0], quantizedDimension: 0 }), 'count.tflite'))
      .to.match(/^count\.tflite: constant tensor 'w' .*has 3 per-channel scales along axis 0, which has length 2/);
    expect(await importError(withWeights({ scale: [0.5, 0.25], zeroPoint: [0], quantizedDimension: 0 }), 'zp.tflite'))
      .to.match(/^zp\.tflite: constant tensor 'w' .*2 quantization scales but 1 zero points/);
    for (const bad of [0, -1, NaN, Infinity]) {
      expect(await importError(withWeights({ scale: [0.5, bad], zeroPoint: [0, 0], quantizedDimension: 0 }), 'scale.tflite'))
        .to.match(new RegExp(`^scale\\.tflite: constant tensor 'w' .*quantization scale ${bad} at index 1; scales must be finite and > 0`));
    }
    expect(await importError(withWeights({ scale: [0.5, 0.25], zeroPoint: [0, 200], quantizedDimension: 0 }), 'zprange.tflite'))
      .to.match(/^zprange\.tflite: constant tensor 'w' .*zero point 200 at index 1; expected an integer in \[-128, 127\]/);
    // An integer model input without parameters has no defined float meaning.
    const m = dynamicRangeModel();
    Object.assign(m.subgraphs[0].tensors[0], { type: 9 });
    expect(await importError(m, 'input.tflite')).to.match(/^input\.tflite: input 'x' \(int8 \[1,1,1,3\]\) has no quantization scales/);
  });

  describe('a tiny full-integer model in LiteRT', function () {
    const H = 5, W = 5, CI = 2, CO = 3;
    const inQ = { scale: 0.02, zeroPoint: 3 };
    const wScale = [0.01, 0.02, 0.005];
    const rnd = mulberry32(99);
    const input = Float32Array.from({ length: H * W * CI }, () => rnd() * 2.5 - 1);
    const wQ = Int8Array.from({ length: CO * 3 * 3 * CI }, () => Math.floor(rnd() * 255) - 127);
    const biasQ = Int32Array.from({ length: CO }, () => Math.floor(rnd() * 2000) - 1000);
    const biasScale = wScale.map((s) => inQ.scale * s);
    // Real weights and biases, by hand from their definition.
    const wReal = Float32Array.from(wQ, (q, i) => Math.fround(wScale[Math.floor(i / (9 * CI))]) * q);
    const bReal = Float32Array.from(biasQ, (q, o) => Math.fround(biasScale[o]) * q);
    // Float NHWC 3x3 SAME convolution (OHWI weights): used to choose the output ranges.
    const convF = new Float32Array(H * W * CO);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let o = 0; o < CO; o++) {
      let acc = bReal[o];
      for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) {
        const iy = y + ky - 1, ix = x + kx - 1;
        if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
        for (let c = 0; c < CI; c++) acc += input[(iy * W + ix) * CI + c] * wReal[((o * 3 + ky) * 3 + kx) * CI + c];
      }
      convF[(y * W + x) * CO + o] = acc;
    }
    // 5% margin: the int8-grid input LiteRT sees moves the results a little, and a clamped value
    // would add an error the rounding bound below does not cover.
    let lo = 0, hi = 0;
    for (const v of convF) { lo = Math.min(lo, 1.05 * v); hi = Math.max(hi, 1.05 * v); }
    const convQ = { scale: (hi - lo) / 255, zeroPoint: Math.round(-128 - lo / ((hi - lo) / 255)) };
    // The requantizing QUANTIZE (int8 -> int8) widens the range by 10%.
    const outQ = { scale: (1.1 * (hi - lo)) / 255, zeroPoint: Math.round(-128 - (1.1 * lo) / ((1.1 * (hi - lo)) / 255)) };

    /** float -> QUANTIZE -> CONV_2D int8 -> QUANTIZE (requantize) -> DEQUANTIZE -> float, or the same with int8 I/O. */
    function fullIntegerModel(io: 'float32' | 'int8'): Uint8Array {
      const b = new TfliteBuilder();
      const q = (p: { scale: number; zeroPoint: number }) => ({ scale: [p.scale], zeroPoint: [p.zeroPoint] });
      const x = b.addTensor({ name: 'input', shape: [1, H, W, CI], type: io, ...(io === 'int8' ? { quantization: q(inQ) } : {}) });
      const xq = io === 'int8' ? x : b.addTensor({ name: 'input_q', shape: [1, H, W, CI], type: 'int8', quantization: q(inQ) });
      const w = b.addTensor({ name: 'w', shape: [CO, 3, 3, CI], type: 'int8', data: wQ, quantization: { scale: wScale, zeroPoint: [0, 0, 0], quantizedDimension: 0 } });
      const bias = b.addTensor({ name: 'b', shape: [CO], type: 'int32', data: biasQ, quantization: { scale: biasScale, zeroPoint: [0, 0, 0], quantizedDimension: 0 } });
      const conv = b.addTensor({ name: 'conv', shape: [1, H, W, CO], type: 'int8', quantization: q(convQ) });
      const req = b.addTensor({ name: io === 'int8' ? 'output' : 'requant', shape: [1, H, W, CO], type: 'int8', quantization: q(outQ) });
      if (io === 'float32') b.addOperator('QUANTIZE', [x], [xq]);
      b.addOperator('CONV_2D', [xq, w, bias], [conv], { padding: 0, strideW: 1, strideH: 1, fusedActivationFunction: 0, dilationWFactor: 1, dilationHFactor: 1 });
      b.addOperator('QUANTIZE', [conv], [req]);
      let out = req;
      if (io === 'float32') {
        out = b.addTensor({ name: 'output', shape: [1, H, W, CO], type: 'float32' });
        b.addOperator('DEQUANTIZE', [req], [out]);
      }
      b.setInputs([x]);
      b.setOutputs([out]);
      return writeTflite(b.build());
    }

    // What LiteRT's int8 graph sees: the input rounded to its int8 grid.
    const inputInt8 = quantizeInput(input, { dtype: 'int8', ...inQ }) as Int8Array;
    const inputOnGrid = dequantize(inputInt8, inQ.scale, inQ.zeroPoint);

    for (const io of ['float32', 'int8'] as const) {
      it(`${io} I/O: the imported float IR matches LiteRT within the two output roundings`, async function () {
        const bytes = fullIntegerModel(io);
        const g = await importTflite(bytes, { label: `tiny-${io}.tflite` });
        // QUANTIZE / DEQUANTIZE are gone; the model's input and output names stay.
        expect(g.nodes.map((n) => n.op)).to.deep.equal(['Conv2D']);
        expect(g.inputs).to.deep.equal(['input']);
        expect(g.outputs).to.deep.equal(['output']);
        expect(g.tensors.get('input')!.dtype).to.equal('float32');
        expect(g.meta.sourceQuantization).to.equal('full-integer');
        const notes = g.meta.notes.join('\n');
        expect(notes).to.match(/\(full-integer\): 1 weight constants and 1 int32\/int64 biases dequantized to float32 \(2 per channel, 0 per tensor\), 3 integer activation tensors made float32/);
        expect(notes).to.match(new RegExp(`${io === 'float32' ? 3 : 1} QUANTIZE/DEQUANTIZE ops removed`));
        if (io === 'int8') expect(notes).to.match(/input 'input' is int8 in the source \(scale 0\.02, zero point 3\): the IR input is float32 real values .*range \[-2\.62, 2\.48\]/);
        // Weights HWIO and biases equal the hand-dequantized values.
        const conv = g.nodes[0];
        const filter = g.tensors.get(conv.inputs[1])!.data as Float32Array;
        for (let o = 0; o < CO; o++) for (let k = 0; k < 9 * CI; k++) expect(filter[k * CO + o]).to.equal(wReal[o * 9 * CI + k]);
        expect(Array.from(g.tensors.get(conv.inputs[2])!.data!)).to.deep.equal(Array.from(bReal));

        const runner = await TfliteRunner.load(bytes, { label: `tiny-${io}` });
        const raw = (await runner.run(io === 'int8' ? inputInt8 : input))[0];
        runner.dispose();
        // The file stores the scale as float32: dequantize with that value.
        const lite = io === 'int8' ? dequantize(raw as Int8Array, Math.fround(outQ.scale), outQ.zeroPoint) : (raw as Float32Array);
        const ir = (await runIr(g, inputOnGrid))['output'];
        // On the same (int8-grid) input, LiteRT differs from exact float math only by rounding the
        // conv result to its int8 step and the requantized result to the output step (half a step
        // each, plus the fixed-point multipliers' ~1e-9 and float32 arithmetic's ~1e-7 relative errors).
        const bound = 0.5 * (convQ.scale + outQ.scale) * (1 + 1e-4);
        const d = maxAbsDiff(ir, lite);
        console.log(`      ${io} I/O: max |IR - LiteRT| = ${(d / outQ.scale).toFixed(3)} output steps (bound ${(bound / outQ.scale).toFixed(3)})`);
        expect(d).to.be.at.most(bound);
        // LiteRT really rounds: the values are on the output grid, not the float results.
        expect(d).to.be.greaterThan(0);
      });
    }
  });
});

describe('TFLite import of quantized sources: YOLOv8n', function () {
  this.timeout(600000);
  const DYN = YOLOV8N_DYNAMIC;
  const FULL = YOLOV8N_FULL_INT;
  const INT = YOLOV8N_INT_FLOAT_IO;
  const ANCHORS = 8400;
  let bus: Float32Array;
  let dynIr: Float32Array;

  before(async function () {
    for (const f of [DYN, FULL, INT]) requireFixtures(this, f, '../shared/fixtures/yolov8n/*.tflite');
    bus = await letterboxedBus();
    const g = runDefaultPasses(await importModel(DYN));
    dynIr = (await runIr(g, bus))[g.outputs[0]];
  });

  /** |a - b| / unit over rows [r0, r1) of an [84, 8400] output: mean, 99th percentile, max. */
  function diffStats(a: Float32Array, b: Float32Array, r0: number, r1: number, unit: number) {
    const d = new Float64Array((r1 - r0) * ANCHORS);
    for (let i = 0; i < d.length; i++) d[i] = Math.abs(a[r0 * ANCHORS + i] - b[r0 * ANCHORS + i]) / unit;
    const sorted = Float64Array.from(d).sort();
    return { mean: d.reduce((s, x) => s + x, 0) / d.length, p99: sorted[Math.floor(0.99 * (d.length - 1))], max: sorted[sorted.length - 1] };
  }
  const fmt = (s: { mean: number; p99: number; max: number }) => `mean ${s.mean.toExponential(2)}, p99 ${s.p99.toExponential(2)}, max ${s.max.toExponential(2)}`;

  /** Anchor indices of the k highest class scores (max over rows 4..83). */
  function topAnchors(out: Float32Array, k: number): number[] {
    const best = Array.from({ length: ANCHORS }, (_, j) => {
      let m = -Infinity;
      for (let c = 4; c < 84; c++) m = Math.max(m, out[c * ANCHORS + j]);
      return [m, j] as const;
    });
    return best.sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, k).map(([, j]) => j);
  }

  it('meta.sourceQuantization and notes say what each file stored (fp16 YOLOv5n: nothing)', async function () {
    const dyn = await importModel(DYN);
    expect(dyn.meta.sourceQuantization).to.equal('dynamic-range');
    expect(dyn.meta.notes.join('\n')).to.match(/weights were already int8-rounded by the source model \(dynamic-range\): 62 quantized constants dequantized to float32 \(0 per channel, 62 per tensor\); activations are float/);
    const full = await importModel(FULL);
    expect(full.meta.sourceQuantization).to.equal('full-integer');
    const fullNotes = full.meta.notes.join('\n');
    expect(fullNotes).to.match(/weights were already int8-rounded by the source model \(full-integer\): 67 weight constants and 64 int32\/int64 biases .* 2 QUANTIZE\/DEQUANTIZE ops removed/);
    expect(fullNotes).to.match(/input 'serving_default_images:0' is int8 in the source \(scale 0\.00392157, zero point -128\): the IR input is float32 .*range \[0, 1\]/);
    expect(full.inputs).to.deep.equal(['serving_default_images:0']);
    expect(full.tensors.get(full.inputs[0])!.dtype).to.equal('float32');
    const int = await importModel(INT);
    expect(int.meta.sourceQuantization).to.equal('full-integer');
    // Float I/O: the two edge QUANTIZE/DEQUANTIZE and the two inner requantizations are removed.
    expect(int.meta.notes.join('\n')).to.match(/4 QUANTIZE\/DEQUANTIZE ops removed/).and.not.match(/input '/);
    expect(int.inputs).to.deep.equal(['serving_default_images:0']);
    expect(int.outputs).to.deep.equal(['PartitionedCall:0']);
    // All three import to the same float ops (the files order some independent ops differently).
    const ops = (g: Graph) => g.nodes.map((n) => n.op).sort();
    for (const g of [full, int]) expect(ops(g)).to.deep.equal(ops(dyn));
    const fp16 = await importModel(YOLOV5N_FP16);
    expect(fp16.meta.sourceQuantization).to.equal(undefined);
    expect(fp16.meta.notes.join('\n')).to.not.match(/rounded/);
  });

  it('yolov8n_int8 (dynamic-range): the float IR matches LiteRT running the file', async function () {
    const runner = await TfliteRunner.load(DYN);
    const lite = (await runner.run(bus))[0] as Float32Array;
    runner.dispose();
    // LiteRT (XNNPACK) runs a dynamic-range CONV_2D by quantizing its float input to int8 on the fly
    // (one scale per image, 1/255 of the input's range), so each of the 62 int8-weight convs adds
    // activation rounding the float IR does not have. Measured on bus.jpg: boxes (rows 0..3, in
    // 0..1 of the input) mean 1.4e-3 (0.9 px), p99 1.2e-2, max 5.8e-2; class scores (rows 4..83,
    // probabilities, mostly ~0) mean 1.4e-6, p99 4.3e-6, max 3.1e-2. The tolerances are about 3x that
    // (an import error, e.g. a wrong scale or layout, moves boxes by tens of percent of the image).
    const boxes = diffStats(dynIr, lite, 0, 4, 1);
    const scores = diffStats(dynIr, lite, 4, 84, 1);
    console.log(`    boxes |IR - LiteRT|: ${fmt(boxes)}; scores: ${fmt(scores)}`);
    expect(boxes.mean).to.be.below(5e-3);
    expect(boxes.p99).to.be.below(4e-2);
    expect(boxes.max).to.be.below(0.15);
    expect(scores.mean).to.be.below(5e-6);
    expect(scores.p99).to.be.below(2e-5);
    expect(scores.max).to.be.below(0.1);
    // The same detections lead: top-5 anchors by class score, and their boxes within 2 px.
    const top = topAnchors(dynIr, 5);
    expect(new Set(top)).to.deep.equal(new Set(topAnchors(lite, 5)));
    for (const j of top) for (let r = 0; r < 4; r++) expect(Math.abs(dynIr[r * ANCHORS + j] - lite[r * ANCHORS + j]) * 640, `anchor ${j} row ${r}`).to.be.below(2);
  });

  for (const [name, file] of [['yolov8n_full_integer_quant (int8 I/O)', FULL], ['yolov8n_integer_quant (float I/O)', INT]] as const) {
    it(`${name}: the float IR matches LiteRT running the integer file within a few output steps`, async function () {
      const runner = await TfliteRunner.load(file);
      const fullInt = await TfliteRunner.load(FULL); // for the output parameters of the integer graph
      const inQ = fullInt.inputs[0];
      const outQ = fullInt.outputs[0];
      fullInt.dispose();
      // Both sides get the input on the int8 grid (pixel/255 rounded to scale 1/255): the float
      // input of the integer_quant file quantizes to exactly these integers.
      const q = quantizeInput(bus, { dtype: 'int8', scale: inQ.scale!, zeroPoint: inQ.zeroPoint! }) as Int8Array;
      const onGrid = dequantize(q, inQ.scale!, inQ.zeroPoint!);
      const raw = (await runner.run(runner.inputs[0].dtype === 'int8' ? q : onGrid))[0];
      runner.dispose();
      const lite = raw instanceof Int8Array ? dequantize(raw, outQ.scale!, outQ.zeroPoint!) : (raw as Float32Array);
      const g = runDefaultPasses(await importModel(file));
      const ir = (await runIr(g, onGrid))[g.outputs[0]];
      // The integer model rounds every one of ~250 activations to int8; the float IR does not. In
      // output steps (scale 1/256), measured on bus.jpg:
      //  - boxes (rows 0..3): mean 1.45, median 0.7, 81% within 2 steps, 94% within 5, p99 11.4. The
      //    DFL softmax reads logits in steps of 0.21 and writes probabilities in steps of 1/256, which
      //    moves a box side's expectation by fractions of a bin (8-32 px).
      //  - class scores (rows 4..83): mean 3e-3, p99 1.5e-2 (most are ~0 in both); the 75 values that
      //    are >= 0.05 in either differ by a median of 6.5 steps: the class logits share the head's
      //    int8 scale 0.21, and one logit step moves a sigmoid near 0.87 by 0.21 x 0.11 = 0.025 = 6.5
      //    output steps. Single anchors differ by up to ~170 steps (one score the int8 model puts at
      //    0.66 where the float weights give 0.004).
      // These are the official int8 model's own errors, not the import's: its first conv agrees with
      // LiteRT to one step, and its float IR agrees with the dynamic-range file's float IR to a mean of
      // 0.5 steps (tests below). Tolerances about 2x the measurements.
      const boxes = diffStats(ir, lite, 0, 4, outQ.scale!);
      const scores = diffStats(ir, lite, 4, 84, outQ.scale!);
      const boxSteps = Array.from({ length: 4 * ANCHORS }, (_, i) => Math.abs(ir[i] - lite[i]) / outQ.scale!);
      const within = (limit: number) => boxSteps.filter((x) => x <= limit).length / boxSteps.length;
      const active: number[] = [];
      for (let i = 4 * ANCHORS; i < 84 * ANCHORS; i++) if (Math.max(ir[i], lite[i]) >= 0.05) active.push(Math.abs(ir[i] - lite[i]) / outQ.scale!);
      active.sort((a, b) => a - b);
      const activeMedian = active[active.length >> 1];
      console.log(`    in output steps: boxes ${fmt(boxes)}, ${(100 * within(2)).toFixed(1)}% within 2, ${(100 * within(5)).toFixed(1)}% within 5; ` +
        `scores ${fmt(scores)}; ${active.length} scores >= 0.05: median ${activeMedian.toFixed(2)}`);
      expect(boxes.mean).to.be.below(3);
      expect(boxes.p99).to.be.below(25);
      expect(within(2)).to.be.above(0.7);
      expect(within(5)).to.be.above(0.88);
      expect(scores.mean).to.be.below(0.01);
      expect(scores.p99).to.be.below(0.05);
      expect(active.length).to.be.within(30, 200);
      expect(activeMedian).to.be.below(13);
      // The strongest detection is the same anchor.
      expect(topAnchors(ir, 1)).to.deep.equal(topAnchors(lite, 1));
    });
  }

  it('the first integer conv of yolov8n_full_integer_quant: IR within one output step of LiteRT', async function () {
    // Expose the first CONV_2D output as a model output, so LiteRT's int8 result can be compared
    // before rounding accumulates: it differs from float math on the same int8 input only by the
    // rounding of the result to its int8 step.
    const model = readTflite(new Uint8Array(fs.readFileSync(FULL)));
    const sg = model.subgraphs[0];
    const conv0 = sg.operators.find((op) => builtinOperatorName(model.operatorCodes[op.opcodeIndex].builtinCode) === 'CONV_2D')!;
    const convTensor = sg.tensors[conv0.outputs[0]];
    sg.outputs = [...sg.outputs, conv0.outputs[0]];
    model.signatureDefs = []; // the file's signature lists one output; LiteRT refuses a mismatch
    const runner = await TfliteRunner.load(writeTflite(model), { label: 'full-integer + conv0 output' });
    const inQ = runner.inputs[0];
    const q = quantizeInput(bus, { dtype: 'int8', scale: inQ.scale!, zeroPoint: inQ.zeroPoint! }) as Int8Array;
    const lite = (await runner.run(q))[1] as Int8Array;
    runner.dispose();
    const { scale, zeroPoint } = { scale: convTensor.quantization!.scale[0], zeroPoint: convTensor.quantization!.zeroPoint[0] };
    const g = await importModel(FULL); // no passes: the conv output keeps its tensor name
    const ir = (await runIr(g, dequantize(q, inQ.scale!, inQ.zeroPoint!), [convTensor.name]))[convTensor.name];
    let maxSteps = 0, exact = 0;
    for (let i = 0; i < ir.length; i++) {
      // LiteRT's value is the rounded, int8-clamped real value.
      const ref = Math.max(-128, Math.min(127, Math.round(ir[i] / scale) + zeroPoint));
      maxSteps = Math.max(maxSteps, Math.abs(lite[i] - ref));
      if (lite[i] === ref) exact++;
    }
    console.log(`    first conv '${convTensor.name}': max |LiteRT - round(IR)| = ${maxSteps} step(s), ${(100 * exact / ir.length).toFixed(3)}% identical`);
    // Off by one only where the real value lies within float error of a rounding boundary.
    expect(maxSteps).to.be.at.most(1);
    expect(exact / ir.length).to.be.above(0.999);
  });

  it('the three files hold the same weights: conv weights and biases within their int8 rounding', async function () {
    const convParams = (file: string) => {
      const m = readTflite(new Uint8Array(fs.readFileSync(file)));
      const sg = m.subgraphs[0];
      return sg.operators
        .filter((op) => builtinOperatorName(m.operatorCodes[op.opcodeIndex].builtinCode) === 'CONV_2D')
        .map((op) => ({ w: sg.tensors[op.inputs[1]].quantization?.scale[0] ?? 0, b: sg.tensors[op.inputs[2]].quantization?.scale[0] ?? 0 }));
    };
    const convs = async (file: string) => {
      const g = await importModel(file);
      return g.nodes.filter((n) => n.op === 'Conv2D').map((n) => ({ w: g.tensors.get(n.inputs[1])!, b: g.tensors.get(n.inputs[2])! }));
    };
    const [full, int, dyn] = [await convs(FULL), await convs(INT), await convs(DYN)];
    const [fullQ, dynQ] = [convParams(FULL), convParams(DYN)];
    expect(full).to.have.length(64);
    expect(dyn).to.have.length(64);
    let worst = 0, identical = 0;
    for (let k = 0; k < 64; k++) {
      // Both files quantize the same float weights w: |q_a s_a - w| <= s_a / 2 (0 for a float
      // tensor), so the two differ by at most (s_a + s_b) / 2. The same holds for the biases.
      expect(full[k].w.shape).to.deep.equal(dyn[k].w.shape);
      const wBound = (fullQ[k].w + dynQ[k].w) / 2;
      const wDiff = maxAbsDiff(full[k].w.data!, dyn[k].w.data!);
      expect(wDiff, `conv ${k} weights`).to.be.at.most(wBound * (1 + 1e-6));
      expect(maxAbsDiff(full[k].b.data!, dyn[k].b.data!), `conv ${k} bias`).to.be.at.most(((fullQ[k].b + dynQ[k].b) / 2) * (1 + 1e-6) + 1e-9);
      worst = Math.max(worst, wDiff / Math.max(fullQ[k].w, dynQ[k].w));
      if (wDiff === 0) identical++;
      // The float-I/O integer file is the same integer model: identical weights and biases.
      expect(Array.from(int[k].w.data!)).to.deep.equal(Array.from(full[k].w.data!));
      expect(Array.from(int[k].b.data!)).to.deep.equal(Array.from(full[k].b.data!));
    }
    console.log(`    full-integer vs dynamic-range conv weights: ${identical}/64 identical, worst ${worst.toFixed(3)} int8 steps`);
    // 62 convs have the same int8 weights and scales in both files (only the two float convs of the
    // dynamic-range file, the first conv and the DFL bins, are quantized only in the integer file).
    expect(identical).to.equal(62);
    // The float IRs of the two files agree to well within the integer model's own error.
    const g = runDefaultPasses(await importModel(FULL));
    const fullIr = (await runIr(g, bus))[g.outputs[0]];
    const boxes = diffStats(fullIr, dynIr, 0, 4, 1 / 256);
    console.log(`    float IR full-integer vs dynamic-range, boxes in steps of 1/256: ${fmt(boxes)}`);
    expect(boxes.mean).to.be.below(1);
  });

  it('exportFloatTflite(yolov8n_int8): a float32 file LiteRT runs, equal to the float IR', async function () {
    // head 'keep': the whole network as the source has it, output [1,84,8400] (the default splits the head).
    const { tflite } = await exportFloatTflite(DYN, { head: 'keep' });
    const again = await exportFloatTflite(DYN, { head: 'keep' });
    expect(Buffer.compare(Buffer.from(tflite), Buffer.from(again.tflite))).to.equal(0);
    const info = inspectTflite(tflite);
    expect(info.inputs.map((t) => [t.name, t.dtype, t.shape])).to.deep.equal([['images', 'float32', [1, 640, 640, 3]]]);
    expect(info.outputs.map((t) => [t.name, t.dtype, t.shape])).to.deep.equal([['Identity', 'float32', [1, 84, 8400]]]);
    const m = readTflite(tflite);
    expect(m.subgraphs[0].tensors.filter((t) => t.type !== 0 && t.type !== 2).map((t) => t.name)).to.deep.equal([]); // float32 / int32 only
    const runner = await TfliteRunner.load(tflite, { label: 'yolov8n float export' });
    const lite = (await runner.run(bus))[0] as Float32Array;
    runner.dispose();
    // Same float graph in two float runtimes (TF.js wasm and LiteRT XNNPACK): summation order only.
    const d = maxAbsDiff(dynIr, lite);
    console.log(`    float export in LiteRT vs float IR: max abs diff ${d.toExponential(2)}`);
    expect(d).to.be.below(1e-4);
  });
});

describe('TFLite import of quantized sources: YOLOv5n uint8 full-integer (per-channel)', function () {
  this.timeout(300000);
  before(function () { requireFixtures(this); });

  it('per-channel int8 weights dequantize to the fp16 export\'s weights within half a step', async function () {
    // Both files come from the same float weights w: |q s_o - w| <= s_o / 2 for output channel o,
    // and the fp16 file stores w with relative error <= 2^-11 (absolute 2^-25 near zero).
    const int8File = YOLOV5N_INT8;
    const m = readTflite(new Uint8Array(fs.readFileSync(int8File)));
    const sg = m.subgraphs[0];
    const scales = sg.operators
      .filter((op) => builtinOperatorName(m.operatorCodes[op.opcodeIndex].builtinCode) === 'CONV_2D')
      .map((op) => sg.tensors[op.inputs[1]].quantization!.scale);
    const int8 = await importModel(int8File);
    const fp16 = await importModel(YOLOV5N_FP16);
    expect(int8.meta.sourceQuantization).to.equal('full-integer');
    expect(int8.meta.notes.join('\n')).to.match(/input 'input_1' is uint8 in the source \(scale 0\.00392157, zero point 0\).*range \[0, 1\]/);
    const wa = int8.nodes.filter((n) => n.op === 'Conv2D').map((n) => int8.tensors.get(n.inputs[1])!);
    const wb = fp16.nodes.filter((n) => n.op === 'Conv2D').map((n) => fp16.tensors.get(n.inputs[1])!);
    expect(wa).to.have.length(60);
    let perChannel = 0, worst = 0;
    for (let k = 0; k < 60; k++) {
      const [a, b, s] = [wa[k].data as Float32Array, wb[k].data as Float32Array, scales[k]];
      expect(wa[k].shape).to.deep.equal(wb[k].shape);
      const oc = wa[k].shape[3];
      if (s.length === oc && oc > 1) perChannel++;
      for (let i = 0; i < a.length; i++) {
        const step = s.length === 1 ? s[0] : s[i % oc]; // HWIO: the output channel is the last index
        const d = Math.abs(a[i] - b[i]);
        worst = Math.max(worst, d / step);
        if (d > step / 2 + Math.abs(b[i]) * 2 ** -11 + 2 ** -25 + step * 1e-6) throw new Error(`conv ${k} element ${i}: |${a[i]} - ${b[i]}| > half of step ${step}`);
      }
    }
    console.log(`    ${perChannel}/60 convs per channel; worst |int8 - fp16| = ${worst.toFixed(3)} steps`);
    expect(perChannel).to.be.greaterThan(50);
  });
});
