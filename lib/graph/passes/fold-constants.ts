// Constant folding: a node whose inputs are all constants is evaluated in float (TF.js) and
// replaced by constant tensors.
import type { Graph } from '../../ir/graph.js';
import { evaluateConstantNode } from '../tf-eval.js';
import { cloneGraph, pruneTensors } from './util.js';

export function foldConstants(graph: Graph): Graph {
  const g = cloneGraph(graph);
  const kept = [];
  for (const n of g.nodes) {
    const ins = n.inputs.map((i) => g.tensors.get(i));
    if (ins.length > 0 && ins.every((t) => t?.data !== undefined)) {
      for (const t of evaluateConstantNode(n.op, ins as NonNullable<(typeof ins)[number]>[], n.attrs, n.outputs)) g.tensors.set(t.name, t);
    } else {
      kept.push(n);
    }
  }
  g.nodes = kept;
  pruneTensors(g);
  return g;
}
