// Writes a quantization plan as a TFLite model. Nothing is decided here: every tensor's dtype and
// parameters, every op's precision and every conversion come from the plan; the op registry's emit
// functions say only which TFLite ops a node becomes. Tensors are created when first used, so the
// file's tensor order follows the ops.
import type { Graph, IrNode, IrTensor } from '../ir/graph.js';
import { elementCount } from '../ir/graph.js';
import { TfliteBuilder, type TensorData } from '../tflite/builder.js';
import type { BuiltinOptions, DTypeName, TfliteModel } from '../tflite/model.js';
import type { BuiltinOperatorName } from '../tflite/op-versions.js';
import { ACTIVATION_LIMITS, fixedOutputParams, quantizeValue, type QuantParams } from '../int8/arithmetic.js';
import type { ActivationRange } from './params.js';
import type { PlannedOp, PlannedTensor, QuantPlan } from './plan.js';
import type { EmitContext, OpQuant } from '../ops/types.js';

export interface EmitOptions {
  quantOf: (node: IrNode) => OpQuant;
  /** Extra metadata entries (name -> bytes), e.g. the YOLO head spec. */
  metadata?: Record<string, Uint8Array>;
  description?: string;
}

export function emitPlan(graph: Graph, plan: QuantPlan, options: EmitOptions): TfliteModel {
  const b = new TfliteBuilder();
  const nodeByName = new Map(graph.nodes.map((n) => [n.name, n]));
  const index = new Map<string, number>();
  const usedLabels = new Set<string>();
  const unique = (label: string) => {
    let l = label;
    for (let i = 1; usedLabels.has(l); i++) l = `${label}_${i}`;
    usedLabels.add(l);
    return l;
  };
  const planned = (key: string): PlannedTensor => {
    const t = plan.tensors.get(key);
    if (!t) throw new Error(`emit: the plan has no tensor '${key}'`);
    return t;
  };
  const quantization = (t: PlannedTensor) =>
    t.scale ? { scale: t.scale, zeroPoint: t.zeroPoint!, ...(t.axis !== undefined ? { quantizedDimension: t.axis } : {}) } : undefined;
  const tensor = (key: string): number => {
    let idx = index.get(key);
    if (idx === undefined) {
      const t = planned(key);
      idx = b.addTensor({
        name: unique(plan.fileNames[key] ?? t.name),
        shape: t.shape,
        type: t.dtype as DTypeName,
        ...(t.data ? { data: t.data as TensorData } : {}),
        ...(quantization(t) ? { quantization: quantization(t) } : {}),
      });
      index.set(key, idx);
    }
    return idx;
  };
  const info = (key: string): IrTensor => {
    const g = graph.tensors.get(key);
    if (g) return g;
    const t = planned(key);
    // Plan-only tensors (converted copies, requantized inputs, per-dtype constants) answer with their
    // shape; constants also with their graph data, so emit functions can tell them from activations.
    return t.role === 'constant' ? graph.tensors.get(t.name)! : { name: key, shape: t.shape, dtype: 'float32' };
  };

  let step!: PlannedOp;
  let current: IrNode;
  const paramsOf = (key: string): QuantParams => {
    const t = planned(key);
    // A float op's writer may still ask (to pass parameters along to internal tensors it creates in float).
    if (!t.scale && step !== undefined && step.precision === 'float') return { scale: 1, zeroPoint: 0 };
    if (!t.scale) throw new Error(`emit: tensor '${key}' is ${t.dtype}; it has no integer parameters`);
    return { scale: t.scale[0], zeroPoint: t.zeroPoint![0] };
  };
  const currentDType = () => (step.precision === 'float' ? 'float32' : step.precision);
  const ctx: EmitContext = {
    get node() {
      return current;
    },
    get precision() {
      return step.precision;
    },
    tensorInfo: info,
    params: paramsOf,
    activation: tensor,
    constantOperand: tensor,
    int32Constant(label, values, shape) {
      const data = values instanceof Int32Array ? values : Int32Array.from(values);
      return b.addTensor({ name: unique(label), shape: shape ?? [data.length], type: 'int32', data });
    },
    scalarLike(label, value, like) {
      const t = planned(like);
      if (t.dtype === 'float32') return b.addTensor({ name: unique(label), shape: [], type: 'float32', data: Float32Array.of(value) });
      const p = paramsOf(like);
      const d = t.dtype as 'int8' | 'int16';
      const { qmin, qmax } = ACTIVATION_LIMITS[d];
      const q = quantizeValue(value, p.scale, p.zeroPoint, qmin, qmax);
      return b.addTensor({
        name: unique(label),
        shape: [],
        type: d,
        data: d === 'int16' ? Int16Array.of(q) : Int8Array.of(q),
        quantization: { scale: [p.scale], zeroPoint: [p.zeroPoint] },
      });
    },
    weights() {
      if (!step.weights) throw new Error(`emit: node '${step.node}' has no planned weights`);
      return tensor(step.weights);
    },
    bias() {
      if (!step.bias) throw new Error(`emit: node '${step.node}' has no planned bias`);
      return tensor(step.bias);
    },
    fixedParams(op) {
      // Float ops do not use parameters; the int8 ones stand in so shapes of calls stay the same.
      return fixedOutputParams(op, step.precision === 'int16' ? 'int16' : 'int8');
    },
    internal(label, shape, p) {
      const d = currentDType();
      if (d === 'float32') return b.addTensor({ name: unique(label), shape, type: 'float32' });
      return b.addTensor({ name: unique(label), shape, type: d, quantization: { scale: [p.scale], zeroPoint: [p.zeroPoint] } });
    },
    op(name, inputs, outputs, opts) {
      b.addOperator(name as BuiltinOperatorName, inputs, outputs, opts as BuiltinOptions | undefined);
    },
  };

  // The graph-side input tensors come first in the file (then their I/O twins, if any).
  for (const name of graph.inputs) tensor(name);
  for (const s of plan.steps) {
    if (s.kind === 'convert') {
      // The inner (graph-side) tensor first, as for every op's input.
      const [first, second] = s.reason === 'model-input' ? [s.to, s.from] : [s.from, s.to];
      tensor(first);
      tensor(second);
      b.addOperator(s.op, [tensor(s.from)], [tensor(s.to)]);
      continue;
    }
    step = s;
    const node = nodeByName.get(s.node);
    if (!node) throw new Error(`emit: the plan names node '${s.node}', which the graph does not have`);
    current = { ...node, inputs: s.inputs };
    try {
      options.quantOf(node).emit(ctx);
    } catch (e) {
      throw new Error(`quantize: cannot write node '${node.name}' (${node.op}, ${s.precision}): ${(e as Error).message}`);
    }
  }
  b.setInputs(plan.inputs.map(tensor));
  b.setOutputs(plan.outputs.map(tensor));
  const model = b.build();
  if (options.description !== undefined) model.description = options.description;
  for (const [name, bytes] of Object.entries(options.metadata ?? {})) {
    model.buffers.push({ data: bytes });
    model.metadata.push({ name, buffer: model.buffers.length - 1 });
  }
  return model;
}

