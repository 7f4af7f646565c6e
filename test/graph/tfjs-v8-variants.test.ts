// YOLOv8 TF.js graph models (ultralytics 8.x `format=tfjs`) in every form a JS user may have:
// the fused-conv export itself, the older converters' Conv2D + BiasAdd/AddV2 form, and weight
// manifests in float32, float16 and uint8/uint16-affine. The variants are built from the real
// fixture in a temp dir; each is imported, run in float and compared with TF.js's own
// tf.loadGraphModel + execute of the same files and with the fixture's IR output.
// Also: Softmax over a non-last axis and rank-5 Transpose, in float and in LiteRT (float / int8).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { decodeManifest, importTfjsGraphModel } from '../../lib/graph/importers/tfjs-graph.js';
import { decodeWeight, readWeightGroups, type WeightSpec } from '../../lib/graph/importers/tfjs-weights.js';
import { runDefaultPasses } from '../../lib/graph/passes/index.js';
import { initBackend } from '../../lib/graph/backend.js';
import { GraphBuilder } from '../../lib/graph/builder.js';
import type { Graph } from '../../lib/ir/graph.js';
import { decodeImage, rgbToFloat } from '../../lib/pipeline/image.js';
import { letterbox } from '../../lib/pipeline/letterbox.js';
import { exportFloatTflite, quantizeInt8 } from '../../lib/yolo/quantize.js';
import { inspectTflite } from '../../lib/tflite/inspect.js';
import { readTflite } from '../../lib/tflite/reader.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { DARTS_WEB_MODEL, FIXTURES, POSE_WEB_MODEL, requireFixtures } from '../support/fixtures.js';
import { loadGraphModelFromDir } from '../support/float-models.js';
import { runFloatGraph } from '../support/compare.js';
import { lcg } from '../support/random.js';
import {
  BIAS_FORMS, float16HalfUlp, float32ToFloat16Bits, readGraphModelFiles, unfuseConvolutions, writeGraphModel,
  type GraphModelFiles, type ManifestEntry, type WeightEncoding,
} from './tfjs-manifest-encoding.js';
import { int8Saturated } from '../support/int8-input.js';

/** IEEE half unit roundoff: float16 storage changes every weight by at most this relative amount. */
const FLOAT16_UNIT_ROUNDOFF = 2 ** -11;
/** Relative slack for float32 rounding differences between two executions of the same math. */
const FLOAT32_SLACK = 1e-5;

async function letterboxed(image: string, size: number): Promise<Float32Array> {
  return rgbToFloat(letterbox(await decodeImage(path.join(FIXTURES, 'images', image)), { size }).image);
}

function histogram(g: Graph): Record<string, number> {
  const h: Record<string, number> = {};
  for (const n of g.nodes) h[n.op] = (h[n.op] ?? 0) + 1;
  return Object.fromEntries(Object.entries(h).sort((a, b) => a[0].localeCompare(b[0])));
}

/** Most Conv2D nodes on any path from the input to an output (the depth weight errors pass through). */
function convDepth(g: Graph): number {
  const depth = new Map<string, number>();
  for (const t of g.inputs) depth.set(t, 0);
  for (const n of g.nodes) {
    const d = Math.max(0, ...n.inputs.map((i) => depth.get(i) ?? 0)) + (n.op === 'Conv2D' || n.op === 'DepthwiseConv2D' ? 1 : 0);
    for (const o of n.outputs) depth.set(o, d);
  }
  return Math.max(...g.outputs.map((o) => depth.get(o) ?? 0));
}

async function runIr(g: Graph, input: Float32Array): Promise<Float32Array> {
  return (await runFloatGraph(g, input))[g.outputs[0]];
}

async function runTfjs(dir: string, input: Float32Array, shape: number[]): Promise<Float32Array> {
  const model = await loadGraphModelFromDir(dir);
  const x = tf.tensor(input, shape, 'float32');
  try {
    // execute, not executeAsync: no control flow in a v8 export (executeAsync would say so on the console).
    const y = model.execute(x) as tf.Tensor;
    const data = (await y.data()) as Float32Array;
    y.dispose();
    return data;
  } finally {
    x.dispose();
    model.dispose();
  }
}

