// A layers model's topology checked before TF.js builds it. TF.js's deserializer trusts the config:
// inbound nodes that form a cycle, name a missing layer or a layer name used twice make it loop or
// fail deep inside with a message that names nothing. Here each is one error naming the layer.
//
// Keras 2 functional config (what the TF.js converter writes): config.layers[i] = { name,
// class_name, config, inbound_nodes: [[[layerName, nodeIndex, tensorIndex, kwargs?], ...], ...] },
// config.input_layers / output_layers: [[layerName, nodeIndex, tensorIndex], ...]. Sequential
// configs list layers in order and have no inbound nodes.

interface LayerEntry {
  name?: unknown;
  class_name?: unknown;
  config?: { name?: unknown };
  inbound_nodes?: unknown;
}

/** The layer names one layer's inbound nodes read (Keras 2 nested-array form; other forms: none). */
function inboundNames(layer: LayerEntry): string[] {
  const nodes = layer.inbound_nodes;
  if (!Array.isArray(nodes)) return [];
  const out: string[] = [];
  for (const node of nodes) {
    if (!Array.isArray(node)) continue;
    for (const ref of node) if (Array.isArray(ref) && typeof ref[0] === 'string') out.push(ref[0]);
  }
  return out;
}

function layerName(l: LayerEntry, i: number): string {
  const n = l.name ?? l.config?.name;
  return typeof n === 'string' ? n : `#${i}`;
}

/** Throws naming the layer when a name repeats, a reference is missing or the inbound nodes form a cycle. */
export function checkLayersTopology(config: { layers?: unknown; input_layers?: unknown; output_layers?: unknown } | undefined, label: string): void {
  const layers = Array.isArray(config?.layers) ? (config!.layers as LayerEntry[]) : [];
  const reads = new Map<string, string[]>();
  layers.forEach((l, i) => {
    const name = layerName(l, i);
    if (reads.has(name)) throw new Error(`${label}: two layers are named '${name}'; layer names must be unique`);
    reads.set(name, inboundNames(l));
  });
  for (const [name, inputs] of reads) {
    for (const from of inputs) if (!reads.has(from)) throw new Error(`${label}: layer '${name}' reads layer '${from}', which the model does not have`);
  }
  for (const key of ['input_layers', 'output_layers'] as const) {
    const list = config?.[key];
    if (!Array.isArray(list)) continue;
    for (const ref of list) {
      const n = Array.isArray(ref) ? ref[0] : undefined;
      if (typeof n === 'string' && !reads.has(n)) throw new Error(`${label}: ${key} names layer '${n}', which the model does not have`);
    }
  }
  checkAcyclic(reads, label);
}

/** Iterative depth-first search (no recursion depth limit on long chains): a back edge is a cycle. */
function checkAcyclic(reads: ReadonlyMap<string, string[]>, label: string): void {
  const state = new Map<string, 'open' | 'done'>();
  for (const start of reads.keys()) {
    if (state.has(start)) continue;
    const stack: { name: string; next: number }[] = [{ name: start, next: 0 }];
    state.set(start, 'open');
    while (stack.length) {
      const top = stack[stack.length - 1];
      const inputs = reads.get(top.name)!;
      if (top.next === inputs.length) {
        state.set(top.name, 'done');
        stack.pop();
        continue;
      }
      const from = inputs[top.next++];
      const s = state.get(from);
      if (s === 'open') {
        const cycle = [...stack.slice(stack.findIndex((f) => f.name === from)).map((f) => f.name), from].map((n) => `'${n}'`);
        // A long cycle is shown by its ends (messages stay one short line).
        const shown = cycle.length <= 8 ? cycle.join(' -> ') : `${cycle.slice(0, 4).join(' -> ')} -> ... (${cycle.length - 7} more) -> ${cycle.slice(-3).join(' -> ')}`;
        throw new Error(`${label}: the layers' inbound nodes form a cycle: ${shown}`);
      }
      if (s === undefined) {
        state.set(from, 'open');
        stack.push({ name: from, next: 0 });
      }
    }
  }
}
