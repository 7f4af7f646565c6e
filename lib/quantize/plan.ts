// The quantization plan: everything decided before anything is written.
//
//   recipe -> calibration statistics -> buildPlan -> plan passes (e.g. bias correction) -> emit -> verify
//
// For every tensor the plan says its dtype, scales, zero points, quantized axis and where they came
// from; for every op its precision; and every conversion between precisions (QUANTIZE / DEQUANTIZE,
// int8 requantization for shared-parameter conflicts, the model's I/O types) is an explicit step. The
// emitter (emit.ts) only follows it; the float export is a plan whose tensors are all float32.
import type { Graph, IrNode, IrTensor } from '../ir/graph.js';
import {
  nudgedRange,
  chooseParamsFor,
  fixedOutputParams,
  perChannelWeightScales,
  perTensorSymmetricScale,
  quantizeArray,
  quantizeBias,
  quantizeBias64,
  quantizeWeightsPerChannel,
  minWeightScalesForBias,
  type QuantDType,
  type QuantParams,
} from '../int8/arithmetic.js';
import { solveParamGroups, type ActivationRange, type SolvedParams } from './params.js';
import { describeFloor, floorRequantizationRanges } from './requant-floor.js';
import type { OpQuant, Precision } from '../ops/types.js';

export type { Precision } from '../ops/types.js';
export type PlanDType = 'int8' | 'int16' | 'float32' | 'uint8' | 'int32' | 'int64';
export type IoType = 'int8' | 'uint8' | 'int16' | 'float32';

export const DTYPE_OF_PRECISION: Readonly<Record<Precision, 'int8' | 'int16' | 'float32'>> = { int8: 'int8', int16: 'int16', float: 'float32' };

/** Where a tensor's parameters came from. */
export type ParamOrigin =
  /** `floor`: the calibrated range was widened so that XNNPACK accepts the op writing it (requant-floor.ts). */
  | { kind: 'calibrated'; method: string; floor?: string }
  | { kind: 'fixed'; by: string; via?: string }
  | { kind: 'model-input'; range: [number, number] }
  | { kind: 'requantized'; from: string; for: string }
  | { kind: 'converted'; from: string }
  | { kind: 'constant' }
  | { kind: 'weights'; perChannel: boolean; learnedRounding?: boolean }
  | { kind: 'bias'; input: string; weights: string; corrected?: boolean }
  | { kind: 'float' };

export interface PlannedTensor {
  name: string;
  dtype: PlanDType;
  role: 'activation' | 'constant' | 'weights' | 'bias';
  shape: number[];
  scale?: number[];
  zeroPoint?: number[];
  /** Quantized dimension of per-channel parameters. */
  axis?: number;
  /** Calibrated float range (union over its group) the parameters were chosen from. */
  range?: [number, number];
  /** Shared-parameter group (tensors that must have the same parameters). */
  group?: number;
  origin: ParamOrigin;
  /** The exact extremes calibration observed (unsnapped; not part of the JSON form): EmitContext.extremes. */
  extremes?: [number, number];
  /** Values of constants, weights and biases as written (not part of the JSON form). */
  data?: Float32Array | Int8Array | Int16Array | Int32Array | BigInt64Array;
  /** Float values of a bias before quantization (bias correction adjusts these). */
  floatData?: Float32Array;
}

export interface PlannedOp {
  kind: 'op';
  node: string;
  op: string;
  precision: Precision;
  /** The tensors the op reads (after conversions) and writes. */
  inputs: string[];
  outputs: string[];
  weights?: string;
  bias?: string;
}

export interface PlannedConversion {
  kind: 'convert';
  op: 'QUANTIZE' | 'DEQUANTIZE';
  from: string;
  to: string;
  reason: 'precision' | 'requantize' | 'model-input' | 'model-output';
}

export type PlanStep = PlannedOp | PlannedConversion;

export interface QuantPlan {
  version: 1;
  /** 'float' plans write every tensor in float32 (the float export). */
  mode: 'quantized' | 'float';
  /** Model inputs and outputs: the tensors the file exposes, in order. */
  inputs: string[];
  outputs: string[];
  /** File-level names: boundary tensors keep the graph's names and inner twins get a dtype suffix. */
  fileNames: Record<string, string>;
  tensors: Map<string, PlannedTensor>;
  /** In emission order. */
  steps: PlanStep[];
  notes: string[];
}

