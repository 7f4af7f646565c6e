// The YOLOv5 detect head, treated deliberately.
//
// The official TFLite export quantizes the whole head: box decode (sigmoid*2-0.5+grid)*stride,
// (2*sigmoid)^2*anchor, then one Concat into a single [1,N,5+nc] tensor with ONE int8 scale for
// boxes and scores alike - a step of ~1/223 of the image (2.9 px at 640) on every box coordinate.
// Instead we end the int8 graph at the per-level sigmoid outputs (fixed int8 scale 1/256) and leave
// the box decode - cheap, elementwise, and precision-critical - to float post-processing, described
// by a YoloHeadSpec stored in the model's metadata.
//
// We do not pattern-match the exporter's node names. We find the last convolutions feeding the
// output, then *probe* the original float head with chosen conv outputs and read the decode
// parameters off its answers (sigmoid = 0.5 gives wh = anchor and xy = (cell + 0.5) * stride). A
// third probe with random values checks that the YOLOv5 decode formula reproduces the head exactly;
// if it does not (another head design), the caller falls back to quantizing the head as it is.
import type { Graph, IrNode, IrTensor } from '../graph/ir.js';
import { elementCount, producersOf } from '../graph/ir.js';

import { decodeYoloHead, type YoloHeadLevel, type YoloHeadSpec } from '../yolo/head.js';

export type { YoloHeadSpec };

/** Ops a YOLOv5 head uses between the detect convs and the [1,N,5+nc] output. */
const HEAD_OPS = new Set([
  'Reshape', 'StridedSlice', 'Slice', 'Sigmoid', 'Mul', 'Add', 'Sub', 'Square', 'Concat', 'Transpose', 'Split',
  'Pow', 'RealDiv', 'Div', 'ExpandDims', 'Squeeze', 'Pack',
]);

export interface HeadCandidate {
  /** The detect conv outputs, in the order their rows appear in the head output. */
  convOutputs: string[];
  /** Nodes strictly after the convs that compute the head output. */
  headNodes: IrNode[];
  output: string;
  numClasses: number;
  anchorsPerCell: number;
}

/**
 * Finds a YOLOv5-style head: a single graph output [1, N, 5+nc] computed only by elementwise/shape
 * ops from the outputs of conv nodes whose channel count is A*(5+nc).
 */
export function findYoloHead(graph: Graph): HeadCandidate | undefined {
  if (graph.outputs.length !== 1) return undefined;
  const output = graph.outputs[0];
  const outT = graph.tensors.get(output);
  if (!outT || outT.shape.length !== 3 || outT.shape[0] !== 1 || outT.shape[2] < 6) return undefined;
  const no = outT.shape[2];
  const producers = producersOf(graph);
  const headNodeSet = new Set<IrNode>();
  const convOutputs: string[] = [];
  const visit = (tensor: string): boolean => {
    const t = graph.tensors.get(tensor);
    if (t?.data) return true; // constant
    const p = producers.get(tensor);
    if (!p) return false; // reached a graph input: not a head
    if (p.op === 'Conv2D') {
      if (!convOutputs.includes(tensor)) convOutputs.push(tensor);
      return true;
    }
    if (!HEAD_OPS.has(p.op)) return false;
    if (headNodeSet.has(p)) return true;
    headNodeSet.add(p);
    return p.inputs.every(visit);
  };
  if (!visit(output) || convOutputs.length === 0) return undefined;
  let anchorsPerCell = 0;
  let total = 0;
  for (const c of convOutputs) {
    const s = graph.tensors.get(c)!.shape;
    if (s.length !== 4 || s[3] % no !== 0) return undefined;
    const a = s[3] / no;
    if (anchorsPerCell && a !== anchorsPerCell) return undefined;
    anchorsPerCell = a;
    total += s[1] * s[2] * a;
  }
  if (total !== outT.shape[1]) return undefined;
  // Head nodes in graph (topological) order.
  const headNodes = graph.nodes.filter((n) => headNodeSet.has(n));
  return { convOutputs, headNodes, output, numClasses: no - 5, anchorsPerCell };
}

