// Import of the structural ops (transposed convolution, depth/space rearrangement, gathers,
// reductions, tiling, argmax, constant generators) from each source format: the imported graph,
// run by the float executor, against an independent reference - TF.js's own op or layer on the same
// data, or a hand calculation - and the real zoo models that need them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { importTfjsGraphModel } from '../../lib/graph/importers/tfjs-graph.js';
import { importTfjsLayersModel } from '../../lib/graph/importers/tfjs-layers.js';
import { importTflite } from '../../lib/graph/importers/tflite.js';
import { runDefaultPasses } from '../../lib/graph/passes/index.js';
import { createFloatExecutor } from '../../lib/graph/execute.js';
import { initBackend } from '../../lib/graph/backend.js';
import { TfliteBuilder } from '../../lib/tflite/builder.js';
import { writeTflite } from '../../lib/tflite/writer.js';
import { readTflite } from '../../lib/tflite/reader.js';
import type { TfliteModel } from '../../lib/tflite/model.js';
import type { Graph } from '../../lib/ir/graph.js';
import { mulberry32 } from '../../lib/util/random.js';
import { quantizeInt8 } from '../../lib/quantize/index.js';
import { builtinOperatorName } from '../../lib/tflite/operators.js';
import { dtypeName } from '../../lib/tflite/model.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { FIXTURES, requireFixtures } from '../support/fixtures.js';
import { loadGraphModelFromDir } from '../support/float-models.js';
import { maxAbsDiff } from '../support/compare.js';
import { int8FromUnit } from '../support/int8-input.js';

const rand = mulberry32(7);
const uniform = (n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());

async function runGraph(g: Graph, inputs: Record<string, Float32Array>, fetch?: string[]): Promise<Record<string, Float32Array>> {
  const ex = await createFloatExecutor(g, { backend: 'wasm' });
  try {
    return await ex.run(inputs, fetch);
  } finally {
    ex.dispose();
  }
}

/** A graph model directory from nodes and float32/int32 constants (values written in order). */
function writeGraphModel(nodes: object[], consts: { name: string; shape: number[]; dtype: 'float32' | 'int32'; data: number[] | Float32Array }[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'structural-'));
  const bytes = Buffer.concat(consts.map((c) => Buffer.from((c.dtype === 'int32' ? Int32Array.from(c.data) : Float32Array.from(c.data)).buffer)));
  const weights = consts.map(({ name, shape, dtype }) => ({ name, shape, dtype }));
  const constNodes = consts.map((c) => ({ name: c.name, op: 'Const', attr: { dtype: { type: c.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' } } }));
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ format: 'graph-model', modelTopology: { node: [...constNodes, ...nodes] }, weightsManifest: [{ paths: ['w.bin'], weights }] }));
  fs.writeFileSync(path.join(dir, 'w.bin'), bytes);
  return dir;
}

const placeholder = (name: string, shape: number[]) => ({ name, op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: shape.map((s) => ({ size: String(s) })) } } } });
const spatial = (s: number[]) => ({ list: { i: ['1', String(s[0]), String(s[1]), '1'] } });
const b64 = (s: string) => Buffer.from(s).toString('base64');

/**
 * Transposed convolution by hand, as the scatter it is: input pixel (iy, ix) adds x * w[ky, kx, o, i]
 * to output (iy*s - padTop + ky, ix*s - padLeft + kx); filter [kh, kw, O, I].
 */
function transposeConvRef(x: Float32Array, [n, h, w, ic]: number[], f: Float32Array, [kh, kw, oc]: number[], bias: Float32Array | undefined, [sh, sw]: number[], [oh, ow]: number[], [pt, pl]: number[]): Float32Array {
  const out = new Float32Array(n * oh * ow * oc);
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < oh * ow; p++) for (let o = 0; o < oc; o++) out[(b * oh * ow + p) * oc + o] = bias?.[o] ?? 0;
    for (let iy = 0; iy < h; iy++) for (let ix = 0; ix < w; ix++) for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
      const oy = iy * sh - pt + ky, ox = ix * sw - pl + kx;
      if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
      for (let o = 0; o < oc; o++) {
        let acc = 0;
        for (let i = 0; i < ic; i++) acc += x[((b * h + iy) * w + ix) * ic + i] * f[((ky * kw + kx) * oc + o) * ic + i];
        out[((b * oh + oy) * ow + ox) * oc + o] += acc;
      }
    }
  }
  return out;
}

/** TF's SAME padding before the data for a convolution from `out` to `inp` (the larger half goes after). */
const samePadBefore = (inp: number, out: number, k: number, s: number) => Math.floor(Math.max(0, (inp - 1) * s + k - out) / 2);

/** [kh, kw, O, I] -> OHWI. */
function hwoiToOhwi(f: Float32Array, [kh, kw, oc, ic]: number[]): Float32Array {
  const out = new Float32Array(f.length);
  for (let h = 0; h < kh; h++) for (let w = 0; w < kw; w++) for (let o = 0; o < oc; o++) for (let i = 0; i < ic; i++) out[((o * kh + h) * kw + w) * ic + i] = f[((h * kw + w) * oc + o) * ic + i];
  return out;
}

/**
 * One TRANSPOSE_CONV model (output_shape, OHWI weights, input, bias); with `mediapipe` the operator
 * is rewritten as MediaPipe's custom Convolution2DTransposeBias (input, weights, bias) with its
 * 12-byte options (padding 1 SAME / 2 VALID, stride_w, stride_h).
 */
function transposeConvTflite(xShape: number[], fHwoi: Float32Array, fShape: number[], bias: Float32Array, strides: number[], padding: 'SAME' | 'VALID', outShape: number[], mediapipe = false): TfliteModel {
  const [kh, kw, oc, ic] = fShape;
  const b = new TfliteBuilder();
  const x = b.addTensor({ name: 'x', shape: xShape, type: 'float32' });
  const os_ = b.addTensor({ name: 'output_shape', shape: [4], type: 'int32', data: Int32Array.from(outShape) });
  const w = b.addTensor({ name: 'w', shape: [oc, kh, kw, ic], type: 'float32', data: hwoiToOhwi(fHwoi, fShape) });
  const bb = b.addTensor({ name: 'bias', shape: [oc], type: 'float32', data: bias });
  const y = b.addTensor({ name: 'y', shape: outShape, type: 'float32' });
  b.addOperator('TRANSPOSE_CONV', [os_, w, x, bb], [y], { padding: padding === 'SAME' ? 0 : 1, strideW: strides[1], strideH: strides[0], fusedActivationFunction: 0 });
  b.setInputs([x]);
  b.setOutputs([y]);
  const m = b.build();
  if (!mediapipe) return m;
  m.operatorCodes = [{ builtinCode: 32, version: 1, customCode: 'Convolution2DTransposeBias' }];
  const op = m.subgraphs[0].operators[0];
  op.inputs = [x, w, bb];
  op.builtinOptionsType = 0;
  op.builtinOptions = null;
  op.customOptions = new Uint8Array(Int32Array.from([padding === 'SAME' ? 1 : 2, strides[1], strides[0]]).buffer);
  return m;
}

