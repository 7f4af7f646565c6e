// Shared by the reductions over constant axes (Max, Min, Sum, Prod; lib/ops/defs): their import
// rules, axis normalisation, output shape and the one TFLite operator each is written as
// (input, int32 axes constant, ReducerOptions keep_dims).
import type { EmitContext, ImportRule, OpDef } from './types.js';
import { attrBool, attrNumbers, normalizeAxis } from './util.js';
import { out0 } from './emit-util.js';

/** TF.js graph Max/Min/Sum/Prod (x, reduction_indices; keep_dims). */
export const TFJS_REDUCE_RULE: ImportRule = { attrs: { axes: { constInput: 1 }, keepDims: { attr: 'keep_dims', type: 'bool' } } };
/** TFLite REDUCE_MAX/REDUCE_MIN/SUM/REDUCE_PROD (x, axes; ReducerOptions keep_dims). */
export const TFLITE_REDUCE_RULE: ImportRule = { attrs: { axes: { constInput: 1 }, keepDims: { attr: 'keepDims', type: 'bool' } } };

/** Axes made positive, unique and sorted (a scalar axis input imports as a one-element list). */
export const normalizeReduceAttrs: NonNullable<OpDef['normalizeAttrs']> = ([x], attrs) => ({
  ...attrs,
  axes: [...new Set(attrNumbers(attrs, 'axes').map((a) => normalizeAxis(a, x.shape.length)))].sort((a, b) => a - b),
});

export const reduceShape: OpDef['inferShapes'] = ([x], attrs) => {
  const axes = attrNumbers(attrs, 'axes').map((a) => normalizeAxis(a, x.shape.length));
  const keep = attrBool(attrs, 'keepDims');
  return [x.shape.flatMap((d, i) => (!axes.includes(i) ? [d] : keep ? [1] : []))];
};

/** Writes the node as `tfliteOp` (input, axes, keep_dims). */
export function emitReduce(tfliteOp: string) {
  return (ctx: EmitContext): void => {
    const axes = attrNumbers(ctx.node.attrs, 'axes');
    const a = ctx.int32Constant(`${ctx.node.name}/axes`, axes, [axes.length]);
    ctx.op(tfliteOp, [ctx.activation(ctx.node.inputs[0]), a], [out0(ctx)], { keepDims: attrBool(ctx.node.attrs, 'keepDims') });
  };
}
