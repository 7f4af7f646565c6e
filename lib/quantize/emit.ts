// Writes a quantization plan as a TFLite model. Nothing is decided here: every tensor's dtype and
// parameters, every op's precision and every conversion come from the plan; the op registry's emit
// functions say only which TFLite ops a node becomes. Tensors are created when first used, so the
// file's tensor order follows the ops.
import type { Graph, IrNode, IrTensor } from '../ir/graph.js';
import { elementCount } from '../ir/graph.js';
import { TfliteBuilder, type TensorData } from '../tflite/builder.js';
import type { BuiltinOptions, DTypeName, TfliteModel } from '../tflite/model.js';
import type { BuiltinOperatorName } from '../tflite/operators.js';
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

/** The file being written: planned tensors become file tensors on first use, with unique names. */
class PlanWriter {
  readonly b = new TfliteBuilder();
  private readonly index = new Map<string, number>();
  private readonly usedLabels = new Set<string>();
  /** The op step being written (its precision decides internal tensors' dtype). */
  step: PlannedOp | undefined;
  /** The node being written, with the plan's inputs. */
  node!: IrNode;

  constructor(readonly graph: Graph, readonly plan: QuantPlan) {}

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

  /** The file index of a planned tensor, added (with its data and parameters) on first use. */
  tensor(key: string): number {
    let idx = this.index.get(key);
    if (idx === undefined) {
      const t = this.planned(key);
      const quantization = t.scale ? { scale: t.scale, zeroPoint: t.zeroPoint!, ...(t.axis !== undefined ? { quantizedDimension: t.axis } : {}) } : undefined;
      idx = this.b.addTensor({
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

  params(key: string): QuantParams {
    const t = this.planned(key);
    // A float op's writer may still ask (to pass parameters along to internal tensors it creates in float).
    if (!t.scale && this.step?.precision === 'float') return { scale: 1, zeroPoint: 0 };
    if (!t.scale) throw new Error(`emit: tensor '${key}' is ${t.dtype}; it has no integer parameters`);
    return { scale: t.scale[0], zeroPoint: t.zeroPoint![0] };
  }

  /** A scalar constant in the dtype and parameters of tensor `like` (float, or quantized with saturation). */
  scalarLike(label: string, value: number, like: string): number {
    const t = this.planned(like);
    if (t.dtype === 'float32') return this.b.addTensor({ name: this.unique(label), shape: [], type: 'float32', data: Float32Array.of(value) });
    const p = this.params(like);
    const d = t.dtype as 'int8' | 'int16';
    const { qmin, qmax } = ACTIVATION_LIMITS[d];
    const q = quantizeValue(value, p.scale, p.zeroPoint, qmin, qmax);
    return this.b.addTensor({
      name: this.unique(label),
      shape: [],
      type: d,
      data: d === 'int16' ? Int16Array.of(q) : Int8Array.of(q),
      quantization: { scale: [p.scale], zeroPoint: [p.zeroPoint] },
    });
  }

  /** The step's planned weights or bias tensor. */
  operand(kind: 'weights' | 'bias'): number {
    const key = this.step![kind];
    if (!key) throw new Error(`emit: node '${this.step!.node}' has no planned ${kind}`);
    return this.tensor(key);
  }

  /** A tensor an op's writer creates inside the op (in the step's dtype). */
  internal(label: string, shape: number[], p: QuantParams): number {
    const precision = this.step!.precision;
    if (precision === 'float') return this.b.addTensor({ name: this.unique(label), shape, type: 'float32' });
    return this.b.addTensor({ name: this.unique(label), shape, type: precision, quantization: { scale: [p.scale], zeroPoint: [p.zeroPoint] } });
  }
}

/** What an op's emit function sees of the writer. */
function emitContext(w: PlanWriter): EmitContext {
  return {
    get node() {
      return w.node;
    },
    get precision() {
      return w.step!.precision;
    },
    tensorInfo: (key) => w.info(key),
    params: (key) => w.params(key),
    activation: (key) => w.tensor(key),
    constantOperand: (key) => w.tensor(key),
    int32Constant(label, values, shape) {
      const data = values instanceof Int32Array ? values : Int32Array.from(values);
      return w.b.addTensor({ name: w.unique(label), shape: shape ?? [data.length], type: 'int32', data });
    },
    scalarLike: (label, value, like) => w.scalarLike(label, value, like),
    weights: () => w.operand('weights'),
    bias: () => w.operand('bias'),
    // Float ops do not use parameters; the int8 ones stand in so shapes of calls stay the same.
    fixedParams: (op) => fixedOutputParams(op, w.step!.precision === 'int16' ? 'int16' : 'int8'),
    internal: (label, shape, p) => w.internal(label, shape, p),
    op(name, inputs, outputs, opts) {
      w.b.addOperator(name as BuiltinOperatorName, inputs, outputs, opts as BuiltinOptions | undefined);
    },
  };
}

/** Writes every plan step in order: conversions directly, ops through their registry emit. */
function writeSteps(w: PlanWriter, quantOf: (node: IrNode) => OpQuant): void {
  const nodeByName = new Map(w.graph.nodes.map((n) => [n.name, n]));
  const ctx = emitContext(w);
  // The graph-side input tensors come first in the file (then their I/O twins, if any).
  for (const name of w.graph.inputs) w.tensor(name);
  for (const s of w.plan.steps) {
    if (s.kind === 'convert') {
      // The inner (graph-side) tensor first, as for every op's input.
      const [first, second] = s.reason === 'model-input' ? [s.to, s.from] : [s.from, s.to];
      w.tensor(first);
      w.tensor(second);
      w.b.addOperator(s.op, [w.tensor(s.from)], [w.tensor(s.to)]);
      continue;
    }
    w.step = s;
    const node = nodeByName.get(s.node);
    if (!node) throw new Error(`emit: the plan names node '${s.node}', which the graph does not have`);
    w.node = { ...node, inputs: s.inputs };
    try {
      quantOf(node).emit(ctx);
    } catch (e) {
      throw new Error(`quantize: cannot write node '${node.name}' (${node.op}, ${s.precision}): ${(e as Error).message}`);
    }
  }
}

export function emitPlan(graph: Graph, plan: QuantPlan, options: EmitOptions): TfliteModel {
  const w = new PlanWriter(graph, plan);
  writeSteps(w, options.quantOf);
  w.b.setInputs(plan.inputs.map((k) => w.tensor(k)));
  w.b.setOutputs(plan.outputs.map((k) => w.tensor(k)));
  const model = w.b.build();
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