export interface PlanOptions {
  mode?: 'quantized' | 'float';
  quantOf: (node: IrNode) => OpQuant;
  /** Precision per node (default int8). */
  precisionOf?: (node: IrNode) => Precision;
  perChannelFor?: (node: IrNode) => boolean;
  methodFor?: (tensor: string) => string;
  /** Fixed parameters of model inputs (int8). */
  inputParams?: Map<string, QuantParams>;
  inputRange?: [number, number];
  inputType?: IoType;
  /** Output I/O type; default: each output's own dtype (no conversion). */
  outputType?: IoType;
  /** Also expose these activations (debug / layer analysis), in their own dtype. */
  extraOutputs?: string[];
  /** Ranges for int16 tensors (the observed extremes; default: `ranges`). */
  int16Ranges?: Map<string, ActivationRange>;
  /** The exact extremes calibration observed per activation (not snapped to include 0), for writers that derive internal ranges. */
  extremes?: Map<string, ActivationRange>;
}

function quantDType(d: PlanDType): QuantDType | undefined {
  return d === 'int8' || d === 'int16' ? d : undefined;
}

function floatData(t: IrTensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
}

function minMax(data: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    if (data[i] < lo) lo = data[i];
    if (data[i] > hi) hi = data[i];
  }
  return data.length ? [lo, hi] : [0, 0];
}

type ActivationDType = 'int8' | 'int16' | 'float32';

/** What the stages of buildPlan share: the graph, the options and what earlier stages decided. */
interface PlanState {
  graph: Graph;
  options: PlanOptions;
  float: boolean;
  /** Precision per node. */
  precision: Map<string, Precision>;
  /** dtype per activation and per converted copy. */
  dtype: Map<string, ActivationDType>;
  /** Converted copy -> the tensor it copies. */
  convertedFrom: Map<string, string>;
  /** Integer activations whose parameters are set, not calibrated (model inputs, fixed-output ops). */
  fixed: Map<string, { params: QuantParams; by: string }>;
  /** Shared-parameter groups and their parameters (quantized plans). */
  solved?: SolvedParams;
  tensors: Map<string, PlannedTensor>;
  fileNames: Record<string, string>;
  /** Activations whose calibrated range was floored, and why (the origin says it). */
  floors?: Map<string, string>;
}

/** The graph's tensor of that name; throws naming it when there is none. */
function tensorInfo(graph: Graph, name: string): IrTensor {
  const t = graph.tensors.get(name);
  if (!t) throw new Error(`plan: unknown tensor '${name}'`);
  return t;
}

/**
 * Builds the plan for a graph and its calibrated ranges. Throws, naming the node, when a node's
 * precision is one its op cannot be written in. The stages, in order: precision per op and dtype per
 * activation, conversions for reads in another precision, integer parameters (shared groups, fixed
 * outputs, model inputs), the steps in graph order, the model's I/O conversions.
 */
export function buildPlan(graph: Graph, ranges: Map<string, ActivationRange>, options: PlanOptions): QuantPlan {
  const float = options.mode === 'float';
  const precision = opPrecisions(graph, options, float);
  const dtype = activationDTypes(graph, precision, float);
  const { rewritten, pendingBefore, convertedFrom } = routeConversions(graph, precision, dtype);
  const state: PlanState = { graph, options, float, precision, dtype, convertedFrom, fixed: fixedParams(rewritten, dtype, options), tensors: new Map(), fileNames: {} };
  const notes: string[] = [];
  if (!float) {
    const floored = floorRequantizationRanges(graph, ranges, {
      quantOf: options.quantOf, isInt8: (n) => precision.get(n.name) === 'int8', perChannelFor: options.perChannelFor ?? (() => true), inputParams: options.inputParams,
    });
    state.floors = new Map([...floored.floors].map(([t, f]) => [t, describeFloor(f)]));
    for (const [t, why] of state.floors) notes.push(`'${t}': ${why}`);
    ranges = floored.ranges;
  }
  state.solved = float ? undefined : solveActivationParams(state, rewritten, ranges);
  if (state.solved) notes.push(...state.solved.notes);
  for (const name of graph.inputs) addActivation(state, name, tensorInfo(graph, name).shape);
  const steps = planOpSteps(state, rewritten, pendingBefore);
  const input = planModelInputs(state);
  const output = planModelOutputs(state, ranges);
  return {
    version: 1, mode: float ? 'float' : 'quantized', inputs: input.names, outputs: output.names, fileNames: state.fileNames,
    tensors: state.tensors, steps: [...input.steps, ...steps, ...output.steps], notes,
  };
}

