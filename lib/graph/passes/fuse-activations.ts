// Fuses Relu / Relu6 into the `activation` attr of their producer when the producer supports a
// fused activation (registry flag) and the Relu is its only reader.
import { producersOf, type Graph, type IrNode } from '../../ir/graph.js';
import { getOpDef } from '../../ops/registry.js';
import { cloneGraph, pruneTensors, useCounts } from './util.js';

export function fuseActivations(graph: Graph): Graph {
  const g = cloneGraph(graph);
  const producer = producersOf(g);
  const uses = useCounts(g);
  const removed = new Set<IrNode>();
  for (const act of g.nodes) {
    if (act.op !== 'Relu' && act.op !== 'Relu6') continue;
    const p = producer.get(act.inputs[0]);
    if (!p || removed.has(p) || p.outputs.length !== 1 || !getOpDef(p.op).fusableActivation) continue;
    if (uses.get(act.inputs[0]) !== 1) continue;
    const current = p.attrs.activation ?? 'none';
    const next = act.op === 'Relu' ? 'relu' : 'relu6';
    // relu6(relu(x)) = relu6(x); relu(relu6(x)) = relu6(x)
    if (current !== 'none' && current !== 'relu' && current !== 'relu6') continue;
    p.attrs = { ...p.attrs, activation: current === 'relu6' || next === 'relu6' ? 'relu6' : 'relu' };
    p.outputs = [...act.outputs];
    producer.set(act.outputs[0], p);
    removed.add(act);
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n));
  pruneTensors(g);
  return g;
}