/** The head as its own graph: inputs = the conv outputs, output = the head output. */
export function headSubgraph(graph: Graph, head: HeadCandidate): Graph {
  const tensors = new Map<string, IrTensor>();
  for (const n of head.headNodes) for (const name of [...n.inputs, ...n.outputs]) tensors.set(name, graph.tensors.get(name)!);
  return {
    tensors,
    nodes: head.headNodes,
    inputs: head.convOutputs,
    outputs: [head.output],
    meta: { source: graph.meta.source, format: 'built', notes: ['YOLO head sub-graph'] },
  };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export type HeadRunner = (convValues: Record<string, Float32Array>) => Promise<Float32Array>;

/**
 * Reads the decode parameters off the float head by probing it, and verifies the YOLOv5 formula.
 * Returns undefined when the head does not follow it (the caller then keeps the head as it is).
 */
export async function probeYoloHead(
  graph: Graph,
  head: HeadCandidate,
  runHead: HeadRunner,
  inputSize: [number, number],
): Promise<{ spec: YoloHeadSpec; maxError: number } | undefined> {
  const no = head.numClasses + 5;
  const na = head.anchorsPerCell;
  const zeros: Record<string, Float32Array> = {};
  for (const c of head.convOutputs) zeros[c] = new Float32Array(elementCount(graph.tensors.get(c)!.shape));
  const atHalf = await runHead(zeros);
  // Levels appear in the output in some order; find each level's row offset by probing it alone.
  const levels: YoloHeadLevel[] = [];
  const rowOffsets: number[] = [];
  for (const c of head.convOutputs) {
    const probe: Record<string, Float32Array> = { ...zeros, [c]: new Float32Array(zeros[c].length).fill(3) };
    const out = await runHead(probe);
    let first = -1;
    for (let i = 0; i < out.length; i++) {
      if (Math.abs(out[i] - atHalf[i]) > 1e-6) {
        first = Math.floor(i / no);
        break;
      }
    }
    if (first < 0) return undefined;
    rowOffsets.push(first);
  }
  const order = head.convOutputs.map((c, i) => ({ c, off: rowOffsets[i] })).sort((a, b) => a.off - b.off);
  let expectedOffset = 0;
  let normalized: boolean | undefined;
  for (const { c, off } of order) {
    const [, gh, gw] = graph.tensors.get(c)!.shape;
    if (off !== expectedOffset) return undefined;
    expectedOffset += gh * gw * na;
    // sigmoid(0) = 0.5: cx = (x + 0.5) * stride, w = anchor.
    const row = (cell: number, a: number) => (off + cell * na + a) * no;
    const cx0 = atHalf[row(0, 0)];
    const cx1 = gw > 1 ? atHalf[row(1, 0)] : cx0 * 3;
    let stride = cx1 - cx0;
    // Normalised boxes: the grid spans the whole input (stride * gridW = 1). The tolerance allows for
    // exports whose constants are FP16-rounded (1/640 in FP16 gives stride 7.998 px, not 8).
    const isNorm = Math.abs(stride * gw - 1) < 0.01;
    if (normalized === undefined) normalized = isNorm;
    else if (normalized !== isNorm) return undefined;
    const sx = normalized ? inputSize[1] : 1;
    const sy = normalized ? inputSize[0] : 1;
    // As the model computes it, to 1e-4 px (float32 noise removed; the verification below checks the
    // decode against the model itself, so an FP16-rounded stride of 7.998 stays 7.998).
    const round4 = (v: number) => Math.round(v * 1e4) / 1e4;
    stride = round4(stride * sx);
    const anchors: [number, number][] = [];
    for (let a = 0; a < na; a++) {
      anchors.push([round4(atHalf[row(0, a) + 2] * sx), round4(atHalf[row(0, a) + 3] * sy)]);
    }
    levels.push({ output: c, stride, gridH: gh, gridW: gw, anchors });
  }
  const spec: YoloHeadSpec = {
    kind: 'yolov5-sigmoid-levels',
    inputSize,
    numClasses: head.numClasses,
    normalized: normalized ?? false,
    levels,
  };
  // Verification: random logits through the real head vs the formula.
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 4294967296;
  };
  const randomIn: Record<string, Float32Array> = {};
  const sig: Float32Array[] = [];
  for (const l of levels) {
    const a = new Float32Array(zeros[l.output].length);
    for (let i = 0; i < a.length; i++) a[i] = rand() * 12 - 6;
    randomIn[l.output] = a;
    sig.push(a.map(sigmoid));
  }
  const real = await runHead(randomIn);
  const mine = decodeYoloHead(spec, sig);
  let maxError = 0;
  const scale = normalized ? 1 : Math.max(inputSize[0], inputSize[1]);
  for (let i = 0; i < real.length; i++) maxError = Math.max(maxError, Math.abs(real[i] - mine[i]) / (i % no < 4 ? scale : 1));
  if (!(maxError < 1e-4)) return undefined;
  return { spec, maxError };
}

/**
 * Rewrites the graph so it ends at per-level Sigmoid(conv) outputs: the head nodes are dropped and
 * one Sigmoid node per detect conv becomes a graph output (same memory layout as the head's rows).
 */
export function cutAtSigmoidLevels(graph: Graph, spec: YoloHeadSpec, head: HeadCandidate): { graph: Graph; spec: YoloHeadSpec } {
  const headSet = new Set(head.headNodes);
  const nodes = graph.nodes.filter((n) => !headSet.has(n));
  const tensors = new Map(graph.tensors);
  const used = new Set<string>();
  for (const n of nodes) for (const i of n.inputs) used.add(i);
  const levels: YoloHeadLevel[] = [];
  const outputs: string[] = [];
  spec.levels.forEach((l, i) => {
    const conv = graph.tensors.get(l.output)!;
    const name = `yolo_head/level${i}_sigmoid`;
    tensors.set(name, { name, shape: [...conv.shape], dtype: 'float32' });
    nodes.push({ name, op: 'Sigmoid', inputs: [l.output], outputs: [name], attrs: {} });
    outputs.push(name);
    levels.push({ ...l, output: name });
  });
  // Drop tensors only the head used.
  const live = new Set<string>();
  for (const n of nodes) for (const t of [...n.inputs, ...n.outputs]) live.add(t);
  for (const i of graph.inputs) live.add(i);
  for (const name of [...tensors.keys()]) if (!live.has(name)) tensors.delete(name);
  return {
    graph: {
      ...graph,
      tensors,
      nodes,
      outputs,
      meta: {
        ...graph.meta,
        notes: [
          ...graph.meta.notes,
          `YOLO head: the int8 model ends at ${levels.length} per-level sigmoid outputs; the box decode runs in float (metadata 'yolo_int8_head')`,
        ],
      },
    },
    spec: { ...spec, levels },
  };
}
