// Graph helpers every head family uses: the backward walk from an output to the convolutions
// that feed it and a cut that replaces the head by new graph outputs. Family-neutral: which ops may
// be in a head and what ends it is the caller's.
import type { Graph, IrNode } from '../../ir/graph.js';
import { producersOf } from '../../ir/graph.js';

export interface HeadWalk {
  /** Tensors where the walk stopped at a head-entry node (e.g. a detect conv), in discovery order. */
  entries: string[];
  /** Nodes between the entries and the output, in graph (topological) order. */
  nodes: IrNode[];
}

/**
 * Walks back from `output`: nodes for which `isEntry` holds end the walk (their outputs become
 * entries), nodes for which `isHeadNode` holds are part of the head, anything else (or reaching a
 * graph input) means there is no head here. Constants are allowed anywhere.
 */
export function walkHead(
  graph: Graph,
  output: string,
  isEntry: (n: IrNode) => boolean,
  isHeadNode: (n: IrNode) => boolean,
): HeadWalk | undefined {
  const producers = producersOf(graph);
  const set = new Set<IrNode>();
  const entries: string[] = [];
  const visit = (tensor: string): boolean => {
    if (graph.tensors.get(tensor)?.data) return true;
    const p = producers.get(tensor);
    if (!p) return false;
    if (isEntry(p)) {
      if (!entries.includes(tensor)) entries.push(tensor);
      return true;
    }
    if (!isHeadNode(p)) return false;
    if (set.has(p)) return true;
    set.add(p);
    return p.inputs.every(visit);
  };
  if (!visit(output) || entries.length === 0) return undefined;
  return { entries, nodes: graph.nodes.filter((n) => set.has(n)) };
}

export interface NewOutput {
  /** Name of the new output tensor. */
  name: string;
  /** The tensor it is computed from (or, when `op` is absent, the tensor renamed to `name`). */
  from: string;
  /** An op applied to `from` to make it (e.g. 'Sigmoid'); absent = `from` itself becomes the output. */
  op?: string;
}

/**
 * Drops the head nodes and makes `outputs` the graph outputs (adding one node per output that has
 * an op). Tensors nothing uses any more are removed.
 */
export function replaceHeadWithOutputs(graph: Graph, headNodes: readonly IrNode[], outputs: NewOutput[], note: string): Graph {
  const headSet = new Set(headNodes);
  const nodes = graph.nodes.filter((n) => !headSet.has(n));
  const tensors = new Map(graph.tensors);
  const names: string[] = [];
  for (const o of outputs) {
    if (o.op) {
      const src = graph.tensors.get(o.from)!;
      tensors.set(o.name, { name: o.name, shape: [...src.shape], dtype: 'float32' });
      nodes.push({ name: o.name, op: o.op, inputs: [o.from], outputs: [o.name], attrs: {} });
      names.push(o.name);
    } else if (o.name !== o.from) {
      // Rename the producer's output (a new node object: the source graph stays as it was).
      const k = nodes.findIndex((n) => n.outputs.includes(o.from));
      if (k < 0) throw new Error(`cut: no node produces '${o.from}'`);
      if (nodes.some((n) => n.inputs.includes(o.from))) {
        throw new Error(`cut: '${o.from}' is read by other nodes and cannot become output '${o.name}'`);
      }
      nodes[k] = { ...nodes[k], outputs: nodes[k].outputs.map((x) => (x === o.from ? o.name : x)) };
      tensors.set(o.name, { ...graph.tensors.get(o.from)!, name: o.name });
      names.push(o.name);
    } else {
      names.push(o.from);
    }
  }
  const live = new Set<string>();
  for (const n of nodes) for (const t of [...n.inputs, ...n.outputs]) live.add(t);
  for (const i of graph.inputs) live.add(i);
  for (const name of [...tensors.keys()]) if (!live.has(name)) tensors.delete(name);
  return { ...graph, tensors, nodes, outputs: names, meta: { ...graph.meta, notes: [...graph.meta.notes, note] } };
}

/** Deterministic pseudo-random values in [lo, hi) for probes (an LCG: the same numbers every run). */
export function probeValues(n: number, lo: number, hi: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    a[i] = lo + (s / 4294967296) * (hi - lo);
  }
  return a;
}

/** Rounds to 1e-4: probed strides/anchors as the model computes them, without float32 noise. */
export function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}
