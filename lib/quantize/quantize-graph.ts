// Graph (float IR) + activation ranges -> full-integer int8 TFLite model.
import type { Graph, IrNode, IrTensor } from '../graph/ir.js';
import { elementCount } from '../graph/ir.js';
import { TfliteBuilder } from '../tflite/builder.js';
import type { BuiltinOptions, TfliteModel } from '../tflite/model.js';
import type { BuiltinOperatorName } from '../tflite/op-versions.js';
import {
  chooseActivationParams,
  perChannelSymmetricScales,
  perTensorSymmetricScale,
  quantizeBias,
  quantizeValue,
  quantizeWeightsPerChannel,
} from './math.js';
import { assignActivationParams, type ActivationRange, type QParams } from './params.js';
import type { EmitContext, OpQuant, QuantRule } from './rules.js';

export type IoType = 'int8' | 'uint8' | 'float32';

export interface QuantizeGraphOptions {
  /** 'int8' (default) writes the full-integer model; 'float32' writes the same graph in float (a reference). */
  mode?: 'int8' | 'float32';
  /** Per-channel weights (default true); per-tensor when false. */
  perChannel: boolean | ((node: IrNode) => boolean);
  inputType: IoType;
  outputType: IoType;
  /** Also expose these intermediate activations as model outputs (layer-by-layer error analysis). */
  extraOutputs?: string[];
  /** Fixed parameters for graph inputs (e.g. pixel/255 input: scale 1/255, zero point -128). */
  inputParams?: Map<string, QParams>;
  /** The per-op quantization entry (from the op registry). */
  quantOf: (node: IrNode) => OpQuant;
  /** Extra metadata entries (name -> bytes), e.g. the YOLO head spec. */
  metadata?: Record<string, Uint8Array>;
  description?: string;
}

export interface TensorQuantReport {
  tensor: string;
  min: number;
  max: number;
  scale: number;
  zeroPoint: number;
  group: number;
}

export interface QuantizeGraphResult {
  model: TfliteModel;
  tensors: TensorQuantReport[];
  notes: string[];
}

const INT8_RANGE = { qmin: -128, qmax: 127 };

