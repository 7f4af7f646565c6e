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
  perChannelSymmetricScales,
  perTensorSymmetricScale,
  quantizeArray,
  quantizeBias,
  quantizeBias64,
  quantizeWeightsPerChannel,
  minWeightScalesForBias,
  type QuantDType,
  type QuantParams,
} from '../int8/arithmetic.js';
import { solveParamGroups, type ActivationRange } from './params.js';
import type { OpQuant, Precision } from '../ops/types.js';

export type { Precision } from '../ops/types.js';
export type PlanDType = 'int8' | 'int16' | 'float32' | 'uint8' | 'int32' | 'int64';
export type IoType = 'int8' | 'uint8' | 'int16' | 'float32';

export const DTYPE_OF_PRECISION: Readonly<Record<Precision, 'int8' | 'int16' | 'float32'>> = { int8: 'int8', int16: 'int16', float: 'float32' };

/** Where a tensor's parameters came from. */
export type ParamOrigin =
  | { kind: 'calibrated'; method: string }
  | { kind: 'fixed'; by: string; via?: string }
  | { kind: 'model-input'; range: [number, number] }
  | { kind: 'requantized'; from: string; for: string }
  | { kind: 'converted'; from: string }
  | { kind: 'constant' }
  | { kind: 'weights'; perChannel: boolean }
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

/**
 * Builds the plan for a graph and its calibrated ranges. Throws, naming the node, when a node's
 * precision is one its op cannot be written in.
 */
