// Per-channel mean/std image normalisation folded into the graph as its first op, so that the model
// takes pixels 0..255. The int8 input has one scale and one zero point, so (pixel - mean_c) / std_c
// cannot be expressed by the input's quantization; a 1x1 DepthwiseConv2D with weight 1 / std_c and
// bias -mean_c / std_c can, exactly (per-channel int8 weights, int32 bias, no padding). Folding it
// into the first conv instead would be wrong at its zero-padded border.
import type { Graph, IrNode } from '../../ir/graph.js';
import { cloneGraph, replaceUses } from './util.js';

/** model input = (pixel - mean[c]) / std[c], with mean and std in pixel units 0..255 (OpenCV / ultralytics style). */
export interface InputNormalization {
  /** One value per channel, or one for all; default 0. */
  mean?: number[];
  /** One value per channel, or one for all; each > 0; default 1. */
  std?: number[];
}

/** One line naming the option and what is wrong, or undefined when mean and std are valid lists. */
export function inputNormalizationProblem(n: InputNormalization, where: string): string | undefined {
  if (typeof n !== 'object' || n === null || Array.isArray(n)) return `${where}: inputNormalization must be { mean, std }, got ${JSON.stringify(n)}`;
  for (const key of ['mean', 'std'] as const) {
    const v = n[key];
    if (v === undefined) continue;
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      return `${where}: inputNormalization.${key} must be a list of finite numbers (one per channel, or one for all), got ${JSON.stringify(v)}`;
    }
    if (key === 'std' && !v.every((x) => x > 0)) return `${where}: inputNormalization.std must be > 0 for every channel, got [${v.join(', ')}]`;
  }
  if (n.mean === undefined && n.std === undefined) return `${where}: inputNormalization needs mean or std`;
  return undefined;
}

/** The list for `channels` channels: one value repeats, a list must have one value per channel. */
function perChannel(values: number[] | undefined, fallback: number, channels: number, label: string): number[] {
  if (values === undefined) return new Array<number>(channels).fill(fallback);
  if (values.length === 1) return new Array<number>(channels).fill(values[0]);
  if (values.length !== channels) throw new Error(`${label} has ${values.length} values; the input has ${channels} channels (give ${channels} or 1)`);
  return values;
}

/** A name not yet used in the graph, from `base`. */
function freshName(g: Graph, base: string): string {
  let name = base;
  for (let i = 1; g.tensors.has(name) || g.nodes.some((n) => n.name === name); i++) name = `${base}_${i}`;
  return name;
}

/**
 * The graph with `normalization` as its first op: the input keeps its name and shape and now takes
 * pixels 0..255; every reader of it reads the normalised tensor instead. Channels-last (NHWC) inputs only.
 */
export function prependInputNormalization(graph: Graph, normalization: InputNormalization, where = 'inputNormalization'): Graph {
  const problem = inputNormalizationProblem(normalization, where);
  if (problem) throw new Error(problem);
  const g = cloneGraph(graph);
  const input = g.inputs[0];
  const shape = g.tensors.get(input)!.shape;
  const channels = shape[3];
  if (shape.length !== 4 || (channels !== 1 && channels !== 3)) {
    throw new Error(`${where}: input '${input}' has shape [${shape}]; per-channel mean/std needs a channels-last image input [1,H,W,1 or 3]`);
  }
  const mean = perChannel(normalization.mean, 0, channels, `${where}: mean for input '${input}'`);
  const std = perChannel(normalization.std, 1, channels, `${where}: std for input '${input}'`);
  const normalized = freshName(g, `${input}/normalized`);
  const filter = freshName(g, `${input}/normalize/scale`);
  const bias = freshName(g, `${input}/normalize/shift`);
  g.tensors.set(normalized, { name: normalized, shape: [...shape], dtype: 'float32' });
  g.tensors.set(filter, { name: filter, shape: [1, 1, channels, 1], dtype: 'float32', data: Float32Array.from(std, (s) => 1 / s) });
  g.tensors.set(bias, { name: bias, shape: [channels], dtype: 'float32', data: Float32Array.from(mean, (m, c) => -m / std[c]) });
  replaceUses(g, input, normalized);
  const node: IrNode = {
    name: freshName(g, `${input}/normalize`), op: 'DepthwiseConv2D', inputs: [input, filter, bias], outputs: [normalized],
    attrs: { strides: [1, 1], dilations: [1, 1], padding: 'VALID', activation: 'none' },
  };
  g.nodes = [node, ...g.nodes];
  g.meta.notes.push(`input '${input}' takes pixels 0..255: (pixel - mean) / std with mean [${mean.join(', ')}], std [${std.join(', ')}] is the first op '${node.name}'`);
  return g;
}
