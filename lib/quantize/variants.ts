// Many precision variants of one calibrated graph, measured against the float model: what the
// sensitivity analysis and the accuracy-aware selection share. Calibration happens once (the
// CalibratedGraph); each variant is only a plan and a written file. The inputs, their quantized
// copies and the float reference outputs are computed once and reused for every variant. A task
// metric on the variants (mAP ...) is the plug-in's (plugin.ts Metric).
//
// Raising a layer: an op's output tensor is in the op's precision, and an int8 reader converts it
// back to int8 with the same int8 parameters, so raising one op alone to int16 would remove almost
// none of the error its int8 output carries. Raising a layer therefore also raises its readers to
// (at least) int16 - through data-movement ops (pad, pooling, resize, concatenation, reshapes), whose
// outputs share their input's grid - so the layer's output tensor really is int16 (or float) until it
// reaches an op with a grid of its own. Those readers are "carriers": with int16 carriers the weights
// stay int8 (16x8), so the only error removed is the layer's own.
import type { Graph, IrNode } from '../ir/graph.js';
import { consumersOf } from '../ir/graph.js';
import { TfliteRunner, type RuntimeArray } from '../runtime/index.js';
import { dequantizeOutput } from '../pipeline/quantize.js';
import { pooledSqnrLowerBoundDb, type ImageError } from '../util/stats.js';
import { runnerInputs, type ModelSample } from './dataset.js';
import { buildPlan, type IoType } from './plan.js';
import type { Precision } from '../ops/types.js';
import { calibratedRangeOf, planFor, quantOf, supportedPrecision, writePlan, type CalibratedGraph, type RangeOf } from './stages.js';
import type { RecipeResolver } from './recipe.js';
import { splitCalibrated, type PartialRanges } from './split-weights.js';

const ORDER: Record<Precision, number> = { int8: 0, int16: 1, float: 2 };

function higher(a: Precision, b: Precision): Precision {
  return ORDER[a] >= ORDER[b] ? a : b;
}

/** The precisions an op can be written in (its TFLite kernels). */
export function kernelPrecisions(n: IrNode): readonly Precision[] {
  return quantOf(n).precisions ?? ['int8', 'int16', 'float'];
}

/**
 * The layers of a graph for sensitivity: ops that round something of their own - weighted ops and
 * ops whose output has its own parameters (calibrated or fixed by the kernel). Data-movement ops and
 * concatenations (whose outputs share their inputs' parameters) are not layers: they carry a layer's
 * grid, they do not add one.
 */
export function sensitivityLayers(graph: Graph): IrNode[] {
  return graph.nodes.filter((n) => {
    const q = quantOf(n);
    return q.weighted !== undefined || q.rule.output === 'calibrated' || q.rule.output === 'fixed';
  });
}

/** The readers that must be raised with `node` for its output tensor to stay in the raised precision. */
export function carriersOf(graph: Graph, node: IrNode, consumers = consumersOf(graph)): IrNode[] {
  const out: IrNode[] = [];
  const seen = new Set<string>();
  const queue = [...node.outputs];
  while (queue.length) {
    const t = queue.shift()!;
    for (const c of consumers.get(t) ?? []) {
      if (seen.has(c.name)) continue;
      seen.add(c.name);
      out.push(c);
      const rule = quantOf(c).rule.output;
      // Data movement and concatenation keep their input's grid: the tensor goes on through them.
      if (rule === 'same-as-input' || rule === 'shared') queue.push(...c.outputs);
    }
  }
  return out;
}

/**
 * The precision of every node when `raised` layers are raised (with their carriers) on top of `base`.
 * A carrier without an int16 kernel goes to float (`carrierFallback` 'float', the default) or stays
 * int8 ('int8': the raised tensor is converted back to int8 at that reader, and the model stays
 * full-integer).
 */