/**
 * Largest |a - b| over each block of output rows (output [1, rows, N]), with the block's range
 * (largest |b|) that tolerances are relative to: the rows of a YOLOv8 output mix pixels and
 * probabilities, so one absolute tolerance would be meaningless for one of them.
 */
function rowBlockErrors(a: Float32Array, b: Float32Array, rows: number, blocks: [number, number][]): { maxErr: number; range: number }[] {
  expect(a.length).to.equal(b.length);
  const n = b.length / rows;
  return blocks.map(([r0, r1]) => {
    let maxErr = 0;
    let range = 0;
    for (let i = r0 * n; i < r1 * n; i++) {
      maxErr = Math.max(maxErr, Math.abs(a[i] - b[i]));
      range = Math.max(range, Math.abs(b[i]));
    }
    return { maxErr, range };
  });
}

function expectWithin(label: string, errs: { maxErr: number; range: number }[], relTolerance: number): void {
  errs.forEach(({ maxErr, range }, k) => {
    expect(maxErr, `${label}, row block ${k}: max error ${maxErr} vs range ${range} (relative tolerance ${relTolerance})`).to.be.at.most(relTolerance * range);
  });
}

describe('YOLOv8 TF.js graph-model variants (built from yolov8n_darts_web_model)', function () {
  const src = DARTS_WEB_MODEL;
  const SIZE = 800;
  // Output [1, 11, 13125]: rows 0-3 box (pixels), rows 4-10 class probabilities.
  const ROWS = 11;
  const BLOCKS: [number, number][] = [[0, 4], [4, 11]];
  let tmp: string;
  let files: GraphModelFiles;
  let input: Float32Array;
  let fixtureIr: Float32Array;
  let fixtureGraph: Graph;

  before(async function () {
    requireFixtures(this);
    expect(await initBackend('wasm')).to.equal('wasm');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-v8-'));
    files = readGraphModelFiles(src);
    input = await letterboxed('bus.jpg', SIZE);
    fixtureGraph = runDefaultPasses(await importTfjsGraphModel(src));
    fixtureIr = await runIr(fixtureGraph, input);
  });

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('the fixture itself: IR output equals tf.loadGraphModel + execute', async () => {
    const reference = await runTfjs(src, input, [1, SIZE, SIZE, 3]);
    const errs = rowBlockErrors(fixtureIr, reference, ROWS, BLOCKS);
    console.log(`    fixture IR vs TF.js: boxes ${errs[0].maxErr.toExponential(2)} px, classes ${errs[1].maxErr.toExponential(2)}`);
    expectWithin('IR vs TF.js', errs, FLOAT32_SLACK);
    expect(fixtureGraph.tensors.get(fixtureGraph.outputs[0])!.shape).to.deep.equal([1, 11, 13125]);
  });

  it('older-converter form: Conv2D + BiasAdd / AddV2 ([C] and [1,1,1,C], both operand orders) folds back to the same IR', async () => {
    const { json, shapes, forms } = unfuseConvolutions(files.json);
    for (const f of BIAS_FORMS) expect(forms[f], f).to.be.above(0);
    const ops = new Set(json.modelTopology.node.map((n) => n.op));
    expect(ops.has('_FusedConv2D')).to.equal(false);
    expect(ops.has('BiasAdd') && ops.has('AddV2') && ops.has('Conv2D')).to.equal(true);
    const dir = path.join(tmp, 'unfused');
    // The fixture's own weight values, stored as float32 (the bytes decode to the same values).
    writeGraphModel(dir, json, files.values, 'float32', shapes);
    const raw = await importTfjsGraphModel(dir);
    const g = runDefaultPasses(raw);
    // Every bias add was folded into its conv: the op histogram is the fused export's.
    expect(histogram(raw).Add).to.equal(histogram(fixtureGraph).Add + 63);
    expect(histogram(g)).to.deep.equal(histogram(fixtureGraph));
    const out = await runIr(g, input);
    const vsFixture = rowBlockErrors(out, fixtureIr, ROWS, BLOCKS);
    // TF.js runs the unfused graph as separate conv and add kernels (a different float32 rounding
    // order than the fused kernel): equal to float32 slack, not bit for bit.
    const vsTfjs = rowBlockErrors(out, await runTfjs(dir, input, [1, SIZE, SIZE, 3]), ROWS, BLOCKS);
    console.log(`    unfused IR vs fixture IR: ${vsFixture.map((e) => e.maxErr.toExponential(2)).join(' / ')}; vs TF.js of the same files: ${vsTfjs.map((e) => e.maxErr.toExponential(2)).join(' / ')}`);
    expectWithin('unfused vs fixture IR', vsFixture, FLOAT32_SLACK);
    expectWithin('unfused IR vs TF.js', vsTfjs, FLOAT32_SLACK);
  });

  it('written as a float TFLite (the head\'s 4-D / 3-D TRANSPOSEs, SOFTMAX, DFL conv) it runs in LiteRT like the IR', async () => {
    const { tflite } = await exportFloatTflite(src, { backend: 'wasm', head: 'keep' });
    const ops = inspectTflite(tflite).opHistogram;
    expect(ops.TRANSPOSE).to.equal(6);
    expect(ops.SOFTMAX).to.equal(1);
    const out = (await runLiteRt(tflite, input, 'yolov8n darts float')).out as Float32Array;
    const errs = rowBlockErrors(out, fixtureIr, ROWS, BLOCKS);
    console.log(`    float TFLite (LiteRT/XNNPACK) vs IR: ${errs.map((e) => e.maxErr.toExponential(2)).join(' / ')}`);
    // XNNPACK's float32 kernels sum in another order than TF.js's: float32 slack.
    expectWithin('float TFLite vs IR', errs, FLOAT32_SLACK);
  });

  /**
   * Per weight, the largest change the encoding may make (from the manifest that was written): 0 for
   * float32, half a float16 spacing for float16, half a quantization step (scale / 2) for
   * uint8/uint16, each plus the float32 rounding of the decoded value.
   */
  function allowedWeightError(entry: ManifestEntry, v: number): number {
    const f32Rounding = Math.abs(v) * 2 ** -23;
    const q = entry.quantization;
    if (!q) return 0;
    if (q.dtype === 'float16') return float16HalfUlp(v);
    return q.scale! / 2 + f32Rounding + 2 ** -23 * Math.abs(q.min!);
  }

  for (const encoding of ['float32', 'float16', 'uint8', 'uint16'] as WeightEncoding[]) {
    it(`weights re-encoded as ${encoding}: decoded within the encoding's error, output = TF.js of the same files and close to the fixture`, async () => {
      const dir = path.join(tmp, encoding);
      const manifest = writeGraphModel(dir, files.json, files.values, encoding);
      // Decoder check on every weight: against the source values, within what the encoding allows.
      const { groups, bytes } = readWeightGroups(JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')).weightsManifest, dir, dir);
      const decoded = decodeManifest(groups, bytes, dir);
      let relWeightChange = 0;
      for (const entry of manifest) {
        const mine = decoded.get(entry.name)!.data!;
        const source = files.values.get(entry.name)!;
        expect(mine.length, entry.name).to.equal(source.length);
        let range = 0;
        let change = 0;
        for (let i = 0; i < source.length; i++) {
          const d = Math.abs(mine[i] - source[i]);
          if (d > allowedWeightError(entry, source[i])) {
            expect.fail(`${encoding}: weight '${entry.name}'[${i}] decoded ${mine[i]}, source ${source[i]}, allowed error ${allowedWeightError(entry, source[i])}`);
          }
          range = Math.max(range, Math.abs(source[i]));
          change = Math.max(change, d);
        }
        if (range > 0) relWeightChange = Math.max(relWeightChange, change / range);
      }
      if (encoding === 'float32') expect(relWeightChange).to.equal(0);
      if (encoding === 'float16') expect(relWeightChange).to.be.at.most(FLOAT16_UNIT_ROUNDOFF);

      const g = runDefaultPasses(await importTfjsGraphModel(dir));
      expect(histogram(g)).to.deep.equal(histogram(fixtureGraph));
      const out = await runIr(g, input);
      // The same files through TF.js (its own decoder and executor): the same float32 math.
      const vsTfjs = rowBlockErrors(out, await runTfjs(dir, input, [1, SIZE, SIZE, 3]), ROWS, BLOCKS);
      expectWithin(`${encoding} IR vs TF.js`, vsTfjs, FLOAT32_SLACK);
      // Against the fixture's output: first-order propagation of the weight change. Every weight
      // moved by at most `rel` of its tensor's largest value; through `depth` convolutions in
      // sequence each adds at most that relative error to the activations it produces (first order,
      // layer gains of about 1 after batch-norm folding), so the output moves by at most
      // depth * rel of its range. For float16 rel is the unit roundoff 2^-11; for uint8/uint16 it is
      // the measured change, itself bounded by half a step above (here nearly 0: the fixture's
      // values already lie on a uint8 grid, which re-encoding reproduces).
      const depth = convDepth(g);
      const rel = encoding === 'float16' ? FLOAT16_UNIT_ROUNDOFF : relWeightChange;
      const vsFixture = rowBlockErrors(out, fixtureIr, ROWS, BLOCKS);
      console.log(
        `    ${encoding}: IR vs TF.js ${vsTfjs.map((e) => e.maxErr.toExponential(2)).join(' / ')}; vs fixture IR ` +
          `${vsFixture.map((e) => e.maxErr.toExponential(2)).join(' / ')} (boxes px / probabilities; bound ${(depth * rel + FLOAT32_SLACK).toExponential(2)} x range, depth ${depth}, weight change ${rel.toExponential(2)})`,
      );
      expectWithin(`${encoding} IR vs fixture IR`, vsFixture, depth * rel + FLOAT32_SLACK);
    });
  }
});

describe('YOLOv8n-pose TF.js graph model (yolov8n-pose_hand_web_model)', function () {
  it('IR output equals tf.loadGraphModel + execute on a letterboxed zidane.jpg', async function () {
    requireFixtures(this);
    expect(await initBackend('wasm')).to.equal('wasm');
    const dir = POSE_WEB_MODEL;
    const input = await letterboxed('zidane.jpg', 320);
    const g = runDefaultPasses(await importTfjsGraphModel(dir));
    expect(g.tensors.get(g.outputs[0])!.shape).to.deep.equal([1, 68, 2100]);
    const out = await runIr(g, input);
    const reference = await runTfjs(dir, input, [1, 320, 320, 3]);
    // Rows 0-3 box and 5-67 keypoints in pixels with visibilities, row 4 the hand probability.
    const errs = rowBlockErrors(out, reference, 68, [[0, 4], [4, 5], [5, 68]]);
    console.log(`    pose IR vs TF.js: ${errs.map((e) => e.maxErr.toExponential(2)).join(' / ')} (boxes / probability / keypoints)`);
    expectWithin('pose IR vs TF.js', errs, FLOAT32_SLACK);
  });
});

describe('weight manifest decoding = tfjs-core io.decodeWeights', function () {
  before(async () => {
    await initBackend('wasm');
  });

  const viaTfjs = (spec: ManifestEntry, bytes: Uint8Array) => {
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const t = tf.io.decodeWeights(ab, [spec as tf.io.WeightsManifestEntry])[spec.name];
    const d = t.dataSync();
    t.dispose();
    return d;
  };

  it('float16: all 65536 half values, and the test encoder rounds to nearest even', () => {
    const bits = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const bytes = new Uint8Array(bits.buffer);
    const spec: ManifestEntry = { name: 'h', shape: [65536], dtype: 'float32', quantization: { dtype: 'float16', original_dtype: 'float32' } };
    const mine = decodeWeight(spec as WeightSpec, bytes, 't').data as Float32Array;
    const ref = viaTfjs(spec, bytes) as Float32Array;
    for (let i = 0; i < 65536; i++) {
      if (Number.isNaN(ref[i])) expect(Number.isNaN(mine[i]), `0x${i.toString(16)}`).to.equal(true);
      else if (mine[i] !== ref[i]) expect.fail(`half 0x${i.toString(16)}: ${mine[i]} vs tfjs ${ref[i]}`);
    }
    // Encoder: exact for representable values, ties to even, subnormals, overflow.
    expect(float32ToFloat16Bits(1)).to.equal(0x3c00);
    expect(float32ToFloat16Bits(1 + 2 ** -11)).to.equal(0x3c00); // tie -> even
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).to.equal(0x3c02); // tie -> even (up)
    expect(float32ToFloat16Bits(2 ** -24)).to.equal(0x0001);
    expect(float32ToFloat16Bits(2 ** -25)).to.equal(0x0000); // tie -> even
    expect(float32ToFloat16Bits(65520)).to.equal(0x7c00); // rounds past the largest half
    expect(float32ToFloat16Bits(-65504)).to.equal(0xfbff);
  });

  it('uint8 / uint16 affine for float32 and int32 weights', () => {
    const q8 = Uint8Array.from({ length: 256 }, (_, i) => i);
    const q16 = new Uint16Array([0, 1, 32767, 65535, 12345]);
    const cases: [ManifestEntry, Uint8Array][] = [
      [{ name: 'a', shape: [256], dtype: 'float32', quantization: { dtype: 'uint8', min: -0.7529411764705882, scale: 0.00392156862745098, original_dtype: 'float32' } }, q8],
      [{ name: 'b', shape: [5], dtype: 'float32', quantization: { dtype: 'uint16', min: -3.1, scale: 1e-4 } }, new Uint8Array(q16.buffer)],
      // int32 values are rounded (Math.round of q * scale + min), as tfjs-core does.
      [{ name: 'c', shape: [256], dtype: 'int32', quantization: { dtype: 'uint8', min: -100.5, scale: 0.75 } }, q8],
    ];
    for (const [spec, bytes] of cases) {
      const mine = decodeWeight(spec as WeightSpec, bytes, 't');
      expect(mine.dtype).to.equal(spec.dtype);
      expect(Array.from(mine.data!), spec.name).to.deep.equal(Array.from(viaTfjs(spec, bytes)));
    }
  });

  it('refuses what TF.js cannot load, naming the weight and the accepted forms', () => {
    const attempt = (spec: ManifestEntry, bytes = new Uint8Array(8)) => {
      try {
        decodeWeight(spec as WeightSpec, bytes, 'm.json');
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(attempt({ name: 'w', shape: [2], dtype: 'float32', quantization: { dtype: 'int8', min: 0, scale: 1 } })).to.equal(
      "m.json: weight 'w' has unsupported quantization dtype 'int8' (uint8, uint16 or float16 expected, as tfjs-converter writes)",
    );
    expect(attempt({ name: 'i', shape: [2], dtype: 'int32', quantization: { dtype: 'float16' } })).to.equal(
      "m.json: weight 'i' of dtype 'int32' cannot be stored with float16 quantization (only float32 weights can)",
    );
    expect(attempt({ name: 'h', shape: [2], dtype: 'float16' })).to.contain("TF.js stores float16 weights as dtype 'float32' with quantization {dtype: 'float16'}");
    expect(attempt({ name: 'u', shape: [2], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.1 } })).to.contain("uint8-quantized weight 'u' needs finite numbers 'scale' and 'min'");
  });
});

/** Independent softmax over `axis` of a row-major tensor, in float64. */
function softmaxReference(x: Float32Array, shape: number[], axis: number, beta = 1): Float64Array {
  const out = new Float64Array(x.length);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const n = shape[axis];
  const outer = x.length / (n * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (k: number) => (o * n + k) * inner + i;
      let m = -Infinity;
      for (let k = 0; k < n; k++) m = Math.max(m, beta * x[at(k)]);
      let sum = 0;
      for (let k = 0; k < n; k++) sum += Math.exp(beta * x[at(k)] - m);
      for (let k = 0; k < n; k++) out[at(k)] = Math.exp(beta * x[at(k)] - m) / sum;
    }
  }
  return out;
}

