// Detection heads, treated deliberately - generically: every family in the registry
// (lib/yolo/families) is tried in turn (find by structure, probe numerically, cut), and a head that
// no family recognises gets the generic output-tail split after calibration (splitMixedOutputTail).
// Nothing here knows what a YOLOv5 or YOLOv8 head looks like.
import type { Graph } from '../ir/graph.js';
import { createFloatExecutor } from '../graph/execute.js';
import type { BackendName } from '../graph/backend.js';
import { HEAD_FAMILIES, type HeadSpec } from '../yolo/families/index.js';
import { headSubgraph } from '../yolo/families/graph-util.js';
import { splitMixedOutputTail, MIXED_RANGE_FACTOR } from '../yolo/families/float-tail.js';

export type { HeadSpec };

export type HeadTreatment = 'split' | 'keep' | 'none';

export interface TreatedHead {
  graph: Graph;
  spec?: HeadSpec;
  /** The family that recognised the head ('float-tail' for the generic split). */
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
  /** A family's cut variant (e.g. 'sigmoid-scores' or 'logit-scores' for YOLOv8). */
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

/** The source's class names travel in the spec when they fit its class count. */
function withClassNames(spec: HeadSpec, graph: Graph): HeadSpec {
  const names = graph.meta.modelInfo?.names;
  return names && names.length === spec.numClasses ? { ...spec, classNames: [...names] } : spec;
}

/** Tries each head family on the graph; the first that finds and verifies its head cuts the graph. */
export async function treatHead(graph: Graph, options: HeadOptions): Promise<TreatedHead> {
  const warnings: string[] = [];
  const importedSpec = graph.meta.headSpec as HeadSpec | undefined;
  if (importedSpec) return { graph, spec: importedSpec, family: importedSpec.kind, treatment: 'split', warnings };
  const inputShape = graph.tensors.get(graph.inputs[0])!.shape;
  const inputSize: [number, number] = [inputShape[1], inputShape[2]];
  for (const family of HEAD_FAMILIES) {
    const head = family.find(graph);
    if (!head) continue;
    if (options.head === 'keep') return { graph, family: family.name, treatment: 'keep', warnings };
    const cutName = options.headCut ?? family.cuts[0];
    if (!family.cuts.includes(cutName)) {
      throw new Error(`headCut '${cutName}' is not a cut of the ${family.name} head (its cuts: ${family.cuts.join(', ')})`);
    }
    const exec = await createFloatExecutor(headSubgraph(graph, head.convOutputs, head.headNodes, head.output), { backend: options.backend });
    try {
      const probed = await family.probe(graph, head, async (values) => (await exec.run(values, [head.output]))[head.output], inputSize, probeTolerance(graph));
      if (!probed.ok) {
        warnings.push(
          `a ${family.name}-like head was found at node '${head.anchorNode}' but failed the numerical probe (${probed.reason}); ` +
            `it is not decoded as ${family.name} and is quantized generically`,
        );
        continue;
      }
      const cut = family.cut(graph, probed.spec, head, cutName);
      cut.graph.meta.notes.push(...probed.notes);
      const spec = withClassNames(cut.spec as HeadSpec, graph);
      return { graph: cut.graph, spec, family: family.name, treatment: 'split', cut: cutName, probeMaxError: probed.maxError, warnings };
    } finally {
      exec.dispose();
    }
  }
  if (options.headCut) throw new Error(`headCut '${options.headCut}' was given, but no known head family was found in the graph`);
  return { graph, treatment: 'none', warnings };
}

/**
 * After calibration, for a head no family took: when the output's layout-only tail joins ranges more
 * than MIXED_RANGE_FACTOR apart, end the int8 graph before it (see lib/yolo/families/float-tail.ts).
 */
export function splitOutputTail(
  graph: Graph,
  ranges: ReadonlyMap<string, { min: number; max: number }>,
  factor = MIXED_RANGE_FACTOR,
): { graph: Graph; spec: HeadSpec; note: string } | undefined {
  const inputShape = graph.tensors.get(graph.inputs[0])!.shape;
  const info = graph.meta.modelInfo;
  const kpt = info?.kptShape;
  const split = splitMixedOutputTail(
    graph,
    ranges,
    { inputSize: [inputShape[1], inputShape[2]], numClasses: info?.names?.length, extraPerAnchor: kpt ? kpt[0] * kpt[1] : undefined },
    factor,
  );
  if (!split) return undefined;
  return { graph: split.graph, spec: withClassNames(split.spec, graph), note: split.graph.meta.notes[split.graph.meta.notes.length - 1] };
}
