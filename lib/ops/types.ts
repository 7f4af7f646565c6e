// The shape of one op-registry entry. Each IR op type has exactly one file in lib/ops/defs/ that says
// everything the library knows about it:
//   - imports: which source ops (TF.js graph, TF.js layers, TFLite) become it, as data rules like the
//     TF.js converter's op tables (code only for genuinely fused cases);
//   - its output shapes and its float kernel (TF.js);
//   - its quantization rule, the TFLite operators it is written as, and those operators' version
//     rules and kernel facts (op_version.cc, runtime_version.cc, the kernels' constraints);
//   - examples: the small graphs the registry test runs in LiteRT in int8, int16 and float.
// Adding an op = adding one file to lib/ops/defs/ (the registry finds it).
import type * as tfTypes from '@tensorflow/tfjs';
import type { AttrValue, IrNode, IrTensor } from '../ir/graph.js';
import type { FixedOutputOp, QuantParams } from '../int8/arithmetic.js';

export type Tf = typeof tfTypes;
export type Attrs = Record<string, AttrValue>;

export interface OpDef {
  /** IR op type name, e.g. 'Conv2D'. */
  op: string;
  /** Source ops that import to this op, per format, keyed by the source op name (see ImportEntry). */
  imports: ImportTable;
  /**
   * The op's own attribute semantics, applied to every node built (import, passes, tests): negative
   * axes made positive, -1 sizes resolved against the input shapes. Must be idempotent.
   */
  normalizeAttrs?(inputs: IrTensor[], attrs: Attrs): Attrs;
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
  /** The TFLite builtin operators this file is the authority on (those its emit writes, those it imports). */
  builtins?: Record<string, BuiltinSpec>;
  /** Small graphs that exercise the op: the registry test runs each in LiteRT in every precision it supports. */
  examples?: OpExample[];
}

// ---- Import rules ------------------------------------------------------------------------------

/** Source formats an op can be imported from. */
export type SourceFormat = 'tfjsGraph' | 'tfjsLayers' | 'tflite';
export type ImportTable = Partial<Record<SourceFormat, Record<string, ImportEntry>>>;

/**
 * How a source attribute is read: 'number', 'numbers', 'bool', 'string' as they are; 'padding' ->
 * 'SAME' | 'VALID'; 'activation' -> 'none' | 'relu' | 'relu6' (a TFLite fused activation);
 * 'spatial' -> [h, w] from TF's [1, h, w, 1]; 'pair' -> [a, b] from a number or a pair (layers); 'raw' as stored.
 */
export type AttrType = 'number' | 'numbers' | 'bool' | 'string' | 'strings' | 'padding' | 'activation' | 'spatial' | 'pair' | 'raw';

/** Where one IR attribute comes from. */
export type AttrSource =
  /** A source attribute (TF.js node attr, layer config key, TFLite builtin option); a list of keys gives a list of values. */
  | { attr: string | string[]; type: AttrType; default?: AttrValue }
  /** The values of a constant source input (index into the data inputs; `default` when the input is absent). */
  | { constInput: number; type?: 'numbers' | 'number'; default?: AttrValue }
  /** A fixed value. */
  | { value: AttrValue };

/** A data rule: the IR node's inputs and attributes from the source op's. */
export interface ImportRule {
  /** Source data inputs that become the IR inputs, in order (default [0]); 'all' = every data input. */
  inputs?: number[] | 'all';
  attrs?: Record<string, AttrSource>;
  /** Refuse a channels-first source op (TF `data_format`, layers `dataFormat`). */
  nhwc?: boolean;
  /** Layers models: layer weights appended as constant inputs, by name ('bias?' = only when the layer has one). */
  weights?: string[];
  /** Layers models: the layer's `activation` config is applied after the op. */
  activation?: boolean;
}