/** Each node's precision (float plans: all float); throws when its op cannot be written in it. */
function opPrecisions(graph: Graph, options: PlanOptions, float: boolean): Map<string, Precision> {
  const precision = new Map<string, Precision>();
  for (const n of graph.nodes) {
    const p: Precision = float ? 'float' : options.precisionOf?.(n) ?? 'int8';
    const q = options.quantOf(n);
    const allowed = q.precisions ?? ['int8', 'int16', 'float'];
    if (!allowed.includes(p)) {
      throw new Error(`plan: node '${n.name}' (${n.op}) cannot be written in ${p} (its op supports ${allowed.join(', ')})`);
    }
    precision.set(n.name, p);
  }
  return precision;
}

/** The dtype of every activation: model inputs int8 (float32 in float plans), outputs their producer's precision. */
function activationDTypes(graph: Graph, precision: Map<string, Precision>, float: boolean): Map<string, ActivationDType> {
  const dtype = new Map<string, ActivationDType>();
  for (const name of graph.inputs) dtype.set(name, float ? 'float32' : 'int8');
  for (const n of graph.nodes) for (const o of n.outputs) dtype.set(o, DTYPE_OF_PRECISION[precision.get(n.name)!]);
  return dtype;
}

/**
 * Reads in another precision go through one converted copy per (tensor, dtype): the nodes with their
 * inputs renamed to the copies, the conversions to emit before each node, and copy -> original.
 * Adds the copies' dtypes to `dtype`.
 */
function routeConversions(
  graph: Graph,
  precision: Map<string, Precision>,
  dtype: Map<string, ActivationDType>,
): { rewritten: IrNode[]; pendingBefore: Map<string, PlannedConversion[]>; convertedFrom: Map<string, string> } {
  const converted = new Map<string, string>();
  const convertedFrom = new Map<string, string>();
  const rewritten: IrNode[] = [];
  const pendingBefore = new Map<string, PlannedConversion[]>();
  for (const n of graph.nodes) {
    const need = DTYPE_OF_PRECISION[precision.get(n.name)!];
    const before: PlannedConversion[] = [];
    const inputs = n.inputs.map((t) => {
      if (tensorInfo(graph, t).data !== undefined) return t;
      const have = dtype.get(t)!;
      if (have === need) return t;
      const key = `${t}\u0000${need}`;
      let c = converted.get(key);
      if (!c) {
        c = `${t}/${need}`;
        converted.set(key, c);
        convertedFrom.set(c, t);
        dtype.set(c, need);
        before.push({ kind: 'convert', op: need === 'float32' ? 'DEQUANTIZE' : 'QUANTIZE', from: t, to: c, reason: 'precision' });
      }
      return c;
    });
    rewritten.push({ ...n, inputs });
    pendingBefore.set(n.name, before);
  }
  return { rewritten, pendingBefore, convertedFrom };
}

/** Parameters that are set, not calibrated: int8 model inputs (options.inputParams) and fixed-output ops' outputs. */
function fixedParams(rewritten: IrNode[], dtype: Map<string, ActivationDType>, options: PlanOptions): Map<string, { params: QuantParams; by: string }> {
  const fixed = new Map<string, { params: QuantParams; by: string }>();
  for (const [name, p] of options.inputParams ?? []) if (dtype.get(name) === 'int8') fixed.set(name, { params: p, by: 'model input' });
  for (const n of rewritten) {
    const rule = options.quantOf(n).rule;
    const d = quantDType(dtype.get(n.outputs[0]) ?? 'float32');
    if (rule.output === 'fixed' && d) for (const o of n.outputs) fixed.set(o, { params: fixedOutputParams(rule.op, d), by: `${rule.op} ${d} output` });
  }
  return fixed;
}