/** Independent transpose of a row-major tensor: out[j] = x[i] where out index = perm of the input index. */
function transposeReference(x: Float32Array, shape: number[], perm: number[]): Float32Array {
  const outShape = perm.map((p) => shape[p]);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(x.length);
  const idx = new Array(outShape.length).fill(0);
  for (let j = 0; j < out.length; j++) {
    let src = 0;
    for (let d = 0; d < outShape.length; d++) src += idx[d] * strides[perm[d]];
    out[j] = x[src];
    for (let d = outShape.length - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** Values on the int8 grid of [lo, hi] (scale (hi-lo)/255), so the int8 input represents them exactly. */
function gridValues(n: number, lo: number, hi: number, r: () => number): { values: Float32Array; scale: number; zeroPoint: number } {
  const scale = (hi - lo) / 255;
  // TFLite's zero-point nudge rounds half away from zero (std::round): [-4, 4] gives -0.5 -> -1.
  const z = -128 - lo / scale;
  const zeroPoint = Math.sign(z) * Math.round(Math.abs(z));
  const values = Float32Array.from({ length: n }, () => (Math.min(127, Math.max(-128, Math.round(-128 + r() * 255))) - zeroPoint) * scale);
  return { values, scale, zeroPoint };
}

function singleOpGraph(label: string, shape: number[], op: string, attrs: Record<string, number | number[]>): Graph {
  const b = new GraphBuilder(label);
  const x = b.addInput('x', shape);
  const y = b.emit('y', op, [x], attrs)[0];
  return b.build([y], { source: label, format: 'built', notes: [] });
}

async function runLiteRt(tflite: Uint8Array, data: Float32Array | Int8Array, label: string): Promise<{ out: Float32Array | Int8Array; scale?: number; zeroPoint?: number }> {
  const runner = await TfliteRunner.load(tflite, { label });
  try {
    const [out] = await runner.run([data]);
    return { out: out as Float32Array | Int8Array, scale: runner.outputs[0].scale, zeroPoint: runner.outputs[0].zeroPoint };
  } finally {
    runner.dispose();
  }
}

describe('Softmax over a non-last axis and rank-5 Transpose (float, TFLite float, TFLite int8 in LiteRT)', function () {
  const SHAPE = [2, 3, 4];
  const RANGE: [number, number] = [-4, 4];

  before(async () => {
    await initBackend('wasm');
  });

  it('Softmax axis 1 of [2,3,4] in float equals the hand computation (also axis 0, -3 and beta)', async () => {
    const x = gridValues(24, ...RANGE, lcg(7)).values;
    for (const [axis, beta] of [[1, 1], [0, 1], [-3, 1], [1, 0.5], [2, 1]]) {
      const g = singleOpGraph('softmax', SHAPE, 'Softmax', { axis, beta });
      const got = await runIr(g, x);
      const want = softmaxReference(x, SHAPE, axis < 0 ? axis + 3 : axis, beta);
      for (let i = 0; i < 24; i++) expect(got[i], `axis ${axis} beta ${beta} [${i}]`).to.be.closeTo(want[i], 1e-6);
    }
    // Sums over axis 1 are 1: a check that does not depend on the reference's indexing.
    const got = await runIr(singleOpGraph('softmax', SHAPE, 'Softmax', { axis: 1, beta: 1 }), x);
    for (let o = 0; o < 2; o++) for (let i = 0; i < 4; i++) expect(got[o * 12 + i] + got[o * 12 + 4 + i] + got[o * 12 + 8 + i]).to.be.closeTo(1, 1e-6);
  });

  it('Softmax axis 1 written to TFLite: TRANSPOSE + SOFTMAX + TRANSPOSE, float32 and int8, in LiteRT', async () => {
    const r = lcg(11);
    const graph = singleOpGraph('softmax-axis1', SHAPE, 'Softmax', { axis: 1, beta: 1 });
    const { values: x, scale, zeroPoint } = gridValues(24, ...RANGE, r);
    const want = softmaxReference(x, SHAPE, 1);

    const { tflite: floatFile } = await exportFloatTflite(graph);
    expect(inspectTflite(floatFile).opHistogram).to.deep.equal({ TRANSPOSE: 2, SOFTMAX: 1 });
    const floatOut = (await runLiteRt(floatFile, x, 'softmax float')).out as Float32Array;
    for (let i = 0; i < 24; i++) expect(floatOut[i], `float [${i}]`).to.be.closeTo(want[i], 1e-6);

    const calib = Array.from({ length: 8 }, () => gridValues(24, ...RANGE, r).values);
    const { tflite, report } = await quantizeInt8(graph, { representativeDataset: calib, numCalibrationSamples: 8, inputRange: RANGE, backend: 'wasm' });
    expect(report.allInteger).to.equal(true);
    expect(inspectTflite(tflite).opHistogram).to.deep.equal({ TRANSPOSE: 2, SOFTMAX: 1 });
    // Parameters inside: TRANSPOSE keeps its input's, SOFTMAX has 1/256 and -128.
    const sg = readTflite(tflite).subgraphs[0];
    const qp = (t: number) => [sg.tensors[t].quantization!.scale[0], sg.tensors[t].quantization!.zeroPoint[0]];
    const [t1, sm, t2] = sg.operators;
    expect(qp(t1.outputs[0])).to.deep.equal(qp(t1.inputs[0]));
    expect(qp(sm.outputs[0])).to.deep.equal([1 / 256, -128]);
    expect(qp(t2.outputs[0])).to.deep.equal(qp(t2.inputs[0]));
    expect(sg.tensors[t1.outputs[0]].shape).to.deep.equal([2, 4, 3]);
    const q = int8Saturated(x, scale, zeroPoint);
    const res = await runLiteRt(tflite, q, 'softmax int8');
    expect(res.out).to.be.instanceOf(Int8Array);
    // SOFTMAX int8 output: scale 1/256, zero point -128 (kept by the TRANSPOSE after it).
    expect(res.scale).to.equal(1 / 256);
    expect(res.zeroPoint).to.equal(-128);
    let maxErr = 0;
    for (let i = 0; i < 24; i++) maxErr = Math.max(maxErr, Math.abs((res.out[i] - res.zeroPoint!) * res.scale! - want[i]));
    console.log(`    int8 softmax axis 1: max error ${maxErr.toExponential(2)} (${(maxErr * 256).toFixed(2)} output steps)`);
    // Half a step of output rounding plus the int8 kernel's fixed-point exp/reciprocal (about one step).
    expect(maxErr).to.be.at.most(1.5 / 256);
  });

  it('Transpose of rank 5 (and the v8 head perms) in float and in LiteRT float / int8 moves values exactly', async () => {
    const shape = [2, 3, 1, 4, 5];
    const perm = [4, 2, 0, 3, 1];
    const r = lcg(5);
    const { values: x, scale, zeroPoint } = gridValues(120, ...RANGE, r);
    const want = transposeReference(x, shape, perm);
    const graph = singleOpGraph('transpose5', shape, 'Transpose', { perm });
    expect(Array.from(await runIr(graph, x))).to.deep.equal(Array.from(want));
    const { tflite: floatFile } = await exportFloatTflite(graph);
    expect(Array.from((await runLiteRt(floatFile, x, 'transpose5 float')).out)).to.deep.equal(Array.from(want));
    const calib = Array.from({ length: 4 }, () => gridValues(120, ...RANGE, r).values);
    const { tflite } = await quantizeInt8(graph, { representativeDataset: calib, numCalibrationSamples: 4, inputRange: RANGE, backend: 'wasm' });
    const q = int8Saturated(x, scale, zeroPoint);
    const res = await runLiteRt(tflite, q, 'transpose5 int8');
    // TRANSPOSE keeps its input's parameters: the int8 values themselves are permuted.
    expect(res.scale).to.be.closeTo(scale, scale * 1e-6); // stored as float32
    expect(res.zeroPoint).to.equal(zeroPoint);
    expect(Array.from(res.out)).to.deep.equal(Array.from(transposeReference(Float32Array.from(q), shape, perm)));
    // The 4-D / 3-D perms of the YOLOv8 head, in float against the reference.
    for (const [s, p] of [[[1, 4, 16, 6], [0, 2, 1, 3]], [[1, 16, 4, 6], [0, 2, 3, 1]], [[1, 5, 5, 7], [0, 3, 1, 2]], [[1, 7, 3], [0, 2, 1]]] as [number[], number[]][]) {
      const n = s.reduce((a, b) => a * b, 1);
      const v = gridValues(n, ...RANGE, r).values;
      expect(Array.from(await runIr(singleOpGraph('t', s, 'Transpose', { perm: p }), v)), `perm [${p}]`).to.deep.equal(Array.from(transposeReference(v, s, p)));
    }
  });

  it('rejects a Transpose perm that is not a permutation, naming the node', () => {
    expect(() => singleOpGraph('bad', [2, 3, 4], 'Transpose', { perm: [0, 0, 1] })).to.throw("bad: node 'y' (Transpose): perm [0,0,1] is not a permutation of the axes 0..2");
    expect(() => singleOpGraph('bad', [2, 3, 4], 'Transpose', { perm: [1, 0] })).to.throw('perm [1,0] has 2 entries for a rank-3 tensor');
    expect(() => singleOpGraph('bad', [2, 3, 4], 'Softmax', { axis: 3 })).to.throw('axis 3 is out of range for rank 3');
  });
});

describe('foldBias: the bias-add forms of older converters (no fixtures needed)', function () {
  before(async () => {
    await initBackend('wasm');
  });

  const C = 3;
  const biasValues = Float32Array.of(0.25, -0.5, 1.5);
  // [op, constant shape, constant first?]
  const forms: [string, number[], boolean][] = [
    ['Conv2D', [C], false],
    ['Conv2D', [C], true],
    ['Conv2D', [1, 1, 1, C], false],
    ['Conv2D', [1, 1, 1, C], true],
    ['DepthwiseConv2D', [1, 1, 1, C], true],
  ];
  for (const [op, shape, constFirst] of forms) {
    it(`${op} + Add(${constFirst ? `b[${shape}], conv` : `conv, b[${shape}]`}) becomes one ${op} whose bias is b (and already-biased convs add up)`, async () => {
      for (const existing of [undefined, Float32Array.of(1, 2, 3)]) {
        const b = new GraphBuilder('bias');
        b.foldConstants = false;
        const x = b.addInput('x', [1, 5, 5, C]);
        const r = lcg(3);
        const w = b.addConstant('w', [3, 3, C, op === 'Conv2D' ? C : 1], 'float32', Float32Array.from({ length: 9 * C * (op === 'Conv2D' ? C : 1) }, () => r() - 0.5));
        const convIns = existing ? [x, w, b.addConstant('b0', [C], 'float32', existing)] : [x, w];
        const conv = b.emit('conv', op, convIns, { strides: [1, 1], dilations: [1, 1], padding: 'SAME', activation: 'none' })[0];
        const k = b.addConstant('k', shape, 'float32', biasValues);
        const add = b.emit('add', 'Add', constFirst ? [k, conv] : [conv, k], { activation: 'none' })[0];
        const y = b.emit('y', 'Relu', [add], {})[0];
        const graph = b.build([y], { source: 'bias', format: 'built', notes: [] });
        const folded = runDefaultPasses(graph);
        expect(folded.nodes.map((n) => n.op)).to.deep.equal([op]);
        const node = folded.nodes[0];
        expect(node.attrs.activation).to.equal('relu');
        const want = Array.from(biasValues, (v, i) => Math.fround(v + (existing?.[i] ?? 0)));
        expect(Array.from(folded.tensors.get(node.inputs[2])!.data!)).to.deep.equal(want);
        const input = Float32Array.from({ length: 25 * C }, () => r() * 2 - 1);
        const before = await runIr(graph, input);
        const after = await runIr(folded, input);
        // (conv + b0) + k vs conv + (b0 + k): the same sum, rounded in another order.
        for (let i = 0; i < before.length; i++) expect(after[i]).to.be.closeTo(before[i], 1e-6 * Math.max(1, Math.abs(before[i])));
      }
    });
  }

  it('leaves an Add whose constant is not one value per channel, or whose conv output has another reader', () => {
    const b = new GraphBuilder('nofold');
    b.foldConstants = false;
    const x = b.addInput('x', [1, 2, 2, C]);
    const w = b.addConstant('w', [1, 1, C, C], 'float32', new Float32Array(C * C).fill(0.5));
    const conv = b.emit('conv', 'Conv2D', [x, w], { strides: [1, 1], dilations: [1, 1], padding: 'SAME', activation: 'none' })[0];
    const spatial = b.emit('spatial', 'Add', [conv, b.addConstant('s', [1, 2, 2, 1], 'float32', Float32Array.of(1, 2, 3, 4))], { activation: 'none' })[0];
    const conv2 = b.emit('conv2', 'Conv2D', [x, w], { strides: [1, 1], dilations: [1, 1], padding: 'SAME', activation: 'none' })[0];
    const biased = b.emit('biased', 'Add', [conv2, b.addConstant('k', [C], 'float32', biasValues)], { activation: 'none' })[0];
    const both = b.emit('both', 'Add', [biased, conv2], { activation: 'none' })[0];
    const g = runDefaultPasses(b.build([spatial, both], { source: 'nofold', format: 'built', notes: [] }));
    expect(g.nodes.map((n) => n.op)).to.deep.equal(['Conv2D', 'Add', 'Conv2D', 'Add', 'Add']);
  });
});
