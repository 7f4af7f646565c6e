// Shared by ArgMax and ArgMin (lib/ops/defs): the index of the extreme value along one constant axis.
// Their output is an int32 tensor of indices, which the quantization plan cannot hold (its
// activations are int8, int16 or float32, and an op's writer can only make tensors of those): the
// ops are imported and run in float (TF.js), and a model that ends in one is quantized cut before it
// (opts.outputs), the indices taken on the host.
import type { ImportRule, OpDef } from './types.js';
import { attrNumber, normalizeAxis } from './util.js';

/** TF.js graph ArgMax/ArgMin (x, dimension). */
export const TFJS_ARG_RULE: ImportRule = { attrs: { axis: { constInput: 1, type: 'number' } } };
/** TFLite ARG_MAX/ARG_MIN (x, axis). */
export const TFLITE_ARG_RULE: ImportRule = { attrs: { axis: { constInput: 1, type: 'number' } } };

export const normalizeArgAttrs: NonNullable<OpDef['normalizeAttrs']> = ([x], attrs) => ({ ...attrs, axis: normalizeAxis(attrNumber(attrs, 'axis'), x.shape.length) });

export const argShape: OpDef['inferShapes'] = ([x], attrs) => {
  const axis = normalizeAxis(attrNumber(attrs, 'axis'), x.shape.length);
  return [x.shape.filter((_, i) => i !== axis)];
};

/** op_version.cc ARG_MAX / ARG_MIN: bool 3, int8 2, otherwise 1. */
export const argVersion = ({ inputs: [x] }: { inputs: (string | undefined)[] }): number => (x === 'bool' ? 3 : x === 'int8' ? 2 : 1);
export const ARG_RUNTIME = ['1.9.0', '1.14.0', '2.9.0'] as const;
