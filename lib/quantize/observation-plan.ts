// Which activations calibration observes, and which it derives instead (calibrate's RangeDerivation).
// Observing a tensor costs a pass over every value of it per sample; many tensors need none:
//   - exact derivations (any use of the ranges sees the same numbers): a reshape holds its input's values
//     in order, so it has its input's range for the same method; for minmax, a concatenation, a pad, a
//     transpose or a whole-factor nearest upsampling holds exactly its inputs' values (and the pad value),
//     so its extremes are theirs (ops declare this: OpQuant.outputValues). Histogram methods derive only
//     from identical values: a histogram of a reordered or enlarged tensor is subsampled differently.
//   - tensors whose parameters the plan fixes (LOGISTIC / SOFTMAX / TANH outputs in int8 or int16): their
//     range is read by nothing that reaches the file when every reader runs in the same precision (no
//     conversion), none is weighted (the requantization floor reads the input's range) or ties it into a
//     group, no derivation reads them and, for model outputs, the output type keeps their parameters.
//     Only valid when the plan's precisions are the recipe's and the graph calibrated is the graph planned.
import { consumersOf, elementCount, type Graph, type IrNode } from '../ir/graph.js';
import { ACTIVATION_LIMITS, FIXED_OUTPUT_PARAMS, nudgedRange } from '../int8/arithmetic.js';
import type { CalibrationMethod, RangeDerivation } from '../calibrate/calibrate.js';
import type { OpQuant, Precision } from '../ops/types.js';
import type { IoType } from './plan.js';

/**
 * 'all': every activation is observed (the reference); 'exact' (default): exactly derivable ranges are
 * derived; 'plan': also the tensors whose parameters the plan fixes are not observed.
 */
export type ObserveMode = 'all' | 'exact' | 'plan';

export const OBSERVE_MODES: readonly ObserveMode[] = ['all', 'exact', 'plan'];

export interface ObservationOptions {
  mode: ObserveMode;
  quantOf: (node: IrNode) => OpQuant;
  methodOf: (tensor: string) => CalibrationMethod;
  /** The precision the plan writes each node in (read in 'plan' mode only). */
  precisionOf: (node: IrNode) => Precision;
  /** The type the plan writes model outputs as (unknown: model outputs are observed). */
  outputType?: IoType;
}

/** The derivations calibration uses instead of observing, for the activations listed. */
export function rangeDerivations(graph: Graph, activations: readonly string[], options: ObservationOptions): Map<string, RangeDerivation> {
  if (!OBSERVE_MODES.includes(options.mode)) throw new Error(`calibration: observe must be one of ${OBSERVE_MODES.join(', ')}, got '${String(options.mode)}'`);
  const derived = new Map<string, RangeDerivation>();
  if (options.mode === 'all') return derived;
  const listed = new Set(activations);
  for (const node of graph.nodes) {
    const out = node.outputs[0];
    if (node.outputs.length !== 1 || !listed.has(out)) continue;
    const d = exactDerivation(graph, node, listed, options);
    if (d) derived.set(out, d);
  }
  if (options.mode === 'plan') for (const [t, d] of fixedByPlan(graph, listed, derived, options)) derived.set(t, d);
  return derived;
}

/** Every dimension known and positive (an empty tensor is observed: it is cheap and its range is special). */
function nonEmpty(shape: readonly number[]): boolean {
  return shape.every((d) => Number.isInteger(d) && d > 0) && elementCount(shape) > 0;
}

/** The derivation of one node's output from what the op says it holds, when exact for the output's method. */
function exactDerivation(graph: Graph, node: IrNode, listed: ReadonlySet<string>, options: ObservationOptions): RangeDerivation | undefined {
  const rule = options.quantOf(node).outputValues;
  if (!rule) return undefined;
  const shapeOf = (t: string) => graph.tensors.get(t)?.shape;
  const inputs = node.inputs.map(shapeOf);
  const outputs = node.outputs.map(shapeOf);
  if (![...inputs, ...outputs].every((s) => s !== undefined && nonEmpty(s))) return undefined;
  const values = rule(node, { inputs: inputs as number[][], outputs: outputs as number[][] });
  if (!values) return undefined;
  const out = node.outputs[0];
  const method = options.methodOf(out);
  if (values.kind === 'same-order') {
    const x = node.inputs[0];
    const sameOrMinmax = method === options.methodOf(x) || method === 'minmax';
    return listed.has(x) && sameOrMinmax && elementCount(inputs[0]!) === elementCount(outputs[0]!) ? { kind: 'same-values', of: x } : undefined;
  }
  if (method !== 'minmax') return undefined;
  const of: string[] = [];
  const constants: number[] = [...values.values];
  for (const t of values.inputs) {
    const data = graph.tensors.get(t)?.data;
    if (data) constants.push(...extremesOf(data));
    else if (listed.has(t)) of.push(t);
    else return undefined; // the model input is not observed
  }
  return { kind: 'extremes', of, values: constants };
}

/** Smallest and largest value of a constant. */
function extremesOf(data: ArrayLike<number | bigint>): number[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return data.length ? [lo, hi] : [];
}

/**
 * Whether a reader leaves a fixed tensor's range unread: same precision (no conversion), not weighted
 * (the requantization floor reads a weighted op's input range) and not tying it into a group (a group's
 * range is the union of its members': a model output in it could be converted with it).
 */
function readsWithoutRange(reader: OpQuant, readerPrecision: Precision, precision: Precision): boolean {
  return readerPrecision === precision && !reader.weighted && (reader.rule.output === 'calibrated' || reader.rule.output === 'fixed');
}

/**
 * Whether a model output in `precision` is written without reading its range: in its own type, as
 * float (DEQUANTIZE) or int8 as uint8 (the zero point shifted); any other conversion chooses new
 * parameters from the range.
 */
function outputKeepsParams(precision: Precision, outputType: IoType | undefined): boolean {
  return outputType === precision || outputType === 'float32' || (outputType === 'uint8' && precision === 'int8');
}

/** Outputs whose parameters the plan fixes and whose range nothing that reaches the file reads (file header). */
function fixedByPlan(graph: Graph, listed: ReadonlySet<string>, derived: ReadonlyMap<string, RangeDerivation>, options: ObservationOptions): Map<string, RangeDerivation> {
  const sources = new Set<string>();
  for (const d of derived.values()) if (d.kind === 'same-values') sources.add(d.of);
  else if (d.kind === 'extremes') for (const t of d.of) sources.add(t);
  const readers = consumersOf(graph);
  const given = new Map<string, RangeDerivation>();
  for (const node of graph.nodes) {
    const rule = options.quantOf(node).rule;
    const precision = options.precisionOf(node);
    if (rule.output !== 'fixed' || precision === 'float') continue;
    const params = FIXED_OUTPUT_PARAMS[rule.op][precision];
    if (!params) continue;
    const range = nudgedRange(params, ACTIVATION_LIMITS[precision]);
    for (const t of node.outputs) {
      if (!listed.has(t) || derived.has(t) || sources.has(t)) continue;
      if (graph.outputs.includes(t) && !outputKeepsParams(precision, options.outputType)) continue;
      const rs = readers.get(t) ?? [];
      if (!rs.every((r) => readsWithoutRange(options.quantOf(r), options.precisionOf(r), precision))) continue;
      given.set(t, { kind: 'given', min: range.min, max: range.max, why: `${rule.op} ${precision} output: parameters fixed by the op` });
    }
  }
  return given;
}