describe('structural ops: transposed convolution import', function () {
  before(async () => { await initBackend('wasm'); });

  it('TF.js graph Conv2DBackpropInput (stride 2, SAME, odd output) equals the scatter by hand', async () => {
    const xShape = [1, 5, 4, 3], fShape = [3, 3, 4, 3], out = [1, 9, 8, 4];
    const x = uniform(60), f = uniform(108);
    const dir = writeGraphModel([
      placeholder('x', xShape),
      { name: 'y', op: 'Conv2DBackpropInput', input: ['sizes', 'filter', 'x'], attr: { strides: spatial([2, 2]), padding: { s: b64('SAME') }, data_format: { s: b64('NHWC') }, dilations: spatial([1, 1]) } },
    ], [{ name: 'sizes', shape: [4], dtype: 'int32', data: out }, { name: 'filter', shape: fShape, dtype: 'float32', data: f }]);
    const g = runDefaultPasses(await importTfjsGraphModel(dir));
    expect(g.nodes.map((n) => n.op)).to.deep.equal(['Conv2DTranspose']);
    const got = (await runGraph(g, { x })).y;
    const want = transposeConvRef(x, xShape, f, fShape, undefined, [2, 2], [9, 8], [samePadBefore(5, 9, 3, 2), samePadBefore(4, 8, 3, 2)]);
    expect(maxAbsDiff(got, want)).to.be.below(1e-5);
  });

  it('TF.js layers Conv2DTranspose (bias, relu, SAME and VALID) equals model.predict', async () => {
    for (const padding of ['same', 'valid'] as const) {
      const model = tf.sequential({ layers: [tf.layers.conv2dTranspose({ inputShape: [5, 6, 3], filters: 4, kernelSize: [3, 4], strides: 2, padding, activation: 'relu', biasInitializer: 'randomNormal' })] });
      const x = uniform(90);
      const want = (model.predict(tf.tensor4d(x, [1, 5, 6, 3])) as tf.Tensor).dataSync();
      const g = runDefaultPasses(await importTfjsLayersModel(model));
      expect(g.nodes.map((n) => n.op)).to.deep.equal(['Conv2DTranspose']);
      const got = (await runGraph(g, { [g.inputs[0]]: x }))[g.outputs[0]];
      expect(got.length).to.equal(want.length);
      expect(maxAbsDiff(got, want), padding).to.be.below(1e-5);
      model.dispose();
    }
  });

  it('TFLite TRANSPOSE_CONV (OHWI weights, bias) equals the scatter by hand', async () => {
    const xShape = [1, 4, 4, 2], fShape = [4, 4, 3, 2], bias = uniform(3), f = uniform(96), x = uniform(32);
    for (const [padding, out] of [['SAME', [1, 8, 8, 3]], ['VALID', [1, 10, 10, 3]]] as const) {
      const g = await importTflite(writeTflite(transposeConvTflite(xShape, f, fShape, bias, [2, 2], padding, [...out])), { label: 'tc.tflite' });
      const got = (await runGraph(g, { x })).y;
      const pad = padding === 'SAME' ? samePadBefore(4, out[1], 4, 2) : 0;
      expect(maxAbsDiff(got, transposeConvRef(x, xShape, f, fShape, bias, [2, 2], [out[1], out[2]], [pad, pad])), padding).to.be.below(1e-5);
    }
  });

  it("MediaPipe Convolution2DTransposeBias sizes its output as MediaPipe's kernel does (odd input: 2n-1) and equals it", async () => {
    // MediaPipe: pad = max(0, k - (in-1) % s - 1), out = s*(in-1) + k - pad, data starts pad/2 before.
    const xShape = [1, 5, 4, 3], fShape = [2, 3, 2, 3], bias = uniform(2), f = uniform(36), x = uniform(60);
    const mp = (inp: number, k: number, s: number) => { const pad = Math.max(0, k - ((inp - 1) % s) - 1); return { out: s * (inp - 1) + k - pad, before: Math.floor(pad / 2) }; };
    const hh = mp(5, 2, 2), ww = mp(4, 3, 2);
    expect([hh.out, ww.out]).to.deep.equal([9, 8]);
    const bytes = writeTflite(transposeConvTflite(xShape, f, fShape, bias, [2, 2], 'SAME', [1, 9, 8, 2], true));
    expect(readTflite(bytes).operatorCodes[0].customCode).to.equal('Convolution2DTransposeBias');
    const g = await importTflite(bytes, { label: 'mp.tflite' });
    expect(g.tensors.get('y')!.shape).to.deep.equal([1, 9, 8, 2]);
    const got = (await runGraph(g, { x })).y;
    expect(maxAbsDiff(got, transposeConvRef(x, xShape, f, fShape, bias, [2, 2], [9, 8], [hh.before, ww.before]))).to.be.below(1e-5);
  });

  it('writes TRANSPOSE_CONV with int8 weights per output channel (OHWI axis 0), an int32 bias and version 3', async () => {
    const xShape = [1, 4, 4, 2], fShape = [3, 3, 5, 2];
    const g = await importTflite(writeTflite(transposeConvTflite(xShape, uniform(90), fShape, uniform(5), [2, 2], 'SAME', [1, 8, 8, 5])), { label: 'tc.tflite' });
    const { tflite } = await quantizeInt8(g, { representativeDataset: [uniform(32, 0, 1), uniform(32, 0, 1)], backend: 'wasm' });
    const m = readTflite(tflite);
    const sg = m.subgraphs[0];
    const op = sg.operators.find((o) => builtinOperatorName(m.operatorCodes[o.opcodeIndex].builtinCode) === 'TRANSPOSE_CONV')!;
    expect(m.operatorCodes[op.opcodeIndex].version).to.equal(3);
    const [shape, w, x, bias] = op.inputs.map((i) => sg.tensors[i]);
    expect([shape, w, x, bias].map((t) => dtypeName(t.type))).to.deep.equal(['int32', 'int8', 'int8', 'int32']);
    expect(w.shape).to.deep.equal([5, 3, 3, 2]);
    expect(w.quantization!.quantizedDimension).to.equal(0);
    expect(w.quantization!.scale.length).to.equal(5);
  });

  it('refuses Convolution2DTransposeBias with short custom options, naming the operator', async () => {
    const m = transposeConvTflite([1, 2, 2, 1], uniform(4), [2, 2, 1, 1], uniform(1), [2, 2], 'SAME', [1, 4, 4, 1], true);
    m.subgraphs[0].operators[0].customOptions = new Uint8Array(4);
    let err: Error | undefined;
    try { await importTflite(writeTflite(m), { label: 'short.tflite' }); } catch (e) { err = e as Error; }
    expect(err?.message).to.match(/^short\.tflite: CUSTOM\(Convolution2DTransposeBias\) 'y': custom options have 4 bytes/);
  });
});

