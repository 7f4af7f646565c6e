// Static shape for every tensor: recomputes each node's output shapes from the registry in order,
// checking the graph is topologically ordered and no shape is unknown.
import type { Graph } from '../../ir/graph.js';
import { getOpDef } from '../../ops/registry.js';
import { cloneGraph } from './util.js';

export function inferShapes(graph: Graph): Graph {
  const g = cloneGraph(graph);
  const known = new Set<string>(g.inputs);
  for (const [k, t] of g.tensors) if (t.data) known.add(k);
  for (const i of g.inputs) {
    const t = g.tensors.get(i);
    if (!t || t.shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${g.meta.source}: graph input '${i}' has no static shape`);
  }
  for (const n of g.nodes) {
    const ins = n.inputs.map((i) => {
      const t = g.tensors.get(i);
      if (!t || !known.has(i)) throw new Error(`${g.meta.source}: node '${n.name}' (${n.op}) reads '${i}' before it is computed`);
      return t;
    });
    let shapes: number[][];
    try {
      shapes = getOpDef(n.op).inferShapes(ins, n.attrs);
    } catch (e) {
      throw new Error(`${g.meta.source}: shape of node '${n.name}' (${n.op}) is unknown: ${(e as Error).message}`);
    }
    n.outputs.forEach((o, k) => {
      const s = shapes[k];
      if (!s || s.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${g.meta.source}: shape of '${o}' (node '${n.name}') is unknown`);
      const prev = g.tensors.get(o);
      g.tensors.set(o, { name: o, dtype: prev?.dtype ?? 'float32', shape: s });
      known.add(o);
    });
  }
  for (const o of g.outputs) if (!known.has(o)) throw new Error(`${g.meta.source}: graph output '${o}' is never computed`);
  return g;
}
