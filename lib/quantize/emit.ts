// Writes a quantization plan as a TFLite model. Nothing is decided here: every tensor's dtype and
// parameters, every op's precision and every conversion come from the plan; the op registry's emit
// functions say only which TFLite ops a node becomes. Tensors are created when first used, so the
// file's tensor order follows the ops.
import type { Graph, IrNode, IrTensor } from '../ir/graph.js';
import { elementCount } from '../ir/graph.js';
import { TfliteBuilder, type TensorData } from '../tflite/builder.js';
import type { BuiltinOptions, DTypeName, TfliteModel } from '../tflite/model.js';
import type { BuiltinOperatorName } from '../tflite/operators.js';
import { ACTIVATION_LIMITS, chooseParamsFor, fixedOutputParams, quantizeValue, type QuantParams } from '../int8/arithmetic.js';
import type { ActivationRange } from './params.js';
import type { PlannedConversion, PlannedOp, PlannedTensor, QuantPlan } from './plan.js';
import type { EmitContext, OpQuant } from '../ops/types.js';

export interface EmitOptions {
  quantOf: (node: IrNode) => OpQuant;
  /** Extra metadata entries (name -> bytes), e.g. the YOLO head spec. */
  metadata?: Record<string, Uint8Array>;
  description?: string;
}

export function emitPlan(graph: Graph, plan: QuantPlan, options: EmitOptions): TfliteModel {
  const emitter = new PlanEmitter(graph, plan);
  // The graph-side input tensors come first in the file (then their I/O twins, if any).
  for (const name of graph.inputs) emitter.tensor(name);
  for (const s of plan.steps) {
    if (s.kind === 'convert') emitter.conversion(s);
    else emitter.op(s, options.quantOf);
  }
  const b = emitter.builder;
  b.setInputs(plan.inputs.map((k) => emitter.tensor(k)));
  b.setOutputs(plan.outputs.map((k) => emitter.tensor(k)));
  const model = b.build();
  if (options.description !== undefined) model.description = options.description;
  for (const [name, bytes] of Object.entries(options.metadata ?? {})) {
    model.buffers.push({ data: bytes });
    model.metadata.push({ name, buffer: model.buffers.length - 1 });
  }
  return model;
}

/** The TFLite builder, the file tensor of every plan key (created on first use) and the op being written. */
class PlanEmitter {
  readonly builder = new TfliteBuilder();
  private index = new Map<string, number>();
  private usedLabels = new Set<string>();
  private nodeByName: Map<string, IrNode>;
  /** The op step being written, and its node with the plan's (converted) inputs. */
  private step?: PlannedOp;
  private current?: IrNode;
  private ctx: EmitContext;

  constructor(
    private graph: Graph,
    private plan: QuantPlan,
  ) {
    this.nodeByName = new Map(graph.nodes.map((n) => [n.name, n]));
    this.ctx = this.emitContext();
  }

  /** A file-unique tensor name: the label, or the label with _1, _2 ... */
  unique(label: string): string {
    let l = label;
    for (let i = 1; this.usedLabels.has(l); i++) l = `${label}_${i}`;
    this.usedLabels.add(l);
    return l;
  }

  planned(key: string): PlannedTensor {
    const t = this.plan.tensors.get(key);
    if (!t) throw new Error(`emit: the plan has no tensor '${key}'`);
    return t;
  }

  /** The file tensor of a plan key, added on first use. */
  tensor(key: string): number {
    let idx = this.index.get(key);
    if (idx === undefined) {
      const t = this.planned(key);
      const quantization = t.scale ? { scale: t.scale, zeroPoint: t.zeroPoint!, ...(t.axis !== undefined ? { quantizedDimension: t.axis } : {}) } : undefined;
      idx = this.builder.addTensor({
        name: this.unique(this.plan.fileNames[key] ?? t.name),
        shape: t.shape,
        type: t.dtype as DTypeName,
        ...(t.data ? { data: t.data as TensorData } : {}),
        ...(quantization ? { quantization } : {}),
      });
      this.index.set(key, idx);
    }
    return idx;
  }

  info(key: string): IrTensor {
    const g = this.graph.tensors.get(key);
    if (g) return g;
    const t = this.planned(key);
    // Plan-only tensors (converted copies, requantized inputs, per-dtype constants) answer with their
    // shape; constants also with their graph data, so emit functions can tell them from activations.
    return t.role === 'constant' ? this.graph.tensors.get(t.name)! : { name: key, shape: t.shape, dtype: 'float32' };
  }

  paramsOf(key: string): QuantParams {
    const t = this.planned(key);
    // A float op's writer may still ask (to pass parameters along to internal tensors it creates in float).
    if (!t.scale && this.step !== undefined && this.step.precision === 'float') return { scale: 1, zeroPoint: 0 };
    if (!t.scale) throw new Error(`emit: tensor '${key}' is ${t.dtype}; it has no integer parameters`);
    return { scale: t.scale[0], zeroPoint: t.zeroPoint![0] };
  }

