// Solves the parameters of integer activation tensors as groups that must share them.
//
// The TFLite integer kernels constrain some tensors to share parameters (MAX_POOL_2D, RESHAPE, PAD,
// ... copy values, so output = input: "hard" ties that cannot be broken), fix others (LOGISTIC out
// = 1/256, -128 in int8) and require CONCATENATION / PACK inputs to have their output's parameters
// ("soft" ties: an input can be requantized instead). Groups are built with union-find: hard ties
// first, then soft ties in graph order, each accepted unless it would join two different fixed
// parameter sets or put a range into a fixed set that cannot hold it. A refused soft tie is a
// requantization of that one input (a QUANTIZE step in the plan), so Concat(conv, sigmoid) requantizes
// only the sigmoid, whose parameters are fixed elsewhere. A group's range is the union of its
// members' ranges; int8 groups are asymmetric, int16 groups symmetric (math.ts chooseParamsFor).
import type { IrNode } from '../ir/graph.js';
import { ACTIVATION_LIMITS, chooseParamsFor, type QuantDType, type QuantParams } from '../int8/arithmetic.js';
import type { QuantRule } from '../ops/types.js';

export interface ActivationRange {
  min: number;
  max: number;
}

export interface SolvedParams {
  params: Map<string, QuantParams>;
  /** The range each tensor's parameters were chosen from (its group's union). */
  groupRange: Map<string, ActivationRange>;
  /** Inputs that must be requantized before `consumer` reads them: input index -> the output's parameters. */
  requantize: { tensor: string; consumer: string; inputIndex: number; params: QuantParams }[];
  group: Map<string, number>;
  /** For members of a group whose parameters are fixed: the fixed member they share them with. */
  sharesFixed: Map<string, string>;
  notes: string[];
}

export interface SolveOptions {
  ruleOf: (node: IrNode) => QuantRule;
  /** Integer (int8/int16) activation tensors take part; float tensors do not. */
  isInteger: (tensor: string) => boolean;
  /** Constants read by shared-rule ops join their group (they are written in its parameters). */
  isSharedConstant: (tensor: string) => boolean;
  dtypeOf: (tensor: string) => QuantDType;
  rangeOf: (tensor: string) => ActivationRange | undefined;
  /** Parameters fixed by a kernel or by the model input. */
  fixed: Map<string, QuantParams>;
  /** Tensors to solve even if no node reads them (the model inputs). */
  extraTensors?: string[];
}

function sameParams(a: QuantParams, b: QuantParams): boolean {
  return a.zeroPoint === b.zeroPoint && Math.abs(a.scale - b.scale) <= 1e-9 * Math.max(a.scale, b.scale);
}

interface Component {
  fixed?: QuantParams;
  fixedBy?: string;
  min: number;
  max: number;
  dtype: QuantDType;
}

/** Whether values in [min, max] fit the range a fixed parameter set represents (within one step). */
function fits(f: QuantParams, dtype: QuantDType, min: number, max: number): boolean {
  const { qmin, qmax } = ACTIVATION_LIMITS[dtype];
  const lo = f.scale * (qmin - f.zeroPoint) - f.scale;
  const hi = f.scale * (qmax - f.zeroPoint) + f.scale;
  return !(min < lo || max > hi);
}

class Groups {
  private parent = new Map<string, string>();
  readonly comp = new Map<string, Component>();
  find(x: string): string {
    let p = this.parent.get(x) ?? x;
    if (p !== x) {
      p = this.find(p);
      this.parent.set(x, p);
    }
    return p;
  }
  add(x: string, c: Component): void {
    this.parent.set(x, x);
    this.comp.set(x, c);
  }
  /** Joins the components of a and b (deterministic root: the smaller name). */
  join(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    const [root, other] = ra < rb ? [ra, rb] : [rb, ra];
    const c = this.comp.get(root)!;
    const o = this.comp.get(other)!;
    this.parent.set(other, root);
    this.comp.delete(other);
    this.comp.set(root, {
      fixed: c.fixed ?? o.fixed,
      fixedBy: c.fixedBy ?? o.fixedBy,
      min: Math.min(c.min, o.min),
      max: Math.max(c.max, o.max),
      dtype: c.dtype,
    });
  }
  /** Whether a soft tie may join a and b. */
  compatible(a: string, b: string): boolean {
    const ca = this.comp.get(this.find(a))!;
    const cb = this.comp.get(this.find(b))!;
    if (ca.fixed && cb.fixed) return sameParams(ca.fixed, cb.fixed);
    if (ca.fixed) return fits(ca.fixed, ca.dtype, cb.min, cb.max);
    if (cb.fixed) return fits(cb.fixed, cb.dtype, ca.min, ca.max);
    return true;
  }
}

