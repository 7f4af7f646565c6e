// Incremental graph construction shared by the importers: every emitted node gets its output shapes
// from the op registry right away (so importers can resolve -1s, masks and axes against static
// shapes), and nodes whose inputs are all constants are evaluated at once (import-time folding).
import type { AttrValue, Graph, IrData, IrDType, IrNode, IrTensor } from '../ir/graph.js';
import { getOpDef } from '../ops/registry.js';
import { evaluateConstantNode } from './tf-eval.js';
import { checkShape } from '../util/validate.js';

export class GraphBuilder {
  readonly tensors = new Map<string, IrTensor>();
  readonly nodes: IrNode[] = [];
  readonly inputs: string[] = [];
  /** Fold nodes with only constant inputs into constants while building. */
  foldConstants = true;
  /** Inputs the source declares as integers (see Graph['meta'].integerInputs). */
  readonly integerInputs: Record<string, 'uint8' | 'int32'> = {};

  constructor(readonly label: string) {}

  addInput(name: string, shape: number[], dtype: IrDType = 'float32'): string {
    shape = checkShape(shape, `${this.label}: input '${name}'`);
    this.tensors.set(name, { name, shape, dtype });
    this.inputs.push(name);
    return name;
  }

  addConstant(name: string, shape: number[], dtype: IrDType, data: IrData): string {
    shape = checkShape(shape, `${this.label}: constant '${name}'`);
    if (data.length !== shape.reduce((a, b) => a * b, 1)) {
      throw new Error(`${this.label}: constant '${name}' has ${data.length} values for shape [${shape}]`);
    }
    this.tensors.set(name, { name, shape, dtype, data });
    return name;
  }

  /** A fresh tensor name derived from `base` (for constants and helper nodes the importer invents). */
  uniqueName(base: string): string {
    if (!this.tensors.has(base) && !this.nodes.some((n) => n.name === base)) return base;
    for (let i = 1; ; i++) if (!this.tensors.has(`${base}_${i}`)) return `${base}_${i}`;
  }

  tensor(name: string): IrTensor {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`${this.label}: tensor '${name}' is not defined (yet)`);
    return t;
  }

  isConstant(name: string): boolean {
    return this.tensors.get(name)?.data !== undefined;
  }

  /** Adds a node (or its folded constant outputs) and returns its output tensor names. */
  emit(name: string, op: string, inputs: string[], attrs: Record<string, AttrValue>, outputs: string[] = [name]): string[] {
    const def = getOpDef(op);
    const ins = inputs.map((i) => this.tensor(i));
    let shapes: number[][];
    try {
      if (def.normalizeAttrs) attrs = def.normalizeAttrs(ins, attrs);
      shapes = def.inferShapes(ins, attrs);
    } catch (e) {
      throw new Error(`${this.label}: node '${name}' (${op}): ${(e as Error).message}`);
    }
    // Attributes (reshape targets, paddings, resize sizes) come from the file: refuse absurd results
    // here, before the executor or the constant folder allocates them.
    shapes = shapes.map((sh, k) => checkShape(sh, `${this.label}: node '${name}' (${op}) output '${outputs[k] ?? k}'`));
    if (shapes.length !== outputs.length) {
      throw new Error(`${this.label}: node '${name}' (${op}) produces ${shapes.length} outputs, ${outputs.length} named`);
    }
    if (this.foldConstants && ins.length > 0 && ins.every((t) => t.data !== undefined)) {
      for (const t of evaluateConstantNode(op, ins, attrs, outputs)) this.tensors.set(t.name, t);
      return outputs;
    }
    // Element-wise ops keep the first input's dtype; everything in the IR's activations is float32
    // except integer tensors the source computes on (rare after folding).
    const dtype = ins[0]?.dtype ?? 'float32';
    outputs.forEach((o, k) => this.tensors.set(o, { name: o, shape: shapes[k], dtype }));
    this.nodes.push({ name, op, inputs, outputs, attrs });
    return outputs;
  }

  /** Finishes the graph; keeps only tensors that are used. */
  build(outputs: string[], meta: Graph['meta']): Graph {
    for (const o of outputs) this.tensor(o);
    const used = new Set<string>([...this.inputs, ...outputs]);
    for (const n of this.nodes) for (const t of [...n.inputs, ...n.outputs]) used.add(t);
    const tensors = new Map<string, IrTensor>();
    for (const [k, v] of this.tensors) if (used.has(k)) tensors.set(k, v);
    return { tensors, nodes: this.nodes, inputs: this.inputs, outputs, meta: this.withIntegerInputs(meta) };
  }

  private withIntegerInputs(meta: Graph['meta']): Graph['meta'] {
    const entries = Object.entries(this.integerInputs);
    if (entries.length === 0) return meta;
    const notes = entries.map(([name, dtype]) =>
      `input '${name}' is ${dtype} in the source: the IR input is float32 holding the same integers (pixel values 0..255 are fed as they are, not scaled to [0, 1])`);
    return { ...meta, integerInputs: { ...this.integerInputs }, notes: [...meta.notes, ...notes] };
  }
}

/**
 * Ops and their nodes as one readable list, each op once: `Bar (1 node: c), Foo (130 nodes: a, b, c, ...)`.
 * A few names per op: a model with 130 nodes of one op should still get a readable line.
 */
export function describeOpNodes(byOp: Map<string, string[]>): string {
  const shown = (names: string[]) => (names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')}, ...`);
  return [...byOp.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([op, names]) => `${op} (${names.length} node${names.length === 1 ? '' : 's'}: ${shown(names)})`)
    .join(', ');
}

/** Reports unsupported source ops in one error: `Unsupported ops in <label>: Foo (2 nodes: a, b)`. */
export function unsupportedOpsError(label: string, unsupported: Map<string, string[]>): Error {
  return new Error(`Unsupported ops in ${label}: ${describeOpNodes(unsupported)}`);
}
