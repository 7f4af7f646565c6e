// The shape of one op-registry entry. Each IR op type has exactly one entry (lib/ops/defs/<op>.ts)
// that says everything the library knows about it: which source ops import to it, its output
// shapes, how it runs in float (TF.js), how it is quantized and how it is written to TFLite.
// Adding an op = adding one entry and listing it in lib/ops/registry.ts.
import type * as tfTypes from '@tensorflow/tfjs';
import type { AttrValue, IrTensor } from '../graph/ir.js';

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
   * How the op is quantized (its output-parameter rule) and written as int8 TFLite ops; the shared
   * helpers live in lib/quantize/op-quant.ts. An op without it can be imported and run in float only.
   */
  quant?: import('../quantize/rules.js').OpQuant;
}
