// Div: element-wise a / b with numpy broadcasting and an optional fused activation, for a divisor that
// is computed (a constant divisor imports as Mul by its reciprocal, see mul.ts). TFLite DIV has float32,
// int32 and uint8 kernels only (div.cc), so there is no int8 Div; in float it is DIV between DEQUANTIZE
// and QUANTIZE. In int16 it is a * rsqrt(b) * rsqrt(b) from kernels that take int16: RSQRT (elementwise.cc,
// an int16 lookup table; op_version.cc RSQRT int16 = 3) and MUL (mul.cc, 16x16; version 4). That holds
// for a divisor of one sign only: a negative one is negated first (1/b = -(rsqrt(-b)^2)), and a node
// whose divisor's calibrated range holds 0, or spans more than MAX_DIVISOR_SPAN, is refused int16
// (refusedPrecisions) and stays float.
// TF Reciprocal(x) imports as Div(1, x); TFLite DIV by a constant, like TF's, as Mul.
import type { EmitContext, ImportContext, OpDef, RangeLike } from '../types.js';
import type { IrNode } from '../../ir/graph.js';
import { chooseInt16ActivationParams } from '../../int8/arithmetic.js';
import { extremesOf } from '../../util/stats.js';
import { applyActivation, attrActivation, broadcastShapes } from '../util.js';
import { operand, out0, tfliteActivation } from '../emit-util.js';
import { importDivision, importRealDiv } from './mul.js';

/**
 * How far below the smallest calibrated divisor magnitude the reciprocal's internal tensors still
 * represent: a divisor nearer zero on an unseen input would clip 1/|b| at the calibrated extreme. A
 * factor 2 costs one of int16's 15 bits on the reciprocal (0.5 on the rsqrt), far below the 30 dB the
 * int16 path is for.
 */
export const DIVISOR_MARGIN = 2;

/**
 * Ranges of the internal tensors of a / b = a * rsqrt(|b|)^2 (negated for a negative divisor), from the
 * divisor's calibrated range [lo, hi] of one sign: rsqrt(|b|) is decreasing in |b|, so its range is
 * [1/sqrt(max|b|), 1/sqrt(min|b| / margin)], and the reciprocal 1/b = +-rsqrt(|b|)^2 lies in
 * [1/max|b|, margin/min|b|] (mirrored for a negative divisor). Throws for a range that holds 0.
 */
export function reciprocalRanges(divisor: RangeLike, margin = DIVISOR_MARGIN): { negative: boolean; rsqrt: RangeLike; reciprocal: RangeLike } {
  const negative = divisor.max < 0;
  if (!negative && !(divisor.min > 0)) throw new Error(`divisor range [${divisor.min}, ${divisor.max}] holds 0: a / b = a * rsqrt(b)^2 needs a divisor of one sign`);
  const small = negative ? -divisor.max : divisor.min;
  const large = negative ? -divisor.min : divisor.max;
  const rsqrt = { min: 1 / Math.sqrt(large), max: 1 / Math.sqrt(small / margin) };
  const reciprocal = negative ? { min: -margin / small, max: -1 / large } : { min: 1 / large, max: margin / small };
  return { negative, rsqrt, reciprocal };
}

/**
 * The largest max|b| / min|b| written in int16. RSQRT's int16 table interpolates linearly over 512 even
 * segments of the divisor's symmetric range, and the reciprocal's grid is even too, so the small-|b|
 * end (steep rsqrt) and the large-|b| end (few reciprocal steps) both coarsen as the span grows.
 * Measured on 1 / b in LiteRT (b over 64 inputs in [1, R], against float): R = 16 71.9 dB, 64 57.2 dB,
 * 256 32.7 dB; an int8 tensor's rounding alone is about 40-48 dB. At 32 the quotient stays finer than
 * int8 even when the accuracy search widens int16 ranges 4x (which acts like a 4x wider span).
 */
export const MAX_DIVISOR_SPAN = 32;

/** Why int16 is refused for a divisor range, or undefined when a * rsqrt(b)^2 serves it. */
export function divisorRefusal(r: RangeLike | undefined): string | undefined {
  if (!r) return 'it has no calibrated range';
  const shown = `[${r.min.toPrecision(4)}, ${r.max.toPrecision(4)}]`;
  if (!(r.min > 0 || r.max < 0)) return `its calibrated range ${shown} holds 0, and a * rsqrt(b)^2 needs one sign`;
  const span = Math.max(Math.abs(r.min), Math.abs(r.max)) / Math.min(Math.abs(r.min), Math.abs(r.max));
  if (span > MAX_DIVISOR_SPAN) return `its calibrated range ${shown} spans ${span.toPrecision(3)}x, beyond the ${MAX_DIVISOR_SPAN}x where a * rsqrt(b)^2 in int16 stays finer than int8`;
  return undefined;
}

/** int16 is refused for a divisor that holds 0, spans too wide a range, or has no range (divisorRefusal). */
function refusedPrecisions(node: IrNode, rangeOf: (t: string) => RangeLike | undefined) {
  const name = node.inputs[1];
  const why = divisorRefusal(rangeOf(name));
  return why ? { precisions: ['int16' as const], reason: `Div's divisor '${name}' cannot be written in int16: ${why}` } : undefined;
}

