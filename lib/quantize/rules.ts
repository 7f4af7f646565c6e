// The quantization side of an op-registry entry: how the op's output parameters are chosen, and
// how the op is written to an int8 TFLite graph. Each entry in lib/ops/defs/ carries a `quant` field
// of type OpQuant; this file defines the shapes and the shared emit context.
import type { IrNode, IrTensor } from '../graph/ir.js';
import type { QParams } from './params.js';

export type QuantRule =
  /** Output parameters from the calibrated range of the output tensor. */
  | { output: 'calibrated' }
  /** Output parameters fixed by the TFLite kernel (e.g. LOGISTIC: 1/256, -128). */
  | { output: 'fixed'; scale: number; zeroPoint: number }
  /** Output parameters equal the first input's (ops that move values without arithmetic). */
  | { output: 'same-as-input' }
  /** All activation inputs and the output share one set where possible (CONCATENATION). */
  | { output: 'shared' };

/** What an op's writer can ask while emitting one node into the int8 TFLite model. */
export interface EmitContext {
  node: IrNode;
  tensorInfo(name: string): IrTensor;
  /** Parameters of an activation tensor. */
  params(name: string): QParams;
  /** Index of the int8 activation tensor (or quantized constant operand) for an IR tensor name. */
  activation(name: string): number;
  /** A constant operand quantized to int8 asymmetric per-tensor from its own min/max (ADD/MUL/SUB operands). */
  constantOperand(name: string): number;
  /** A constant int32 tensor (shapes, axes, paddings...). */
  int32Constant(label: string, values: number[] | Int32Array, shape?: number[]): number;
  /** A scalar constant holding `value` in the type (and int8 parameters) of activation `like`. */
  scalarLike(label: string, value: number, like: string): number;
  /** int8 symmetric weights, per channel along `axis` when perChannel (else per tensor); returns the tensor and its scales. */
  weights(label: string, data: Float32Array, shape: number[], axis: number): { index: number; scales: number[] };
  /** int32 bias with zero point 0 and scale = inputScale * weightScale[c]. */
  bias(label: string, data: Float32Array | undefined, channels: number, inputScale: number, weightScales: number[]): number;
  /** A new int8 activation tensor that exists only in the TFLite graph (e.g. the sigmoid inside SiLU). */
  internal(label: string, shape: number[], params: QParams): number;
  /** Appends a TFLite operator. */
  op(name: string, inputs: number[], outputs: number[], options?: Record<string, unknown>): void;
}

export interface OpQuant {
  rule: QuantRule;
  /** Writes the node as one or more int8 TFLite ops. */
  emit(ctx: EmitContext): void;
}

/** LOGISTIC int8 output: TFLite requires scale 1/256 and zero point -128. */
export const LOGISTIC_OUTPUT: QParams = { scale: 1 / 256, zeroPoint: -128 };
/** TANH int8 output: scale 1/128, zero point 0. */
export const TANH_OUTPUT: QParams = { scale: 1 / 128, zeroPoint: 0 };
/** SOFTMAX int8 output: scale 1/256, zero point -128. */
export const SOFTMAX_OUTPUT: QParams = { scale: 1 / 256, zeroPoint: -128 };
