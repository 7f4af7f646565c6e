// Model heads, treated generically: the plug-in's head families (lib/quantize/plugin.ts) are tried in
// turn - find by structure, probe numerically, cut - and a head spec the graph already carries is
// used as it is. A head that no family recognises may get the plug-in's output-tail split after
// calibration (stages.ts). Nothing here knows what any head looks like.
import type { Graph, IrNode, IrTensor } from '../ir/graph.js';
import { createFloatExecutor } from '../graph/execute.js';
import type { BackendName } from '../graph/backend.js';
import type { HeadCandidate, HeadFamily, HeadPlugin, HeadSpecData } from './plugin.js';

export type HeadTreatment = 'split' | 'keep' | 'none';

export interface TreatedHead {
  graph: Graph;
  spec?: HeadSpecData;
  /** The family that recognised the head (a spec's kind when the graph came with one). */
  family?: string;
  treatment: HeadTreatment;
  /** The cut variant used. */
  cut?: string;
  probeMaxError?: number;
  warnings: string[];
}

export interface HeadOptions {
  /** 'split' (default): cut the head where its family says; 'keep': quantize it as it is. */
  head?: 'split' | 'keep';
  /** A family's cut variant. */
  headCut?: string;
  backend?: BackendName;
}

/**
 * How closely a family's float decode must reproduce the head on random logits. 1e-4 (relative to
 * the input size for boxes) leaves room for float32 and FP16-rounded constants only. A source whose
 * constants were int8-rounded (a full-integer .tflite: anchors, strides and the 1/640 factor are
 * int8 tensors there) computes the formula only to that rounding - a few tenths of a percent on
 * YOLOv8n - so 1e-2 there; a wrong layout or formula is off by far more (whole cells, or scores by tenths).
 */
export function probeTolerance(graph: Graph): number {
  return graph.meta.sourceQuantization === 'full-integer' ? 1e-2 : 1e-4;
}

/**
 * The graph with the head spec its source carries adopted (graph.meta.headSpec, and the plug-in's
 * note), when it has none set yet: a spec the caller set wins. The graph given is not changed.
 */
export function adoptSourceHead(graph: Graph, head: HeadPlugin | undefined): Graph {
  if (graph.meta.headSpec || !head) return graph;
  const found = head.fromSource(graph);
  if (!found) return graph;
  return { ...graph, meta: { ...graph.meta, headSpec: found.spec, notes: [...graph.meta.notes, found.note] } };
}

/** The head as its own graph: inputs = the entry tensors, output = the head output. */
export function headSubgraph(graph: Graph, entries: string[], nodes: IrNode[], output: string): Graph {
  const tensors = new Map<string, IrTensor>();
  for (const n of nodes) for (const name of [...n.inputs, ...n.outputs]) tensors.set(name, graph.tensors.get(name)!);
  return {
    tensors,
    nodes,
    inputs: entries,
    outputs: [output],
    meta: { source: graph.meta.source, format: 'built', notes: ['detection head sub-graph'] },
  };
}

/** Probes one family's head on its own float sub-graph; cuts the graph when the probe verifies it. */
async function probeAndCut(graph: Graph, family: HeadFamily, head: HeadCandidate, cutName: string, backend: BackendName | undefined): Promise<TreatedHead | string> {
  const inputShape = graph.tensors.get(graph.inputs[0])!.shape;
  const inputSize: [number, number] = [inputShape[1], inputShape[2]];
  const exec = await createFloatExecutor(headSubgraph(graph, head.convOutputs, head.headNodes, head.output), { backend });
  try {
    const probed = await family.probe(graph, head, async (values) => (await exec.run(values, [head.output]))[head.output], inputSize, probeTolerance(graph));
    if (!probed.ok) {
      return (
        `a ${family.name}-like head was found at node '${head.anchorNode}' but failed the numerical probe (${probed.reason}); ` +
        `it is not decoded as ${family.name} and is quantized generically`
      );
    }
    const cut = family.cut(graph, probed.spec, head, cutName);
    cut.graph.meta.notes.push(...probed.notes);
    return { graph: cut.graph, spec: cut.spec, family: family.name, treatment: 'split', cut: cutName, probeMaxError: probed.maxError, warnings: [] };
  } finally {
    exec.dispose();
  }
}

/**
 * The head treatment of a float graph: the spec it carries, else the first of the plug-in's families
 * that finds and verifies its head (cut there, or kept whole with options.head 'keep'); else none.
 */
export async function treatHead(graph: Graph, options: HeadOptions, head: HeadPlugin | undefined): Promise<TreatedHead> {
  const warnings: string[] = [];
  const known = graph.meta.headSpec;
  if (known) return { graph, spec: known, family: known.kind, treatment: 'split', warnings };
  for (const family of head?.families ?? []) {
    const candidate = family.find(graph);
    if (!candidate) continue;
    if (options.head === 'keep') return { graph, family: family.name, treatment: 'keep', warnings };
    const cutName = options.headCut ?? family.cuts[0];
    if (!family.cuts.includes(cutName)) {
      throw new Error(`headCut '${cutName}' is not a cut of the ${family.name} head (its cuts: ${family.cuts.join(', ')})`);
    }
    const treated = await probeAndCut(graph, family, candidate, cutName, options.backend);
    if (typeof treated === 'string') {
      warnings.push(treated);
      continue;
    }
    return { ...treated, warnings };
  }
  if (options.headCut) throw new Error(`headCut '${options.headCut}' was given, but no known head family was found in the graph`);
  return { graph, treatment: 'none', warnings };
}