/** What a code import rule can do: read the source op, build IR nodes. Each importer implements it. */
export interface ImportContext {
  /** The source op's (and the main IR node's) name. */
  readonly name: string;
  /** Names the file in errors. */
  readonly label: string;
  /** Number of data inputs of the source op. */
  readonly inputCount: number;
  /** IR tensor name of data input i (throws when missing). */
  input(i: number): string;
  /** Whether data input i is present (TFLite optional inputs are -1). */
  hasInput(i: number): boolean;
  /** IR name of the source op's output k. */
  output(k: number): string;
  tensor(name: string): IrTensor;
  /** Values of constant data input i (throws naming it when not constant). */
  constValues(i: number): number[];
  /** A source attribute, read as for data rules. */
  attr(source: AttrSource): AttrValue;
  /** Adds an IR node; `name` defaults to the source op's name, `outputs` to [output(0)]. */
  emit(op: string, inputs: string[], attrs: Attrs, at?: { name?: string; outputs?: string[] }): string[];
  /** A float constant invented by the importer, named `<name>/<suffix>` (made unique). */
  constant(suffix: string, shape: number[], data: Float32Array): string;
  /** TFLite custom ops: the operator's custom_options bytes (undefined when it has none or in other formats). */
  readonly customOptions?: Uint8Array;
  /** Layers models: the constant holding the layer weight whose name ends with `/suffix`. */
  weight?(suffix: string): string | undefined;
  /** Layers models: emits the layer's `activation` config after `op` (the last node writes output(0)). */
  emitWithActivation?(op: string, inputs: string[], attrs: Attrs): void;
  /** An error naming the file, the source op and its type. */
  error(msg: string): Error;
}

/** A data rule, or code for sources that are genuinely fused (several IR nodes) or need shapes. */
export type ImportEntry = ImportRule | ((ctx: ImportContext) => void);

// ---- TFLite builtins ---------------------------------------------------------------------------

/** Tensor element types as the TFLite schema names them. */
export type TensorDType =
  | 'float32' | 'float16' | 'int32' | 'uint8' | 'int64' | 'string' | 'bool' | 'int16' | 'complex64' | 'int8'
  | 'float64' | 'complex128' | 'uint64' | 'resource' | 'variant' | 'uint32' | 'uint16' | 'int4' | 'bfloat16';

/** What an operator-version rule looks at (op_version.cc's OpSignature). */
export interface OpSignature {
  /** Input types (undefined for an omitted optional input). */
  inputs: (TensorDType | undefined)[];
  outputs: TensorDType[];
  inputRanks: number[];
  options: Record<string, unknown>;
  /** First scale of each input/output (undefined when not quantized). */
  inputScales: (number | undefined)[];
  outputScales: (number | undefined)[];
}

/** Where a weighted builtin keeps its data input, weights and bias, and the weights' output-channel axis. */
export interface WeightedLayout {
  input: number;
  weights: number;
  bias: number;
  channelAxis: number;
}

/** The facts about one TFLite builtin operator that the writer, the checker and the runtime table need. */
export interface BuiltinSpec {
  /** Its BuiltinOptions table (schema name), when it has one. */
  options?: string;
  /** op_version.cc: the version these tensor types and options need (default 1). */
  version?(sig: OpSignature): number;
  /** runtime_version.cc: the minimum TFLite runtime of versions 1..n. */
  runtime?: readonly string[];
  /** Kernel facts the checker holds files to. */
  kernel?: {
    weighted?: WeightedLayout;
    /** Output parameters fixed by the int8/int16 kernel. */
    fixedOutput?: FixedOutputOp;
    /** Data inputs whose parameters must equal the outputs' (the kernel does not rescale); 'all' = every input. */
    sameParams?: number[] | 'all';
    /** The kernel's Prepare refuses any fused activation other than NONE, in every dtype. */
    noFusedActivation?: boolean;
  };
}

// ---- Examples ----------------------------------------------------------------------------------

/** What an example builds with: a float graph under construction (lib/graph/builder.ts implements it). */
export interface ExampleBuilder {
  /** The example's input [1, 8, 8, 4], values in [0, 1]. */
  readonly input: string;
  /** n seeded uniform random values in [lo, hi). */
  uniform(n: number, lo: number, hi: number): Float32Array;
  constant(name: string, shape: number[], data: Float32Array): string;
  emit(name: string, op: string, inputs: string[], attrs: Attrs, outputs?: string[]): string[];
  /** A 3x3 SAME Conv2D with random weights from `x` to `channels` channels (a varied, calibrated input). */
  conv(name: string, x: string, channels: number): string;
  shape(name: string): number[];
}

