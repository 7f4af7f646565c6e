// A full-integer model made with TfliteBuilder alone, run in the real LiteRT runtime and checked op by
// op against float math in plain TypeScript. Every intermediate tensor is also a model output, so each
// op is checked on LiteRT's own (dequantized) inputs: the int8 result must be within one output step of
// the float result quantized with the output's parameters. This also checks that TfliteRunner returns
// several outputs in the order of the reader's subgraphs[0].outputs.
import { expect } from 'chai';
import { TfliteBuilder } from '../../lib/tflite/builder.js';
import { writeTflite } from '../../lib/tflite/writer.js';
import { readTflite, readMetadataString } from '../../lib/tflite/reader.js';
import { builtinOperatorName } from '../../lib/tflite/operators.js';
import { TfliteRunner, type RuntimeArray } from '../../lib/runtime/index.js';
import { mulberry32 } from '../../lib/util/random.js';

const prng = mulberry32;

interface QParams { scale: number; zeroPoint: number }
/** Asymmetric int8 parameters covering [min, max] (and 0, so that zero is exact). */
function int8Params(min: number, max: number): QParams {
  const lo = Math.min(0, min);
  const hi = Math.max(0, max);
  const scale = (hi - lo) / 255 || 1e-6;
  const zeroPoint = Math.max(-128, Math.min(127, Math.round(-128 - lo / scale)));
  return { scale, zeroPoint };
}
const quantize = (x: number, q: QParams) => Math.max(-128, Math.min(127, Math.round(x / q.scale) + q.zeroPoint));
const dequantize = (v: ArrayLike<number>, q: QParams) => Float32Array.from(v, (x) => (x - q.zeroPoint) * q.scale);
const range = (a: ArrayLike<number>) => { let lo = Infinity, hi = -Infinity; for (const x of Array.from(a)) { lo = Math.min(lo, x); hi = Math.max(hi, x); } return [lo, hi] as const; };
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

const H = 8, W = 8, CI = 3, CO = 4;

/** NHWC 3x3 SAME stride-1 convolution, OHWI weights, per-channel bias. */
function conv3x3(x: Float32Array, w: Float32Array, bias: Float32Array): Float32Array {
  const out = new Float32Array(H * W * CO);
  for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) for (let o = 0; o < CO; o++) {
    let acc = bias[o];
    for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) {
      const iy = y + ky - 1, ix = xx + kx - 1;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      for (let c = 0; c < CI; c++) acc += x[(iy * W + ix) * CI + c] * w[((o * 3 + ky) * 3 + kx) * CI + c];
    }
    out[(y * W + xx) * CO + o] = acc;
  }
  return out;
}
function concatChannels(a: Float32Array, b: Float32Array, ca: number, cb: number, n: number): Float32Array {
  const out = new Float32Array(n * (ca + cb));
  for (let i = 0; i < n; i++) { out.set(a.subarray(i * ca, i * ca + ca), i * (ca + cb)); out.set(b.subarray(i * cb, i * cb + cb), i * (ca + cb) + ca); }
  return out;
}
function maxPool2x2(x: Float32Array, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array((h / 2) * (w / 2) * c);
  for (let y = 0; y < h / 2; y++) for (let xx = 0; xx < w / 2; xx++) for (let k = 0; k < c; k++) {
    let m = -Infinity;
    for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) m = Math.max(m, x[((2 * y + dy) * w + 2 * xx + dx) * c + k]);
    out[(y * (w / 2) + xx) * c + k] = m;
  }
  return out;
}
/** Nearest-neighbour 2x upsampling without align_corners / half-pixel centres: src = floor(dst / 2). */
function upsample2x(x: Float32Array, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(h * 2 * w * 2 * c);
  for (let y = 0; y < 2 * h; y++) for (let xx = 0; xx < 2 * w; xx++) for (let k = 0; k < c; k++) {
    out[(y * 2 * w + xx) * c + k] = x[(Math.floor(y / 2) * w + Math.floor(xx / 2)) * c + k];
  }
  return out;
}

