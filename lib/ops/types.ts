// The shape of one op-registry entry. Each IR op type has exactly one entry (lib/ops/defs/<op>.ts)
// that says everything the library knows about it: which source ops import to it, its output
// shapes, how it runs in float (TF.js), how it is quantized and how it is written to TFLite.
// Adding an op = adding one entry and listing it in lib/ops/registry.ts.
import type * as tfTypes from '@tensorflow/tfjs';
import type { AttrValue, IrNode, IrTensor } from '../ir/graph.js';
import type { FixedOutputOp, QuantParams } from '../int8/arithmetic.js';

export type Tf = typeof tfTypes;
export type Attrs = Record<string, AttrValue>;

export interface OpDef {
  /** IR op type name, e.g. 'Conv2D'. */
  op: string;
  /** Source op names that import to this op (for docs and the unsupported-op check). */
  imports: { tfjsGraph?: string[]; tfjsLayers?: string[]; tflite?: string[] };
  /** Output shapes from input tensors (constants carry data) and attributes. */
  inferShapes(inputs: IrTensor[], attrs: Attrs): number[][];
  /** Float execution with TF.js; must not dispose its inputs. */
  runFloat(tf: Tf, inputs: tfTypes.Tensor[], attrs: Attrs, constInputs: (IrTensor | undefined)[]): tfTypes.Tensor[];
  /**
   * True when the op carries an `activation` attr ('none'|'relu'|'relu6') applied to its output,
   * so a following Relu/Relu6 can be fused into it (the TFLite fused_activation_function notion).
   */
  fusableActivation?: boolean;
  /**
   * How the op is quantized (its output-parameter rule) and written as TFLite ops. An op without it
   * can be imported and run in float only.
   */
  quant?: OpQuant;
}

// ---- The quantization side of an entry ----------------------------------------------------------
// How the op's output parameters are chosen, which of its inputs are weights, which precisions it can be
// written in, and how it is written to TFLite. Emit functions decide nothing about parameters: they ask
// the context, which answers from the plan.

/** How an op is computed: int8 (full-integer), int16 (TFLite 16x8: int16 activations, int8 weights) or float. */
export type Precision = 'int8' | 'int16' | 'float';
export const PRECISIONS: readonly Precision[] = ['int8', 'int16', 'float'];

export type QuantRule =
  /** Output parameters from the calibrated range of the output tensor. */
  | { output: 'calibrated' }
  /** Output parameters fixed by the TFLite kernel, per dtype (math.ts FIXED_OUTPUT_PARAMS). */
  | { output: 'fixed'; op: FixedOutputOp }
  /** Output parameters equal the first input's (ops that move values without arithmetic). */
  | { output: 'same-as-input' }
  /** All inputs (constants too) and the output share one set where possible (CONCATENATION, PACK). */
  | { output: 'shared' };

/** Ops with weights: the weights in the layout the TFLite op takes, and the float bias. */
export interface WeightedOp {
  /** Float weights as the TFLite op stores them, and the axis of the output channel. */
  weights(node: IrNode, tensor: (name: string) => IrTensor): { data: Float32Array; shape: number[]; axis: number };
  /** Float bias per output channel (undefined: none in the source, written as zeros). */
  bias(node: IrNode, tensor: (name: string) => IrTensor): Float32Array | undefined;
  /** Index of the activation input whose scale the bias scale multiplies (always 0 here). */
  input: number;
  /** Suffix of the weights tensor's name in the file (`<node>/<suffix>`; default 'weights'). */
  weightsLabel?: string;
}

/** What an op's writer can ask while emitting one node. Every answer comes from the plan. */
export interface EmitContext {
  node: IrNode;
  /** The precision the plan gives this node. */
  precision: Precision;
  tensorInfo(name: string): IrTensor;
  /** Parameters of an activation tensor (int8 or int16). */
  params(name: string): QuantParams;
  /** Index of the activation tensor (in the dtype the plan gives it) for an IR tensor name. */
  activation(name: string): number;
  /** A constant operand (ADD/MUL/CONCATENATION operands) in the dtype and parameters the plan gives it. */
  constantOperand(name: string): number;
  /** A constant int32 tensor (shapes, axes, paddings...). */
  int32Constant(label: string, values: number[] | Int32Array, shape?: number[]): number;
  /** A scalar constant holding `value` in the type (and parameters) of activation `like`. */
  scalarLike(label: string, value: number, like: string): number;
  /** The node's planned weights tensor (WeightedOp ops only). */
  weights(): number;
  /** The node's planned bias tensor (WeightedOp ops only). */
  bias(): number;
  /** The fixed output parameters of `op` in this node's precision. */
  fixedParams(op: FixedOutputOp): QuantParams;
  /** A new activation tensor in this node's precision that exists only in the TFLite graph (e.g. the sigmoid inside SiLU). */
  internal(label: string, shape: number[], params: QuantParams): number;
  /** Appends a TFLite operator. */
  op(name: string, inputs: number[], outputs: number[], options?: Record<string, unknown>): void;
}

/** A calibrated float range. */
export interface RangeLike {
  min: number;
  max: number;
}

/**
 * The part of a calibrated input range the op's int8 kernel can tell apart: values beyond it give
 * the same output, so clipping there changes nothing and gives the rest a finer step. Applied to a
 * tensor only when every reader has such a hook (and it is not a model output).
 */
export type InputRangeHook = (input: RangeLike, node: { outputRange?: RangeLike }) => RangeLike;

export interface OpQuant {
  rule: QuantRule;
  inputRange?: InputRangeHook;
  weighted?: WeightedOp;
  /** Precisions the op can be written in (default: all). */
  precisions?: readonly Precision[];
  /** Writes the node as one or more TFLite ops. */
  emit(ctx: EmitContext): void;
}
