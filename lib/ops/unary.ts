// The shape shared by the one-input element-wise math ops (Sqrt, Rsqrt, Exp, Abs, Floor, Sin, ...):
// imported from a TF.js graph op and a TFLite builtin of the same meaning, run with one TF.js kernel,
// written as that builtin. Each op file states its own kernel facts (precisions, versions, runtimes).
import type * as tfTypes from '@tensorflow/tfjs';
import type { BuiltinSpec, OpDef, OpExample, Precision, QuantRule, Tf } from './types.js';
import { sameShape } from './util.js';
import { out0 } from './emit-util.js';

export interface UnarySpec {
  op: string;
  tfjsGraph?: string;
  builtin: string;
  kernel: (tf: Tf, x: tfTypes.Tensor) => tfTypes.Tensor;
  /** Precisions the TFLite kernels have (op_version.cc / the kernel's type switch). */
  precisions: readonly Precision[];
  rule?: QuantRule;
  spec: BuiltinSpec;
  examples: OpExample[];
}

export function unaryDef(s: UnarySpec): OpDef {
  return {
    op: s.op,
    imports: { ...(s.tfjsGraph ? { tfjsGraph: { [s.tfjsGraph]: {} } } : {}), tflite: { [s.builtin]: {} } },
    inferShapes: sameShape,
    runFloat: (tf, [x]) => [s.kernel(tf, x)],
    quant: {
      rule: s.rule ?? { output: 'calibrated' },
      precisions: s.precisions,
      emit: (ctx) => ctx.op(s.builtin, [ctx.activation(ctx.node.inputs[0])], [out0(ctx)]),
    },
    builtins: { [s.builtin]: s.spec },
    examples: s.examples,
  };
}
