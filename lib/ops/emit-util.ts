// Helpers the op files share when writing TFLite operators and reading their constant inputs.
import type { IrNode, IrTensor } from '../ir/graph.js';
import type { Attrs, EmitContext, OpSignature, TensorDType } from './types.js';
import { attrString } from './util.js';

/** TFLite ActivationFunctionType for an IR fused activation. */
export function tfliteActivation(attrs: Attrs): number {
  const a = attrs.activation ?? 'none';
  if (a === 'none') return 0;
  if (a === 'relu') return 1;
  if (a === 'relu6') return 3;
  throw new Error(`unsupported fused activation '${String(a)}'`);
}

/** TFLite Padding enum: SAME 0, VALID 1. */
export const tflitePadding = (attrs: Attrs): number => (attrString(attrs, 'padding') === 'SAME' ? 0 : 1);

/** The node's first output as a TFLite tensor. */
export const out0 = (ctx: EmitContext): number => ctx.activation(ctx.node.outputs[0]);

/** An operand that may be an activation or a constant (constants become per-tensor operands). */
export function operand(ctx: EmitContext, name: string): number {
  return ctx.tensorInfo(name).data ? ctx.constantOperand(name) : ctx.activation(name);
}

/** The float values of constant input `i` of a node. */
export function constOf(node: IrNode, tensor: (name: string) => IrTensor, i: number): Float32Array {
  const t = tensor(node.inputs[i]);
  if (!t?.data) throw new Error(`${node.name}: input ${i} '${node.inputs[i]}' must be a constant`);
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
}

/** A bias reader for weighted ops whose bias, when present, is input `i`. */
export const optionalBias = (i: number) => (node: IrNode, tensor: (name: string) => IrTensor) =>
  node.inputs[i] !== undefined ? constOf(node, tensor, i) : undefined;

/**
 * The most common op_version.cc rule: a version per type of input 0, 1 otherwise
 * (e.g. { int16: 3, int8: 2 }).
 */
export function versionByInputType(byType: Partial<Record<TensorDType, number>>): (sig: OpSignature) => number {
  return (sig) => (sig.inputs[0] !== undefined ? byType[sig.inputs[0]] : undefined) ?? 1;
}