/** The integer tensors that take parameters, and the dtype of each shared constant (its reader's). */
function paramMembers(nodes: IrNode[], options: SolveOptions): { names: Set<string>; constantDType: Map<string, QuantDType> } {
  const member = (t: string) => options.isInteger(t);
  const names = new Set<string>();
  // A shared constant is written in the dtype of the op that reads it (an int16 Concat's constant is int16).
  const constantDType = new Map<string, QuantDType>();
  for (const t of options.extraTensors ?? []) if (member(t)) names.add(t);
  for (const n of nodes) {
    // Only an integer op shares parameters with its constants (a float op's constants stay float).
    const shared = options.ruleOf(n).output === 'shared' && n.outputs.some(member);
    for (const t of [...n.inputs, ...n.outputs]) {
      if (member(t)) names.add(t);
      else if (shared && options.isSharedConstant(t)) {
        names.add(t);
        constantDType.set(t, options.dtypeOf(n.outputs[0]));
      }
    }
  }
  return { names, constantDType };
}

/** Hard ties: ops that copy values. Two different fixed sets here cannot be resolved. */
function tieCopies(nodes: IrNode[], options: SolveOptions, groups: Groups): void {
  for (const n of nodes) {
    if (options.ruleOf(n).output !== 'same-as-input') continue;
    const x = n.inputs[0];
    if (!options.isInteger(x)) continue;
    for (const o of n.outputs) {
      const a = groups.comp.get(groups.find(x))!;
      const b = groups.comp.get(groups.find(o))!;
      if (a.fixed && b.fixed && !sameParams(a.fixed, b.fixed)) {
        throw new Error(`quantize: tensors ${x}, ${o} must share parameters (node '${n.name}' copies values) but have different fixed parameters`);
      }
      groups.join(x, o);
    }
  }
}

/** Soft ties: CONCATENATION / PACK inputs, in graph order; a refused one is requantized. */
function tieSharedInputs(nodes: IrNode[], options: SolveOptions, groups: Groups, names: Set<string>, notes: string[]): SolvedParams['requantize'] {
  const requantize: SolvedParams['requantize'] = [];
  for (const n of nodes) {
    if (options.ruleOf(n).output !== 'shared') continue;
    const out = n.outputs[0];
    n.inputs.forEach((x, i) => {
      if (!names.has(x)) return;
      if (options.isSharedConstant(x) || groups.compatible(x, out)) {
        groups.join(x, out);
        return;
      }
      requantize.push({ tensor: x, consumer: n.name, inputIndex: i, params: { scale: 0, zeroPoint: 0 } });
      notes.push(`${n.name}: input '${x}' is requantized (its parameters are fixed elsewhere)`);
    });
  }
  return requantize;
}

export function solveParamGroups(nodes: IrNode[], options: SolveOptions): SolvedParams {
  const notes: string[] = [];
  const { names, constantDType } = paramMembers(nodes, options);
  const groups = new Groups();
  for (const t of [...names].sort()) {
    const r = options.rangeOf(t);
    const f = options.fixed.get(t);
    groups.add(t, { fixed: f, fixedBy: f ? t : undefined, min: r?.min ?? Infinity, max: r?.max ?? -Infinity, dtype: constantDType.get(t) ?? options.dtypeOf(t) });
  }
  tieCopies(nodes, options, groups);
  const requantize = tieSharedInputs(nodes, options, groups, names, notes);

  const params = new Map<string, QuantParams>();
  const groupRange = new Map<string, ActivationRange>();
  const group = new Map<string, number>();
  const sharesFixed = new Map<string, string>();
  const rootParams = new Map<string, { p: QuantParams; r: ActivationRange; id: number; fixedBy?: string }>();
  let gid = 0;
  for (const t of [...names].sort()) {
    const root = groups.find(t);
    let g = rootParams.get(root);
    if (!g) {
      const c = groups.comp.get(root)!;
      let p: QuantParams;
      if (c.fixed) p = c.fixed;
      else {
        if (c.min === Infinity) throw new Error(`quantize: no calibrated range for tensor '${t}'`);
        p = chooseParamsFor(c.dtype, c.min, c.max);
      }
      g = { p, r: { min: c.min, max: c.max }, id: ++gid, fixedBy: c.fixedBy };
      rootParams.set(root, g);
    }
    params.set(t, g.p);
    groupRange.set(t, g.r);
    group.set(t, g.id);
    if (g.fixedBy !== undefined && g.fixedBy !== t && !options.fixed.has(t)) sharesFixed.set(t, g.fixedBy);
  }
  for (const r of requantize) {
    const consumer = nodes.find((n) => n.name === r.consumer)!;
    r.params = params.get(consumer.outputs[0])!;
  }
  return { params, groupRange, requantize, group, sharesFixed, notes };
}