describe('tflite builder: hand-built int8 model in LiteRT', function () {
  const rnd = prng(1234);
  const inQ: QParams = { scale: 0.02, zeroPoint: -10 };
  const inputQ = Int8Array.from({ length: H * W * CI }, () => Math.floor(rnd() * 256) - 128);
  const input = dequantize(inputQ, inQ);

  // Per-channel symmetric int8 weights (OHWI, channel axis 0) and int32 bias with scale in_scale * w_scale.
  const wFloat = Float32Array.from({ length: CO * 9 * CI }, () => (rnd() - 0.5) * 0.8);
  const wScale = Array.from({ length: CO }, (_, o) => range(wFloat.subarray(o * 9 * CI, (o + 1) * 9 * CI)).reduce((m, v) => Math.max(m, Math.abs(v)), 0) / 127);
  const wQ = Int8Array.from(wFloat, (v, i) => Math.round(v / wScale[Math.floor(i / (9 * CI))]));
  const wDeq = Float32Array.from(wQ, (v, i) => v * wScale[Math.floor(i / (9 * CI))]);
  const biasFloat = [0.3, -0.2, 0.05, 0.5];
  const biasScale = wScale.map((s) => s * inQ.scale);
  const biasQ = Int32Array.from(biasFloat, (b, o) => Math.round(b / biasScale[o]));
  const biasDeq = Float32Array.from(biasQ, (b, o) => b * biasScale[o]);

  // Output parameters from a float forward pass (the "calibration" of this toy model).
  const convF = conv3x3(input, wDeq, biasDeq);
  const convQp = int8Params(...range(convF));
  const sigQp: QParams = { scale: 1 / 256, zeroPoint: -128 };
  const mulF = convF.map((v) => v * sigmoid(v));
  const addF = mulF.map((v, i) => v + convF[i]);
  // XNNPACK (LiteRT's CPU path) only delegates an int8 CONCATENATION whose inputs share the output's
  // parameters (the TFLite converter arranges the same), so MUL, ADD and CONCATENATION share them.
  const catQp = int8Params(Math.min(range(addF)[0], range(mulF)[0]), Math.max(range(addF)[1], range(mulF)[1]));
  const mulQp = catQp;
  const addQp = catQp;

  let runner: TfliteRunner;
  let outputs: RuntimeArray[];
  let modelBytes: Uint8Array;
  const OUT_NAMES = ['z_reshape', 'conv', 'sigmoid', 'silu', 'add', 'concat', 'maxpool', 'resize'];

  before(async function () {
    const b = new TfliteBuilder();
    const q = (p: QParams) => ({ scale: [p.scale], zeroPoint: [p.zeroPoint] });
    const x = b.addTensor({ name: 'input', shape: [1, H, W, CI], type: 'int8', quantization: q(inQ) });
    const w = b.addTensor({ name: 'conv/weights', shape: [CO, 3, 3, CI], type: 'int8', data: wQ, quantization: { scale: wScale, zeroPoint: wScale.map(() => 0), quantizedDimension: 0 } });
    const bias = b.addTensor({ name: 'conv/bias', shape: [CO], type: 'int32', data: biasQ, quantization: { scale: biasScale, zeroPoint: biasScale.map(() => 0), quantizedDimension: 0 } });
    const conv = b.addTensor({ name: 'conv', shape: [1, H, W, CO], type: 'int8', quantization: q(convQp) });
    const sig = b.addTensor({ name: 'sigmoid', shape: [1, H, W, CO], type: 'int8', quantization: q(sigQp) });
    const silu = b.addTensor({ name: 'silu', shape: [1, H, W, CO], type: 'int8', quantization: q(mulQp) });
    const add = b.addTensor({ name: 'add', shape: [1, H, W, CO], type: 'int8', quantization: q(addQp) });
    const cat = b.addTensor({ name: 'concat', shape: [1, H, W, 2 * CO], type: 'int8', quantization: q(catQp) });
    const pool = b.addTensor({ name: 'maxpool', shape: [1, H / 2, W / 2, 2 * CO], type: 'int8', quantization: q(catQp) });
    const size = b.addTensor({ name: 'resize/size', shape: [2], type: 'int32', data: Int32Array.from([H, W]) });
    const up = b.addTensor({ name: 'resize', shape: [1, H, W, 2 * CO], type: 'int8', quantization: q(catQp) });
    const newShape = b.addTensor({ name: 'reshape/shape', shape: [3], type: 'int32', data: Int32Array.from([1, H * W, 2 * CO]) });
    const out = b.addTensor({ name: 'z_reshape', shape: [1, H * W, 2 * CO], type: 'int8', quantization: q(catQp) });
    b.addOperator('CONV_2D', [x, w, bias], [conv], { padding: 0, strideW: 1, strideH: 1, fusedActivationFunction: 0, dilationWFactor: 1, dilationHFactor: 1 });
    b.addOperator('LOGISTIC', [conv], [sig]);
    b.addOperator('MUL', [conv, sig], [silu], { fusedActivationFunction: 0 });
    b.addOperator('ADD', [silu, conv], [add], { fusedActivationFunction: 0 });
    b.addOperator('CONCATENATION', [add, silu], [cat], { axis: 3, fusedActivationFunction: 0 });
    b.addOperator('MAX_POOL_2D', [cat], [pool], { padding: 1, strideW: 2, strideH: 2, filterWidth: 2, filterHeight: 2, fusedActivationFunction: 0 });
    b.addOperator('RESIZE_NEAREST_NEIGHBOR', [pool, size], [up], { alignCorners: false, halfPixelCenters: false });
    b.addOperator('RESHAPE', [up, newShape], [out], { newShape: [1, H * W, 2 * CO] });
    b.setInputs([x]);
    // Deliberately not in name order: LiteRT must still return them in this order.
    b.setOutputs([out, conv, sig, silu, add, cat, pool, up]);
    modelBytes = writeTflite(b.build());
    runner = await TfliteRunner.load(modelBytes, { label: 'hand-built' });
    outputs = await runner.run([inputQ]);
  });
  after(() => runner?.dispose());

  it('picks the int8 operator versions TFLite requires and writes min_runtime_version', function () {
    const m = readTflite(modelBytes);
    const versions = Object.fromEntries(m.operatorCodes.map((c) => [builtinOperatorName(c.builtinCode), c.version]));
    expect(versions).to.deep.equal({ CONV_2D: 3, LOGISTIC: 2, MUL: 2, ADD: 2, CONCATENATION: 2, MAX_POOL_2D: 2, RESIZE_NEAREST_NEIGHBOR: 2, RESHAPE: 1 });
    // CONV_2D v3, LOGISTIC v2, ... all need TFLite 1.14.0 (runtime_version table).
    expect(readMetadataString(m, 'min_runtime_version')).to.equal('1.14.0');
    // Constant buffers start on 16-byte boundaries.
    const wBytes = new Uint8Array(wQ.buffer);
    let at = -1;
    for (let i = 0; i + wBytes.length <= modelBytes.length; i++) {
      if (modelBytes[i] === wBytes[0] && modelBytes.subarray(i, i + wBytes.length).every((v, k) => v === wBytes[k])) { at = i; break; }
    }
    expect(at).to.be.greaterThan(0);
    expect(at % 16).to.equal(0);
  });

  it('writes the same bytes for the same model', function () {
    expect(Buffer.compare(Buffer.from(writeTflite(readTflite(modelBytes))), Buffer.from(writeTflite(readTflite(modelBytes))))).to.equal(0);
  });

  it('returns outputs in the order of subgraphs[0].outputs (runner descriptions and data)', function () {
    expect(runner.outputs.map((o) => o.name)).to.deep.equal(OUT_NAMES);
    const expectedLengths = [H * W * 2 * CO, H * W * CO, H * W * CO, H * W * CO, H * W * CO, H * W * 2 * CO, (H / 2) * (W / 2) * 2 * CO, H * W * 2 * CO];
    expect(outputs.map((o) => o.length)).to.deep.equal(expectedLengths);
    expect(outputs.every((o) => o instanceof Int8Array)).to.equal(true);
  });

  it('each op matches float math within one output quantization step', function () {
    const [outReshape, conv, sig, silu, add, cat, pool, up] = outputs as Int8Array[];
    const maxStepDiff = (got: Int8Array, refFloat: Float32Array, q: QParams) => {
      let m = 0;
      for (let i = 0; i < got.length; i++) m = Math.max(m, Math.abs(got[i] - quantize(refFloat[i], q)));
      return m;
    };
    const convRef = conv3x3(input, wDeq, biasDeq);
    const convDeq = dequantize(conv, convQp);
    const sigDeq = dequantize(sig, sigQp);
    const siluDeq = dequantize(silu, mulQp);
    const addDeq = dequantize(add, addQp);
    const catDeq = dequantize(cat, catQp);
    const report = {
      conv: maxStepDiff(conv, convRef, convQp),
      // TFLite's int8 LOGISTIC uses a lookup table; it is within one step of the rounded float sigmoid.
      logistic: maxStepDiff(sig, convDeq.map(sigmoid), sigQp),
      mul: maxStepDiff(silu, convDeq.map((v, i) => v * sigDeq[i]), mulQp),
      add: maxStepDiff(add, siluDeq.map((v, i) => v + convDeq[i]), addQp),
      concat: maxStepDiff(cat, concatChannels(addDeq, siluDeq, CO, CO, H * W), catQp),
      maxpool: maxStepDiff(pool, maxPool2x2(catDeq, H, W, 2 * CO), catQp),
      resize: maxStepDiff(up, upsample2x(dequantize(pool, catQp), H / 2, W / 2, 2 * CO), catQp),
      reshape: maxStepDiff(outReshape, dequantize(up, catQp), catQp),
    };
    console.log(`      max |int8 - quantized float reference| per op (steps): ${JSON.stringify(report)}`);
    for (const [op, d] of Object.entries(report)) expect(d, op).to.be.at.most(1);
    // Ops that only move values are exact.
    expect(report.maxpool).to.equal(0);
    expect(report.resize).to.equal(0);
    expect(report.reshape).to.equal(0);
    // End to end: the last output against the all-float network (no intermediate rounding).
    const catF = concatChannels(addF, mulF, CO, CO, H * W);
    const endF = upsample2x(maxPool2x2(catF, H, W, 2 * CO), H / 2, W / 2, 2 * CO);
    const endGot = dequantize(outReshape, catQp);
    let maxAbs = 0;
    for (let i = 0; i < endF.length; i++) maxAbs = Math.max(maxAbs, Math.abs(endGot[i] - endF[i]));
    console.log(`      end-to-end max abs error vs float network: ${maxAbs.toFixed(4)} (output step ${catQp.scale.toFixed(4)})`);
    // The chain has five rounding stages before the output; allow that many output steps.
    expect(maxAbs).to.be.below(5 * catQp.scale);
  });
});