/** Shared-parameter groups per dtype, solved over the rewritten nodes (params.ts). */
function solveActivationParams(state: PlanState, rewritten: IrNode[], ranges: Map<string, ActivationRange>): SolvedParams {
  const { graph, options, dtype, convertedFrom, fixed } = state;
  const rangeOf = (t: string): ActivationRange | undefined => {
    const src = convertedFrom.get(t) ?? t;
    if (isConstantName(graph, src)) {
      const [lo, hi] = minMax(floatData(tensorInfo(graph, src)));
      return { min: lo, max: hi };
    }
    // int16 has 256x finer steps: a range clipped for int8 noise (mse, percentile) would clip needlessly.
    const r = (dtype.get(t) === 'int16' ? options.int16Ranges?.get(src) : undefined) ?? ranges.get(src);
    if (r) return r;
    // The model input is not calibrated: its range is what its fixed int8 parameters represent.
    const f = fixed.get(src);
    return f ? nudgedRange(f.params) : undefined;
  };
  return solveParamGroups(rewritten, {
    ruleOf: (n) => {
      const q = options.quantOf(n);
      return dtype.get(n.outputs[0]) === 'int16' && q.int16Rule ? q.int16Rule : q.rule;
    },
    isInteger: (t) => (isConstantName(graph, t) ? false : quantDType(dtype.get(t) ?? 'float32') !== undefined),
    isSharedConstant: (t) => isConstantName(graph, t),
    dtypeOf: (t) => quantDType(dtype.get(t) ?? 'float32') ?? 'int8',
    rangeOf,
    fixed: new Map([...fixed].map(([k, v]) => [k, v.params])),
    extraTensors: graph.inputs,
  });
}

/** Plans an activation once: float32, or its dtype with its group's parameters and where they came from. */
function addActivation(state: PlanState, name: string, shape: number[]): void {
  const { tensors, solved, fixed } = state;
  if (tensors.has(name)) return;
  const d = state.dtype.get(name)!;
  const src = state.convertedFrom.get(name);
  if (d === 'float32' || !solved) {
    tensors.set(name, { name, dtype: 'float32', role: 'activation', shape, origin: src ? { kind: 'converted', from: src } : { kind: 'float' } });
    return;
  }
  const p = solved.params.get(name);
  if (!p) throw new Error(`plan: tensor '${name}' has no ${d} parameters (no calibrated range?)`);
  const r = solved.groupRange.get(name);
  const f = fixed.get(name);
  const via = solved.sharesFixed.get(name);
  const method = state.options.methodFor ?? (() => 'calibrated');
  const origin: ParamOrigin = f
    ? f.by === 'model input'
      ? { kind: 'model-input', range: state.options.inputRange ?? [0, 1] }
      : { kind: 'fixed', by: f.by }
    : via
      ? { kind: 'fixed', by: fixed.get(via)!.by, via }
      : src
        ? { kind: 'converted', from: src }
        : { kind: 'calibrated', method: method(name), ...floorOf(state, name, d, r) };
  tensors.set(name, {
    name,
    dtype: d,
    role: 'activation',
    shape,
    scale: [p.scale],
    zeroPoint: [p.zeroPoint],
    range: r ? [r.min, r.max] : undefined,
    group: solved.group.get(name),
    origin,
    ...extremesOf(state, src ?? name),
  });
}

/** Why a calibrated range was not used as it is: floored for XNNPACK, or dead (arithmetic.ts gives it fixed parameters). */
function floorOf(state: PlanState, name: string, d: ActivationDType, r: ActivationRange | undefined): { floor?: string } {
  const floored = state.floors?.get(name);
  if (floored) return { floor: floored };
  const dead = r && Math.min(r.min, 0) === 0 && Math.max(r.max, 0) === 0;
  return dead ? { floor: `dead on the calibration data (range [0, 0]): takes the ${d === 'int16' ? '[-1, 1]' : '[0, 1]'} parameters` } : {};
}

/** The observed extremes of an activation as a planned tensor's field, when calibration saw it. */
function extremesOf(state: PlanState, name: string): { extremes?: [number, number] } {
  const e = state.options.extremes?.get(name);
  return e ? { extremes: [e.min, e.max] } : {};
}

/** The integer parameters of a planned tensor. */
function paramsOf(tensors: Map<string, PlannedTensor>, name: string): QuantParams {
  const t = tensors.get(name);
  if (!t?.scale) throw new Error(`plan: tensor '${name}' has no integer parameters`);
  return { scale: t.scale[0], zeroPoint: t.zeroPoint![0] };
}