export interface OpExample {
  name: string;
  /** Builds the graph; returns the outputs under test (the op's own outputs). */
  build(b: ExampleBuilder): string[];
  /** Extra tolerance in output steps (kernels that round more). */
  steps?: number;
  /** Extra steps for the int16 kernel. */
  int16Steps?: number;
  /** Weighted op: its weight rounding counts too. */
  weighted?: boolean;
}

// ---- The quantization side of an entry ---------------------------------------------------------
// How the op's output parameters are chosen, which of its inputs are weights, which precisions it can be
// written in, and how it is written to TFLite. Emit functions decide nothing about parameters: they ask
// the context, which answers from the plan.

/** How an op is computed: int8 (full-integer), int16 (TFLite 16x8: int16 activations, int8 weights) or float. */
export type Precision = 'int8' | 'int16' | 'float';
export const PRECISIONS: readonly Precision[] = ['int8', 'int16', 'float'];

export type QuantRule =
  /** Output parameters from the calibrated range of the output tensor. */
  | { output: 'calibrated' }
  /** Output parameters fixed by the TFLite kernel, per dtype (int8/arithmetic.ts FIXED_OUTPUT_PARAMS). */
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
  /**
   * A scalar constant holding `value` in this node's precision with parameters of its own (the value's
   * [min(0, v), max(0, v)] range; symmetric for int16), so it is stored exactly wherever the op's
   * kernel rescales its operands (ADD, MUL); float32 for a float node.
   */
  scalarConstant(label: string, value: number): number;
  /**
   * The exact extremes calibration observed for an activation (for a converted or requantized copy: its
   * source's), not widened to include 0 as chosen ranges are: a one-signed tensor's smallest magnitude
   * (Div's divisor). Lets a writer that decomposes a node into several TFLite ops choose parameters for
   * its internal tensors; undefined for a tensor calibration did not observe.
   */
  extremes(name: string): RangeLike | undefined;
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

/**
 * What an op's output holds when calibration can derive its statistics from its inputs' instead of
 * observing it (exactly: the derived range equals the observed one):
 *   - same-order: the input's values in the same order (a reshape), so every statistic is the input's;
 *   - all-of: every value of `inputs` (activations or constants) and of `values`, and nothing else,
 *     every sample (a concatenation), so its extremes are theirs.
 */
export type OutputValues = { kind: 'same-order' } | { kind: 'all-of'; inputs: string[]; values: number[] };

/** The op's OutputValues for a node with these shapes, or undefined when its output must be observed. */
export type OutputValuesRule = (node: IrNode, shapes: { inputs: number[][]; outputs: number[][] }) => OutputValues | undefined;

export interface OpQuant {
  rule: QuantRule;
  /**
   * The output rule when the node is written in int16, where it differs from `rule` (AvgPool: its
   * int16 writer rescales, so the output takes its own calibrated parameters).
   */
  int16Rule?: QuantRule;
  inputRange?: InputRangeHook;
  outputValues?: OutputValuesRule;
  weighted?: WeightedOp;
  /** Precisions the op can be written in (default: all). */
  precisions?: readonly Precision[];
  /**
   * Precisions of `precisions` this node cannot be written in given its inputs' calibrated ranges, and
   * why: for a writer whose decomposition holds on part of the input domain only (Div through RSQRT
   * needs a divisor of one sign). The plan widens such a node as it does a missing kernel
   * (int8 -> int16 -> float) and reports the reason. Undefined: none refused.
   */
  refusedPrecisions?: (node: IrNode, rangeOf: (tensor: string) => RangeLike | undefined) => { precisions: readonly Precision[]; reason: string } | undefined;
  /** Writes the node as one or more TFLite ops. */
  emit(ctx: EmitContext): void;
}