export function buildPlan(graph: Graph, ranges: Map<string, ActivationRange>, options: PlanOptions): QuantPlan {
  const float = options.mode === 'float';
  const precisionOf = (n: IrNode): Precision => (float ? 'float' : options.precisionOf?.(n) ?? 'int8');
  const tensors = new Map<string, PlannedTensor>();
  const notes: string[] = [];
  const info = (name: string): IrTensor => {
    const t = graph.tensors.get(name);
    if (!t) throw new Error(`plan: unknown tensor '${name}'`);
    return t;
  };
  const isConstant = (name: string) => info(name).data !== undefined;

  // 1. Precision per op; dtype per activation (its producer's precision).
  const precision = new Map<string, Precision>();
  for (const n of graph.nodes) {
    const p = precisionOf(n);
    const q = options.quantOf(n);
    const allowed = q.precisions ?? ['int8', 'int16', 'float'];
    if (!allowed.includes(p)) {
      throw new Error(`plan: node '${n.name}' (${n.op}) cannot be written in ${p} (its op supports ${allowed.join(', ')})`);
    }
    precision.set(n.name, p);
  }
  const dtype = new Map<string, 'int8' | 'int16' | 'float32'>();
  for (const name of graph.inputs) dtype.set(name, float ? 'float32' : 'int8');
  for (const n of graph.nodes) for (const o of n.outputs) dtype.set(o, DTYPE_OF_PRECISION[precision.get(n.name)!]);

  // 2. Reads in another precision go through one converted copy per (tensor, dtype).
  const steps: PlanStep[] = [];
  const converted = new Map<string, string>();
  const convertedFrom = new Map<string, string>();
  const rewritten: IrNode[] = [];
  const opSteps = new Map<string, PlannedOp>();
  const pendingBefore = new Map<string, PlannedConversion[]>();
  for (const n of graph.nodes) {
    const need = DTYPE_OF_PRECISION[precision.get(n.name)!];
    const before: PlannedConversion[] = [];
    const inputs = n.inputs.map((t) => {
      if (isConstant(t)) return t;
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
    const node = { ...n, inputs };
    rewritten.push(node);
    pendingBefore.set(n.name, before);
  }

  // 3. Parameters of integer activations: shared-parameter groups per dtype, fixed outputs, model inputs.
  const fixed = new Map<string, { params: QuantParams; by: string }>();
  for (const [name, p] of options.inputParams ?? []) if (dtype.get(name) === 'int8') fixed.set(name, { params: p, by: 'model input' });
  for (const n of rewritten) {
    const rule = options.quantOf(n).rule;
    const d = quantDType(dtype.get(n.outputs[0]) ?? 'float32');
    if (rule.output === 'fixed' && d) for (const o of n.outputs) fixed.set(o, { params: fixedOutputParams(rule.op, d), by: `${rule.op} ${d} output` });
  }
  const rangeOf = (t: string): ActivationRange | undefined => {
    const src = convertedFrom.get(t) ?? t;
    if (isConstantName(graph, src)) {
      const [lo, hi] = minMax(floatData(info(src)));
      return { min: lo, max: hi };
    }
    // int16 has 256x finer steps: a range clipped for int8 noise (mse, percentile) would clip needlessly.
    const r = (dtype.get(t) === 'int16' ? options.int16Ranges?.get(src) : undefined) ?? ranges.get(src);
    if (r) return r;
    // The model input is not calibrated: its range is what its fixed int8 parameters represent.
    const f = fixed.get(src);
    return f ? nudgedRange(f.params) : undefined;
  };
  const solved = float
    ? undefined
    : solveParamGroups(rewritten, {
        ruleOf: (n) => options.quantOf(n).rule,
        isInteger: (t) => (isConstantName(graph, t) ? false : quantDType(dtype.get(t) ?? 'float32') !== undefined),
        isSharedConstant: (t) => isConstantName(graph, t),
        dtypeOf: (t) => quantDType(dtype.get(t) ?? 'float32') ?? 'int8',
        rangeOf,
        fixed: new Map([...fixed].map(([k, v]) => [k, v.params])),
        extraTensors: graph.inputs,
      });
  if (solved) notes.push(...solved.notes);

  const method = options.methodFor ?? (() => 'calibrated');
  const addActivation = (name: string, shape: number[]) => {
    if (tensors.has(name)) return;
    const d = dtype.get(name)!;
    const src = convertedFrom.get(name);
    if (d === 'float32' || !solved) {
      tensors.set(name, { name, dtype: 'float32', role: 'activation', shape, origin: src ? { kind: 'converted', from: src } : { kind: 'float' } });
      return;
    }
    const p = solved.params.get(name);
    if (!p) throw new Error(`plan: tensor '${name}' has no ${d} parameters (no calibrated range?)`);
    const r = solved.groupRange.get(name);
    const f = fixed.get(name);
    const via = solved.sharesFixed.get(name);
    const origin: ParamOrigin = f
      ? f.by === 'model input'
        ? { kind: 'model-input', range: options.inputRange ?? [0, 1] }
        : { kind: 'fixed', by: f.by }
      : via
        ? { kind: 'fixed', by: fixed.get(via)!.by, via }
        : src
          ? { kind: 'converted', from: src }
          : { kind: 'calibrated', method: method(name) };
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
    });
  };
  const paramsOf = (name: string): QuantParams => {
    const t = tensors.get(name);
    if (!t?.scale) throw new Error(`plan: tensor '${name}' has no integer parameters`);
    return { scale: t.scale[0], zeroPoint: t.zeroPoint![0] };
  };

  for (const name of graph.inputs) addActivation(name, info(name).shape);

  // 4. Steps in graph order: conversions before their first reader, requantizations, the op itself.
  const requantizeFor = new Map<string, Map<number, QuantParams>>();
  for (const r of solved?.requantize ?? []) {
    let m = requantizeFor.get(r.consumer);
    if (!m) requantizeFor.set(r.consumer, (m = new Map()));
    m.set(r.inputIndex, r.params);
  }
  const perChannelFor = options.perChannelFor ?? (() => true);
  for (let k = 0; k < rewritten.length; k++) {
    const node = rewritten[k];
    const p = precision.get(node.name)!;
    for (const c of pendingBefore.get(node.name)!) {
      addActivation(c.to, info(c.from).shape);
      steps.push(c);
    }
    const inputs = [...node.inputs];
    const rq = requantizeFor.get(node.name);
    if (rq) {
      for (const [i, params] of rq) {
        const src = inputs[i];
        const name = `${src}/requantized_for_${node.name}`;
        const d = dtype.get(src) as 'int8' | 'int16';
        tensors.set(name, {
          name,
          dtype: d,
          role: 'activation',
          shape: info(convertedFrom.get(src) ?? src).shape,
          scale: [params.scale],
          zeroPoint: [params.zeroPoint],
          origin: { kind: 'requantized', from: src, for: node.name },
        });
        steps.push({ kind: 'convert', op: 'QUANTIZE', from: src, to: name, reason: 'requantize' });
        inputs[i] = name;
      }
    }
    // Constant operands in the precision of their reader (shared-rule ops: in the group's parameters).
    const q = options.quantOf(node);
    for (const [i, t] of inputs.entries()) {
      if (!isConstantName(graph, t) || q.weighted) continue;
      const data = floatData(info(t));
      const d = DTYPE_OF_PRECISION[p];
      const qd = quantDType(d);
      // One tensor per constant and dtype; a shared-rule op's constant is in that op's group parameters.
      const key = q.rule.output === 'shared' && qd ? `${t}@${node.name}` : `${t}@${d}`;
      if (tensors.has(key)) {
        inputs[i] = key;
        continue;
      }
      if (!qd) {
        tensors.set(key, { name: t, dtype: 'float32', role: 'constant', shape: info(t).shape, origin: { kind: 'float' }, data });
      } else {
        const shared = q.rule.output === 'shared' ? solved!.params.get(t) : undefined;
        const [lo, hi] = minMax(data);
        const params = shared ?? chooseParamsFor(qd, lo, hi);
        tensors.set(key, {
          name: t,
          dtype: qd,
          role: 'constant',
          shape: info(t).shape,
          scale: [params.scale],
          zeroPoint: [params.zeroPoint],
          range: [lo, hi],
          group: shared ? solved!.group.get(t) : undefined,
          origin: { kind: 'constant' },
          data: quantizeArray(data, params, qd),
        });
      }
      inputs[i] = key;
    }
    for (const o of node.outputs) addActivation(o, info(o).shape);
    const step: PlannedOp = { kind: 'op', node: node.name, op: node.op, precision: p, inputs, outputs: [...node.outputs] };
    if (q.weighted) Object.assign(step, planWeights(graph, graph.nodes[k], node, q, p, perChannelFor(graph.nodes[k]), inputs, tensors, paramsOf));
    steps.push(step);
    opSteps.set(node.name, step);
  }

  // 5. The model's I/O: boundary conversions to the requested types.
  const fileNames: Record<string, string> = {};
  const modelInputs: string[] = [];
  const inputType = options.inputType ?? (float ? 'float32' : 'int8');
  const inputSteps: PlanStep[] = [];
  for (const name of graph.inputs) {
    const d = tensors.get(name)!.dtype;
    if (inputType === d || float) {
      modelInputs.push(name);
      continue;
    }
    const ext = `${name}@input`;
    fileNames[name] = `${name}/${d}`;
    fileNames[ext] = name;
    tensors.set(ext, ioTensor(ext, inputType, tensors.get(name)!));
    inputSteps.push({ kind: 'convert', op: 'QUANTIZE', from: ext, to: name, reason: 'model-input' });
    modelInputs.push(ext);
  }
  const modelOutputs: string[] = [];
  const outputSteps: PlanStep[] = [];
  const extra = (options.extraOutputs ?? []).filter((t) => !graph.outputs.includes(t));
  for (const name of [...graph.outputs, ...extra]) {
    const own = tensors.get(name);
    if (!own) throw new Error(`plan: output '${name}' is not produced by the graph`);
    const want: PlanDType = graph.outputs.includes(name) && !float ? options.outputType ?? own.dtype : own.dtype;
    if (want === own.dtype) {
      modelOutputs.push(name);
      continue;
    }
    const ext = `${name}@output`;
    fileNames[name] = `${name}/${own.dtype}`;
    fileNames[ext] = name;
    tensors.set(ext, ioTensor(ext, want as IoType, own, ranges.get(name)));
    outputSteps.push({ kind: 'convert', op: want === 'float32' ? 'DEQUANTIZE' : 'QUANTIZE', from: name, to: ext, reason: 'model-output' });
    modelOutputs.push(ext);
  }
  return { version: 1, mode: float ? 'float' : 'quantized', inputs: modelInputs, outputs: modelOutputs, fileNames, tensors, steps: [...inputSteps, ...steps, ...outputSteps], notes };
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
    const s = minWeightScalesForBias(floatBias, inScale, perChannelSymmetricScales(layout.data, layout.shape, layout.axis));
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
  tensors.set(bKey, biasTensor(bName, floatBias, inScale, scales, precision === 'int16' ? 'int64' : 'int32', input, wKey));
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
  corrected?: boolean,
): PlannedTensor {
  const scales = weightScales.map((w) => Math.fround(inputScale * w));
  const perChannel = new Set(weightScales).size > 1 || weightScales.length === 1;
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
  tensors: (Omit<PlannedTensor, 'data' | 'floatData'> & { key: string })[];
  steps: PlanStep[];
  notes: string[];
} {
  const tensors = [...plan.tensors].map(([key, t]) => {
    const { data: _d, floatData: _f, ...rest } = t;
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
      return `calibrated (${o.method})`;
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
      return `symmetric weights, ${o.perChannel ? 'per channel' : 'per tensor'}`;
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