/**
 * Steps in graph order: conversions before their first reader, requantizations, the op itself (with
 * its constant operands, weights and bias planned).
 */
function planOpSteps(state: PlanState, rewritten: IrNode[], pendingBefore: Map<string, PlannedConversion[]>): PlanStep[] {
  const { graph, options } = state;
  const steps: PlanStep[] = [];
  const requantizeFor = new Map<string, Map<number, QuantParams>>();
  for (const r of state.solved?.requantize ?? []) {
    let m = requantizeFor.get(r.consumer);
    if (!m) requantizeFor.set(r.consumer, (m = new Map()));
    m.set(r.inputIndex, r.params);
  }
  const perChannelFor = options.perChannelFor ?? (() => true);
  for (let k = 0; k < rewritten.length; k++) {
    const node = rewritten[k];
    const p = state.precision.get(node.name)!;
    for (const c of pendingBefore.get(node.name)!) {
      addActivation(state, c.to, tensorInfo(graph, c.from).shape);
      steps.push(c);
    }
    const inputs = [...node.inputs];
    const rq = requantizeFor.get(node.name);
    if (rq) steps.push(...planRequantizations(state, node, rq, inputs));
    const q = options.quantOf(node);
    planConstantOperands(state, node, q, p, inputs);
    for (const o of node.outputs) addActivation(state, o, tensorInfo(graph, o).shape);
    const step: PlannedOp = { kind: 'op', node: node.name, op: node.op, precision: p, inputs, outputs: [...node.outputs] };
    if (q.weighted) Object.assign(step, planWeights(graph, graph.nodes[k], node, q, p, perChannelFor(graph.nodes[k]), inputs, state.tensors, (t) => paramsOf(state.tensors, t)));
    steps.push(step);
  }
  return steps;
}

/**
 * A node's inputs whose shared parameters conflict (params.ts requantize) read a requantized copy:
 * plans the copies, renames them in `inputs` and returns their conversions.
 */
function planRequantizations(state: PlanState, node: IrNode, requantize: Map<number, QuantParams>, inputs: string[]): PlannedConversion[] {
  const steps: PlannedConversion[] = [];
  for (const [i, params] of requantize) {
    const src = inputs[i];
    const name = `${src}/requantized_for_${node.name}`;
    const d = state.dtype.get(src) as 'int8' | 'int16';
    state.tensors.set(name, {
      name,
      dtype: d,
      role: 'activation',
      shape: tensorInfo(state.graph, state.convertedFrom.get(src) ?? src).shape,
      scale: [params.scale],
      zeroPoint: [params.zeroPoint],
      origin: { kind: 'requantized', from: src, for: node.name },
    });
    steps.push({ kind: 'convert', op: 'QUANTIZE', from: src, to: name, reason: 'requantize' });
    inputs[i] = name;
  }
  return steps;
}

/**
 * Constant operands of an unweighted op in the precision of their reader (shared-rule ops: in the
 * group's parameters): one planned tensor per constant and dtype; renames them in `inputs`.
 */
function planConstantOperands(state: PlanState, node: IrNode, q: OpQuant, p: Precision, inputs: string[]): void {
  const { graph, tensors } = state;
  for (const [i, t] of inputs.entries()) {
    if (!isConstantName(graph, t) || q.weighted) continue;
    const data = floatData(tensorInfo(graph, t));
    const d = DTYPE_OF_PRECISION[p];
    const qd = quantDType(d);
    // One tensor per constant and dtype; a shared-rule op's constant is in that op's group parameters.
    const key = q.rule.output === 'shared' && qd ? `${t}@${node.name}` : `${t}@${d}`;
    if (tensors.has(key)) {
      inputs[i] = key;
      continue;
    }
    if (!qd) {
      tensors.set(key, { name: t, dtype: 'float32', role: 'constant', shape: tensorInfo(graph, t).shape, origin: { kind: 'float' }, data });
    } else {
      const shared = q.rule.output === 'shared' ? state.solved!.params.get(t) : undefined;
      const [lo, hi] = minMax(data);
      const params = shared ?? chooseParamsFor(qd, lo, hi);
      tensors.set(key, {
        name: t,
        dtype: qd,
        role: 'constant',
        shape: tensorInfo(graph, t).shape,
        scale: [params.scale],
        zeroPoint: [params.zeroPoint],
        range: [lo, hi],
        group: shared ? state.solved!.group.get(t) : undefined,
        origin: { kind: 'constant' },
        data: quantizeArray(data, params, qd),
      });
    }
    inputs[i] = key;
  }
}

