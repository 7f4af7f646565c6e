// The YOLO plug-in of the generic quantizer (lib/quantize/plugin.ts): what lib/yolo knows, handed to
// the core as data through its hooks.
//   head: the family registry (YOLOv5, YOLOv8/11: find / probe / cut), the spec a layers model keeps
//         in userDefinedMetadata.yoloHead, the generic float-tail split of a mixed-range output,
//         the 'yolo_int8_head' metadata, a one-line description, and the class-logit range rule;
//   resolveImages: the dataset layouts users have (dataset roots, yaml, splits: lib/yolo/dataset.ts);
//   metric: mAP50-95 on a labelled set (lib/yolo/map-metric.ts).
import type { Graph } from '../ir/graph.js';
import type { HeadFamily, HeadPlugin, QuantizerPlugin } from '../quantize/plugin.js';
import type { RecipeOverride } from '../quantize/recipe.js';
import { GIVEN_CLASS_NAMES } from '../quantize/stages.js';
import { HEAD_FAMILIES, describeHeadSpec, headSpecMetadata, outputRolesOf, specOutputs, validateHeadSpec, type HeadSpec } from './families/index.js';
import { splitMixedOutputTail } from './families/float-tail.js';
import type { OutputRole } from './families/types.js';
import { calibrationImages } from './dataset.js';
import { MAP_METRIC, type MapScore } from './map-metric.js';

/**
 * The source's class names travel in the spec when they fit its class count (a pose model's metadata
 * may not); names the caller gave must fit.
 */
export function withClassNames<S extends HeadSpec>(spec: S, graph: Graph): S {
  const info = graph.meta.modelInfo;
  const names = info?.names;
  if (names && names.length !== spec.numClasses && info?.from === GIVEN_CLASS_NAMES) {
    throw new Error(`${graph.meta.source}: ${names.length} class names given, but the detection head has ${spec.numClasses} classes`);
  }
  return names && names.length === spec.numClasses ? { ...spec, classNames: [...names] } : spec;
}

/** A registry family whose cut spec carries the source's class names. */
function namingClasses(family: (typeof HEAD_FAMILIES)[number]): HeadFamily<HeadSpec> {
  return {
    name: family.name,
    cuts: family.cuts,
    find: (graph) => family.find(graph),
    probe: (graph, head, run, inputSize, tolerance) => family.probe(graph, head, run, inputSize, tolerance) as ReturnType<HeadFamily<HeadSpec>['probe']>,
    cut(graph, spec, head, cut) {
      const result = family.cut(graph, spec, head, cut);
      return { ...result, spec: withClassNames(result.spec as HeadSpec, graph) };
    },
  };
}

/** userDefinedMetadata.classNames (a list of the head's class count) in a spec that has none. */
function withMetadataClassNames(spec: HeadSpec, names: unknown): HeadSpec {
  const fits = Array.isArray(names) && names.length === spec.numClasses && names.every((n) => typeof n === 'string');
  return fits && !spec.classNames ? { ...spec, classNames: [...(names as string[])] } : spec;
}

/** The spec a layers model saved in userDefinedMetadata.yoloHead (validated: its outputs must be the graph's). */
export function headSpecFromSource(graph: Graph): { spec: HeadSpec; note: string } | undefined {
  const meta = graph.meta.sourceMetadata as { yoloHead?: unknown; classNames?: unknown } | undefined;
  if (meta?.yoloHead === undefined) return undefined;
  const label = graph.meta.source;
  const spec = withClassNames(withMetadataClassNames(validateHeadSpec(meta.yoloHead, `${label}: userDefinedMetadata.yoloHead`), meta.classNames), graph);
  const missing = specOutputs(spec).map((o) => o.name).filter((o) => !graph.outputs.includes(o));
  if (missing.length) {
    throw new Error(`${label}: userDefinedMetadata.yoloHead names outputs ${missing.join(', ')}, but the model outputs are ${graph.outputs.join(', ')}`);
  }
  return { spec, note: `detection head from the model's metadata: kind '${spec.kind}', ${spec.numClasses} classes` };
}

/**
 * After calibration, for a head no family took: when the output's layout-only tail joins ranges more
 * than MIXED_RANGE_FACTOR apart, end the int8 graph before it (see families/float-tail.ts). Class
 * count and keypoints come from what the source says about itself.
 */
export function splitOutputTail(graph: Graph, ranges: ReadonlyMap<string, { min: number; max: number }>): { graph: Graph; spec: HeadSpec; note: string } | undefined {
  const inputShape = graph.tensors.get(graph.inputs[0])!.shape;
  const info = graph.meta.modelInfo;
  const kpt = info?.kptShape;
  const split = splitMixedOutputTail(graph, ranges, {
    inputSize: [inputShape[1], inputShape[2]],
    numClasses: info?.names?.length,
    extraPerAnchor: kpt ? kpt[0] * kpt[1] : undefined,
  });
  if (!split) return undefined;
  return { graph: split.graph, spec: withClassNames(split.spec, graph), note: split.graph.meta.notes[split.graph.meta.notes.length - 1] };
}

/** The range rule each output role needs, as the recipe override the quantizer applies. */
const RULE_OF_ROLE: Record<OutputRole, Omit<RecipeOverride, 'match'>> = {
  // Class logits become scores through the decode's sigmoid: the top tail is the detections.
  'score-logits': { rangeRule: 'keep-observed-max', reason: 'score-logits' },
};

/** Recipe overrides for a spec's outputs: one per output with a role in the decode (exact names). */
export function headOverrides(spec: HeadSpec): RecipeOverride[] {
  return [...outputRolesOf(spec)].map(([tensor, role]) => ({ match: exactName(tensor), ...RULE_OF_ROLE[role] }));
}

/** A recipe `match` that matches exactly this name (globs and /regex/ are the recipe's syntax). */
function exactName(name: string): string {
  return /[*]|^\/.*\/$/.test(name) ? `/^${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$/` : name;
}

export const YOLO_HEAD: HeadPlugin<HeadSpec> = {
  families: HEAD_FAMILIES.map(namingClasses),
  fromSource: headSpecFromSource,
  splitOutputTail,
  metadata: headSpecMetadata,
  describe: describeHeadSpec,
  overrides: headOverrides,
};

/** Everything lib/yolo hands the quantizer. */
export const YOLO_PLUGIN: QuantizerPlugin<HeadSpec, MapScore> = {
  head: YOLO_HEAD,
  resolveImages: calibrationImages,
  metric: MAP_METRIC,
};