describe('structural ops: transposed convolution in real models', function () {
  this.timeout(120000);
  before(async function () {
    requireFixtures(this);
    await initBackend('wasm');
  });

  it('human-models-efficientpose (3 Conv2DBackpropInput) matches tf.GraphModel.execute', async () => {
    const dir = path.join(FIXTURES, 'zoo/human-models-efficientpose');
    const g = runDefaultPasses(await importTfjsGraphModel(dir));
    expect(g.nodes.filter((n) => n.op === 'Conv2DTranspose').length).to.equal(3);
    const x = uniform(368 * 368 * 3, 0, 1);
    const model = await loadGraphModelFromDir(dir);
    const xt = tf.tensor4d(x, [1, 368, 368, 3]);
    const yt = model.execute(xt, g.outputs[0]) as tf.Tensor;
    const want = yt.dataSync() as Float32Array;
    tf.dispose([xt, yt]);
    model.dispose();
    const got = (await runGraph(g, { [g.inputs[0]]: x }))[g.outputs[0]];
    let peak = 0;
    for (const v of want) peak = Math.max(peak, Math.abs(v));
    const diff = maxAbsDiff(got, want);
    console.log(`    IR vs GraphModel max abs diff ${diff.toExponential(2)} (peak ${peak.toFixed(3)})`);
    expect(diff).to.be.below(1e-4 * Math.max(1, peak));
  });

  it("selfie_segmentation's Convolution2DTransposeBias alone equals the scatter by hand, and written as int8 TRANSPOSE_CONV runs in LiteRT", async () => {
    const src = readTflite(new Uint8Array(fs.readFileSync(path.join(FIXTURES, 'zoo/selfie_segmentation-selfie_segmentation/selfie_segmentation.tflite'))));
    const sg = src.subgraphs[0];
    const codeIndex = src.operatorCodes.findIndex((c) => c.customCode === 'Convolution2DTransposeBias');
    const op = sg.operators.find((o) => o.opcodeIndex === codeIndex)!;
    // A model of that one operator and the DEQUANTIZE ops of its float16 weights: its input becomes the model input.
    const producers = op.inputs.slice(1).map((i) => sg.operators.find((o) => o.outputs[0] === i)).filter((o) => o !== undefined);
    const ops = [...producers, op];
    const used = [...new Set(ops.flatMap((o) => [...o.inputs, ...o.outputs]))];
    const index = new Map(used.map((t, k) => [t, k]));
    const buffers: { data: Uint8Array }[] = [{ data: new Uint8Array(0) }];
    const tensors = used.map((i) => {
      const t = structuredClone(sg.tensors[i]);
      const data = src.buffers[t.buffer]?.data;
      t.buffer = data?.byteLength ? buffers.push({ data }) - 1 : 0;
      return t;
    });
    const codes = [...new Set(ops.map((o) => o.opcodeIndex))];
    const m: TfliteModel = {
      ...src, operatorCodes: codes.map((c) => src.operatorCodes[c]), buffers, metadata: [], signatureDefs: [],
      subgraphs: [{
        name: 'main', tensors, inputs: [index.get(op.inputs[0])!], outputs: [index.get(op.outputs[0])!],
        operators: ops.map((o) => ({ ...structuredClone(o), opcodeIndex: codes.indexOf(o.opcodeIndex), inputs: o.inputs.map((i) => index.get(i)!), outputs: o.outputs.map((i) => index.get(i)!) })),
      }],
    };
    const g = await importTflite(writeTflite(m), { label: 'selfie-tc.tflite' });
    const xShape = [...sg.tensors[op.inputs[0]].shape], [oc, kh, kw, ic] = sg.tensors[op.inputs[1]].shape;
    const outShape = g.tensors.get(g.outputs[0])!.shape;
    expect(outShape).to.deep.equal([...sg.tensors[op.outputs[0]].shape]);
    expect(g.nodes.map((n) => n.op)).to.deep.equal(['Conv2DTranspose']);
    const fIr = g.tensors.get(g.nodes[0].inputs[1])!.data as Float32Array;
    const bias = g.tensors.get(g.nodes[0].inputs[2])!.data as Float32Array;
    const x = uniform(xShape.reduce((a, b) => a * b, 1), 0, 1);
    const got = (await runGraph(g, { [g.inputs[0]]: x }))[g.outputs[0]];
    const opts = new DataView(op.customOptions!.buffer, op.customOptions!.byteOffset);
    const [sw, sh] = [opts.getInt32(4, true), opts.getInt32(8, true)];
    const padH = Math.max(0, kh - ((xShape[1] - 1) % sh) - 1), padW = Math.max(0, kw - ((xShape[2] - 1) % sw) - 1);
    const want = transposeConvRef(x, xShape, fIr, [kh, kw, oc, ic], bias, [sh, sw], [outShape[1], outShape[2]], [Math.floor(padH / 2), Math.floor(padW / 2)]);
    expect(maxAbsDiff(got, want)).to.be.below(1e-4);
    // Written by us as a standard TRANSPOSE_CONV with its bias, int8, and run in LiteRT.
    const { tflite } = await quantizeInt8(g, { representativeDataset: [x, uniform(x.length, 0, 1)], backend: 'wasm' });
    const written = readTflite(tflite);
    const names = written.subgraphs[0].operators.map((o) => builtinOperatorName(written.operatorCodes[o.opcodeIndex].builtinCode));
    expect(names).to.include('TRANSPOSE_CONV');
    // Reference: the scatter with the file's own int8 weights and int32 bias, on the int8 input grid
    // (weight rounding is the quantizer's choice; this checks the operator LiteRT runs).
    const sgw = written.subgraphs[0];
    const tc = sgw.operators.find((o) => builtinOperatorName(written.operatorCodes[o.opcodeIndex].builtinCode) === 'TRANSPOSE_CONV')!;
    const [, wT, xT, bT] = tc.inputs.map((i) => sgw.tensors[i]);
    const raw = (t: typeof wT, Arr: typeof Int8Array | typeof Int32Array) => new Arr(written.buffers[t.buffer].data.slice().buffer);
    const wq = raw(wT, Int8Array), bq = raw(bT, Int32Array), per = wq.length / oc;
    const wOhwi = Float32Array.from(wq, (v, i) => v * wT.quantization!.scale[Math.floor(i / per) % wT.quantization!.scale.length]);
    const fDeq = new Float32Array(wOhwi.length);
    for (let o = 0; o < oc; o++) for (let h = 0; h < kh; h++) for (let w = 0; w < kw; w++) for (let i = 0; i < ic; i++) fDeq[((h * kw + w) * oc + o) * ic + i] = wOhwi[((o * kh + h) * kw + w) * ic + i];
    const bDeq = Float32Array.from(bq, (v, o) => v * bT.quantization!.scale[o % bT.quantization!.scale.length]);
    const xGrid = Float32Array.from(x, (v) => Math.round(v * 255) / 255);
    expect(xT.quantization!.scale[0]).to.be.closeTo(1 / 255, 1e-9);
    const wantInt = transposeConvRef(xGrid, xShape, fDeq, [kh, kw, oc, ic], bDeq, [sh, sw], [outShape[1], outShape[2]], [Math.floor(padH / 2), Math.floor(padW / 2)]);
    const runner = await TfliteRunner.load(tflite, { label: 'selfie-tc-int8' });
    try {
      const [q] = await runner.run([int8FromUnit(xGrid)]);
      const o = runner.outputs[0];
      const deq = Float32Array.from(q as Int8Array, (v) => (v - o.zeroPoint!) * o.scale!);
      // Values beyond the calibrated range saturate by design: the reference is clamped to what the output holds.
      const [lo, hi] = [(-128 - o.zeroPoint!) * o.scale!, (127 - o.zeroPoint!) * o.scale!];
      for (let i = 0; i < wantInt.length; i++) wantInt[i] = Math.min(hi, Math.max(lo, wantInt[i]));
      expect(maxAbsDiff(deq, wantInt)).to.be.below(1.5 * o.scale!);
    } finally {
      runner.dispose();
    }
  });
});

