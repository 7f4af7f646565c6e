// Recognises x * sigmoid(x) (Sigmoid + Mul in either operand order) as one Silu node.
import { producersOf, type Graph } from '../../ir/graph.js';
import { cloneGraph, pruneTensors, useCounts } from './util.js';

export function fuseSilu(graph: Graph): Graph {
  const g = cloneGraph(graph);
  const producer = producersOf(g);
  const uses = useCounts(g);
  const removed = new Set<object>();
  for (const mul of g.nodes) {
    if (mul.op !== 'Mul' || (mul.attrs.activation ?? 'none') !== 'none' || mul.inputs.length !== 2) continue;
    for (const k of [0, 1]) {
      const sig = producer.get(mul.inputs[k]);
      const x = mul.inputs[1 - k];
      if (!sig || sig.op !== 'Sigmoid' || sig.inputs[0] !== x || removed.has(sig)) continue;
      mul.op = 'Silu';
      mul.inputs = [x];
      mul.attrs = {};
      // The Sigmoid stays when something else reads it.
      if (uses.get(sig.outputs[0]) === 1) removed.add(sig);
      break;
    }
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n));
  pruneTensors(g);
  return g;
}
