// Checks of an imported graph's contents (files come from the internet).
import type { Graph } from '../ir/graph.js';
import { firstNonFinite } from '../util/validate.js';

/**
 * Refuses float constants holding NaN or Infinity: they have no int8 representation and would
 * silently poison every scale computed from them. Names the constant and a node that reads it.
 */
export function assertFiniteConstants(g: Graph, label: string): void {
  for (const t of g.tensors.values()) {
    if (!(t.data instanceof Float32Array)) continue;
    const bad = firstNonFinite(t.data);
    if (!bad) continue;
    const reader = g.nodes.find((n) => n.inputs.includes(t.name));
    const where = reader ? ` (read by node '${reader.name}' (${reader.op}))` : '';
    throw new Error(
      `${label}: weight '${t.name}' [${t.shape.join(',')}]${where} has ${bad.value} at element ${bad.index}; all weights must be finite numbers`,
    );
  }
}
