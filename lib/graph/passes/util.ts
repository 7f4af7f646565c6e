// Helpers shared by the graph passes. Passes are pure: they copy what they change.
import type { Graph } from '../../ir/graph.js';

/** A copy whose tensor map, node list and nodes can be changed without touching the original. */
export function cloneGraph(g: Graph): Graph {
  return {
    tensors: new Map([...g.tensors].map(([k, t]) => [k, { ...t, shape: [...t.shape] }])),
    nodes: g.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs } })),
    inputs: [...g.inputs],
    outputs: [...g.outputs],
    meta: { ...g.meta, notes: [...g.meta.notes], cutAt: g.meta.cutAt ? [...g.meta.cutAt] : undefined },
  };
}

/** Replaces every read of tensor `from` with `to` (node inputs and graph outputs). */
export function replaceUses(g: Graph, from: string, to: string): void {
  for (const n of g.nodes) n.inputs = n.inputs.map((i) => (i === from ? to : i));
  g.outputs = g.outputs.map((o) => (o === from ? to : o));
}

/** Number of readers of each tensor, graph outputs counted as readers. */
export function useCounts(g: Graph): Map<string, number> {
  const m = new Map<string, number>();
  for (const n of g.nodes) for (const i of n.inputs) m.set(i, (m.get(i) ?? 0) + 1);
  for (const o of g.outputs) m.set(o, (m.get(o) ?? 0) + 1);
  return m;
}

/** Drops tensors no node or graph input/output mentions. */
export function pruneTensors(g: Graph): void {
  const used = new Set<string>([...g.inputs, ...g.outputs]);
  for (const n of g.nodes) for (const t of [...n.inputs, ...n.outputs]) used.add(t);
  for (const k of [...g.tensors.keys()]) if (!used.has(k)) g.tensors.delete(k);
}