/** DepthToSpace by hand (TF's DCR order): out[y*b+i, x*b+j, k] = in[y, x, (i*b + j)*c + k]. */
function depthToSpaceRef(x: Float32Array, [n, h, w, cin]: number[], b: number): Float32Array {
  const c = cin / (b * b), out = new Float32Array(x.length);
  for (let q = 0; q < n; q++) for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let i = 0; i < b; i++) for (let j = 0; j < b; j++) for (let k = 0; k < c; k++) {
    out[((q * h * b + y * b + i) * w * b + xx * b + j) * c + k] = x[((q * h + y) * w + xx) * cin + (i * b + j) * c + k];
  }
  return out;
}

describe('structural ops: DepthToSpace / SpaceToDepth import', function () {
  before(async () => { await initBackend('wasm'); });

  it('TF.js graph DepthToSpace then SpaceToDepth: the first equals the rearrangement by hand, the second undoes it', async () => {
    const shape = [1, 3, 2, 12], x = uniform(72);
    const attr = { block_size: { i: '2' }, data_format: { s: b64('NHWC') } };
    const dir = writeGraphModel([
      placeholder('x', shape),
      { name: 'd2s', op: 'DepthToSpace', input: ['x'], attr },
      { name: 'back', op: 'SpaceToDepth', input: ['d2s'], attr },
      { name: 'y', op: 'Identity', input: ['back'] },
    ], []);
    const g = await importTfjsGraphModel(dir, { outputs: ['d2s', 'back'] });
    const out = await runGraph(g, { x });
    expect(g.tensors.get('d2s')!.shape).to.deep.equal([1, 6, 4, 3]);
    expect(maxAbsDiff(out.d2s, depthToSpaceRef(x, shape, 2))).to.equal(0);
    expect(maxAbsDiff(out.back, x)).to.equal(0);
  });

  it('refuses a channels-first DepthToSpace, naming the node', async () => {
    const dir = writeGraphModel([placeholder('x', [1, 4, 2, 2]), { name: 'd2s', op: 'DepthToSpace', input: ['x'], attr: { block_size: { i: '2' }, data_format: { s: b64('NCHW') } } }], []);
    let err: Error | undefined;
    try { await importTfjsGraphModel(dir); } catch (e) { err = e as Error; }
    expect(err?.message).to.match(/node 'd2s' \(DepthToSpace\): data_format NCHW is not supported/);
  });

  it('TFLite DEPTH_TO_SPACE (block 3) equals TF.js depthToSpace; SPACE_TO_DEPTH undoes it', async () => {
    const shape = [1, 2, 2, 18], x = uniform(72);
    const b = new TfliteBuilder();
    const xi = b.addTensor({ name: 'x', shape, type: 'float32' });
    const d = b.addTensor({ name: 'd', shape: [1, 6, 6, 2], type: 'float32' });
    const s = b.addTensor({ name: 's', shape, type: 'float32' });
    b.addOperator('DEPTH_TO_SPACE', [xi], [d], { blockSize: 3 });
    b.addOperator('SPACE_TO_DEPTH', [d], [s], { blockSize: 3 });
    b.setInputs([xi]);
    b.setOutputs([d, s]);
    const g = await importTflite(writeTflite(b.build()), { label: 'd2s.tflite' });
    const out = await runGraph(g, { x });
    const want = tf.tidy(() => tf.depthToSpace(tf.tensor4d(x, shape as [number, number, number, number]), 3).dataSync());
    expect(maxAbsDiff(out.d, want)).to.equal(0);
    expect(maxAbsDiff(out.d, depthToSpaceRef(x, shape, 3))).to.equal(0);
    expect(maxAbsDiff(out.s, x)).to.equal(0);
  });
});

/** A TFLite model of one reduction (x, int32 axes constant; keep_dims). */
function reduceTflite(op: 'REDUCE_MAX' | 'REDUCE_MIN' | 'SUM' | 'REDUCE_PROD', shape: number[], axes: number[], keepDims: boolean, outShape: number[]): Uint8Array {
  const b = new TfliteBuilder();
  const x = b.addTensor({ name: 'x', shape, type: 'float32' });
  const a = b.addTensor({ name: 'axes', shape: [axes.length], type: 'int32', data: Int32Array.from(axes) });
  const y = b.addTensor({ name: 'y', shape: outShape, type: 'float32' });
  b.addOperator(op, [x, a], [y], { keepDims });
  b.setInputs([x]);
  b.setOutputs([y]);
  return writeTflite(b.build());
}