export interface TensorQuantReport {
  tensor: string;
  dtype: string;
  min: number;
  max: number;
  scale: number;
  zeroPoint: number;
  group: number;
}

/** Per graph activation: its calibrated range and the parameters the plan gives it (sorted by name). */
export function tensorQuantReport(graph: Graph, plan: QuantPlan, ranges: Map<string, ActivationRange>): TensorQuantReport[] {
  const out: TensorQuantReport[] = [];
  for (const t of [...plan.tensors.values()].sort((a, c) => (a.name < c.name ? -1 : a.name > c.name ? 1 : 0))) {
    if (t.role !== 'activation' || !t.scale || !graph.tensors.has(t.name) || plan.tensors.get(t.name) !== t) continue;
    if (elementCount(t.shape) === 0) continue;
    const r = ranges.get(t.name);
    const { qmin, qmax } = ACTIVATION_LIMITS[t.dtype as 'int8' | 'int16'];
    out.push({
      tensor: t.name,
      dtype: t.dtype,
      min: r?.min ?? (qmin - t.zeroPoint![0]) * t.scale[0],
      max: r?.max ?? (qmax - t.zeroPoint![0]) * t.scale[0],
      scale: t.scale[0],
      zeroPoint: t.zeroPoint![0],
      group: t.group ?? 0,
    });
  }
  return out;
}
