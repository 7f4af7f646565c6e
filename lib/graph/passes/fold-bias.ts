// Folds `Add(conv_out, constant)` where the constant is one value per output channel into the
// Conv2D / DepthwiseConv2D / FullyConnected bias.
import type { Graph, IrNode } from '../../ir/graph.js';
import { elementCount, producersOf } from '../../ir/graph.js';
import { cloneGraph, pruneTensors, useCounts } from './util.js';

const FOLDABLE = new Set(['Conv2D', 'DepthwiseConv2D', 'FullyConnected']);

export function foldBias(graph: Graph): Graph {
  const g = cloneGraph(graph);
  const producer = producersOf(g);
  const uses = useCounts(g);
  const removed = new Set<IrNode>();
  for (const add of g.nodes) {
    if (add.op !== 'Add' || add.inputs.length !== 2) continue;
    for (const k of [0, 1]) {
      const conv = producer.get(add.inputs[k]);
      const c = g.tensors.get(add.inputs[1 - k]);
      if (!conv || !FOLDABLE.has(conv.op) || !(c?.data instanceof Float32Array)) continue;
      if (uses.get(add.inputs[k]) !== 1 || (conv.attrs.activation ?? 'none') !== 'none') continue;
      const outShape = g.tensors.get(conv.outputs[0])!.shape;
      const outC = outShape[outShape.length - 1];
      // Only a per-channel vector (any leading 1s) keeps the output shape unchanged.
      if (elementCount(c.shape) !== outC || c.shape[c.shape.length - 1] !== outC || c.shape.length > outShape.length) continue;
      const bias = new Float32Array(outC);
      const old = conv.inputs[2] ? (g.tensors.get(conv.inputs[2])?.data as Float32Array | undefined) : undefined;
      for (let i = 0; i < outC; i++) bias[i] = (old?.[i] ?? 0) + c.data[i];
      const bName = `${conv.name}/bias`;
      const name = g.tensors.has(bName) && bName !== conv.inputs[2] ? `${bName}_${add.name}` : bName;
      g.tensors.set(name, { name, shape: [outC], dtype: 'float32', data: bias });
      conv.inputs = [conv.inputs[0], conv.inputs[1], name];
      conv.attrs = { ...conv.attrs, activation: add.attrs.activation ?? 'none' };
      conv.outputs = [...add.outputs];
      removed.add(add);
      break;
    }
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n));
  pruneTensors(g);
  return g;
}