export function raisedPrecisions(
  graph: Graph,
  base: (n: IrNode) => Precision,
  raised: Map<string, Precision>,
  carrierFallback: 'float' | 'int8' = 'float',
): Map<string, Precision> {
  const p = new Map<string, Precision>();
  for (const n of graph.nodes) p.set(n.name, base(n));
  const consumers = consumersOf(graph);
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  for (const [name, to] of raised) {
    const n = byName.get(name);
    if (!n) throw new Error(`precision variant: '${name}' is not a node of the graph`);
    if (!kernelPrecisions(n).includes(to)) throw new Error(`precision variant: node '${name}' (${n.op}) cannot be written in ${to} (its op supports ${kernelPrecisions(n).join(', ')})`);
    p.set(name, higher(p.get(name)!, to));
    for (const c of carriersOf(graph, n, consumers)) {
      const want: Precision = kernelPrecisions(c).includes('int16') ? 'int16' : carrierFallback;
      p.set(c.name, higher(p.get(c.name)!, want));
    }
  }
  return p;
}

/** Signal and noise power of one model's outputs against the float reference, summed over all outputs and inputs. */
export interface OutputError {
  signal: number;
  noise: number;
  /** 10 log10(signal / noise); Infinity when the outputs are identical. */
  sqnrDb: number;
  /**
   * The lowest SQNR of any one output (each output's own signal / noise): a target on "every output"
   * reads this, since the pooled sqnrDb is dominated by the output with the largest values.
   */
  worstSqnrDb: number;
  /**
   * Per output, the lower of its pooled SQNR and pooledSqnrLowerBoundDb of its per-image errors (what
   * images not measured would likely give); the lowest over outputs. accuracy.minSqnrDb selects on it.
   */
  worstSqnrBoundDb: number;
}

export function sqnrDb(signal: number, noise: number): number {
  return noise > 0 ? 10 * Math.log10(signal / noise) : Infinity;
}

export interface VariantSessionOptions {
  inputType?: IoType;
  outputType?: IoType;
  inputRange?: [number, number];
  /** int16 tensors' range = observed range x this (stages.ts PlanForOptions.int16Headroom). */
  int16Headroom?: number;
}

/**
 * One calibrated graph, its float reference and a set of inputs: writes precision variants and
 * measures their outputs' SQNR against the float model on those inputs (all in LiteRT).
 */
export class VariantSession {
  readonly graph: Graph;
  private reference: Float32Array[][] = [];
  private signal = 0;
  /** Per output: sum of squares of the float reference over the inputs. */
  private outputSignal: number[] = [];
  /** Per input, per output: sum of squares of the float reference. */
  private imageSignal: number[][] = [];
  private quantizedInputs = new Map<string, RuntimeArray[][]>();
  readonly floatTflite: Uint8Array;
  /** The split layers' partial-sum ranges observed on calibration inputs (split-weights.ts), once observed. */
  splitRanges?: PartialRanges;
  /** The calibrated ranges a node's precisions may depend on (stages.ts nodePrecisions). */
  private readonly rangeOf: RangeOf;

  private constructor(
    readonly cal: CalibratedGraph,
    readonly recipe: RecipeResolver,
    readonly inputs: ModelSample[],
    readonly options: VariantSessionOptions,
  ) {
    this.graph = cal.graph;
    this.rangeOf = calibratedRangeOf(cal);
    const plan = buildPlan(cal.graph, new Map(), { mode: 'float', quantOf });
    this.floatTflite = writePlan(cal.graph, plan, { metadata: cal.fileMetadata, description: 'yolo-int8 float32 reference', where: 'float reference' });
  }

  /** Runs the float reference (the same graph written as float32, in LiteRT) on the inputs once. */
  static async create(cal: CalibratedGraph, recipe: RecipeResolver, inputs: ModelSample[], options: VariantSessionOptions = {}): Promise<VariantSession> {
    if (inputs.length === 0) throw new Error('precision variants: no inputs to measure the output error on');
    const s = new VariantSession(cal, recipe, inputs, options);
    const runner = await TfliteRunner.load(s.floatTflite, { label: 'float reference' });
    try {
      for (const x of inputs) {
        const outs = await runner.run(runnerInputs(x, runner.inputs));
        const deq = outs.map((o, k) => dequantizeOutput(o, runner.outputs[k]));
        const imageSignal: number[] = [];
        deq.forEach((o, k) => {
          let sum = 0;
          for (let i = 0; i < o.length; i++) sum += o[i] * o[i];
          s.signal += sum;
          s.outputSignal[k] = (s.outputSignal[k] ?? 0) + sum;
          imageSignal.push(sum);
        });
        s.reference.push(deq);
        s.imageSignal.push(imageSignal);
      }
    } finally {
      runner.dispose();
    }
    return s;
  }