/** The model inputs in the requested I/O type: a twin tensor and a QUANTIZE where the type differs. */
function planModelInputs(state: PlanState): { names: string[]; steps: PlanStep[] } {
  const { graph, tensors, fileNames, float } = state;
  const names: string[] = [];
  const steps: PlanStep[] = [];
  const inputType = state.options.inputType ?? (float ? 'float32' : 'int8');
  for (const name of graph.inputs) {
    const d = tensors.get(name)!.dtype;
    if (inputType === d || float) {
      names.push(name);
      continue;
    }
    const ext = `${name}@input`;
    fileNames[name] = `${name}/${d}`;
    fileNames[ext] = name;
    tensors.set(ext, ioTensor(ext, inputType, tensors.get(name)!));
    steps.push({ kind: 'convert', op: 'QUANTIZE', from: ext, to: name, reason: 'model-input' });
    names.push(ext);
  }
  return { names, steps };
}

/** The model outputs (and extra outputs) in the requested I/O type: a twin and a conversion where it differs. */
function planModelOutputs(state: PlanState, ranges: Map<string, ActivationRange>): { names: string[]; steps: PlanStep[] } {
  const { graph, tensors, fileNames, float, options } = state;
  const names: string[] = [];
  const steps: PlanStep[] = [];
  const extra = (options.extraOutputs ?? []).filter((t) => !graph.outputs.includes(t));
  for (const name of [...graph.outputs, ...extra]) {
    const own = tensors.get(name);
    if (!own) throw new Error(`plan: output '${name}' is not produced by the graph`);
    const want: PlanDType = graph.outputs.includes(name) && !float ? options.outputType ?? own.dtype : own.dtype;
    if (want === own.dtype) {
      names.push(name);
      continue;
    }
    const ext = `${name}@output`;
    fileNames[name] = `${name}/${own.dtype}`;
    fileNames[ext] = name;
    tensors.set(ext, ioTensor(ext, want as IoType, own, ranges.get(name)));
    steps.push({ kind: 'convert', op: want === 'float32' ? 'DEQUANTIZE' : 'QUANTIZE', from: name, to: ext, reason: 'model-output' });
    names.push(ext);
  }
  return { names, steps };
}

function isConstantName(graph: Graph, name: string): boolean {
  return graph.tensors.get(name)?.data !== undefined;
}

/** The twin of a boundary tensor in the model's I/O type (uint8 <-> int8 keeps the scale and shifts the zero point by 128). */
function ioTensor(name: string, type: IoType, inner: PlannedTensor, range?: ActivationRange): PlannedTensor {
  const base = { name, role: 'activation' as const, shape: inner.shape };
  if (type === 'float32') return { ...base, dtype: 'float32', origin: { kind: 'float' } };
  if (type === 'uint8' && inner.dtype === 'int8') {
    return { ...base, dtype: 'uint8', scale: inner.scale, zeroPoint: [inner.zeroPoint![0] + 128], origin: { kind: 'converted', from: inner.name } };
  }
  const r = inner.range ?? (range ? [range.min, range.max] : undefined);
  if (!r) throw new Error(`plan: output '${inner.name}' needs a calibrated range to be written as ${type}`);
  const d: QuantDType = type === 'int16' ? 'int16' : 'int8';
  const p = chooseParamsFor(d, r[0], r[1]);
  if (type === 'uint8') return { ...base, dtype: 'uint8', scale: [p.scale], zeroPoint: [p.zeroPoint + 128], range: r, origin: { kind: 'converted', from: inner.name } };
  return { ...base, dtype: d, scale: [p.scale], zeroPoint: [p.zeroPoint], range: r, origin: { kind: 'converted', from: inner.name } };
}

