// Operator-code versions and name <-> value maps.
// The version of an operator code tells the runtime which kernel variant the op needs. TFLite picks it
// from the op's tensor types and options (tools/versioning/op_version.cc); the rules below restate
// those facts for the ops this project emits. An op written with a too-low version is rejected by the
// runtime for int8 tensors, so the builder always derives the version from here.
import { BuiltinOperator } from '../../schema/generated/tflite/builtin-operator.js';
import { UNIONS } from '../../schema/generated/layout.js';
import { TensorType, type BuiltinOptions } from './model.js';

export type BuiltinOperatorName = keyof typeof BuiltinOperator;

/** 'CONV_2D' -> 3. Throws for unknown names. */
export function builtinOperatorCode(name: string): number {
  const v = (BuiltinOperator as unknown as Record<string, number>)[name];
  if (typeof v !== 'number') throw new Error(`unknown TFLite builtin operator '${name}'`);
  return v;
}

/** 3 -> 'CONV_2D'; unknown codes give 'UNKNOWN(<code>)'. */
export function builtinOperatorName(code: number): string {
  const n = (BuiltinOperator as unknown as Record<number, string>)[code];
  return typeof n === 'string' ? n : `UNKNOWN(${code})`;
}

const OPTIONS_MEMBERS = UNIONS.BuiltinOptions;
const OPTIONS2_MEMBERS = UNIONS.BuiltinOptions2;

/** BuiltinOptions union: 'Conv2DOptions' -> 1 (0 = NONE). */
export function builtinOptionsType(tableName: string): number {
  const i = OPTIONS_MEMBERS.indexOf(tableName);
  if (i < 0) throw new Error(`'${tableName}' is not a BuiltinOptions member`);
  return i + 1;
}
/** BuiltinOptions union: 1 -> 'Conv2DOptions', 0 -> 'NONE'. */
export function builtinOptionsName(type: number): string {
  if (type === 0) return 'NONE';
  return OPTIONS_MEMBERS[type - 1] ?? `UNKNOWN(${type})`;
}
export function builtinOptions2Name(type: number): string {
  if (type === 0) return 'NONE';
  return OPTIONS2_MEMBERS[type - 1] ?? `UNKNOWN(${type})`;
}

/** The options table each builtin operator takes (as the TFLite converter writes it). */
export const OPTIONS_TABLE_FOR_OP: Partial<Record<BuiltinOperatorName, string>> = {
  ADD: 'AddOptions', SUB: 'SubOptions', MUL: 'MulOptions', DIV: 'DivOptions',
  CONV_2D: 'Conv2DOptions', DEPTHWISE_CONV_2D: 'DepthwiseConv2DOptions', TRANSPOSE_CONV: 'TransposeConvOptions',
  FULLY_CONNECTED: 'FullyConnectedOptions', AVERAGE_POOL_2D: 'Pool2DOptions', MAX_POOL_2D: 'Pool2DOptions',
  CONCATENATION: 'ConcatenationOptions', RESHAPE: 'ReshapeOptions', SOFTMAX: 'SoftmaxOptions',
  RESIZE_BILINEAR: 'ResizeBilinearOptions', RESIZE_NEAREST_NEIGHBOR: 'ResizeNearestNeighborOptions',
  PAD: 'PadOptions', PADV2: 'PadV2Options', STRIDED_SLICE: 'StridedSliceOptions', TRANSPOSE: 'TransposeOptions',
  MEAN: 'ReducerOptions', SUM: 'ReducerOptions', REDUCE_MAX: 'ReducerOptions', SPLIT: 'SplitOptions',
  SPLIT_V: 'SplitVOptions', SLICE: 'SliceOptions', GATHER: 'GatherOptions', SQUEEZE: 'SqueezeOptions',
  QUANTIZE: 'QuantizeOptions', DEQUANTIZE: 'DequantizeOptions', LEAKY_RELU: 'LeakyReluOptions',
  HARD_SWISH: 'HardSwishOptions', MAXIMUM: 'MaximumMinimumOptions', MINIMUM: 'MaximumMinimumOptions',
  PACK: 'PackOptions', UNPACK: 'UnpackOptions', EXPAND_DIMS: 'ExpandDimsOptions', CAST: 'CastOptions',
  ARG_MAX: 'ArgMaxOptions', EXP: 'ExpOptions',
};