/** Reduction of a [2, 3, 4] array over axis 1 by hand. */
function reduceAxis1(x: Float32Array, f: (a: number, b: number) => number): Float32Array {
  const out = new Float32Array(8);
  for (let i = 0; i < 2; i++) for (let k = 0; k < 4; k++) {
    let acc = x[i * 12 + k];
    for (let j = 1; j < 3; j++) acc = f(acc, x[i * 12 + j * 4 + k]);
    out[i * 4 + k] = acc;
  }
  return out;
}

describe('structural ops: reductions import', function () {
  before(async () => { await initBackend('wasm'); });

  it('TF.js graph Max / Min / Sum / Prod (negative and repeated axes, keep_dims) equal the TF.js ops', async () => {
    const shape = [2, 3, 4, 5], x = uniform(120, 0.5, 1.5);
    const ops = ['Max', 'Min', 'Sum', 'Prod'] as const;
    const nodes = ops.flatMap((op, k) => [{ name: op, op, input: ['x', k % 2 ? 'axesB' : 'axesA'], attr: { keep_dims: { b: k % 2 === 0 } } }]);
    const dir = writeGraphModel([placeholder('x', shape), ...nodes], [
      { name: 'axesA', shape: [2], dtype: 'int32', data: [-1, 1] },
      { name: 'axesB', shape: [3], dtype: 'int32', data: [0, 2, -2] },
    ]);
    const g = await importTfjsGraphModel(dir, { outputs: [...ops] });
    expect(ops.map((op) => g.nodes.find((n) => n.name === op)!.attrs.axes)).to.deep.equal([[1, 3], [0, 2], [1, 3], [0, 2]]);
    const out = await runGraph(g, { x });
    const xt = tf.tensor4d(x, shape as [number, number, number, number]);
    const want = {
      Max: tf.max(xt, [1, 3], true), Min: tf.min(xt, [0, 2], false), Sum: tf.sum(xt, [1, 3], true), Prod: tf.prod(xt, [0, 2], false),
    };
    for (const op of ops) {
      expect(g.tensors.get(op)!.shape, op).to.deep.equal(want[op].shape);
      expect(maxAbsDiff(out[op], want[op].dataSync()), op).to.be.below(1e-5);
    }
    tf.dispose([xt, ...Object.values(want)]);
  });

  it('TFLite REDUCE_MAX / REDUCE_MIN / SUM / REDUCE_PROD equal the reduction by hand', async () => {
    const x = uniform(24, 0.5, 1.5);
    const cases = [
      ['REDUCE_MAX', (a: number, b: number) => Math.max(a, b)],
      ['REDUCE_MIN', (a: number, b: number) => Math.min(a, b)],
      ['SUM', (a: number, b: number) => a + b],
      ['REDUCE_PROD', (a: number, b: number) => a * b],
    ] as const;
    for (const [op, f] of cases) {
      const g = await importTflite(reduceTflite(op, [2, 3, 4], [1], false, [2, 4]), { label: `${op}.tflite` });
      const got = (await runGraph(g, { x })).y;
      expect(maxAbsDiff(got, reduceAxis1(x, f)), op).to.be.below(1e-5);
    }
  });

  it('TF.js layers GlobalMaxPooling2D equals model.predict', async () => {
    const model = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [6, 5, 2], filters: 3, kernelSize: 3, padding: 'same' }), tf.layers.globalMaxPooling2d({})] });
    const x = uniform(60);
    const want = (model.predict(tf.tensor4d(x, [1, 6, 5, 2])) as tf.Tensor).dataSync();
    const g = runDefaultPasses(await importTfjsLayersModel(model));
    expect(g.nodes.map((n) => n.op)).to.deep.equal(['Conv2D', 'Max']);
    expect(maxAbsDiff((await runGraph(g, { [g.inputs[0]]: x }))[g.outputs[0]], want)).to.be.below(1e-5);
    model.dispose();
  });

  it('human-models-gear (Max) matches tf.GraphModel.execute', async function () {
    requireFixtures(this);
    this.timeout(60000);
    const dir = path.join(FIXTURES, 'zoo/human-models-gear');
    const g = runDefaultPasses(await importTfjsGraphModel(dir));
    expect(g.nodes.some((n) => n.op === 'Max')).to.equal(true);
    const shape = g.tensors.get(g.inputs[0])!.shape;
    const x = uniform(shape.reduce((a, b) => a * b, 1), 0, 1);
    const model = await loadGraphModelFromDir(dir);
    const xt = tf.tensor(x, shape);
    const outs = g.outputs.map((o) => o.replace(/:0$/, ''));
    const yt = model.execute(xt, outs) as tf.Tensor | tf.Tensor[];
    const ys = Array.isArray(yt) ? yt : [yt];
    const got = await runGraph(g, { [g.inputs[0]]: x });
    g.outputs.forEach((o, k) => expect(maxAbsDiff(got[o], ys[k].dataSync()), o).to.be.below(1e-4));
    tf.dispose([xt, ...ys]);
    model.dispose();
  });
});