/** Weights (int8 symmetric, per channel or per tensor) and bias (int32 for int8, int64 for int16) of one weighted op. */
function planWeights(
  graph: Graph,
  original: IrNode,
  node: IrNode,
  q: OpQuant,
  precision: Precision,
  perChannel: boolean,
  inputs: string[],
  tensors: Map<string, PlannedTensor>,
  paramsOf: (name: string) => QuantParams,
): { weights: string; bias: string } {
  const w = q.weighted!;
  const tensorOf = (name: string) => {
    const t = graph.tensors.get(name);
    if (!t) throw new Error(`plan: unknown tensor '${name}'`);
    return t;
  };
  const layout = w.weights(original, tensorOf);
  const floatBias = w.bias(original, tensorOf) ?? new Float32Array(layout.shape[layout.axis]);
  const channels = layout.shape[layout.axis];
  // Plan keys cannot collide with graph tensor names ('#'); the file names are `<node>/<label>`.
  const wKey = `${node.name}#weights`;
  const bKey = `${node.name}#bias`;
  const wName = `${node.name}/${w.weightsLabel ?? 'weights'}`;
  const bName = `${node.name}/bias`;
  if (precision === 'float') {
    tensors.set(wKey, { name: wName, dtype: 'float32', role: 'weights', shape: layout.shape, origin: { kind: 'float' }, data: layout.data });
    tensors.set(bKey, { name: bName, dtype: 'float32', role: 'bias', shape: [channels], origin: { kind: 'float' }, data: floatBias, floatData: floatBias });
    return { weights: wKey, bias: bKey };
  }
  const input = inputs[w.input];
  const inScale = paramsOf(input).scale;
  let scales: number[];
  let data: Int8Array;
  if (perChannel) {
    // A channel whose weights are tiny but whose bias is not would saturate its int32 bias: its
    // weight scale is raised until the bias fits (what the TFLite converter does).
    const s = minWeightScalesForBias(floatBias, inScale, perChannelWeightScales(layout.data, layout.shape, layout.axis));
    data = quantizeWeightsPerChannel(layout.data, layout.shape, layout.axis, s);
    scales = Array.from(s);
  } else {
    const s = Math.max(...minWeightScalesForBias(floatBias, inScale, new Float32Array(channels).fill(perTensorSymmetricScale(layout.data))));
    data = quantizeWeightsPerChannel(layout.data, layout.shape, layout.axis, [s]);
    scales = new Array(channels).fill(s);
  }
  tensors.set(wKey, {
    name: wName,
    dtype: 'int8',
    role: 'weights',
    shape: layout.shape,
    scale: perChannel ? scales : [scales[0]],
    zeroPoint: perChannel ? scales.map(() => 0) : [0],
    axis: perChannel ? layout.axis : undefined,
    origin: { kind: 'weights', perChannel },
    data,
  });
  tensors.set(bKey, biasTensor(bName, floatBias, inScale, scales, precision === 'int16' ? 'int64' : 'int32', input, wKey, perChannel));
  return { weights: wKey, bias: bKey };
}

/** A bias tensor: zero point 0, scale = input scale x weight scale per channel. */
export function biasTensor(
  name: string,
  floatBias: Float32Array,
  inputScale: number,
  weightScales: number[],
  dtype: 'int32' | 'int64',
  input: string,
  weights: string,
  weightsPerChannel: boolean,
  corrected?: boolean,
): PlannedTensor {
  // The bias is quantized per channel exactly when the weights are, even when the weight scales are all
  // equal: XNNPACK refuses per-channel weights with a per-tensor bias, and the reverse.
  const scales = weightScales.map((w) => Math.fround(inputScale * w));
  const perChannel = weightsPerChannel || weightScales.length === 1;
  return {
    name,
    dtype,
    role: 'bias',
    shape: [floatBias.length],
    scale: perChannel ? scales : [scales[0]],
    zeroPoint: (perChannel ? scales : [0]).map(() => 0),
    axis: perChannel ? 0 : undefined,
    origin: { kind: 'bias', input, weights, ...(corrected ? { corrected } : {}) },
    data: dtype === 'int64' ? quantizeBias64(floatBias, inputScale, weightScales) : quantizeBias(floatBias, inputScale, weightScales),
    floatData: floatBias,
  };
}

/** The plan as plain JSON (constant values left out): what the report embeds. */
export function planToJson(plan: QuantPlan): {
  version: 1;
  mode: string;
  inputs: string[];
  outputs: string[];
  /** Each tensor with its plan key (steps refer to keys; `name` is the name in the file). */
  tensors: (Omit<PlannedTensor, 'data' | 'floatData' | 'extremes'> & { key: string })[];
  steps: PlanStep[];
  notes: string[];
} {
  const tensors = [...plan.tensors].map(([key, t]) => {
    const { data: _d, floatData: _f, extremes: _e, ...rest } = t;
    return { key, ...rest };
  });
  return { version: 1, mode: plan.mode, inputs: plan.inputs, outputs: plan.outputs, tensors, steps: plan.steps, notes: plan.notes };
}