/** What the version rules look at: tensor types of inputs/outputs (-1 for an omitted input), shapes, options, scales. */
export interface OpSignature {
  inputTypes: number[];
  outputTypes: number[];
  inputRanks?: number[];
  options?: BuiltinOptions | null;
  /** Per-tensor scales of inputs/outputs (for MUL's rescale rule). */
  inputScales?: (number | undefined)[];
  outputScales?: (number | undefined)[];
}

const { INT8, INT16, INT32, INT64, UINT8, FLOAT16, BOOL } = TensorType;

/**
 * The ops opVersion has a rule for (its switch cases). Any other op gets version 1 there only because
 * this file does not restate its variants, so a checker must not hold a file's version of it to 1.
 */
export const OPS_WITH_VERSION_RULES: ReadonlySet<string> = new Set([
  'CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'ADD', 'SUB', 'MUL', 'MAX_POOL_2D', 'AVERAGE_POOL_2D',
  'LOGISTIC', 'TANH', 'CONCATENATION', 'RESIZE_NEAREST_NEIGHBOR', 'RESIZE_BILINEAR', 'PAD', 'PADV2',
  'STRIDED_SLICE', 'TRANSPOSE', 'SOFTMAX', 'MEAN', 'REDUCE_MAX', 'RELU6', 'RELU', 'DEQUANTIZE', 'QUANTIZE',
  'SPLIT', 'SLICE', 'MAXIMUM', 'MINIMUM', 'GATHER', 'PACK', 'UNPACK', 'SPLIT_V', 'SUM', 'ARG_MAX', 'LEAKY_RELU',
]);

/**
 * The operator-code version for `op` with this signature, following TFLite's op_version rules for
 * float, int8 and int16 kernels. Ops without a rule here are version 1.
 */