describe('structural ops: Gather / GatherNd import', function () {
  before(async () => { await initBackend('wasm'); });

  it('TF.js graph GatherV2 (2-D indices, negative axis) and GatherNd equal tf.gather / tf.gatherND', async () => {
    const shape = [2, 5, 3], x = uniform(30);
    const dir = writeGraphModel([
      placeholder('x', shape),
      { name: 'g', op: 'GatherV2', input: ['x', 'idx', 'axis'], attr: { batch_dims: { i: '0' } } },
      { name: 'gnd', op: 'GatherNd', input: ['x', 'ndidx'] },
    ], [
      { name: 'idx', shape: [2, 2], dtype: 'int32', data: [4, 0, 1, 1] },
      { name: 'axis', shape: [], dtype: 'int32', data: [-2] },
      { name: 'ndidx', shape: [3, 2], dtype: 'int32', data: [1, 4, 0, 0, 1, 2] },
    ]);
    const g = await importTfjsGraphModel(dir, { outputs: ['g', 'gnd'] });
    const out = await runGraph(g, { x });
    const xt = tf.tensor3d(x, shape as [number, number, number]);
    const wantG = tf.gather(xt, tf.tensor2d([4, 0, 1, 1], [2, 2], 'int32'), 1);
    const wantNd = tf.gatherND(xt, tf.tensor2d([1, 4, 0, 0, 1, 2], [3, 2], 'int32'));
    expect(g.tensors.get('g')!.shape).to.deep.equal([2, 2, 2, 3]);
    expect(maxAbsDiff(out.g, wantG.dataSync())).to.equal(0);
    expect(g.tensors.get('gnd')!.shape).to.deep.equal([3, 3]);
    expect(maxAbsDiff(out.gnd, wantNd.dataSync())).to.equal(0);
    tf.dispose([xt, wantG, wantNd]);
  });

  it('refuses a gather by computed indices and an index out of range, naming the node', async () => {
    const computed = writeGraphModel([placeholder('x', [4]), { name: 'g', op: 'GatherV2', input: ['x', 'x', 'axis'] }], [{ name: 'axis', shape: [], dtype: 'int32', data: [0] }]);
    let err: Error | undefined;
    try { await importTfjsGraphModel(computed, { outputs: ['g'] }); } catch (e) { err = e as Error; }
    expect(err?.message).to.match(/node 'g' \(GatherV2\): indices \(input 1, 'x'\) must be constant/);
    const outOfRange = writeGraphModel([placeholder('x', [4]), { name: 'g', op: 'GatherV2', input: ['x', 'idx', 'axis'] }], [{ name: 'idx', shape: [1], dtype: 'int32', data: [4] }, { name: 'axis', shape: [], dtype: 'int32', data: [0] }]);
    err = undefined;
    try { await importTfjsGraphModel(outOfRange); } catch (e) { err = e as Error; }
    expect(err?.message).to.match(/node 'g' \(Gather\): index 4 is out of range for dimension 0 of \[4\]/);
  });

  it('TFLite GATHER (axis option) and GATHER_ND equal the indexing by hand', async () => {
    const x = uniform(24);
    const b = new TfliteBuilder();
    const xi = b.addTensor({ name: 'x', shape: [2, 3, 4], type: 'float32' });
    const idx = b.addTensor({ name: 'idx', shape: [3], type: 'int32', data: Int32Array.from([3, 3, 0]) });
    const nd = b.addTensor({ name: 'nd', shape: [2, 3], type: 'int32', data: Int32Array.from([1, 2, 3, 0, 1, 0]) });
    const g = b.addTensor({ name: 'g', shape: [2, 3, 3], type: 'float32' });
    const gnd = b.addTensor({ name: 'gnd', shape: [2], type: 'float32' });
    b.addOperator('GATHER', [xi, idx], [g], { axis: 2, batchDims: 0 });
    b.addOperator('GATHER_ND', [xi, nd], [gnd]);
    b.setInputs([xi]);
    b.setOutputs([g, gnd]);
    const ir = await importTflite(writeTflite(b.build()), { label: 'gather.tflite' });
    const out = await runGraph(ir, { x });
    const wantG = new Float32Array(18);
    for (let i = 0; i < 6; i++) [3, 3, 0].forEach((k, j) => { wantG[i * 3 + j] = x[i * 4 + k]; });
    expect(maxAbsDiff(out.g, wantG)).to.equal(0);
    expect(Array.from(out.gnd)).to.deep.equal([x[1 * 12 + 2 * 4 + 3], x[0 * 12 + 1 * 4 + 0]]);
  });
});

describe('structural ops: Tile, ArgMax / ArgMin, Fill / ZerosLike / Range import', function () {
  before(async () => { await initBackend('wasm'); });

  it('TF.js graph Tile equals tf.tile; TFLite TILE equals the repetition by hand', async () => {
    const x = uniform(6);
    const dir = writeGraphModel([placeholder('x', [2, 3]), { name: 't', op: 'Tile', input: ['x', 'm'] }], [{ name: 'm', shape: [2], dtype: 'int32', data: [2, 3] }]);
    const g = await importTfjsGraphModel(dir);
    const want = tf.tidy(() => tf.tile(tf.tensor2d(x, [2, 3]), [2, 3]).dataSync());
    expect(maxAbsDiff((await runGraph(g, { x })).t, want)).to.equal(0);
    const b = new TfliteBuilder();
    const xi = b.addTensor({ name: 'x', shape: [3], type: 'float32' });
    const m = b.addTensor({ name: 'm', shape: [1], type: 'int32', data: Int32Array.from([2]) });
    const y = b.addTensor({ name: 'y', shape: [6], type: 'float32' });
    b.addOperator('TILE', [xi, m], [y]);
    b.setInputs([xi]);
    b.setOutputs([y]);
    const gt = await importTflite(writeTflite(b.build()), { label: 'tile.tflite' });
    expect(Array.from((await runGraph(gt, { x: x.subarray(0, 3) })).y)).to.deep.equal([...x.subarray(0, 3), ...x.subarray(0, 3)]);
  });

  it('ArgMax / ArgMin import and run in float; quantizing refuses them by name, and the graph cut before them quantizes', async () => {
    const x = uniform(24);
    const dir = writeGraphModel([
      placeholder('x', [1, 2, 3, 4]),
      { name: 'r', op: 'Relu', input: ['x'] },
      { name: 'amax', op: 'ArgMax', input: ['r', 'axis'], attr: { output_type: { type: 'DT_INT32' } } },
      { name: 'amin', op: 'ArgMin', input: ['r', 'axis'], attr: { output_type: { type: 'DT_INT32' } } },
    ], [{ name: 'axis', shape: [], dtype: 'int32', data: [-1] }]);
    const g = await importTfjsGraphModel(dir, { outputs: ['amax', 'amin'] });
    const out = await runGraph(g, { x });
    const rt = tf.relu(tf.tensor4d(x, [1, 2, 3, 4]));
    expect(Array.from(out.amax)).to.deep.equal(Array.from(tf.argMax(rt, 3).dataSync()));
    expect(Array.from(out.amin)).to.deep.equal(Array.from(tf.argMin(rt, 3).dataSync()));
    rt.dispose();
    const calib = [uniform(24, 0, 1), uniform(24, 0, 1)];
    let err: Error | undefined;
    try { await quantizeInt8(g, { representativeDataset: calib, backend: 'wasm' }); } catch (e) { err = e as Error; }
    // One error naming both ops, each once with its node (they are only folded from constant inputs).
    expect(err?.message).to.match(/folded from constant inputs only have computed inputs here: ArgMax \(1 node: amax\), ArgMin \(1 node: amin\)/);
    const cut = await importTfjsGraphModel(dir, { outputs: ['r'] });
    const { report } = await quantizeInt8(cut, { representativeDataset: calib, backend: 'wasm' });
    expect(report.allInteger).to.equal(true);
  });

  it('TF.js graph Fill, ZerosLike and Range fold to constants equal to tf.fill / tf.zerosLike / tf.range', async () => {
    const dir = writeGraphModel([
      placeholder('x', [2, 3]),
      { name: 'fill', op: 'Fill', input: ['dims', 'v'] },
      { name: 'zeros', op: 'ZerosLike', input: ['x'] },
      { name: 'range', op: 'Range', input: ['start', 'limit', 'delta'], attr: { Tidx: { type: 'DT_INT32' } } },
      { name: 'sum', op: 'AddV2', input: ['x', 'zeros'] },
      { name: 'out', op: 'AddV2', input: ['sum', 'fill'] },
    ], [
      { name: 'dims', shape: [2], dtype: 'int32', data: [2, 3] },
      { name: 'v', shape: [], dtype: 'float32', data: [0.25] },
      { name: 'start', shape: [], dtype: 'int32', data: [7] },
      { name: 'limit', shape: [], dtype: 'int32', data: [-2] },
      { name: 'delta', shape: [], dtype: 'int32', data: [-3] },
    ]);
    const g = await importTfjsGraphModel(dir, { outputs: ['out', 'range'] });
    expect(g.nodes.map((n) => n.op)).to.deep.equal(['Add', 'Add']);
    const range = g.tensors.get('range')!;
    expect(range.dtype).to.equal('int32');
    expect(Array.from(range.data!)).to.deep.equal(Array.from(tf.range(7, -2, -3, 'int32').dataSync()));
    expect(Array.from(g.tensors.get('fill')!.data!)).to.deep.equal(Array(6).fill(0.25));
    expect(Array.from(g.tensors.get('zeros')!.data!)).to.deep.equal(Array(6).fill(0));
    const x = uniform(6);
    expect(maxAbsDiff((await runGraph(g, { x }, ['out'])).out, x.map((v) => v + 0.25))).to.be.below(1e-6);
  });
});