  /** A QUANTIZE / DEQUANTIZE step; the inner (graph-side) tensor is created first, as for every op's input. */
  conversion(s: PlannedConversion): void {
    const [first, second] = s.reason === 'model-input' ? [s.to, s.from] : [s.from, s.to];
    this.tensor(first);
    this.tensor(second);
    this.builder.addOperator(s.op, [this.tensor(s.from)], [this.tensor(s.to)]);
  }

  /** An op step, written by its op's emit function (the op registry) through the emit context. */
  op(s: PlannedOp, quantOf: (node: IrNode) => OpQuant): void {
    this.step = s;
    const node = this.nodeByName.get(s.node);
    if (!node) throw new Error(`emit: the plan names node '${s.node}', which the graph does not have`);
    this.current = { ...node, inputs: s.inputs };
    try {
      quantOf(node).emit(this.ctx);
    } catch (e) {
      throw new Error(`quantize: cannot write node '${node.name}' (${node.op}, ${s.precision}): ${(e as Error).message}`);
    }
  }

  /** What an op's emit function sees of the file being written (ops/types.ts EmitContext). */
  private emitContext(): EmitContext {
    const b = this.builder;
    const step = () => this.step!;
    const current = () => this.current!;
    const tensor = (key: string) => this.tensor(key);
    return {
      get node() {
        return current();
      },
      get precision() {
        return step().precision;
      },
      tensorInfo: (key) => this.info(key),
      params: (key) => this.paramsOf(key),
      activation: tensor,
      constantOperand: tensor,
      int32Constant: (label, values, shape) => {
        const data = values instanceof Int32Array ? values : Int32Array.from(values);
        return b.addTensor({ name: this.unique(label), shape: shape ?? [data.length], type: 'int32', data });
      },
      scalarLike: (label, value, like) => this.scalarLike(label, value, like),
      scalarConstant: (label, value) => this.scalarConstant(label, value),
      extremes: (key) => this.extremesOf(key),
      weights: () => {
        if (!step().weights) throw new Error(`emit: node '${step().node}' has no planned weights`);
        return tensor(step().weights!);
      },
      bias: () => {
        if (!step().bias) throw new Error(`emit: node '${step().node}' has no planned bias`);
        return tensor(step().bias!);
      },
      // Float ops do not use parameters; the int8 ones stand in so shapes of calls stay the same.
      fixedParams: (op) => fixedOutputParams(op, step().precision === 'int16' ? 'int16' : 'int8'),
      internal: (label, shape, p) => {
        const precision = step().precision;
        const d = precision === 'float' ? 'float32' : precision;
        if (d === 'float32') return b.addTensor({ name: this.unique(label), shape, type: 'float32' });
        return b.addTensor({ name: this.unique(label), shape, type: d, quantization: { scale: [p.scale], zeroPoint: [p.zeroPoint] } });
      },
      op: (name, inputs, outputs, opts) => {
        b.addOperator(name as BuiltinOperatorName, inputs, outputs, opts as BuiltinOptions | undefined);
      },
    };
  }

  /** A scalar constant in the current node's precision with its own parameters (float32 in float). */
  private scalarConstant(label: string, value: number): number {
    const precision = this.step!.precision;
    if (precision === 'float') return this.scalarTensor(label, value, 'float32');
    return this.scalarTensor(label, value, precision, chooseParamsFor(precision, Math.min(0, value), Math.max(0, value)));
  }

  /** A scalar constant in the dtype and parameters of tensor `like` (float32 when it is float). */
  private scalarLike(label: string, value: number, like: string): number {
    const t = this.planned(like);
    if (t.dtype === 'float32') return this.scalarTensor(label, value, 'float32');
    return this.scalarTensor(label, value, t.dtype as 'int8' | 'int16', this.paramsOf(like));
  }

  /** A scalar tensor holding `value`: float32 as it is, int8 / int16 quantized (saturating) with `p`. */
  private scalarTensor(label: string, value: number, d: 'float32' | 'int8' | 'int16', p?: QuantParams): number {
    const name = this.unique(label);
    if (d === 'float32' || !p) return this.builder.addTensor({ name, shape: [], type: 'float32', data: Float32Array.of(value) });
    const { qmin, qmax } = ACTIVATION_LIMITS[d];
    const q = quantizeValue(value, p.scale, p.zeroPoint, qmin, qmax);
    const data = d === 'int16' ? Int16Array.of(q) : Int8Array.of(q);
    return this.builder.addTensor({ name, shape: [], type: d, data, quantization: { scale: [p.scale], zeroPoint: [p.zeroPoint] } });
  }

  /** The observed extremes behind a planned tensor; a converted or requantized copy answers with its source's. */
  private extremesOf(key: string): { min: number; max: number } | undefined {
    for (let t: PlannedTensor | undefined = this.planned(key), hops = 0; t && hops < 4; hops++) {
      if (t.extremes) return { min: t.extremes[0], max: t.extremes[1] };
      const o: PlannedTensor['origin'] = t.origin;
      t = o.kind === 'converted' || o.kind === 'requantized' ? this.plan.tensors.get(o.from) : undefined;
    }
    return undefined;
  }
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