export function opVersion(op: BuiltinOperatorName, sig: OpSignature): number {
  const in0 = sig.inputTypes[0];
  const in1 = sig.inputTypes[1];
  const out0 = sig.outputTypes[0];
  const opt = sig.options ?? {};
  const rank0 = sig.inputRanks?.[0] ?? 4;
  switch (op) {
    case 'CONV_2D':
      if (in0 === INT16 && in1 === INT8) return 4;
      if (in0 === INT8 && in1 === INT8 && out0 === INT8) return 3;
      return 1;
    case 'DEPTHWISE_CONV_2D':
      if (in0 === INT16) return 5;
      if (in0 === INT8 && in1 === INT8 && out0 === INT8) return 3;
      if ((opt.dilationWFactor ?? 1) !== 1 || (opt.dilationHFactor ?? 1) !== 1) return 2;
      return 1;
    case 'FULLY_CONNECTED':
      if (sig.inputTypes.length === 2) return 6;
      if (opt.keepNumDims) return 5;
      if (in0 === INT8 && in1 === INT8 && out0 === INT8) return 4;
      return 1;
    case 'ADD':
      if (in0 === FLOAT16) return 6;
      if (in0 === INT64) return 4;
      if (in0 === INT16 && out0 === INT16 && opt.potScaleInt16 === false) return 3;
      return in0 === INT8 ? 2 : 1;
    case 'SUB':
      if (in0 === INT16 && out0 === INT16 && opt.potScaleInt16 === false) return 5;
      if (in0 === INT64) return 4;
      return in0 === INT8 ? 2 : 1;
    case 'MUL': {
      if (in0 === FLOAT16) return 8;
      if (in0 === INT64) return 5;
      if (in0 === INT16) return 4;
      // Version 3 kernels accept a rescale factor in1*in2/out >= 1.
      const [s1, s2] = sig.inputScales ?? [];
      const so = sig.outputScales?.[0];
      if (s1 && s2 && so && (s1 * s2) / so >= 1) return 3;
      return in0 === INT8 ? 2 : 1;
    }
    case 'MAX_POOL_2D':
    case 'AVERAGE_POOL_2D':
      if (in0 === INT16 && out0 === INT16) return 3;
      return in0 === INT8 ? 2 : 1;
    case 'LOGISTIC':
    case 'TANH':
      if (in0 === INT16 && out0 === INT16) return 3;
      return in0 === INT8 ? 2 : 1;
    case 'CONCATENATION':
      if (in0 === INT16) return 3;
      return in0 === INT8 ? 2 : 1;
    case 'RESIZE_NEAREST_NEIGHBOR':
      if (in0 === INT16) return 4;
      if (opt.halfPixelCenters || opt.alignCorners) return 3;
      return in0 === INT8 ? 2 : 1;
    case 'RESIZE_BILINEAR':
      if (in0 === INT16) return 4;
      if (opt.halfPixelCenters) return 3;
      return in0 === INT8 ? 2 : 1;
    case 'PAD':
    case 'PADV2':
      if (in0 === BOOL) return 5;
      if (rank0 > 4) return 4;
      if (in0 === INT16) return 3;
      return in0 === INT8 ? 2 : 1;
    case 'STRIDED_SLICE':
      if (opt.offset) return 8;
      if (opt.ellipsisMask || opt.newAxisMask) return 6;
      if (rank0 > 4) return 4;
      if (in0 === BOOL) return 3;
      return in0 === INT8 ? 2 : 1;
    case 'TRANSPOSE':
      if (rank0 > 6) return 8;
      if (rank0 > 5) return 6;
      if (in0 === INT16) return 5;
      if (rank0 > 4) return 4;
      if (in0 === BOOL) return 3;
      return in0 === INT8 ? 2 : 1;
    case 'SOFTMAX':
    case 'MEAN':
    case 'REDUCE_MAX':
    case 'RELU6':
      if (in0 === INT16) return 3;
      return in0 === INT8 ? 2 : 1;
    case 'RELU':
      if (in0 === INT16) return 3;
      return in0 === INT8 || in0 === UINT8 ? 2 : 1;
    case 'DEQUANTIZE':
      if (in0 === INT16 || in0 === FLOAT16) return 3;
      return in0 === INT8 ? 2 : 1;
    case 'QUANTIZE':
      return out0 === INT16 ? 2 : 1;
    case 'SPLIT':
      if (in1 === INT16) return 4;
      if (in1 === INT32) return 3;
      return in1 === INT8 ? 2 : 1;
    case 'SLICE':
      if (rank0 > 4) return 5;
      if (in0 === INT16) return 4;
      return in0 === INT8 ? 2 : 1;
    case 'MAXIMUM':
    case 'MINIMUM':
      if (in0 === INT16 && out0 === INT16) return 4;
      return in0 === INT8 ? 2 : 1;
    case 'GATHER':
      if (in0 === INT16) return 4;
      if (in0 === BOOL) return 3;
      return in0 === INT8 ? 2 : 1;
    case 'PACK':
      if (in0 === INT8) return 2;
      return in0 === INT16 && out0 === INT16 ? 3 : 1;
    case 'UNPACK':
      if (in0 === INT8 || in0 === UINT8) return 2;
      return 1;
    case 'SPLIT_V':
    case 'SUM':
    case 'ARG_MAX':
      return in0 === INT8 ? 2 : 1;
    case 'LEAKY_RELU':
      return in0 === INT16 ? 2 : 1;
    default:
      return 1;
  }
}