describe('structural ops: TFLite ARG_MAX / ARG_MIN / FILL / ZEROS_LIKE / RANGE import', function () {
  before(async () => { await initBackend('wasm'); });

  it('imports ARG_MAX / ARG_MIN as float-run indices and folds FILL / ZEROS_LIKE / RANGE into constants', async () => {
    const x = uniform(12);
    const b = new TfliteBuilder();
    const xi = b.addTensor({ name: 'x', shape: [3, 4], type: 'float32' });
    const axis = b.addTensor({ name: 'axis', shape: [1], type: 'int32', data: Int32Array.from([1]) });
    const amax = b.addTensor({ name: 'amax', shape: [3], type: 'int32' });
    const amin = b.addTensor({ name: 'amin', shape: [3], type: 'int32' });
    const dims = b.addTensor({ name: 'dims', shape: [2], type: 'int32', data: Int32Array.from([3, 4]) });
    const v = b.addTensor({ name: 'v', shape: [], type: 'float32', data: Float32Array.from([2]) });
    const fill = b.addTensor({ name: 'fill', shape: [3, 4], type: 'float32' });
    const zeros = b.addTensor({ name: 'zeros', shape: [3, 4], type: 'float32' });
    const [s, l, d] = [0, 4, 2].map((k, i) => b.addTensor({ name: `r${i}`, shape: [], type: 'int32', data: Int32Array.from([k]) }));
    const range = b.addTensor({ name: 'range', shape: [2], type: 'int32' });
    const picked = b.addTensor({ name: 'picked', shape: [3, 2], type: 'float32' });
    const y = b.addTensor({ name: 'y', shape: [3, 4], type: 'float32' });
    const y2 = b.addTensor({ name: 'y2', shape: [3, 4], type: 'float32' });
    b.addOperator('ARG_MAX', [xi, axis], [amax], { outputType: 2 });
    b.addOperator('ARG_MIN', [xi, axis], [amin], { outputType: 2 });
    b.addOperator('FILL', [dims, v], [fill]);
    b.addOperator('ZEROS_LIKE', [xi], [zeros]);
    b.addOperator('RANGE', [s, l, d], [range]);
    b.addOperator('GATHER', [xi, range], [picked], { axis: 1, batchDims: 0 });
    b.addOperator('MUL', [xi, fill], [y], { fusedActivationFunction: 0 });
    b.addOperator('ADD', [y, zeros], [y2], { fusedActivationFunction: 0 });
    b.setInputs([xi]);
    b.setOutputs([amax, amin, y2, picked]);
    const bytes = writeTflite(b.build());
    // int32 model outputs cannot be int8 model outputs: the arg-max / arg-min at the end are cut, with a note.
    const cut = await importTflite(bytes, { label: 'misc.tflite' });
    expect(cut.outputs).to.deep.equal(['y2', 'picked']);
    expect(cut.meta.notes.join('\n')).to.match(/ARG_MAX x1.*ARG_MIN x1|ARG_MIN x1.*ARG_MAX x1/);
    const g = await importTflite(bytes, { label: 'misc.tflite', outputs: ['y2', 'picked'] });
    expect(g.nodes.map((n) => n.op).sort()).to.deep.equal(['Add', 'Gather', 'Mul']);
    // RANGE folded into the constant indices [0, 2] of the GATHER.
    expect(g.nodes.find((n) => n.op === 'Gather')!.attrs.indices).to.deep.equal([0, 2]);
    const out = await runGraph(g, { x }, ['y2', 'picked']);
    expect(Array.from(out.picked)).to.deep.equal([0, 1, 2].flatMap((r) => [x[r * 4], x[r * 4 + 2]]));
    expect(maxAbsDiff(out.y2, x.map((t) => 2 * t))).to.be.below(1e-6);
  });
});

/** x · y by hand over a batch: x [batch, m, k] (or [k, m] per batch when adjX), y [batch, k, n] (or [n, k] when adjY). */
function matMulRef(x: Float32Array, y: Float32Array, [batch, m, k, n]: number[], adjX: boolean, adjY: boolean): Float32Array {
  const out = new Float32Array(batch * m * n);
  for (let b = 0; b < batch; b++) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let acc = 0;
    for (let t = 0; t < k; t++) {
      const xv = x[b * m * k + (adjX ? t * m + i : i * k + t)];
      const yv = y[b * k * n + (adjY ? j * k + t : t * n + j)];
      acc += xv * yv;
    }
    out[(b * m + i) * n + j] = acc;
  }
  return out;
}