  /** The recipe's precision of a node (what the unraised model uses). */
  basePrecision(n: IrNode): Precision {
    return supportedPrecision(n, this.recipe.precisionFor(n), this.rangeOf);
  }

  /**
   * Writes the model with every node in the given precision (the plan is checked only when `check`);
   * the `split` nodes with split weights (split-weights.ts; their three nodes in the node's precision).
   */
  write(precisions: Map<string, Precision>, check = false, split: ReadonlySet<string> = new Set()): Uint8Array {
    const { cal, originOf } = split.size ? splitCalibrated(this.cal, split, this.splitRanges) : { cal: this.cal, originOf: new Map<string, string>() };
    const plan = planFor(cal, this.recipe, {
      precisionOf: (n) => precisions.get(originOf.get(n.name) ?? n.name) ?? this.basePrecision(n),
      inputType: this.options.inputType,
      outputType: this.options.outputType,
      inputRange: this.options.inputRange,
      int16Headroom: this.options.int16Headroom,
    });
    const s = summarize(precisions);
    return writePlan(cal.graph, plan, {
      metadata: this.cal.fileMetadata,
      description: s.int16 === 0 && s.float === 0 ? 'yolo-int8 full-integer quantization' : `yolo-int8 mixed precision (${s.int8} int8, ${s.int16} int16, ${s.float} float ops${split.size ? `, ${split.size} with split weights` : ''})`,
      where: 'precision variant',
      check,
    });
  }

  /** Output error of a written variant against the float reference on the session's inputs. */
  async outputError(tflite: Uint8Array): Promise<OutputError> {
    const runner = await TfliteRunner.load(tflite, { label: 'precision variant' });
    try {
      // Variants share their inputs' parameters more often than not: quantize each input set once.
      const key = runner.inputs.map((d) => `${d.dtype}:${d.scale}:${d.zeroPoint}`).join(' ');
      let qin = this.quantizedInputs.get(key);
      if (!qin) this.quantizedInputs.set(key, (qin = this.inputs.map((x) => runnerInputs(x, runner.inputs))));
      if (runner.outputs.length !== this.reference[0].length) {
        throw new Error(`precision variant: ${runner.outputs.length} outputs, the float reference has ${this.reference[0].length}`);
      }
      const outputNoise = this.reference[0].map(() => 0);
      /** [output][image] signal and noise. */
      const perImage: ImageError[][] = this.reference[0].map(() => []);
      for (let j = 0; j < qin.length; j++) {
        const outs = await runner.run(qin[j]);
        outs.forEach((o, k) => {
          const got = dequantizeOutput(o, runner.outputs[k]);
          const ref = this.reference[j][k];
          if (got.length !== ref.length) throw new Error(`precision variant: output ${k} has ${got.length} values, the float reference ${ref.length}`);
          let noise = 0;
          for (let i = 0; i < ref.length; i++) {
            const e = got[i] - ref[i];
            noise += e * e;
          }
          outputNoise[k] += noise;
          perImage[k].push({ signal: this.imageSignal[j][k], noise });
        });
      }
      const noise = outputNoise.reduce((a, b) => a + b, 0);
      const pooled = outputNoise.map((n, k) => sqnrDb(this.outputSignal[k], n));
      const worstSqnrDb = Math.min(...pooled);
      const worstSqnrBoundDb = Math.min(...pooled.map((db, k) => Math.min(db, pooledSqnrLowerBoundDb(perImage[k]))));
      return { signal: this.signal, noise, sqnrDb: sqnrDb(this.signal, noise), worstSqnrDb, worstSqnrBoundDb };
    } finally {
      runner.dispose();
    }
  }
}

export function summarize(p: Map<string, Precision>): Record<Precision, number> {
  const s: Record<Precision, number> = { int8: 0, int16: 0, float: 0 };
  for (const v of p.values()) s[v]++;
  return s;
}
