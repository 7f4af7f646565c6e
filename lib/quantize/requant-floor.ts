// A floor on the range of a weighted op's int8 output, so that XNNPACK accepts the op.
//
// XNNPACK (what LiteRT runs int8 models on) refuses a CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED /
// TRANSPOSE_CONV whose requantization scale, input scale x weight scale / output scale, reaches 256 in
// any channel, and then LiteRT refuses the whole model (lib/tflite/check-xnnpack.ts). That happens when
// the output's calibrated range is near-constant: a ReLU that almost never fires on the calibration
// images (a range of 1e-6 gives an output scale of 4e-9). A range of exactly zero is handled where the
// parameters are chosen (int8/arithmetic.ts: a dead tensor takes the [0, 1] parameters); a narrow but
// non-zero one is widened here, before the parameters are solved, until the requantization scale
// estimated from the input's calibrated range is at most REQUANTIZATION_SCALE_TARGET, half the limit
// (the input's solved scale can exceed its own range when it shares a group). The plan records each
// widening in the tensor's origin and in its notes; check() still refuses whatever slips through.
import type { Graph, IrNode } from '../ir/graph.js';
import type { OpQuant } from '../ops/types.js';
import { minWeightScalesForBias, perChannelWeightScales, perTensorSymmetricScale, INT8_MAX, INT8_MIN, type QuantParams } from '../int8/arithmetic.js';
import type { ActivationRange } from './params.js';

/** Where the floor puts the estimated requantization scale (XNNPACK refuses 256 and above). */
export const REQUANTIZATION_SCALE_TARGET = 128;

export interface RangeFloor {
  /** The weighted node whose output this is. */
  node: string;
  from: [number, number];
  to: [number, number];
  /** The requantization scale the calibrated range would have given (estimated). */
  requantization: number;
}

export interface RangeFloorOptions {
  quantOf: (node: IrNode) => OpQuant;
  /** True when the node is written in int8 with int8 input and output (XNNPACK's qs8 path). */
  isInt8: (node: IrNode) => boolean;
  perChannelFor: (node: IrNode) => boolean;
  /** Fixed parameters of model inputs (not calibrated). */
  inputParams?: Map<string, QuantParams>;
}

const INT8_STEPS = INT8_MAX - INT8_MIN;

/** The int8 scale a range gets (widened to contain 0), as chooseActivationParams computes it. */
function int8ScaleOf(r: ActivationRange): number {
  return (Math.max(r.max, 0) - Math.min(r.min, 0)) / INT8_STEPS;
}

/** The largest weight scale the plan will write for `node` (per channel or per tensor, raised for the bias). */
function largestWeightScale(graph: Graph, node: IrNode, q: OpQuant, inScale: number, perChannel: boolean): number {
  const tensorOf = (name: string) => {
    const t = graph.tensors.get(name);
    if (!t) throw new Error(`plan: unknown tensor '${name}'`);
    return t;
  };
  const layout = q.weighted!.weights(node, tensorOf);
  const channels = layout.shape[layout.axis];
  const bias = q.weighted!.bias(node, tensorOf) ?? new Float32Array(channels);
  const base = perChannel ? perChannelWeightScales(layout.data, layout.shape, layout.axis) : new Float32Array(channels).fill(perTensorSymmetricScale(layout.data));
  return Math.max(...minWeightScalesForBias(bias, inScale, base));
}

/**
 * `ranges` with the outputs of int8 weighted ops widened (about 0, keeping the zero point's place)
 * where their requantization scale would exceed the target; `floors` says which, from what, to what.
 */
export function floorRequantizationRanges(
  graph: Graph,
  ranges: Map<string, ActivationRange>,
  options: RangeFloorOptions,
): { ranges: Map<string, ActivationRange>; floors: Map<string, RangeFloor> } {
  const floors = new Map<string, RangeFloor>();
  let out = ranges;
  for (const node of graph.nodes) {
    const q = options.quantOf(node);
    if (!q.weighted || !options.isInt8(node)) continue;
    const input = node.inputs[q.weighted.input];
    const fixed = options.inputParams?.get(input);
    const inRange = ranges.get(input);
    const inScale = fixed ? fixed.scale : inRange ? int8ScaleOf(inRange) : undefined;
    const r = ranges.get(node.outputs[0]);
    // A dead output (span 0) takes [0, 1] where its parameters are chosen; a dead input needs nothing.
    if (!inScale || !r || int8ScaleOf(r) === 0) continue;
    const requantization = (inScale * largestWeightScale(graph, node, q, inScale, options.perChannelFor(node))) / int8ScaleOf(r);
    if (requantization <= REQUANTIZATION_SCALE_TARGET) continue;
    const k = requantization / REQUANTIZATION_SCALE_TARGET;
    const to: ActivationRange = { ...r, min: Math.min(r.min, 0) * k, max: Math.max(r.max, 0) * k };
    if (out === ranges) out = new Map(ranges);
    out.set(node.outputs[0], to);
    floors.set(node.outputs[0], { node: node.name, from: [r.min, r.max], to: [to.min, to.max], requantization });
  }
  return { ranges: out, floors };
}

/** The origin text of a floored range. */
export function describeFloor(f: RangeFloor): string {
  const num = (v: number) => (v === 0 ? '0' : Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4 ? v.toExponential(2) : String(Number(v.toPrecision(3))));
  const fmt = (r: [number, number]) => `[${r.map(num).join(', ')}]`;
  return `range ${fmt(f.from)} widened to ${fmt(f.to)}: ${f.node}'s requantization scale would be ${num(f.requantization)} (XNNPACK refuses >= 256)`;
}
