// checkTflite: official files and our own pass; each rule is broken by hand on a valid model (edited as a
// TfliteModel object, written with writeTflite) and must give its own violation naming the tensor or
// operator; mutated files never make the checker throw.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { TfliteBuilder } from '../../lib/tflite/builder.js';
import { writeTflite } from '../../lib/tflite/writer.js';
import { readTflite } from '../../lib/tflite/reader.js';
import { TensorType, type TfliteModel, type TfliteTensor } from '../../lib/tflite/model.js';
import { CHECK_RULES, checkTflite, checkTfliteModel, type CheckResult, type CheckRule } from '../../lib/tflite/check.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { GraphBuilder } from '../../lib/graph/builder.js';
import type { Graph } from '../../lib/ir/graph.js';
import { createFloatExecutor } from '../../lib/graph/execute.js';
import { exportFloatTflite, quantizeInt8 } from '../../lib/yolo/quantize.js';
import { mulberry32 } from '../../lib/util/random.js';
import { FIXTURES, REPO_ROOT, YOLOV5N_INT8, requireFixtures } from '../support/fixtures.js';
import { runCli } from '../support/cli.js';
import { handBuilt, mutate } from './mutate.js';
import { baseModel, float16Model, int16Model, q } from './models.js';
import { int8FromUnit, int8Saturated } from '../support/int8-input.js';

function tensor(m: TfliteModel, name: string): TfliteTensor {
  const t = m.subgraphs[0].tensors.find((x) => x.name === name);
  if (!t) throw new Error(`no tensor '${name}'`);
  return t;
}
const tensorIndex = (m: TfliteModel, name: string) => m.subgraphs[0].tensors.findIndex((x) => x.name === name);
/** The operator writing tensor `name`. */
const opWriting = (m: TfliteModel, name: string) => m.subgraphs[0].operators.find((o) => o.outputs.includes(tensorIndex(m, name)))!;
const codeOf = (m: TfliteModel, name: string) => m.operatorCodes[opWriting(m, name).opcodeIndex];

const covered = new Set<CheckRule>();

/** Edits a copy of the model, writes it, checks the file; returns the result and records the rules seen. */
function checkEdited(build: () => TfliteModel, edit: (m: TfliteModel) => void): CheckResult {
  const m = structuredClone(build());
  edit(m);
  const r = checkTflite(writeTflite(m), { label: 'edited' });
  for (const v of r.violations) covered.add(v.rule);
  return r;
}

function expectViolations(r: CheckResult, expected: [CheckRule, RegExp][]): void {
  const shown = JSON.stringify(r.violations, null, 1);
  expect(r.ok, shown).to.equal(false);
  expect(r.violations.map((v) => v.rule), shown).to.deep.equal(expected.map((e) => e[0]));
  r.violations.forEach((v, i) => expect(`${v.where}: ${v.message}`, shown).to.match(expected[i][1]));
}

async function runsInLiteRt(bytes: Uint8Array): Promise<void> {
  const runner = await TfliteRunner.load(bytes);
  try {
    const inputs = runner.inputs.map((d) => {
      const n = d.shape.reduce((a, b) => a * b, 1);
      return d.dtype === 'float32' ? new Float32Array(n).fill(0.5) : new Int8Array(n).fill(3);
    });
    const out = await runner.run(inputs);
    expect(out.length).to.equal(runner.outputs.length);
  } finally {
    runner.dispose();
  }
}

describe('checkTflite: valid files', function () {
  this.timeout(120_000);

  it('the official YOLOv5n / YOLOv8n files pass', function () {
    requireFixtures(this);
    const files = ['yolov5n/yolov5n-int8.tflite', 'yolov5n/yolov5n-fp16.tflite', 'yolov8n/yolov8n_full_integer_quant.tflite', 'yolov8n/yolov8n_integer_quant.tflite', 'yolov8n/yolov8n_int8.tflite'];
    for (const f of files) {
      const r = checkTflite(new Uint8Array(fs.readFileSync(path.join(FIXTURES, f))), { label: f });
      expect(r.violations, f).to.deep.equal([]);
      expect(r.ok).to.equal(true);
    }
  });

  it('every .tflite of the fixtures that LiteRT runs passes the lenient check and loads (YOLO11n, the zoo)', async function () {
    requireFixtures(this);
    const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : e.name.endsWith('.tflite') ? [path.join(d, e.name)] : []));
    const files = walk(FIXTURES);
    expect(files.length).to.be.greaterThan(10);
    for (const f of files) {
      const r = checkTflite(new Uint8Array(fs.readFileSync(f)), { label: f, strict: false });
      expect(r.violations, f).to.deep.equal([]);
      (await TfliteRunner.load(f)).dispose();
    }
    // YOLO11n's attention multiplies two activations with FULLY_CONNECTED: its asymmetric int8
    // "weights" operand is an activation, not a constant the weight rules apply to.
    const y11 = checkTflite(new Uint8Array(fs.readFileSync(path.join(FIXTURES, 'yolo11n/yolo11n_full_integer_quant.tflite'))));
    expect(y11.violations.filter((v) => v.rule.startsWith('weights-'))).to.deep.equal([]);
  });

  it('the hand-built test models pass and run in LiteRT', async () => {
    for (const m of [baseModel(), float16Model()]) {
      expect(checkTfliteModel(m).violations).to.deep.equal([]);
      const bytes = writeTflite(m);
      expect(checkTflite(bytes).violations).to.deep.equal([]);
      await runsInLiteRt(bytes);
    }
    // int16 inputs are not among the runner's dtypes; the checker alone.
    expect(checkTflite(writeTflite(int16Model())).violations).to.deep.equal([]);
  });
});

