// The quantization-parameter limits of XNNPACK, the engine LiteRT runs int8 models on (wasm and CPU).
// Found in XNNPACK's operator constructors (src/operators/*.c, xnn_create_*_qs8 / _qu8) and in the
// TFLite XNNPACK delegate (tensorflow/lite/delegates/xnnpack/xnnpack_delegate.cc):
//   - CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, TRANSPOSE_CONV (qs8 / qu8 / qc8w): the
//     requantization scale input scale x weight scale (per output channel) / output scale must be
//     below 256 ("requantization scale ... is greater or equal to 256.0"). The delegate does not check
//     it before taking the node, so the operator's creation fails and LiteRT refuses the whole model
//     ("failed to create XNNPACK runtime"): a violation.
//   - ADD / SUB: each input-to-output scale ratio in [2^-10, 2^8) (xnn_create_add_nd_qs8); MUL:
//     input1 x input2 / output in [2^-16, 2^8) (xnn_create_multiply_nd_qs8). The delegate checks these
//     itself (CheckTensorsInputOutputScale / CheckTensorsInputProductOutputScale) and leaves such a
//     node to TFLite's own kernel: the model runs (slower), so these are notes, not violations.
import { TensorType, type TfliteOperator, type TfliteTensor } from './model.js';

/** XNNPACK refuses a requantization scale at or above this (qs8/qu8 convolution, deconvolution, fully connected). */
export const XNNPACK_MAX_REQUANTIZATION_SCALE = 256;

/** Ops whose int8 requantization scale is input x weight / output, and where their operands are. */
const WEIGHTED_OPERANDS: Record<string, { input: number; weights: number }> = {
  CONV_2D: { input: 0, weights: 1 },
  DEPTHWISE_CONV_2D: { input: 0, weights: 1 },
  FULLY_CONNECTED: { input: 0, weights: 1 },
  TRANSPOSE_CONV: { input: 2, weights: 1 },
};

/** Scale-ratio ranges the delegate requires before it takes a node: [lo, hi). */
const RATIO_LIMITS: Record<string, { lo: number; hi: number; ratio: 'each-input' | 'product' }> = {
  ADD: { lo: 2 ** -10, hi: 2 ** 8, ratio: 'each-input' },
  SUB: { lo: 2 ** -10, hi: 2 ** 8, ratio: 'each-input' },
  MUL: { lo: 2 ** -16, hi: 2 ** 8, ratio: 'product' },
};

type TensorAt = (i: number | undefined) => TfliteTensor | undefined;
type Report = (where: string, message: string) => void;

const EIGHT_BIT = new Set<number>([TensorType.INT8, TensorType.UINT8]);

/** An 8-bit tensor's scales; undefined for other tensors and for scales the 'scale' rule already refuses. */
function scaleOf(t: TfliteTensor | undefined): number[] | undefined {
  const s = t && EIGHT_BIT.has(t.type) ? t.quantization?.scale : undefined;
  return s && s.length > 0 && s.every((v) => Number.isFinite(v) && v > 0) ? s : undefined;
}

/**
 * input scale x weight scale[c] / output scale, per output channel, for an 8-bit weighted op;
 * undefined when the op is not one or its tensors are not 8-bit quantized (int16 and float ops are
 * not XNNPACK's qs8 path).
 */
export function requantizationScales(opName: string, op: TfliteOperator, tensorAt: TensorAt): number[] | undefined {
  const operands = WEIGHTED_OPERANDS[opName];
  if (!operands) return undefined;
  const x = scaleOf(tensorAt(op.inputs[operands.input]));
  const w = scaleOf(tensorAt(op.inputs[operands.weights]));
  const y = scaleOf(tensorAt(op.outputs[0]));
  if (!x || !w || !y) return undefined;
  return w.map((ws) => Math.fround(Math.fround(x[0] * ws) / y[0]));
}

/** The violation: a weighted op whose requantization scale XNNPACK refuses (LiteRT then refuses the model). */
export function checkRequantizationScale(opName: string, op: TfliteOperator, tensorAt: TensorAt, tname: (i: number) => string, where: string, add: Report): void {
  const scales = requantizationScales(opName, op, tensorAt);
  if (!scales) return;
  const bad = scales.map((s, c) => ({ s, c })).filter(({ s }) => !(s < XNNPACK_MAX_REQUANTIZATION_SCALE));
  if (!bad.length) return;
  const worst = bad.reduce((a, b) => (b.s > a.s ? b : a));
  const operands = WEIGHTED_OPERANDS[opName];
  add(where, `requantization scale input x weight / output = ${worst.s.toPrecision(4)}${scales.length > 1 ? ` (channel ${worst.c}; ${bad.length} of ${scales.length} channels)` : ''} ` +
    `is at least ${XNNPACK_MAX_REQUANTIZATION_SCALE}, which XNNPACK refuses (LiteRT: "failed to create XNNPACK runtime"); ` +
    `input ${tname(op.inputs[operands.input])}, weights ${tname(op.inputs[operands.weights])}, output ${tname(op.outputs[0])}: the output's range is too narrow`);
}

/** The notes: scale ratios outside what the delegate takes (the node then runs in TFLite's own kernel). */
export function checkDelegateRatios(opName: string, op: TfliteOperator, tensorAt: TensorAt, tname: (i: number) => string, where: string, note: Report): void {
  const limit = RATIO_LIMITS[opName];
  if (!limit) return;
  const out = scaleOf(tensorAt(op.outputs[0]));
  const ins = op.inputs.map((i) => scaleOf(tensorAt(i)));
  if (!out || ins.some((s) => !s)) return;
  const ratios = limit.ratio === 'product' ? [{ what: 'input1 x input2', r: (ins[0]![0] * ins[1]![0]) / out[0] }] : ins.map((s, k) => ({ what: `input ${k} ${tname(op.inputs[k])}`, r: s![0] / out[0] }));
  for (const { what, r } of ratios) {
    if (r >= limit.lo && r < limit.hi) continue;
    note(where, `${what} / output scale = ${r.toPrecision(4)}, outside [2^${Math.log2(limit.lo)}, 2^${Math.log2(limit.hi)}): ` +
      'the XNNPACK delegate leaves this node to TFLite\'s reference kernel (it runs, slower)');
  }
}
