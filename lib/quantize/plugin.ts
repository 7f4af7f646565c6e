// What a task layer hands the generic quantizer (lib/yolo hands the YOLO plug-in, lib/yolo/plugin.ts).
//
// The quantizer never imports the task layer above it: what a task knows reaches the core as data
// through these hooks, the way ONNX Runtime's execution-provider configs hand its quantizer tensor
// overrides. Every hook is optional; with none (NO_PLUGIN) the quantizer treats any float model
// generically: no head is recognised, a dataset path is an images folder, a glob, a .txt list or one
// image, and accuracy targets are output SQNR only.
//
//   head           find / probe / cut a model's head (families), read a head spec the source carries,
//                  split a mixed-range output tail after calibration, the file metadata a spec
//                  writes, one line describing it, and the recipe overrides its outputs need;
//   resolveImages  a dataset path -> image files (and how it was read, for the report);
//   metric         a task metric on a validation set (accuracy.maxDrop, sensitivity `data`).
import type { Graph, IrNode } from '../ir/graph.js';
import type { RecipeOverride } from './recipe.js';

/** What the core knows of a head spec: its kind names it; the rest is the plug-in's (stored as JSON). */
export type HeadSpecData = NonNullable<Graph['meta']['headSpec']>;

/** A head found by structure: the tensors where the head starts and the nodes it consists of. */
export interface HeadCandidate {
  /** The graph output the head computes. */
  output: string;
  /** Tensors entering the head (the last convolutions' outputs), in graph order. */
  convOutputs: string[];
  /** The nodes strictly after convOutputs that compute `output`, in graph order. */
  headNodes: IrNode[];
  /** The node a warning names when the probe rejects the head. */
  anchorNode: string;
  /** Family-specific facts found by the search (channel counts, levels ...). */
  facts: Record<string, unknown>;
}

/** Runs the float head: values for each conv output in, the head output out. */
export type HeadRunner = (convValues: Record<string, Float32Array>) => Promise<Float32Array>;

/** A verified spec (with what the probe noticed on the way), or why the head is not the family's. */
export type ProbeResult<S> = { ok: true; spec: S; maxError: number; notes: string[] } | { ok: false; reason: string };

export interface CutResult<S> {
  graph: Graph;
  spec: S;
  note: string;
}

/** One head design: found by structure, probed numerically, cut where its int8 graph should end. */
export interface HeadFamily<S extends HeadSpecData = HeadSpecData> {
  /** Short name for reports and warnings. */
  name: string;
  /** Cut variants (the first is the default), for options.headCut. */
  cuts: readonly string[];
  find(graph: Graph): HeadCandidate | undefined;
  /**
   * `tolerance`: the largest relative difference between the family's decode and the head on
   * random values that still counts as the same head (probeTolerance in head.ts).
   */
  probe(graph: Graph, head: HeadCandidate, runHead: HeadRunner, inputSize: [number, number], tolerance: number): Promise<ProbeResult<S>>;
  cut(graph: Graph, spec: S, head: HeadCandidate, cut: string): CutResult<S>;
}

/** Everything the core asks about model heads. */
export interface HeadPlugin<S extends HeadSpecData = HeadSpecData> {
  /** Tried in order on the float graph; the first that finds and verifies its head cuts the graph. */
  families: readonly HeadFamily<S>[];
  /**
   * The head spec the source model carries in its own metadata (graph.meta.sourceMetadata), checked,
   * with a note for the report; undefined when it carries none. Throws, naming the source, when the
   * spec is invalid or names outputs the graph does not have.
   */
  fromSource(graph: Graph): { spec: S; note: string } | undefined;
  /**
   * After calibration, for a head no family took: a graph whose output tail (joining ranges too far
   * apart for one int8 scale) runs in float instead, the spec that rebuilds the output, and a note.
   */
  splitOutputTail(graph: Graph, ranges: ReadonlyMap<string, { min: number; max: number }>): { graph: Graph; spec: S; note: string } | undefined;
  /** The metadata entries (name -> bytes) a written file carries for the spec. */
  metadata(spec: S): Record<string, Uint8Array>;
  /** One line saying what the spec describes (reports). */
  describe(spec: S): string;
  /** Recipe overrides the spec's outputs need (e.g. a range rule for outputs the decode reads specially). */
  overrides(spec: S): RecipeOverride[];
}

/** How a dataset path was read (report.calibration.dataset). */
export interface DatasetInfo {
  source: string;
  /** What the path was read as ('images-folder', 'glob', 'list-file', 'image-file', or a plug-in's layout). */
  layout: string;
  /** The dataset root, when the layout has one. */
  root?: string;
  /** The split used, when there was one. */
  split?: string;
  /** Every split found, when there was a choice. */
  splits?: string[];
  images: number;
  /** Which split or folder was used and why, when a choice was made. */
  note?: string;
}

/** A dataset path -> its image files (sorted: runs are reproducible) and how it was read. Throws saying what was expected. */
export type ImageSourceResolver = (source: string) => { images: string[]; info: DatasetInfo };

/** A labelled validation set, as a metric reads it. */
export interface ValidationSetSpec {
  /** Images: any path the metric's resolver takes. */
  images: string;
  /** Where the labels are, when not where the metric looks by default. */
  labels?: string;
  /** The slice of the (sorted) images used. */
  offset?: number;
  limit?: number;
}

/** Named metric values of one model (e.g. { mAP50, mAP50_95 }). */
export type MetricValues = Record<string, number>;

/** A validation set read once (images decoded), scoring any number of models on it. */
export interface ScoredSet<P extends MetricValues = MetricValues> {
  /** Images in the set. */
  readonly count: number;
  /** The metric of a .tflite on the set (run in LiteRT). */
  score(tflite: Uint8Array, label: string): Promise<P>;
  /** The set's first n images as float model inputs (for SQNR and latency on the same images). */
  floatInputs(n?: number): Float32Array[];
}

/** A task metric: what accuracy.maxDrop targets and sensitivity's `data` reports. */
export interface Metric<P extends MetricValues = MetricValues> {
  /** The name of the primary value in reports and errors ('mAP50-95'). */
  name: string;
  /** A short name for table headers ('mAP'). */
  shortName: string;
  /** The key in P of the value targets and costs are measured in: a fraction (0..1, higher is better); drops are in points (x100). */
  primary: string;
  /** Checks that a set can be read before the long work starts (cheap: lists files); throws saying why not. */
  check(spec: ValidationSetSpec): void;
  /** Reads a set once, for a model input of size [h, w]. */
  load(spec: ValidationSetSpec, inputSize: [number, number]): Promise<ScoredSet<P>>;
}

/** The hooks a task layer gives the quantizer; S is its head spec type, P its metric's values. */
export interface QuantizerPlugin<S extends HeadSpecData = HeadSpecData, P extends MetricValues = MetricValues> {
  head?: HeadPlugin<S>;
  resolveImages?: ImageSourceResolver;
  metric?: Metric<P>;
}

/** No task knowledge: every model is quantized generically (a plug-in of any type with no hooks). */
export const NO_PLUGIN: { readonly head?: undefined; readonly resolveImages?: undefined; readonly metric?: undefined } = {};
