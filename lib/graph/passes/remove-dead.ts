// Removes nodes whose outputs are not needed for the graph outputs (e.g. after cutting).
import type { Graph } from '../../ir/graph.js';
import { cloneGraph, pruneTensors } from './util.js';

export function removeDeadNodes(graph: Graph): Graph {
  const g = cloneGraph(graph);
  const needed = new Set(g.outputs);
  const keep = new Array<boolean>(g.nodes.length).fill(false);
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (n.outputs.some((o) => needed.has(o))) {
      keep[i] = true;
      for (const x of n.inputs) needed.add(x);
    }
  }
  g.nodes = g.nodes.filter((_, i) => keep[i]);
  pruneTensors(g);
  return g;
}