export function quantizeGraph(sourceGraph: Graph, ranges: Map<string, ActivationRange>, options: QuantizeGraphOptions): QuantizeGraphResult {
  // Requantization adds tensors: work on a copy so the caller's graph is untouched.
  const graph: Graph = { ...sourceGraph, tensors: new Map(sourceGraph.tensors) };
  const ruleOf = (n: IrNode): QuantRule => options.quantOf(n).rule;
  const float = options.mode === 'float32';
  const assignment = float
    ? { params: new Map<string, QParams>(), requantize: [], group: new Map<string, number>(), notes: [] }
    : assignActivationParams(graph, ranges, { ruleOf, fixed: options.inputParams });
  const params = assignment.params;
  const b = new TfliteBuilder();
  const notes = [...assignment.notes];
  const tensorIndex = new Map<string, number>();
  const usedLabels = new Set<string>();
  const unique = (label: string) => {
    let l = label;
    for (let i = 1; usedLabels.has(l); i++) l = `${label}_${i}`;
    usedLabels.add(l);
    return l;
  };
  const info = (name: string): IrTensor => {
    const t = graph.tensors.get(name);
    if (!t) throw new Error(`quantize: unknown tensor '${name}'`);
    return t;
  };
  const qp = (name: string): QParams => {
    if (float) return { scale: 1, zeroPoint: 0 }; // unused by float writers (no bias scale, no requantization)
    const p = params.get(name);
    if (!p) throw new Error(`quantize: tensor '${name}' has no int8 parameters (no calibrated range?)`);
    return p;
  };
  // With uint8/float32 model I/O the boundary tensors keep the graph's names (decoders find outputs
  // by name) and the int8 tensors behind the QUANTIZE/DEQUANTIZE ops get a suffix.
  const renamed = new Map<string, string>();
  if (!float && options.inputType !== 'int8') for (const n of graph.inputs) renamed.set(n, `${n}/int8`);
  if (!float && options.outputType !== 'int8') for (const n of graph.outputs) renamed.set(n, `${n}/int8`);
  const activation = (name: string): number => {
    let idx = tensorIndex.get(name);
    if (idx === undefined) {
      const t = info(name);
      const tensorName = renamed.get(name) ?? name;
      if (float) {
        idx = b.addTensor({ name: unique(tensorName), shape: t.shape, type: 'float32' });
      } else {
        const p = qp(name);
        idx = b.addTensor({
          name: unique(tensorName),
          shape: t.shape,
          type: 'int8',
          quantization: { scale: [p.scale], zeroPoint: [p.zeroPoint] },
        });
      }
      tensorIndex.set(name, idx);
    }
    return idx;
  };
  const perChannelFor = (n: IrNode) =>
    typeof options.perChannel === 'function' ? options.perChannel(n) : options.perChannel;

  let current: IrNode;
  const ctx: EmitContext = {
    get node() {
      return current;
    },
    tensorInfo: info,
    params: qp,
    activation,
    constantOperand(name) {
      const existing = tensorIndex.get(name);
      if (existing !== undefined) return existing;
      const t = info(name);
      const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
      if (float) {
        const idx = b.addTensor({ name: unique(name), shape: t.shape, type: 'float32', data });
        tensorIndex.set(name, idx);
        return idx;
      }
      let min = Infinity;
      let max = -Infinity;
      for (let i = 0; i < data.length; i++) {
        if (data[i] < min) min = data[i];
        if (data[i] > max) max = data[i];
      }
      const p = chooseActivationParams(min, max, INT8_RANGE);
      const q = new Int8Array(data.length);
      for (let i = 0; i < data.length; i++) q[i] = quantizeValue(data[i], p.scale, p.zeroPoint);
      const idx = b.addTensor({
        name: unique(name),
        shape: t.shape,
        type: 'int8',
        data: q,
        quantization: { scale: [p.scale], zeroPoint: [p.zeroPoint] },
      });
      tensorIndex.set(name, idx);
      return idx;
    },
    int32Constant(label, values, shape) {
      const data = values instanceof Int32Array ? values : Int32Array.from(values);
      return b.addTensor({ name: unique(label), shape: shape ?? [data.length], type: 'int32', data });
    },
    scalarLike(label, value, like) {
      if (float) return b.addTensor({ name: unique(label), shape: [], type: 'float32', data: Float32Array.of(value) });
      const p = qp(like);
      return b.addTensor({
        name: unique(label),
        shape: [],
        type: 'int8',
        data: Int8Array.of(quantizeValue(value, p.scale, p.zeroPoint)),
        quantization: { scale: [p.scale], zeroPoint: [p.zeroPoint] },
      });
    },
    weights(label, data, shape, axis) {
      if (float) {
        const index = b.addTensor({ name: unique(label), shape, type: 'float32', data });
        return { index, scales: new Array(shape[axis]).fill(1) };
      }
      if (perChannelFor(current)) {
        const scales = perChannelSymmetricScales(data, shape, axis);
        const q = quantizeWeightsPerChannel(data, shape, axis, scales);
        const s = Array.from(scales);
        const index = b.addTensor({
          name: unique(label),
          shape,
          type: 'int8',
          data: q,
          quantization: { scale: s, zeroPoint: s.map(() => 0), quantizedDimension: axis },
        });
        return { index, scales: s };
      }
      const scale = perTensorSymmetricScale(data);
      const channels = shape[axis];
      const q = quantizeWeightsPerChannel(data, shape, axis, new Float32Array(channels).fill(scale));
      const index = b.addTensor({
        name: unique(label),
        shape,
        type: 'int8',
        data: q,
        quantization: { scale: [scale], zeroPoint: [0] },
      });
      return { index, scales: new Array(channels).fill(scale) };
    },
    bias(label, data, channels, inputScale, weightScales) {
      const bias = data ?? new Float32Array(channels);
      if (float) return b.addTensor({ name: unique(label), shape: [channels], type: 'float32', data: bias });
      const q = quantizeBias(bias, inputScale, weightScales);
      const scales = weightScales.map((w) => Math.fround(inputScale * w));
      const perChannel = new Set(weightScales).size > 1 || weightScales.length === 1;
      return b.addTensor({
        name: unique(label),
        shape: [channels],
        type: 'int32',
        data: q,
        quantization: perChannel
          ? { scale: scales, zeroPoint: scales.map(() => 0), quantizedDimension: 0 }
          : { scale: [scales[0]], zeroPoint: [0] },
      });
    },
    internal(label, shape, p) {
      if (float) return b.addTensor({ name: unique(label), shape, type: 'float32' });
      return b.addTensor({ name: unique(label), shape, type: 'int8', quantization: { scale: [p.scale], zeroPoint: [p.zeroPoint] } });
    },
    op(name, inputs, outputs, opts) {
      b.addOperator(name as BuiltinOperatorName, inputs, outputs, opts as BuiltinOptions | undefined);
    },
  };

  /**
   * A model input or output in the requested I/O type: the int8 tensor itself, or a uint8/float32
   * tensor joined to it by QUANTIZE (uint8 <-> int8 keeps the scale and shifts the zero point by 128)
   * or DEQUANTIZE (int8 -> float32 output).
   */
  const boundary = (name: string, type: IoType, direction: 'input' | 'output'): number => {
    const internalIdx = activation(name);
    if (float || type === 'int8') return internalIdx;
    const t = info(name);
    const p = qp(name);
    const ext =
      type === 'uint8'
        ? b.addTensor({ name: unique(name), shape: t.shape, type: 'uint8', quantization: { scale: [p.scale], zeroPoint: [p.zeroPoint + 128] } })
        : b.addTensor({ name: unique(name), shape: t.shape, type: 'float32' });
    if (direction === 'input') b.addOperator('QUANTIZE', [ext], [internalIdx]);
    else b.addOperator(type === 'uint8' ? 'QUANTIZE' : 'DEQUANTIZE', [internalIdx], [ext]);
    return ext;
  };

  const modelInputs = graph.inputs.map((name) => boundary(name, options.inputType, 'input'));

  // Requantized edges: consumer node + input index -> new tensor.
  const requantized = new Map<string, Map<number, QParams>>();
  for (const r of assignment.requantize) {
    let m = requantized.get(r.consumer);
    if (!m) requantized.set(r.consumer, (m = new Map()));
    m.set(r.inputIndex, r.params);
  }

  for (const node of graph.nodes) {
    current = node;
    const rq = requantized.get(node.name);
    if (rq) {
      // Emit QUANTIZE ops (int8 -> int8 requantization) and point the node at the new tensors.
      const inputs = [...node.inputs];
      for (const [i, p] of rq) {
        const src = inputs[i];
        const name = `${src}/requantized_for_${node.name}`;
        graph.tensors.set(name, { name, shape: info(src).shape, dtype: 'float32' });
        params.set(name, p);
        b.addOperator('QUANTIZE', [activation(src)], [activation(name)]);
        inputs[i] = name;
      }
      current = { ...node, inputs };
    }
    try {
      options.quantOf(node).emit(ctx);
    } catch (e) {
      throw new Error(`quantize: cannot write node '${node.name}' (${node.op}): ${(e as Error).message}`);
    }
  }

  const outputNames = [...graph.outputs, ...(options.extraOutputs ?? []).filter((t) => !graph.outputs.includes(t))];
  const modelOutputs = outputNames.map((name) => boundary(name, graph.outputs.includes(name) ? options.outputType : 'int8', 'output'));
  b.setInputs(modelInputs);
  b.setOutputs(modelOutputs);
  const model = b.build();
  if (options.description !== undefined) model.description = options.description;
  for (const [name, bytes] of Object.entries(options.metadata ?? {})) {
    model.buffers.push({ data: bytes });
    model.metadata.push({ name, buffer: model.buffers.length - 1 });
  }

  const tensors: TensorQuantReport[] = [];
  for (const [name, p] of [...params].sort((a, c) => (a[0] < c[0] ? -1 : 1))) {
    if (float) break;
    if (!graph.tensors.has(name) || elementCount(info(name).shape) === 0) continue;
    const r = ranges.get(name);
    tensors.push({
      tensor: name,
      min: r?.min ?? (-128 - p.zeroPoint) * p.scale,
      max: r?.max ?? (127 - p.zeroPoint) * p.scale,
      scale: p.scale,
      zeroPoint: p.zeroPoint,
      group: assignment.group.get(name) ?? 0,
    });
  }
  return { model, tensors, notes };
}
