// Folds an inference BatchNorm into the preceding Conv2D / DepthwiseConv2D / FullyConnected:
//   w' = w * s, b' = (b - mean) * s + offset, with s = scale / sqrt(variance + epsilon) per output channel.
import type { Graph, IrNode } from '../../ir/graph.js';
import { cloneGraph, pruneTensors, useCounts } from './util.js';
import { batchNormAffine } from '../../ops/util.js';

/** Scales the output channels (last axis for HWIO and [in,out]; channel = i*mult+m for depthwise). */
export function scaleOutputChannels(weights: Float32Array, outChannels: number, mul: Float32Array): Float32Array {
  const out = new Float32Array(weights.length);
  for (let i = 0; i < weights.length; i++) out[i] = weights[i] * mul[i % outChannels];
  return out;
}

const FOLDABLE = new Set(['Conv2D', 'DepthwiseConv2D', 'FullyConnected']);

export function foldBatchNorm(graph: Graph): Graph {
  const g = cloneGraph(graph);
  const producer = new Map(g.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const uses = useCounts(g);
  const removed = new Set<IrNode>();
  for (const bn of g.nodes) {
    if (bn.op !== 'BatchNorm') continue;
    const conv = producer.get(bn.inputs[0]);
    if (!conv || !FOLDABLE.has(conv.op) || uses.get(bn.inputs[0]) !== 1 || (conv.attrs.activation ?? 'none') !== 'none') continue;
    const params = bn.inputs.slice(1).map((i) => g.tensors.get(i)?.data);
    const w = g.tensors.get(conv.inputs[1]);
    const b = conv.inputs[2] ? g.tensors.get(conv.inputs[2]) : undefined;
    if (params.some((p) => !(p instanceof Float32Array)) || !(w?.data instanceof Float32Array) || (conv.inputs[2] && !(b?.data instanceof Float32Array))) continue;
    const [scale, offset, mean, variance] = params as Float32Array[];
    const { mul, add } = batchNormAffine({ scale, offset, mean, variance, epsilon: Number(bn.attrs.epsilon ?? 1e-3) });
    const outC = mul.length;
    const wName = `${conv.name}/folded_weights`;
    g.tensors.set(wName, { name: wName, shape: [...w.shape], dtype: 'float32', data: scaleOutputChannels(w.data, outC, mul) });
    const bias = new Float32Array(outC);
    for (let c = 0; c < outC; c++) bias[c] = ((b?.data as Float32Array | undefined)?.[c] ?? 0) * mul[c] + add[c];
    const bName = `${conv.name}/folded_bias`;
    g.tensors.set(bName, { name: bName, shape: [outC], dtype: 'float32', data: bias });
    conv.inputs = [conv.inputs[0], wName, bName];
    conv.outputs = [...bn.outputs];
    removed.add(bn);
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n));
  pruneTensors(g);
  return g;
}