/** LiteRT's own answer on a file (the checker bypassed): undefined when it loads and runs it. */
async function liteRtRefusal(bytes: Uint8Array): Promise<string | undefined> {
  try {
    const runner = await TfliteRunner.load(bytes, { check: false });
    try {
      await runner.run(runner.inputs.map((d) => new Int8Array(d.shape.reduce((a, b) => a * b, 1))));
    } finally {
      runner.dispose();
    }
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

describe('checkTflite: structural rules agree with LiteRT', function () {
  this.timeout(120_000);
  const t = (m: TfliteModel, n: string) => tensor(m, n);
  const refused: [string, (m: TfliteModel) => void, CheckRule, RegExp][] = [
    ['an unknown builtin', (m) => { codeOf(m, 'th').builtinCode = 250; }, 'opcode-index', /TANH|UNKNOWN\(250\).*operator code 250 is not a builtin TFLite defines/],
    ['a CONV_2D with one input', (m) => { opWriting(m, 'c').inputs = [tensorIndex(m, 'x')]; }, 'op-operands', /CONV_2D \(output 'c'\): has 1 input\(s\); CONV_2D takes 2 to 3/],
    ['stride 0', (m) => { (opWriting(m, 'c').builtinOptions as Record<string, number>).strideW = 0; }, 'op-options', /strideW 0; it must be a positive integer/],
    ['concat axis 7', (m) => { (opWriting(m, 'cat').builtinOptions as Record<string, number>).axis = 7; }, 'op-options', /CONCATENATION .*axis 7 is outside the output's rank 4/],
    ['padding enum 7', (m) => { (opWriting(m, 'c').builtinOptions as Record<string, number>).padding = 7; }, 'op-options', /padding 7 is not SAME \(0\) or VALID \(1\)/],
    ['negative pads', (m) => { m.buffers[t(m, 'pd/pads').buffer].data = new Uint8Array(Int32Array.from([0, 0, -1, 1, 1, 1, 0, 0]).buffer); }, 'op-options', /PADV2 .*negative padding \[0,0,-1,1,1,1,0,0\]/],
    ['rank-3 weights', (m) => { t(m, 'c/w').shape = [3, 1, 3]; }, 'op-shapes', /weights have rank 3; CONV_2D takes rank-4 weights/],
    ['uint8 conv weights', (m) => { t(m, 'c/w').type = TensorType.UINT8; }, 'op-dtypes', /int8 input with uint8 weights/],
    ['uint8 out of an int8 PADV2', (m) => { t(m, 'pd').type = TensorType.UINT8; }, 'op-dtypes', /PADV2 \(output 'pd'\): reads int8 and writes uint8/],
    ['int8 -> int16 LOGISTIC', (m) => { t(m, 'sg').type = TensorType.INT16; t(m, 'sg').quantization = { scale: [1 / 32768], zeroPoint: [0], quantizedDimension: 0 }; }, 'op-dtypes', /LOGISTIC \(output 'sg'\): reads int8 and writes int16/],
    ['a 4 GiB activation', (m) => { t(m, 'th').shape = [4, 2 ** 30]; }, 'tensor-size', /'th': shape \[4,1073741824\] of int8 needs 4294967296 bytes/],
    ['tensor type -1', (m) => { t(m, 'th').type = -1; }, 'tensor-type', /'th': has type -1, which the TFLite schema does not define/],
  ];

  for (const [what, edit, rule, re] of refused) {
    it(`refuses ${what}, as LiteRT does`, async () => {
      const m = structuredClone(baseModel());
      edit(m);
      const bytes = writeTflite(m);
      const r = checkTflite(bytes, { strict: false });
      for (const v of r.violations) covered.add(v.rule);
      const found = r.violations.find((v) => v.rule === rule);
      expect(found, JSON.stringify(r.violations)).to.not.equal(undefined);
      expect(`${found!.where}: ${found!.message}`).to.match(re);
      expect(await liteRtRefusal(bytes), 'LiteRT refuses it too').to.be.a('string');
    });
  }

  it('a tensor written twice, a resized output: LiteRT runs them, so notes unless strict', async () => {
    const cases: [(m: TfliteModel) => void, CheckRule, RegExp][] = [
      [(m) => { opWriting(m, 'th').outputs = [tensorIndex(m, 'sm')]; }, 'tensor-defined', /TANH .*output 0 tensor \d+ 'sm' is already another operator's output; a tensor has one writer/],
      [(m) => { t(m, 'sg').shape = [1, 4, 4, 2]; }, 'op-shapes', /LOGISTIC \(output 'sg'\): output shape \[1,4,4,2\] differs from the input's \[1,4,4,3\]/],
    ];
    for (const [edit, rule, re] of cases) {
      const m = structuredClone(baseModel());
      edit(m);
      const bytes = writeTflite(m);
      const strict = checkTflite(bytes);
      for (const v of strict.violations) covered.add(v.rule);
      expect(strict.violations.some((v) => v.rule === rule && re.test(`${v.where}: ${v.message}`)), JSON.stringify(strict.violations)).to.equal(true);
      const lenient = checkTflite(bytes, { strict: false });
      expect(lenient.notes!.some((v) => v.rule === rule && re.test(`${v.where}: ${v.message}`))).to.equal(true);
      expect(lenient.violations.some((v) => v.rule === rule && re.test(`${v.where}: ${v.message}`))).to.equal(false);
      expect(await liteRtRefusal(bytes)).to.equal(undefined);
    }
    // After every refused file above, LiteRT still runs a valid model (no trap left behind).
    await runsInLiteRt(writeTflite(baseModel()));
  });
});

describe('checkTflite: XNNPACK parameter limits, as LiteRT applies them', function () {
  this.timeout(120_000);

  /**
   * x [1,2,2,2] int8 (scale 0.05) -> CONV_2D 1x1 or FULLY_CONNECTED (per-channel weight scales 0.01 and
   * 0.02) -> y at `outScale`: channel 1's requantization scale is 0.05 x 0.02 / outScale.
   */
  function weightedModel(op: 'CONV_2D' | 'FULLY_CONNECTED', outScale: number): TfliteModel {
    const b = new TfliteBuilder();
    const conv = op === 'CONV_2D';
    const x = b.addTensor({ name: 'x', shape: conv ? [1, 2, 2, 2] : [1, 2], type: 'int8', quantization: q(0.05, 0) });
    const wScales = [0.01, 0.02];
    const w = b.addTensor({ name: 'w', shape: conv ? [2, 1, 1, 2] : [2, 2], type: 'int8', data: Int8Array.from([10, -20, 30, 40]), quantization: { scale: wScales, zeroPoint: [0, 0], quantizedDimension: 0 } });
    const bias = b.addTensor({ name: 'b', shape: [2], type: 'int32', data: Int32Array.from([5, -5]), quantization: { scale: wScales.map((s) => Math.fround(Math.fround(0.05) * Math.fround(s))), zeroPoint: [0, 0], quantizedDimension: 0 } });
    const y = b.addTensor({ name: 'y', shape: conv ? [1, 2, 2, 2] : [1, 2], type: 'int8', quantization: q(outScale, 0) });
    if (conv) b.addOperator('CONV_2D', [x, w, bias], [y], { padding: 1, strideW: 1, strideH: 1, fusedActivationFunction: 0, dilationWFactor: 1, dilationHFactor: 1 });
    else b.addOperator('FULLY_CONNECTED', [x, w, bias], [y], { fusedActivationFunction: 0, weightsFormat: 0, keepNumDims: false, asymmetricQuantizeInputs: false });
    b.setInputs([x]);
    b.setOutputs([y]);
    return b.build();
  }

  for (const op of ['CONV_2D', 'FULLY_CONNECTED'] as const) {
    it(`${op}: a requantization scale of 300 is refused by check and by LiteRT; 200 passes both`, async () => {
      const refused = writeTflite(weightedModel(op, (0.05 * 0.02) / 300));
      const r = checkTflite(refused);
      for (const v of r.violations) covered.add(v.rule);
      // Channel 0 is at 150, below the limit: only channel 1 is named.
      expectViolations(r, [['requantization-scale', new RegExp(`operator 0 ${op} \\(output 'y'\\): requantization scale input x weight / output = 300\\.0 \\(channel 1; 1 of 2 channels\\) is at least 256.*input tensor 0 'x', weights tensor 1 'w', output tensor 3 'y'`)]]);
      expect(await liteRtRefusal(refused), 'LiteRT refuses it too').to.match(/XNNPACK/);
      const accepted = writeTflite(weightedModel(op, (0.05 * 0.02) / 200));
      expect(checkTflite(accepted).violations).to.deep.equal([]);
      expect(await liteRtRefusal(accepted)).to.equal(undefined);
    });
  }

  it('ADD with an input-to-output scale ratio below 2^-10: a note (the delegate declines it, LiteRT runs it)', async () => {
    const b = new TfliteBuilder();
    const x = b.addTensor({ name: 'x', shape: [1, 4], type: 'int8', quantization: q(0.05, 0) });
    const y = b.addTensor({ name: 'y', shape: [1, 4], type: 'int8', quantization: q(0.05 * 2 ** 11, 0) });
    b.addOperator('ADD', [x, x], [y], { fusedActivationFunction: 0 });
    b.setInputs([x]);
    b.setOutputs([y]);
    const bytes = writeTflite(b.build());
    const r = checkTflite(bytes);
    expect(r.violations).to.deep.equal([]);
    expect(r.notes!.map((n) => `${n.rule} ${n.where}: ${n.message}`)).to.deep.equal([0, 1].map((k) =>
      `delegate-scale-ratio operator 0 ADD (output 'y'): input ${k} tensor 0 'x' / output scale = 0.0004883, outside [2^-10, 2^8): the XNNPACK delegate leaves this node to TFLite's reference kernel (it runs, slower)`));
    for (const n of r.notes!) covered.add(n.rule);
    expect(await liteRtRefusal(bytes)).to.equal(undefined);
  });
});

describe('checkTflite: each rule broken by hand', function () {
  this.timeout(60_000);

  after(() => {
    // Every rule has been produced by at least one test above (readable included).
    expect([...covered].sort()).to.deep.equal([...CHECK_RULES].sort());
  });

  it('zero points outside the dtype: int8, uint8, int16, int32 bias', () => {
    expectViolations(checkEdited(baseModel, (m) => { tensor(m, 'x').quantization!.zeroPoint = [-192]; }), [
      ['zero-point', /^tensor 0 'x': zero point -192 is outside int8 \[-128, 127\]$/],
    ]);
    expectViolations(checkEdited(baseModel, (m) => { const t = tensor(m, 'th'); t.type = TensorType.UINT8; t.quantization!.zeroPoint = [300]; }), [
      ['zero-point', /tensor \d+ 'th': zero point 300 is outside uint8 \[0, 255\]/],
      // ... and TANH does not change the type.
      ['op-dtypes', /TANH \(output 'th'\): reads int8 and writes uint8; TANH keeps the input's type/],
    ]);
    expectViolations(checkEdited(int16Model, (m) => { tensor(m, 'c16').quantization!.zeroPoint = [5]; }), [
      ['zero-point', /tensor 3 'c16': zero point 5 is outside int16 \(symmetric: 0\)/],
    ]);
    expectViolations(checkEdited(baseModel, (m) => { tensor(m, 'c/b').quantization!.zeroPoint = [0, 1, 0]; }), [
      ['zero-point', /tensor 2 'c\/b': zero point 1 \(channel 1\) is outside int32 \(0\)/],
    ]);
  });

  it('scales must be finite and positive', () => {
    for (const s of [0, -0.05]) {
      expectViolations(checkEdited(baseModel, (m) => { tensor(m, 'fc').quantization!.scale = [s]; }), [
        ['scale', new RegExp(`tensor \\d+ 'fc': scale ${String(s).replace('.', '\\.')}; scales must be finite and > 0`)],
      ]);
    }
    // writeTflite refuses non-finite numbers: write a marker scale and patch its float32 bytes.
    const marker = 12345.5;
    const m = baseModel();
    tensor(m, 'fc').quantization!.scale = [marker];
    const clean = writeTflite(m);
    const pattern = new Uint8Array(Float32Array.of(marker).buffer);
    const at = clean.findIndex((_, i) => pattern.every((b, k) => clean[i + k] === b));
    expect(at).to.be.greaterThan(0);
    for (const s of [NaN, Infinity, -Infinity]) {
      const bytes = clean.slice();
      bytes.set(new Uint8Array(Float32Array.of(s).buffer), at);
      const r = checkTflite(bytes);
      expectViolations(r, [['scale', new RegExp(`tensor \\d+ 'fc': scale ${String(s)}; scales must be finite and > 0`)]]);
      // The same on the model object.
      tensor(m, 'fc').quantization!.scale = [s];
      expect(checkTfliteModel(m).violations).to.deep.equal(r.violations);
    }
  });

  it('as many zero points as scales; per-axis counts and axis', () => {
    expectViolations(checkEdited(baseModel, (m) => { tensor(m, 'fc').quantization!.zeroPoint = [0, 0]; }), [
      ['quantization-count', /'fc': has 1 scale\(s\) but 2 zero point\(s\)/],
    ]);
    expectViolations(checkEdited(baseModel, (m) => { Object.assign(tensor(m, 'fc').quantization!, { scale: [0.05, 0.05, 0.05], zeroPoint: [0, 0, 0], quantizedDimension: 1 }); }), [
      ['quantization-axis', /'fc': has 3 scales on dimension 1, of size 2 in shape \[1,2\]; expected 2 \(or 1 for per-tensor\)/],
      ['activation-quantization', /'fc': is a int8 activation quantized per channel \(3 scales\)/],
    ]);
    expectViolations(checkEdited(baseModel, (m) => { tensor(m, 'c/w').quantization!.quantizedDimension = 7; }), [
      ['quantization-axis', /'c\/w': per-axis quantization on dimension 7, outside its rank-4 shape \[3,1,1,3\]/],
      ['weights-axis', /^operator 0 CONV_2D \(output 'c'\): weights tensor 1 'c\/w' are quantized per axis on dimension 7; CONV_2D expects the output-channel dimension 0$/],
    ]);
  });

  it('weights: symmetric, in [-127, 127], per output channel', () => {
    expectViolations(checkEdited(baseModel, (m) => { tensor(m, 'c/w').quantization!.zeroPoint = [0, 1, 0]; }), [
      ['weights-zero-point', /operator 0 CONV_2D \(output 'c'\): weights tensor 1 'c\/w' have zero point 1 \(channel 1\); CONV_2D weights must be symmetric/],
    ]);
    expectViolations(checkEdited(baseModel, (m) => { tensor(m, 'fc/w').quantization!.zeroPoint = [4]; }), [
      ['weights-zero-point', /FULLY_CONNECTED \(output 'fc'\): weights tensor \d+ 'fc\/w' have zero point 4/],
    ]);
    expectViolations(checkEdited(baseModel, (m) => { m.buffers[tensor(m, 'c2/w').buffer].data[4] = 0x80; }), [
      ['weights-range', /operator 1 CONV_2D \(output 'c2'\): weights tensor \d+ 'c2\/w' hold 1 value\(s\) of -128; int8 weights must be in \[-127, 127\]/],
    ]);
    // Per-axis on dimension 3 (also of size 3): a valid per-axis tensor, but not CONV_2D's channel axis.
    expectViolations(checkEdited(baseModel, (m) => { tensor(m, 'c/w').quantization!.quantizedDimension = 3; }), [
      ['weights-axis', /weights tensor 1 'c\/w' are quantized per axis on dimension 3; CONV_2D expects the output-channel dimension 0/],
    ]);
  });

  it('bias: type for the input type, one value per channel, scale = input x weight scale', () => {
    expectViolations(
      checkEdited(baseModel, (m) => {
        const t = tensor(m, 'c/b');
        t.type = TensorType.INT64;
        m.buffers[t.buffer].data = new Uint8Array(BigInt64Array.from([100n, -50n, 7n]).buffer);
      }),
      [['bias-type', /operator 0 CONV_2D \(output 'c'\): bias tensor 2 'c\/b' is int64; with int8 input tensor 0 'x' it must be int32$/]],
    );
    // int16 activations: int64 and int32 biases both run (TFLite conv.cc accepts either), int8 does not.
    expect(checkEdited(int16Model, (m) => {
      const t = tensor(m, 'b16');
      t.type = TensorType.INT32;
      m.buffers[t.buffer].data = new Uint8Array(Int32Array.from([5, -5]).buffer);
    }).violations).to.deep.equal([]);
    expectViolations(
      checkEdited(int16Model, (m) => {
        const t = tensor(m, 'b16');
        t.type = TensorType.INT8;
        m.buffers[t.buffer].data = Uint8Array.of(5, 251);
      }),
      [['bias-type', /bias tensor 2 'b16' is int8; with int16 input tensor 0 'x16' it must be int32 or int64/]],
    );
    expectViolations(
      checkEdited(baseModel, (m) => {
        const t = tensor(m, 'c/b');
        t.shape = [4];
        m.buffers[t.buffer].data = new Uint8Array(Int32Array.from([1, 2, 3, 4]).buffer);
        Object.assign(t.quantization!, { scale: [...t.quantization!.scale, 0.005], zeroPoint: [0, 0, 0, 0] });
      }),
      [['bias-shape', /bias tensor 2 'c\/b' has shape \[4\] \(4 values\); the weights' 3 output channels need 3/]],
    );
    expectViolations(checkEdited(baseModel, (m) => { tensor(m, 'c/b').quantization!.scale[1] *= 1.01; }), [
      ['bias-scale', /operator 0 CONV_2D \(output 'c'\): bias tensor 2 'c\/b' scale 0\.0101 instead of 0\.01 \(channel 1\); it must equal input scale 0\.05 x weight scale/],
    ]);
    // Float32 rounding of the product is within the tolerance.
    expect(checkEdited(baseModel, (m) => { tensor(m, 'c/b').quantization!.scale[1] = 0.05 * 0.2 * (1 + 3e-7); }).violations).to.deep.equal([]);
    expectViolations(checkEdited(baseModel, (m) => { delete tensor(m, 'fc/b').quantization; }), [
      ['bias-scale', /FULLY_CONNECTED \(output 'fc'\): bias tensor \d+ 'fc\/b' has no quantization parameters; expected scale = input scale x weight scale/],
    ]);
  });

  it('fixed output parameters of LOGISTIC, SOFTMAX, TANH (int8 and int16)', () => {
    expectViolations(checkEdited(baseModel, (m) => { tensor(m, 'sg').quantization!.zeroPoint = [-127]; }), [
      ['fixed-output', /LOGISTIC \(output 'sg'\): output tensor \d+ 'sg' has scale 0\.00390625 and zero point -127; LOGISTIC with int8 output needs scale 0\.00390625 \(1\/256\) and zero point -128/],
    ]);
    expectViolations(checkEdited(baseModel, (m) => { tensor(m, 'sm').quantization!.scale = [1 / 255]; }), [
      ['fixed-output', /SOFTMAX \(output 'sm'\): .*SOFTMAX with int8 output needs scale 0\.00390625 \(1\/256\) and zero point -128/],
    ]);
    expectViolations(checkEdited(baseModel, (m) => { tensor(m, 'th').quantization!.scale = [1 / 256]; }), [
      ['fixed-output', /TANH \(output 'th'\): .*TANH with int8 output needs scale 0\.0078125 \(1\/128\) and zero point 0/],
    ]);
    // The kernels accept the scale within 0.1 % (TF_LITE_ENSURE_NEAR): 1/32767 passes, 1/16384 does not.
    expect(checkEdited(int16Model, (m) => { tensor(m, 'y16').quantization!.scale = [1 / 32767]; }).violations).to.deep.equal([]);
    expectViolations(checkEdited(int16Model, (m) => { tensor(m, 'y16').quantization!.scale = [1 / 16384]; }), [
      ['fixed-output', /LOGISTIC with int16 output needs scale 0\.0000305\d* \(1\/32768\) and zero point 0/],
    ]);
  });

  it('same parameters on CONCATENATION, MAX_POOL_2D, RESHAPE, PADV2 (value), SPLIT', () => {
    expectViolations(checkEdited(baseModel, (m) => { tensor(m, 'c2').quantization!.zeroPoint = [3]; }), [
      ['same-params', /^operator 2 CONCATENATION \(output 'cat'\): input 1 tensor \d+ 'c2' has scale 0\.1, zero point 3 but output tensor \d+ 'cat' has scale 0\.1, zero point 2; int8 CONCATENATION needs them equal$/],
      ['same-params', /operator 10 SPLIT \(output 's0'\): input 1 tensor \d+ 'c2' has .* but output tensor \d+ 's0' has/],
      ['same-params', /SPLIT .*output tensor \d+ 's1'/],
      ['same-params', /SPLIT .*output tensor \d+ 's2'/],
    ]);
    expectViolations(checkEdited(baseModel, (m) => { tensor(m, 'mp').quantization!.scale = [0.2]; }), [
      ['same-params', /operator 3 MAX_POOL_2D \(output 'mp'\): input 0 tensor \d+ 'cat' has scale 0\.1, zero point 2 but output tensor \d+ 'mp' has scale 0\.2, zero point 2/],
    ]);
    // RESHAPE's output is FULLY_CONNECTED's input, whose bias scale depends on it: two violations.
    expectViolations(checkEdited(baseModel, (m) => { tensor(m, 'rs').quantization!.scale = [0.2]; }), [
      ['same-params', /RESHAPE \(output 'rs'\): input 0 tensor \d+ 'cat'/],
      ['bias-scale', /FULLY_CONNECTED \(output 'fc'\): bias tensor \d+ 'fc\/b' scale 0\.001 instead of 0\.002/],
    ]);
    expectViolations(checkEdited(baseModel, (m) => { tensor(m, 'pd/value').quantization!.zeroPoint = [0]; }), [
      ['same-params', /PADV2 \(output 'pd'\): input 2 tensor \d+ 'pd\/value' has scale 0\.1, zero point 0 but output/],
    ]);
    expectViolations(checkEdited(baseModel, (m) => { delete tensor(m, 's1').quantization; }), [
      ['activation-quantization', /'s1': is a int8 activation without quantization parameters/],
      ['same-params', /SPLIT .*input 1 tensor \d+ 'c2' has scale 0\.1, zero point 2 but output tensor \d+ 's1' has no quantization parameters/],
    ]);
  });

  it('fused activations the kernels refuse (any on CONCATENATION) or do not apply (TANH, SIGN_BIT)', () => {
    const opt = (m: TfliteModel, name: string) => opWriting(m, name).builtinOptions as Record<string, number>;
    expectViolations(checkEdited(baseModel, (m) => { opt(m, 'cat').fusedActivationFunction = 3; }), [
      ['op-options', /^operator 2 CONCATENATION \(output 'cat'\): fused activation RELU6 \(3\); TFLite's CONCATENATION kernel accepts only NONE \(put the activation in an op of its own\)$/],
    ]);
    expectViolations(checkEdited(baseModel, (m) => { opt(m, 'c').fusedActivationFunction = 4; opt(m, 'fc').fusedActivationFunction = 5; }), [
      ['op-options', /CONV_2D \(output 'c'\): fused activation TANH \(4\); TFLite's kernels apply only RELU, RELU_N1_TO_1 and RELU6 \(they would run it as NONE\)$/],
      ['op-options', /FULLY_CONNECTED \(output 'fc'\): fused activation SIGN_BIT \(5\)/],
    ]);
    // RELU / RELU6 / RELU_N1_TO_1 on the ops whose kernels apply them: no violation.
    for (const act of [1, 2, 3]) expect(checkEdited(baseModel, (m) => { opt(m, 'c').fusedActivationFunction = act; opt(m, 'mp').fusedActivationFunction = act; }).violations).to.deep.equal([]);
  });

  it('operator versions: at least what the tensor types need, and one TFLite defines', async () => {
    expectViolations(checkEdited(baseModel, (m) => { codeOf(m, 'c').version = 1; }), [
      ['op-version', /^operator 0 CONV_2D \(output 'c'\): operator code declares version 1; its tensor types \(int8,int8,int32 -> int8\) and options need version 3 or higher$/],
      ['op-version', /^operator 1 CONV_2D \(output 'c2'\)/],
    ]);
    const v9 = checkEdited(baseModel, (m) => { codeOf(m, 'c').version = 9; });
    expectViolations(v9, [
      ['op-version', /operator 0 CONV_2D .*declares version 9; TFLite defines CONV_2D versions 1 to 8/],
      ['op-version', /operator 1 CONV_2D/],
    ]);
    // ... which LiteRT indeed cannot load (with the checker bypassed), and which load refuses first.
    const m9 = baseModel();
    codeOf(m9, 'c').version = 9;
    const loadError = async (check: boolean) => {
      try {
        (await TfliteRunner.load(writeTflite(m9), { check })).dispose();
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    };
    expect(await loadError(false)).to.match(/CONV_2D' version '9'/);
    expect(await loadError(true)).to.match(/refused before loading into LiteRT.*declares version 9; TFLite defines CONV_2D versions 1 to 8/);
    // A lower version than the types need: a violation when strict (files we write), a note otherwise
    // (LiteRT runs such files; MediaPipe's selfie segmentation declares RESIZE_BILINEAR version 1).
    const v1 = checkEdited(baseModel, (m) => { codeOf(m, 'c').version = 1; });
    const lenient = checkTfliteModel(readTflite(writeTflite((() => { const m = baseModel(); codeOf(m, 'c').version = 1; return m; })())), { strict: false });
    expect(lenient.ok).to.equal(true);
    expect(lenient.notes!.map((n) => n.message)).to.deep.equal(v1.violations.map((n) => n.message));
    // A higher version than needed is fine (ops of one kind share the highest version any needs).
    expect(checkEdited(baseModel, (m) => { codeOf(m, 'c').version = 5; }).violations).to.deep.equal([]);
    // DEQUANTIZE of float16 at version 2 (as in yolov5n-fp16.tflite) is accepted; version 1 is not.
    expect(checkEdited(float16Model, (m) => { codeOf(m, 'k').version = 2; }).violations).to.deep.equal([]);
    expectViolations(checkEdited(float16Model, (m) => { codeOf(m, 'k').version = 1; }), [
      ['op-version', /DEQUANTIZE \(output 'k'\): operator code declares version 1; its tensor types \(float16 -> float32\) and options need version 3/],
    ]);
  });

  it('references: buffers, tensors, operator codes; buffer sizes; tensors defined before use', () => {
    expectViolations(checkEdited(baseModel, (m) => { tensor(m, 'c/w').buffer = 999; }), [
      ['buffer-index', /^tensor 1 'c\/w': uses buffer 999, but the model has \d+ buffers$/],
      // Without its buffer the weights are no constant: the conv reads an undefined tensor.
      ['tensor-defined', /operator 0 CONV_2D \(output 'c'\): input 1 tensor 1 'c\/w' is read before any operator writes it/],
    ]);
    expectViolations(checkEdited(baseModel, (m) => { const t = tensor(m, 'c/w'); m.buffers[t.buffer].data = m.buffers[t.buffer].data.slice(0, 5); }), [
      ['buffer-size', /^tensor 1 'c\/w': buffer \d+ has 5 bytes; shape \[3,1,1,3\] of int8 needs 9$/],
    ]);
    expectViolations(checkEdited(baseModel, (m) => { opWriting(m, 'sg').inputs[0] = 99; }), [
      ['tensor-index', /LOGISTIC \(output 'sg'\): input 0 refers to tensor 99, but the subgraph has \d+ tensors/],
    ]);
    expectViolations(checkEdited(baseModel, (m) => { m.subgraphs[0].outputs.push(-5); }), [
      ['tensor-index', /^subgraph output 8: refers to tensor -5, but the subgraph has \d+ tensors$/],
    ]);
    expectViolations(checkEdited(baseModel, (m) => { opWriting(m, 'th').opcodeIndex = 42; }), [
      ['opcode-index', /^operator 7 \? \(output 'th'\): uses operator code 42, but the model has \d+$/],
    ]);
    // CONCATENATION moved before the convolutions that write its inputs.
    expectViolations(checkEdited(baseModel, (m) => { const ops = m.subgraphs[0].operators; ops.unshift(ops.splice(2, 1)[0]); }), [
      ['tensor-defined', /operator 0 CONCATENATION \(output 'cat'\): input 0 tensor \d+ 'c' is read before any operator writes it/],
      ['tensor-defined', /operator 0 CONCATENATION \(output 'cat'\): input 1 tensor \d+ 'c2' is read before/],
    ]);
    expectViolations(checkEdited(baseModel, (m) => {
      m.subgraphs[0].tensors.push({ name: 'orphan', shape: [1], type: TensorType.INT8, buffer: 0, quantization: { ...q(1, 0), quantizedDimension: 0 } });
      m.subgraphs[0].outputs.push(m.subgraphs[0].tensors.length - 1);
    }), [['tensor-defined', /^subgraph output 8: tensor \d+ 'orphan' is never written by an operator/]]);
  });

  it('references from metadata and signatures', () => {
    expectViolations(checkEdited(baseModel, (m) => { m.metadata.push({ name: 'notes', buffer: 500 }); }), [
      ['buffer-index', /^metadata 0 'notes': uses buffer 500, but the model has \d+ buffers$/],
    ]);
    expectViolations(
      checkEdited(baseModel, (m) => {
        m.signatureDefs.push({ signatureKey: 'serving_default', subgraphIndex: 0, inputs: [{ name: 'x', tensorIndex: 0 }], outputs: [{ name: 'y', tensorIndex: 77 }] });
      }),
      [['tensor-index', /^signature 0 'serving_default': 'y' refers to tensor 77, but subgraph 0 has \d+ tensors$/]],
    );
  });

  it('an unreadable file is one readable violation, with the reader message', () => {
    const bytes = writeTflite(baseModel());
    const r = checkTflite(bytes.subarray(0, 100), { label: 'cut.tflite' });
    for (const v of r.violations) covered.add(v.rule);
    expect(r.violations).to.have.length(1);
    expect(r.violations[0].rule).to.equal('readable');
    expect(r.violations[0].where).to.equal('cut.tflite');
    expect(r.violations[0].message).to.match(/^invalid TFLite file: /);
    expect(() => checkTflite('x' as unknown as Uint8Array, { label: 'm' })).to.throw(TypeError, /m: checkTflite expects a Uint8Array/);
  });
});

const samples = (n: number, len: number, lo: number, hi: number, seed: number) => {
  const r = mulberry32(seed);
  // On the int8 input grid of [0, 1] (multiples of 1/255), within [lo, hi].
  return Array.from({ length: n }, () => Float32Array.from({ length: len }, () => Math.round((lo + (hi - lo) * r()) * 255) / 255));
};

function smallGraph(): Graph {
  const r = mulberry32(17);
  const rand = (n: number, s: number) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);
  const b = new GraphBuilder('small');
  const x = b.addInput('input', [1, 8, 8, 3]);
  const conv = (name: string, inp: string, ic: number, oc: number) =>
    b.emit(name, 'Conv2D', [inp, b.addConstant(`${name}/w`, [3, 3, ic, oc], 'float32', rand(9 * ic * oc, 0.5)), b.addConstant(`${name}/b`, [oc], 'float32', rand(oc, 0.2))], {
      strides: [1, 1], padding: 'SAME', dilations: [1, 1], activation: 'none',
    })[0];
  const c1 = b.emit('silu1', 'Silu', [conv('c1', x, 3, 4)], {})[0];
  const mp = b.emit('mp', 'MaxPool', [c1], { filter: [2, 2], strides: [2, 2], padding: 'VALID' })[0];
  const c2 = conv('c2', mp, 4, 4);
  const up = b.emit('up', 'ResizeNearest', [c2], { size: [8, 8], alignCorners: false, halfPixelCenters: false })[0];
  const cat = b.emit('cat', 'Concat', [c1, up], { axis: 3 })[0];
  const y = b.emit('sig', 'Sigmoid', [conv('c3', cat, 8, 2)], {})[0];
  return b.build([y], { source: 'small', format: 'built', notes: [] });
}

describe('checkTflite on files quantizeInt8 / exportFloatTflite write', function () {
  this.timeout(180_000);

  it('a small conv / SiLU / max-pool / resize / concat / sigmoid model passes, and runs in LiteRT', async () => {
    const { tflite } = await quantizeInt8(smallGraph(), { representativeDataset: samples(4, 192, 0, 1, 3), numCalibrationSamples: 4, backend: 'wasm' });
    expect(checkTflite(tflite).violations).to.deep.equal([]);
    await runsInLiteRt(tflite);
    const float = await exportFloatTflite(smallGraph());
    expect(checkTflite(float.tflite).violations).to.deep.equal([]);
  });

  it('inputRange [0.2, 1]: the range is widened to contain 0 (scale 1/255, zero point -128), the model is valid and matches float', async () => {
    const graph = smallGraph();
    const data = samples(4, 192, 0.2, 1, 5);
    const { tflite } = await quantizeInt8(graph, { representativeDataset: data, numCalibrationSamples: 4, backend: 'wasm', inputRange: [0.2, 1] });
    expect(checkTflite(tflite).violations).to.deep.equal([]);
    const input = readTflite(tflite).subgraphs[0].tensors[readTflite(tflite).subgraphs[0].inputs[0]];
    // [0, 1] over 255 steps: scale 1/255 (float32), and 0.0 at -128 (before: zero point -192).
    expect(input.quantization!.scale[0]).to.equal(Math.fround(1 / 255));
    expect(input.quantization!.zeroPoint[0]).to.equal(-128);
    // LiteRT runs it, and the result is the float graph's within a few output steps.
    const runner = await TfliteRunner.load(tflite);
    const exec = await createFloatExecutor(graph, { backend: 'wasm' });
    try {
      const inp = runner.inputs[0];
      const out = runner.outputs[0];
      for (const x of data) {
        const q = int8Saturated(x, inp.scale!, inp.zeroPoint!);
        const y = (await runner.run([q]))[0] as Int8Array;
        const ref = (await exec.run({ input: x }, ['sig'])).sig;
        let maxErr = 0;
        for (let i = 0; i < ref.length; i++) maxErr = Math.max(maxErr, Math.abs((y[i] - out.zeroPoint!) * out.scale! - ref[i]));
        expect(maxErr).to.be.below(6 / 256);
      }
    } finally {
      runner.dispose();
      exec.dispose();
    }
  });

  it('inputRange must be [min, max] with min < max', async () => {
    let msg = '';
    try {
      await quantizeInt8(smallGraph(), { representativeDataset: samples(1, 192, 0, 1, 3), numCalibrationSamples: 1, backend: 'wasm', inputRange: [1, 0.2] });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).to.equal('quantizeInt8: inputRange must be [min, max] with finite min < max, got [1, 0.2]');
  });

  it('CONCATENATION with a constant input: the constant is written in the output parameters (valid, and LiteRT agrees with float)', async () => {
    // The int8 kernel needs every input in the output's parameters: the plan puts the constant in
    // the concat's group (its range joins the group's) instead of quantizing it from its own range.
    const b = new GraphBuilder('catconst');
    const x = b.addInput('input', [1, 4, 4, 2]);
    const w = b.addConstant('c/w', [1, 1, 2, 3], 'float32', Float32Array.from([0.5, -0.3, 0.8, 0.1, -0.9, 0.4]));
    const c = b.emit('c', 'Conv2D', [x, w], { strides: [1, 1], padding: 'VALID', dilations: [1, 1], activation: 'none' })[0];
    const k = b.addConstant('k', [1, 4, 4, 1], 'float32', Float32Array.from({ length: 16 }, (_, i) => 5 + i / 4));
    const cat = b.emit('cat', 'Concat', [c, k], { axis: 3 })[0];
    const graph = b.build([cat], { source: 'catconst', format: 'built', notes: [] });
    const { tflite } = await quantizeInt8(graph, { representativeDataset: samples(2, 32, 0, 1, 4), numCalibrationSamples: 2, backend: 'wasm' });
    expect(checkTflite(tflite)).to.deep.equal({ ok: true, violations: [] });
    const runner = await TfliteRunner.load(tflite);
    const exec = await createFloatExecutor(graph, { backend: 'wasm' });
    try {
      const xin = Float32Array.from({ length: 32 }, (_, i) => ((i * 37) % 256) / 255);
      const q = int8FromUnit(xin);
      const y = (await runner.run([q]))[0] as Int8Array;
      const out = runner.outputs[0];
      const ref = (await exec.run({ input: Float32Array.from(q, (v) => (v + 128) / 255) }, ['cat'])).cat;
      let maxErr = 0;
      for (let i = 0; i < ref.length; i++) maxErr = Math.max(maxErr, Math.abs((y[i] - out.zeroPoint!) * out.scale! - ref[i]));
      // Output rounding (half a step) plus the conv's weight rounding: within 1.5 output steps.
      expect(maxErr).to.be.at.most(1.5 * out.scale!);
      // The constant channel (every 4th value) covers 5..8.75: the output range includes it.
      expect((127 - out.zeroPoint!) * out.scale!).to.be.at.least(8.75 - out.scale!);
    } finally {
      runner.dispose();
      exec.dispose();
    }
  });
});

describe('yolo-int8 check (CLI)', function () {
  this.timeout(60_000);

  it('exit 0 and "ok" for a valid file; exit 1 with one line per violation, or JSON', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-cli-'));
    try {
      const good = path.join(dir, 'good.tflite');
      fs.writeFileSync(good, writeTflite(baseModel()));
      const ok = await runCli(['check', good]);
      expect(ok.code).to.equal(0);
      expect(ok.stdout).to.equal(`${good}: ok (no violations)\n`);
      const m = baseModel();
      tensor(m, 'x').quantization!.zeroPoint = [-192];
      tensor(m, 'mp').quantization!.scale = [0.2];
      const bad = path.join(dir, 'bad.tflite');
      fs.writeFileSync(bad, writeTflite(m));
      const text = await runCli(['check', bad]);
      expect(text.code).to.equal(1);
      expect(text.stdout.split('\n')).to.deep.equal([
        `${bad}: 2 violation(s)`,
        "  tensor 0 'x': [zero-point] zero point -192 is outside int8 [-128, 127]",
        `  operator 3 MAX_POOL_2D (output 'mp'): [same-params] input 0 tensor ${tensorIndex(m, 'cat')} 'cat' has scale 0.1, zero point 2 but output tensor ${tensorIndex(m, 'mp')} 'mp' has scale 0.2, zero point 2; int8 MAX_POOL_2D needs them equal`,
        '',
      ]);
      expect(text.stderr).to.equal(`yolo-int8: ${bad}: 2 violation(s)\n`);
      const json = await runCli(['check', bad, '--json']);
      expect(json.code).to.equal(1);
      const parsed = JSON.parse(json.stdout);
      expect(parsed.command).to.equal('check');
      expect(parsed.ok).to.equal(false);
      expect(parsed.violations.map((v: { rule: string }) => v.rule)).to.deep.equal(['zero-point', 'same-params']);
      expect((await runCli(['check'])).code).to.equal(2);
      expect((await runCli(['check', path.join(dir, 'missing.tflite')])).stderr).to.match(/missing\.tflite: model not found/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('checkTflite fuzz', function () {
  this.timeout(300_000);

  /** The checker returns (never throws) and every violation is well-formed. */
  function checkNeverThrows(bytes: Uint8Array, label: string): CheckResult {
    let r: CheckResult;
    try {
      r = checkTflite(bytes, { label });
    } catch (e) {
      throw new Error(`${label}: checkTflite threw ${e instanceof Error ? e.stack : String(e)}`);
    }
    expect(typeof r.ok).to.equal('boolean');
    expect(r.ok).to.equal(r.violations.length === 0);
    for (const v of r.violations) {
      expect(CHECK_RULES, label).to.include(v.rule);
      expect(v.where.length).to.be.greaterThan(0);
      expect(v.message.length).to.be.greaterThan(0);
    }
    if (r.violations.some((v) => v.rule === 'readable')) expect(r.violations, label).to.have.length(1);
    return r;
  }

  function byteFuzz(name: string, src: Uint8Array, iterations: number, seed: number, headerBias: number) {
    const rnd = mulberry32(seed);
    const tally = { ok: 0, unreadable: 0, violations: 0 };
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) {
      const r = checkNeverThrows(mutate(src, rnd, headerBias), `${name}#${i}`);
      if (r.ok) tally.ok++;
      else if (r.violations[0].rule === 'readable') tally.unreadable++;
      else tally.violations++;
    }
    console.log(`      ${name}: ${iterations} mutated files: ${tally.ok} ok, ${tally.unreadable} unreadable, ${tally.violations} with violations, ${(performance.now() - t0).toFixed(0)} ms`);
    return tally;
  }

  it('byte mutations of the reader fuzz (hand-built model, the test model)', () => {
    byteFuzz('hand', handBuilt(), 3000, 42, 4096);
    const t = byteFuzz('base', writeTflite(baseModel()), 3000, 43, 4096);
    // The mutations reach the checker's rules, not only the reader's refusals.
    expect(t.violations).to.be.greaterThan(100);
  });

  it('byte mutations of the YOLOv5n int8 fixture', function () {
    requireFixtures(this);
    byteFuzz('int8', new Uint8Array(fs.readFileSync(YOLOV5N_INT8)), 150, 7, 200_000);
  });

  it('field mutations of the model object (indices, shapes, types, scales, zero points, versions)', () => {
    const rnd = mulberry32(99);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
    const wild = () => pick([-1, 0, 1, 2, 3, 7, 9, 13, 17, 99, 127, -128, 2 ** 31 - 1, -(2 ** 31), 1e-45, 0.5, NaN, Infinity, -Infinity]);
    const intWild = () => pick([-1, 0, 1, 2, 3, 5, 8, 9, 17, 40, 255, 1000, 2 ** 31 - 1]);
    let written = 0;
    let withViolations = 0;
    for (let i = 0; i < 1500; i++) {
      const m = baseModel();
      const sg = m.subgraphs[0];
      for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) {
        const t = pick(sg.tensors);
        const op = pick(sg.operators);
        switch (Math.floor(rnd() * 12)) {
          case 0: t.type = pick([0, 1, 2, 3, 4, 6, 7, 9, 17, 40]); break;
          case 1: t.shape = t.shape.map((d) => (rnd() < 0.3 ? intWild() : d)); if (rnd() < 0.2) t.shape = []; break;
          case 2: t.buffer = intWild(); break;
          case 3: if (t.quantization) t.quantization.scale = t.quantization.scale.map(() => wild()); break;
          case 4: if (t.quantization) t.quantization.zeroPoint = t.quantization.zeroPoint.map(() => intWild() * pick([1, -1])); break;
          case 5: if (t.quantization) t.quantization.quantizedDimension = intWild(); break;
          case 6: op.inputs[Math.floor(rnd() * op.inputs.length)] = intWild(); break;
          case 7: op.outputs[Math.floor(rnd() * op.outputs.length)] = intWild(); break;
          case 8: op.opcodeIndex = intWild(); break;
          case 9: pick(m.operatorCodes).version = intWild(); break;
          case 10: pick(m.operatorCodes).builtinCode = pick([0, 3, 4, 14, 22, 32, 49, 114, 200]); break;
          case 11: m.buffers[Math.floor(rnd() * m.buffers.length)].data = new Uint8Array(Math.floor(rnd() * 20)); break;
        }
      }
      // The object itself (even values no file can hold) ...
      let r: CheckResult;
      try {
        r = checkTfliteModel(m);
      } catch (e) {
        throw new Error(`field mutation ${i}: checkTfliteModel threw ${(e as Error).stack}`);
      }
      if (!r.ok) withViolations++;
      // ... and the file written from it, when the writer can write it.
      let bytes: Uint8Array | undefined;
      try {
        bytes = writeTflite(m);
      } catch {
        bytes = undefined;
      }
      if (bytes) {
        written++;
        checkNeverThrows(bytes, `field mutation ${i}`);
      }
    }
    console.log(`      1500 field mutations: ${withViolations} with violations, ${written} written and re-checked`);
    expect(withViolations).to.be.greaterThan(1000);
  });
});
