// Removes Identity nodes by reading their input directly.
import type { Graph } from '../../ir/graph.js';
import { cloneGraph, pruneTensors, replaceUses } from './util.js';

export function removeIdentity(graph: Graph): Graph {
  const g = cloneGraph(graph);
  for (const node of [...g.nodes]) {
    if (node.op !== 'Identity') continue;
    const [x] = node.inputs;
    const [y] = node.outputs;
    if (g.outputs.includes(y)) {
      // Keep the output name: rename the producer's output when nothing else reads it.
      const producer = g.nodes.find((n) => n.outputs.includes(x));
      const otherReaders = g.nodes.some((n) => n !== node && n.inputs.includes(x)) || g.outputs.includes(x);
      if (!producer || otherReaders) continue;
      producer.outputs = producer.outputs.map((o) => (o === x ? y : o));
    } else {
      replaceUses(g, y, x);
    }
    g.nodes = g.nodes.filter((n) => n !== node);
  }
  pruneTensors(g);
  return g;
}