/** a * rsqrt(|b|)^2 in int16: RSQRT and MULs into internal tensors whose parameters come from reciprocalRanges. */
function emitInt16(ctx: EmitContext): void {
  const node = ctx.node;
  const [a, b] = node.inputs;
  const shape = ctx.tensorInfo(b).shape;
  // The observed extremes, not ctx.range: a chosen range is snapped to include 0, the divisor's is not.
  const range = ctx.tensorInfo(b).data ? extremesOf(ctx.tensorInfo(b).data as ArrayLike<number>) : ctx.extremes(b);
  if (!range) throw new Error(`Div '${node.name}': divisor '${b}' has no observed extremes for its int16 reciprocal`);
  const r = reciprocalRanges(range);
  const params = (x: RangeLike) => chooseInt16ActivationParams(x.min, x.max);
  let divisor = operand(ctx, b);
  if (r.negative) {
    // -b on b's own (symmetric) grid: MUL by an exact -1 keeps every value representable.
    const negated = ctx.internal(`${node.name}/negated_divisor`, shape, ctx.params(b));
    ctx.op('MUL', [divisor, ctx.scalarConstant(`${node.name}/minus_one`, -1)], [negated], { fusedActivationFunction: 0 });
    divisor = negated;
  }
  const rsqrt = ctx.internal(`${node.name}/rsqrt`, shape, params(r.rsqrt));
  ctx.op('RSQRT', [divisor], [rsqrt]);
  let other = rsqrt;
  if (r.negative) {
    other = ctx.internal(`${node.name}/negated_rsqrt`, shape, params(r.rsqrt));
    ctx.op('MUL', [rsqrt, ctx.scalarConstant(`${node.name}/minus_one_r`, -1)], [other], { fusedActivationFunction: 0 });
  }
  const reciprocal = ctx.internal(`${node.name}/reciprocal`, shape, params(r.reciprocal));
  ctx.op('MUL', [rsqrt, other], [reciprocal], { fusedActivationFunction: 0 });
  ctx.op('MUL', [operand(ctx, a), reciprocal], [out0(ctx)], { fusedActivationFunction: tfliteActivation(node.attrs) });
}

function importReciprocal(c: ImportContext): void {
  c.emit('Div', [c.constant(`${c.name}/one`, [], Float32Array.of(1)), c.input(0)], { activation: 'none' });
}

export const Div: OpDef = {
  op: 'Div',
  imports: {
    // TF Div on floats is RealDiv; both dispatch on whether the divisor is a constant.
    tfjsGraph: { Div: importRealDiv, Reciprocal: importReciprocal },
    tflite: { DIV: (c) => importDivision(c, c.attr({ attr: 'fusedActivationFunction', type: 'activation' })) },
  },
  fusableActivation: true,
  inferShapes: ([a, b]) => [broadcastShapes(a.shape, b.shape)],
  runFloat: (tf, [a, b], attrs) => [applyActivation(tf, tf.div(a, b), attrActivation(attrs))],
  quant: {
    rule: { output: 'calibrated' },
    precisions: ['int16', 'float'],
    refusedPrecisions,
    emit(ctx) {
      if (ctx.precision === 'int16') return emitInt16(ctx);
      const [a, b] = ctx.node.inputs;
      ctx.op('DIV', [operand(ctx, a), operand(ctx, b)], [out0(ctx)], { fusedActivationFunction: tfliteActivation(ctx.node.attrs) });
    },
  },
  builtins: {
    DIV: {
      options: 'DivOptions',
      // op_version.cc: 2 when the inputs broadcast over more than 4 dims (ranks stand in for the dims).
      version: ({ inputRanks }) => (inputRanks.length === 2 && inputRanks[0] !== inputRanks[1] && Math.max(...inputRanks) > 4 ? 2 : 1),
      runtime: ['1.6.0', '2.3.0'],
    },
  },
  examples: [
    {
      name: 'Div by a tensor',
      // int16: RSQRT's lookup table rounds a little more than a step of its own output, and squaring
      // doubles that relative error (a few int16 steps: about 1e-4 of the output's range).
      int16Steps: 3,
      build: (b) => {
        // A divisor in [1, 2]: the input (in [0, 1]) plus one.
        const d = b.emit('den', 'Add', [b.input, b.constant('one', [], Float32Array.of(1))], {})[0];
        return b.emit('div', 'Div', [b.conv('c', b.input, 4), d], {});
      },
    },
    {
      name: 'Div by a negative tensor',
      int16Steps: 3,
      build: (b) => {
        // A divisor in [-2, -1]: minus one minus the input.
        const d = b.emit('den', 'Sub', [b.constant('minus_one', [], Float32Array.of(-1)), b.input], {})[0];
        return b.emit('div', 'Div', [b.conv('c', b.input, 4), d], {});
      },
    },
    {
      name: 'Div by a tensor spanning 20x',
      // The table interpolates rsqrt linearly over 512 even segments of the divisor's int16 range: where
      // rsqrt is steep (the divisor near 0.05) its error is larger (2e-4 of the output's range).
      int16Steps: 6,
      build: (b) => {
        // A divisor in [0.05, 1.05]: the reciprocal spans [0.95, 20], where rsqrt is steep.
        const d = b.emit('den', 'Add', [b.input, b.constant('small', [], Float32Array.of(0.05))], {})[0];
        return b.emit('div', 'Div', [b.conv('c', b.input, 4), d], {});
      },
    },
    {
      name: 'Reciprocal (Div of a constant)',
      int16Steps: 3,
      build: (b) => {
        const d = b.emit('den', 'Add', [b.input, b.constant('half', [], Float32Array.of(0.5))], {})[0];
        return b.emit('recip', 'Div', [b.constant('one2', [], Float32Array.of(1)), d], {});
      },
    },
  ],
};
