// The int16 writers of Div (a * rsqrt(b)^2) and DepthToSpace (reshape / transpose / reshape): their
// internal ranges and index math by hand, and the plan's choice for a divisor whose range holds 0.
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../../lib/graph/builder.js';
import { quantizeInt8 } from '../../lib/quantize/index.js';
import { readTflite } from '../../lib/tflite/reader.js';
import { builtinOperatorName } from '../../lib/tflite/operators.js';
import { inspectTflite } from '../../lib/tflite/inspect.js';
import { divisorRefusal, reciprocalRanges } from '../../lib/ops/defs/div.js';
import { depthToSpaceSteps } from '../../lib/ops/defs/depth-to-space.js';
import type { Precision } from '../../lib/ops/types.js';
import { TfliteRunner } from '../../lib/runtime/index.js';

describe('Div int16: the reciprocal\'s internal ranges', () => {
  it('a positive divisor [2, 8]: rsqrt in [1/sqrt(8), 1/sqrt(2/2)], reciprocal in [1/8, 2/2]', () => {
    const r = reciprocalRanges({ min: 2, max: 8 });
    expect(r.negative).to.equal(false);
    expect(r.rsqrt.min).to.be.closeTo(0.35355339, 1e-8);
    expect(r.rsqrt.max).to.be.closeTo(1, 1e-12);
    expect(r.reciprocal).to.deep.equal({ min: 0.125, max: 1 });
  });

  it('a negative divisor [-4, -1]: rsqrt of -b in [1/2, sqrt(2)], reciprocal in [-2, -1/4]', () => {
    const r = reciprocalRanges({ min: -4, max: -1 });
    expect(r.negative).to.equal(true);
    expect(r.rsqrt.min).to.be.closeTo(0.5, 1e-12);
    expect(r.rsqrt.max).to.be.closeTo(1.41421356, 1e-8);
    expect(r.reciprocal).to.deep.equal({ min: -2, max: -0.25 });
  });

  it('the margin: with 1 the ranges are exactly the calibrated ones ([0.25, 4] -> rsqrt [0.5, 2], 1/b [0.25, 4])', () => {
    const r = reciprocalRanges({ min: 0.25, max: 4 }, 1);
    expect(r.rsqrt).to.deep.equal({ min: 0.5, max: 2 });
    expect(r.reciprocal).to.deep.equal({ min: 0.25, max: 4 });
  });

  it('divisorRefusal: one sign within a 32x span passes; 0 inside, a 40x span or no range is refused', () => {
    expect(divisorRefusal({ min: 0.5, max: 16 })).to.equal(undefined);
    expect(divisorRefusal({ min: -16, max: -0.5 })).to.equal(undefined);
    expect(divisorRefusal({ min: -0.1, max: 2 })).to.match(/\[-0\.1000, 2\.000\] holds 0/);
    expect(divisorRefusal({ min: 0, max: 2 })).to.match(/holds 0/);
    expect(divisorRefusal({ min: 0.05, max: 2 })).to.match(/spans 40\.0x, beyond the 32x/);
    expect(divisorRefusal({ min: -2, max: -0.05 })).to.match(/spans 40\.0x/);
    expect(divisorRefusal(undefined)).to.equal('it has no calibrated range');
  });

  it('refuses a divisor range that holds 0, naming the range', () => {
    expect(() => reciprocalRanges({ min: -1, max: 2 })).to.throw(/\[-1, 2\] holds 0/);
    expect(() => reciprocalRanges({ min: 0, max: 2 })).to.throw(/holds 0/);
  });
});

/** A graph x -> Div(conv-free: x + shift numerator, x + divisorShift) with its inputs in [0, 1]. */
function divGraph(divisorShift: number) {
  const b = new GraphBuilder('div');
  const x = b.addInput('input', [1, 4, 4, 2]);
  const num = b.emit('num', 'Add', [x, b.addConstant('n0', [], 'float32', Float32Array.of(0.25))], {})[0];
  const den = b.emit('den', 'Add', [x, b.addConstant('d0', [], 'float32', Float32Array.of(divisorShift))], {})[0];
  const out = b.emit('div', 'Div', [num, den], {})[0];
  return b.build([out], { source: 'div', format: 'built', notes: [] });
}

/** Inputs on the int8 input grid (scale 1/255), seeded. */
function samples(n: number): Float32Array[] {
  let s = 12345;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  return Array.from({ length: n }, () => Float32Array.from({ length: 32 }, () => Math.round(next() * 255) / 255));
}

async function quantizeDiv(divisorShift: number, precision: Precision) {
  const { tflite, report } = await quantizeInt8(divGraph(divisorShift), { representativeDataset: samples(8), numCalibrationSamples: 8, backend: 'wasm', precision });
  const m = readTflite(tflite);
  const ops = m.subgraphs[0].operators.map((o) => builtinOperatorName(m.operatorCodes[o.opcodeIndex].builtinCode));
  return { ops, report };
}