describe('structural ops: products of two activations import as BatchMatMul', function () {
  before(async () => { await initBackend('wasm'); });

  it('TF.js graph BatchMatMulV2 (adj_y) and MatMul of two placeholders (transpose_a) equal the product by hand; MatMul by a constant stays FullyConnected', async () => {
    const a = uniform(24), bm = uniform(40), p = uniform(12), q = uniform(20), w = uniform(20);
    const dir = writeGraphModel([
      placeholder('a', [2, 3, 4]), placeholder('b', [2, 5, 4]), placeholder('p', [4, 3]), placeholder('q', [4, 5]), placeholder('r', [3, 4]),
      { name: 'ab', op: 'BatchMatMulV2', input: ['a', 'b'], attr: { adj_x: { b: false }, adj_y: { b: true } } },
      { name: 'pq', op: 'MatMul', input: ['p', 'q'], attr: { transpose_a: { b: true }, transpose_b: { b: false } } },
      { name: 'rw', op: 'MatMul', input: ['r', 'w'], attr: { transpose_a: { b: false }, transpose_b: { b: false } } },
    ], [{ name: 'w', shape: [4, 5], dtype: 'float32', data: w }]);
    const g = await importTfjsGraphModel(dir, { outputs: ['ab', 'pq', 'rw'] });
    expect(Object.fromEntries(g.nodes.map((n) => [n.name, n.op]))).to.deep.equal({ ab: 'BatchMatMul', pq: 'BatchMatMul', rw: 'FullyConnected' });
    expect(g.tensors.get('ab')!.shape).to.deep.equal([2, 3, 5]);
    expect(g.tensors.get('pq')!.shape).to.deep.equal([3, 5]);
    const r = uniform(12);
    const out = await runGraph(g, { a, b: bm, p, q, r });
    expect(maxAbsDiff(out.ab, matMulRef(a, bm, [2, 3, 4, 5], false, true))).to.be.below(1e-5);
    expect(maxAbsDiff(out.pq, matMulRef(p, q, [1, 3, 4, 5], true, false))).to.be.below(1e-5);
    expect(maxAbsDiff(out.rw, matMulRef(r, w, [1, 3, 4, 5], false, false))).to.be.below(1e-5);
  });

  it('TFLite FULLY_CONNECTED on activations (rank-3 input flattened, as onnx2tf writes attention) and BATCH_MATMUL (adj_x) equal the product by hand', async () => {
    const b = new TfliteBuilder();
    const x = b.addTensor({ name: 'x', shape: [1, 6, 4], type: 'float32' });
    const wt = b.addTensor({ name: 'w', shape: [5, 4], type: 'float32' });
    const fc = b.addTensor({ name: 'fc', shape: [6, 5], type: 'float32' });
    const u = b.addTensor({ name: 'u', shape: [2, 4, 3], type: 'float32' });
    const v = b.addTensor({ name: 'v', shape: [2, 4, 5], type: 'float32' });
    const uv = b.addTensor({ name: 'uv', shape: [2, 3, 5], type: 'float32' });
    b.addOperator('FULLY_CONNECTED', [x, wt, -1], [fc], { fusedActivationFunction: 0, weightsFormat: 0, keepNumDims: false, asymmetricQuantizeInputs: false });
    b.addOperator('BATCH_MATMUL', [u, v], [uv], { adjX: true, adjY: false, asymmetricQuantizeInputs: false });
    b.setInputs([x, wt, u, v]);
    b.setOutputs([fc, uv]);
    const g = await importTflite(writeTflite(b.build()));
    expect(g.nodes.map((n) => n.op)).to.deep.equal(['Reshape', 'BatchMatMul', 'BatchMatMul']);
    const xs = uniform(24), ws = uniform(20), us = uniform(24), vs = uniform(40);
    const out = await runGraph(g, { x: xs, w: ws, u: us, v: vs });
    expect(maxAbsDiff(out.fc, matMulRef(xs, ws, [1, 6, 4, 5], false, true))).to.be.below(1e-5);
    expect(maxAbsDiff(out.uv, matMulRef(us, vs, [2, 3, 4, 5], true, false))).to.be.below(1e-5);
  });

  it('TF.js layers Dot (axes [2, 2] and [1, 1] on rank-3 inputs) equals model.predict', async () => {
    const input = tf.input({ shape: [4, 4, 3] });
    const branch = (filters: number, seed: number) => {
      const conv = tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed }) }).apply(input) as tf.SymbolicTensor;
      return tf.layers.reshape({ targetShape: [16, filters] }).apply(conv) as tf.SymbolicTensor;
    };
    const [a, b, c] = [branch(3, 1), branch(3, 2), branch(5, 3)];
    const ab = tf.layers.dot({ axes: [2, 2] }).apply([a, b]) as tf.SymbolicTensor;
    const ac = tf.layers.dot({ axes: 1 }).apply([a, c]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: [ab, ac] });
    const x = uniform(48);
    const want = (model.predict(tf.tensor(x, [1, 4, 4, 3])) as tf.Tensor[]).map((t) => t.dataSync() as Float32Array);
    const g = await importTfjsLayersModel(model);
    expect(g.nodes.filter((n) => n.op === 'BatchMatMul').map((n) => [n.attrs.adjX, n.attrs.adjY])).to.deep.equal([[false, true], [true, false]]);
    const out = await runGraph(g, { [g.inputs[0]]: x });
    expect(g.outputs.map((o) => g.tensors.get(o)!.shape)).to.deep.equal([[1, 16, 16], [1, 3, 5]]);
    g.outputs.forEach((o, k) => expect(maxAbsDiff(out[o], want[k]), o).to.be.below(1e-4));
    model.dispose();
  });

  it('refuses a FULLY_CONNECTED on activations with a fused activation, naming the operator', async () => {
    const b = new TfliteBuilder();
    const x = b.addTensor({ name: 'x', shape: [6, 4], type: 'float32' });
    const wt = b.addTensor({ name: 'w', shape: [5, 4], type: 'float32' });
    const fc = b.addTensor({ name: 'fc', shape: [6, 5], type: 'float32' });
    b.addOperator('FULLY_CONNECTED', [x, wt, -1], [fc], { fusedActivationFunction: 1, weightsFormat: 0, keepNumDims: false, asymmetricQuantizeInputs: false });
    b.setInputs([x, wt]);
    b.setOutputs([fc]);
    let message = '';
    try {
      await importTflite(writeTflite(b.build()), { label: 'fc.tflite' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).to.match(/fc\.tflite.*FULLY_CONNECTED.*fused activation.*non-constant weights/);
  });
});
