// Chooses the int8 (scale, zero point) of every activation tensor of a graph.
//
// The TFLite int8 kernels constrain some tensors to share parameters (MAX_POOL_2D, RESHAPE, PAD,
// ... copy values, so output = input), fix others (LOGISTIC out = 1/256, -128) and let CONCATENATION
// avoid requantization when all its inputs and its output share one set. We solve this as groups
// (union-find) of tensors that must share parameters; a group's range is the union of its members'
// calibrated ranges. A member whose parameters are fixed elsewhere (a sigmoid output, the model
// input) and disagree with its group is split off, and the writer inserts a requantizing QUANTIZE op.
import type { Graph, IrNode } from '../graph/ir.js';
import { chooseActivationParams } from './math.js';
import type { QuantRule } from './rules.js';

export interface QParams {
  scale: number;
  zeroPoint: number;
}

export interface ActivationRange {
  min: number;
  max: number;
}

export interface ParamAssignment {
  params: Map<string, QParams>;
  /** Tensors whose value must be requantized before `consumer` reads it: consumer input -> params it needs. */
  requantize: { tensor: string; consumer: string; inputIndex: number; params: QParams }[];
  /** Group id per tensor (for the report). */
  group: Map<string, number>;
  notes: string[];
}

class UnionFind {
  private parent = new Map<string, string>();
  find(x: string): string {
    let p = this.parent.get(x) ?? x;
    if (p !== x) {
      p = this.find(p);
      this.parent.set(x, p);
    }
    return p;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    // Deterministic root: the lexicographically smaller name.
    if (ra === rb) return;
    if (ra < rb) this.parent.set(rb, ra);
    else this.parent.set(ra, rb);
  }
}

export interface AssignOptions {
  /** Fixed parameters for given tensors (e.g. the model input: scale 1/255, zero point -128). */
  fixed?: Map<string, QParams>;
  ruleOf: (node: IrNode) => QuantRule;
}

function sameParams(a: QParams, b: QParams): boolean {
  return a.zeroPoint === b.zeroPoint && Math.abs(a.scale - b.scale) <= 1e-9 * Math.max(a.scale, b.scale);
}

export function assignActivationParams(
  graph: Graph,
  ranges: Map<string, ActivationRange>,
  options: AssignOptions,
): ParamAssignment {
  const uf = new UnionFind();
  const fixed = new Map<string, QParams>(options.fixed ?? []);
  const notes: string[] = [];
  const isActivation = (name: string) => !graph.tensors.get(name)?.data;
  // Edges that may be requantized instead of tied when the tie conflicts with fixed parameters.
  const softTies: { node: IrNode; inputIndex: number; tensor: string }[] = [];

  for (const node of graph.nodes) {
    const rule = options.ruleOf(node);
    const out = node.outputs;
    switch (rule.output) {
      case 'fixed':
        for (const o of out) fixed.set(o, { scale: rule.scale, zeroPoint: rule.zeroPoint });
        break;
      case 'same-as-input': {
        const x = node.inputs[0];
        if (isActivation(x)) for (const o of out) uf.union(x, o);
        break;
      }
      case 'shared':
        // Concat: inputs that are activations share the output's parameters where possible.
        node.inputs.forEach((x, i) => {
          if (!isActivation(x)) return;
          softTies.push({ node, inputIndex: i, tensor: x });
          uf.union(x, out[0]);
        });
        break;
      default:
        break;
    }
  }

  // Group members.
  const members = new Map<string, string[]>();
  const activationNames = new Set<string>();
  for (const n of graph.nodes) for (const t of [...n.inputs, ...n.outputs]) if (isActivation(t)) activationNames.add(t);
  for (const t of graph.inputs) activationNames.add(t);
  for (const t of [...activationNames].sort()) {
    const r = uf.find(t);
    const list = members.get(r);
    if (list) list.push(t);
    else members.set(r, [t]);
  }

  // A group with two different fixed members cannot be tied: split the soft ties that join them.
  const requantize: ParamAssignment['requantize'] = [];
  const params = new Map<string, QParams>();
  const group = new Map<string, number>();
  let gid = 0;
  const conflicted = new Set<string>();
  for (const [root, list] of members) {
    const fixedHere = list.filter((t) => fixed.has(t));
    const distinct: QParams[] = [];
    for (const t of fixedHere) if (!distinct.some((p) => sameParams(p, fixed.get(t)!))) distinct.push(fixed.get(t)!);
    if (distinct.length > 1) conflicted.add(root);
    else if (distinct.length === 1) {
      // A fixed member clips every other member to its representable range: only acceptable when
      // their calibrated values fit in it (within one step).
      const f = distinct[0];
      const lo = f.scale * (-128 - f.zeroPoint) - f.scale;
      const hi = f.scale * (127 - f.zeroPoint) + f.scale;
      for (const t of list) {
        const r = ranges.get(t);
        if (!fixed.has(t) && r && (r.min < lo || r.max > hi)) conflicted.add(root);
      }
    }
  }

  if (conflicted.size > 0) {
    // Rebuild the union-find without the soft (concat) ties of conflicted groups; those edges are
    // requantized. Hard ties (same-as-input ops) are kept: such ops cannot requantize.
    const uf2 = new UnionFind();
    for (const node of graph.nodes) {
      const rule = options.ruleOf(node);
      if (rule.output === 'same-as-input' && isActivation(node.inputs[0])) for (const o of node.outputs) uf2.union(node.inputs[0], o);
    }
    for (const tie of softTies) {
      if (conflicted.has(uf.find(tie.tensor))) continue;
      uf2.union(tie.tensor, tie.node.outputs[0]);
    }
    for (const tie of softTies) {
      if (!conflicted.has(uf.find(tie.tensor))) continue;
      requantize.push({ tensor: tie.tensor, consumer: tie.node.name, inputIndex: tie.inputIndex, params: { scale: 0, zeroPoint: 0 } });
      notes.push(`${tie.node.name}: input '${tie.tensor}' is requantized (its parameters are fixed elsewhere)`);
    }
    members.clear();
    for (const t of [...activationNames].sort()) {
      const r = uf2.find(t);
      const list = members.get(r);
      if (list) list.push(t);
      else members.set(r, [t]);
    }
  }

  for (const [, list] of members) {
    gid++;
    const fixedHere = list.find((t) => fixed.has(t));
    let p: QParams;
    if (fixedHere) {
      p = fixed.get(fixedHere)!;
      const others = list.filter((t) => fixed.has(t) && !sameParams(fixed.get(t)!, p));
      if (others.length) {
        throw new Error(
          `quantize: tensors ${[fixedHere, ...others].join(', ')} must share int8 parameters (same-scale ops) but have different fixed parameters`,
        );
      }
    } else {
      let min = Infinity;
      let max = -Infinity;
      for (const t of list) {
        const r = ranges.get(t);
        if (!r) continue;
        min = Math.min(min, r.min);
        max = Math.max(max, r.max);
      }
      if (min === Infinity) {
        throw new Error(`quantize: no calibrated range for tensor(s) ${list.slice(0, 5).join(', ')}`);
      }
      p = chooseActivationParams(min, max);
    }
    for (const t of list) {
      params.set(t, p);
      group.set(t, gid);
    }
  }

  // Each requantized concat input gets the concat output's parameters on the new edge.
  for (const r of requantize) {
    const consumer = graph.nodes.find((n) => n.name === r.consumer)!;
    r.params = params.get(consumer.outputs[0])!;
  }
  return { params, requantize, group, notes };
}