/** Counts of ops per precision and the non-int8 ones (the report and the CLI say them plainly). */
export function planPrecisionSummary(plan: { steps: PlanStep[] }): { int8: number; int16: number; float: number; conversions: number; notInt8: { node: string; op: string; precision: Precision }[] } {
  const s = { int8: 0, int16: 0, float: 0, conversions: 0, notInt8: [] as { node: string; op: string; precision: Precision }[] };
  for (const step of plan.steps) {
    if (step.kind === 'convert') {
      if (step.reason === 'precision') s.conversions++;
      continue;
    }
    s[step.precision]++;
    if (step.precision !== 'int8') s.notInt8.push({ node: step.node, op: step.op, precision: step.precision });
  }
  return s;
}

function describeOrigin(o: ParamOrigin): string {
  switch (o.kind) {
    case 'calibrated':
      return `calibrated (${o.method})${o.floor ? `; ${o.floor}` : ''}`;
    case 'fixed':
      return `fixed by ${o.by}${o.via ? ` (shared with ${o.via})` : ''}`;
    case 'model-input':
      return `model input range [${o.range.join(', ')}]`;
    case 'requantized':
      return `requantized from ${o.from} for ${o.for}`;
    case 'converted':
      return `converted from ${o.from}`;
    case 'constant':
      return 'constant';
    case 'weights':
      return `symmetric weights, ${o.perChannel ? 'per channel' : 'per tensor'}${o.learnedRounding ? ', learned rounding' : ''}`;
    case 'bias':
      return `input scale x weight scale${o.corrected ? ', bias-corrected' : ''}`;
    case 'float':
      return 'float';
  }
}

function fmtParams(t: Pick<PlannedTensor, 'scale' | 'zeroPoint' | 'axis'>): string {
  if (!t.scale) return '';
  if (t.scale.length > 1) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of t.scale) {
      lo = Math.min(lo, s);
      hi = Math.max(hi, s);
    }
    return ` scales ${lo.toPrecision(4)}..${hi.toPrecision(4)} (${t.scale.length}, axis ${t.axis})`;
  }
  return ` scale ${t.scale[0].toPrecision(6)} zp ${t.zeroPoint![0]}`;
}

export type PlanJson = ReturnType<typeof planToJson>;

/** A readable listing: one line per step, the tensors it writes indented under it. */
export function formatPlan(plan: QuantPlan): string {
  return formatPlanJson(planToJson(plan));
}

/** The same listing from the plan's JSON form (what the report holds). */
export function formatPlanJson(plan: PlanJson): string {
  const lines: string[] = [];
  const sum = planPrecisionSummary(plan);
  const byKey = new Map(plan.tensors.map((t) => [t.key, t]));
  lines.push(`plan (${plan.mode}): ${sum.int8} int8 ops, ${sum.int16} int16 ops, ${sum.float} float ops, ${sum.conversions} precision conversions`);
  const tensorLine = (key: string) => {
    const t = byKey.get(key);
    if (!t) return `    ${key}`;
    const range = t.range ? ` range [${t.range[0].toPrecision(4)}, ${t.range[1].toPrecision(4)}]` : '';
    const group = t.group !== undefined ? ` group ${t.group}` : '';
    return `    ${t.name}: ${t.dtype} [${t.shape.join(',')}]${fmtParams(t)}${range}${group} - ${describeOrigin(t.origin)}`;
  };
  for (const name of plan.inputs) lines.push(`input ${name}`, tensorLine(name));
  for (const s of plan.steps) {
    if (s.kind === 'convert') {
      lines.push(`${s.op} ${s.from} -> ${s.to} (${s.reason})`, tensorLine(s.to));
    } else {
      lines.push(`${s.node} (${s.op}) ${s.precision}`);
      if (s.weights) lines.push(tensorLine(s.weights), tensorLine(s.bias!));
      for (const o of s.outputs) lines.push(tensorLine(o));
    }
  }
  lines.push(`outputs: ${plan.outputs.join(', ')}`);
  for (const n of plan.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