describe('Div int16: what the plan writes', () => {
  it('a divisor in [0.5, 1.5] under the default (int8) request: int16 RSQRT + MUL + MUL, full-integer', async () => {
    const { ops, report } = await quantizeDiv(0.5, 'int8');
    expect(report.allInteger).to.equal(true);
    expect(ops.filter((o) => o !== 'QUANTIZE')).to.deep.equal(['ADD', 'ADD', 'RSQRT', 'MUL', 'MUL']);
    expect(report.plan.notes.join('\n')).to.match(/Div \(1 node: div\) written in int16: TFLite has no int8 kernel for it/);
  });

  it('a divisor of the other sign on an unseen input runs, but keeps the calibrated sign (README says so)', async () => {
    // Divisor x - 0.25, calibrated on x in [0.5, 1] (divisor [0.25, 0.75], one sign): int16 RSQRT path.
    // Quotient (x + 0.25) / (x - 0.25) in [1.67, 3] there. At x = 0 the divisor is -0.25 and the float
    // quotient -1; the int16 reciprocal has no negative values, so the file's quotient stays positive.
    const calibration = samples(8).map((v) => v.map((u) => Math.round((0.5 + u / 2) * 255) / 255));
    const { tflite, report } = await quantizeInt8(divGraph(-0.25), { representativeDataset: calibration, numCalibrationSamples: 8, backend: 'wasm' });
    expect(report.allInteger).to.equal(true);
    const runner = await TfliteRunner.load(tflite);
    try {
      const { scale, zeroPoint } = runner.outputs[0] as { scale: number; zeroPoint: number };
      const inRange = (await runner.run([new Int8Array(32).fill(127)]))[0] as Int8Array; // x = 1: 1.25 / 0.75
      for (const q of inRange) expect((q - zeroPoint) * scale).to.be.closeTo(1.25 / 0.75, 2 * scale);
      const otherSign = (await runner.run([new Int8Array(32).fill(-128)]))[0] as Int8Array; // x = 0
      for (const q of otherSign) expect((q - zeroPoint) * scale).to.be.greaterThan(0.5);
    } finally {
      runner.dispose();
    }
  });

  it('a divisor whose calibrated range holds 0 ([-0.5, 0.5]) stays float, and the notes say why', async () => {
    for (const precision of ['int8', 'int16'] as Precision[]) {
      const { ops, report } = await quantizeDiv(-0.5, precision);
      expect(report.allInteger, precision).to.equal(false);
      expect(ops, precision).to.include('DIV');
      expect(ops, precision).not.to.include('RSQRT');
      const why = report.plan.notes.find((n) => n.startsWith('Div (1 node: div) written in float'));
      expect(why, precision).to.match(/divisor 'den' cannot be written in int16: its calibrated range \[-0\.5\d*, 0\.5\d*\] holds 0, and a \* rsqrt\(b\)\^2 needs one sign/);
    }
  });
});

describe('Div int16: a divisor of both signs under an accuracy target', () => {
  it('the search keeps that Div in float and its report and the inspected file say why', async () => {
    const { tflite, report } = await quantizeInt8(divGraph(-0.5), {
      representativeDataset: samples(8), numCalibrationSamples: 8, backend: 'wasm',
      accuracy: { minSqnrDb: 10, validation: samples(12).slice(8), latencyImages: 1 },
    });
    const a = report.accuracy!;
    expect(a.floatOps.map((f) => f.node)).to.deep.equal(['div']);
    expect(a.floatOps[0].reason).to.match(/^Div's divisor 'den' cannot be written in int16: its calibrated range .* holds 0/);
    const inspected = inspectTflite(tflite).precision.notInt8.filter((o) => o.op === 'DIV');
    expect(inspected.map((o) => [o.precision, o.reason])).to.deep.equal([['float', 'no int8 kernel, and int16 not chosen or not possible for its inputs (int16, float only)']]);
  });
});

describe('DepthToSpace int16: reshape / transpose / reshape', () => {
  it('the steps for [1, 2, 3, 8], block 2: [2, 3, 2, 4], perm [0, 2, 1, 3], [1, 4, 6, 2]', () => {
    expect(depthToSpaceSteps([1, 2, 3, 8], 2)).to.deep.equal({ first: [2, 3, 2, 4], perm: [0, 2, 1, 3], last: [1, 4, 6, 2] });
  });

  it('move every value where TF.js depthToSpace does (block 2 and 3, batch 2), and by hand for one value', () => {
    for (const [shape, block] of [[[1, 2, 3, 8], 2], [[2, 3, 2, 18], 3]] as [number[], number][]) {
      const n = shape.reduce((a, v) => a * v, 1);
      const x = tf.tensor4d(Float32Array.from({ length: n }, (_, i) => i), shape as [number, number, number, number]);
      const s = depthToSpaceSteps(shape, block);
      const mine = tf.reshape(tf.transpose(tf.reshape(x, s.first), s.perm), s.last);
      const want = tf.depthToSpace(x, block, 'NHWC');
      expect(Array.from(mine.dataSync())).to.deep.equal(Array.from(want.dataSync()));
      tf.dispose([x, mine, want]);
    }
    // By hand, [1, 2, 3, 8] block 2 (c = 2): pixel (y, x) = (0, 1), channel (i*2 + j)*2 + k with
    // i = 1, j = 1, k = 1 is channel 7, value (0*3 + 1)*8 + 7 = 15; it lands at row 0*2 + 1 = 1,
    // column 1*2 + 1 = 3, channel 1: flat index (1*6 + 3)*2 + 1 = 19 of the [1, 4, 6, 2] output.
    const x = tf.tensor4d(Float32Array.from({ length: 48 }, (_, i) => i), [1, 2, 3, 8]);
    const s = depthToSpaceSteps([1, 2, 3, 8], 2);
    const out = tf.reshape(tf.transpose(tf.reshape(x, s.first), s.perm), s.last);
    expect(out.dataSync()[(1 * 6 + 3) * 2 + 1]).to.equal(15);
    // And channel 2 (i = 0, j = 1, k = 0) of pixel (0, 0), value 2, at row 0, column 1, channel 0.
    expect(out.dataSync()[(0 * 6 + 1) * 2 + 0]).to.equal(2);
    tf.dispose([x, out]);
  });
});
