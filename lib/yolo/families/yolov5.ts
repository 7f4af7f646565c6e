// The YOLOv5 detect head (anchor-based, objectness), treated deliberately.
//
// The official TFLite export quantizes the whole head: box decode (sigmoid*2-0.5+grid)*stride,
// (2*sigmoid)^2*anchor, then one Concat into a single [1,N,5+nc] tensor with ONE int8 scale for
// boxes and scores alike - a step of ~1/223 of the image (2.9 px at 640) on every box coordinate.
// Instead the int8 graph ends at the per-level sigmoid outputs (fixed int8 scale 1/256) and the box
// decode - cheap, elementwise, and precision-critical - runs in float post-processing.
//
// Found by structure: the last convolutions feeding a [1, N, 5+nc] output through elementwise/shape
// ops only, with A*(5+nc) channels each. Then the float head is *probed*: all-zero logits give
// sigmoid = 0.5, so xy = (cell + 0.5) * stride and wh = anchor; a random probe checks that the
// YOLOv5 formula reproduces the head exactly, else the family rejects it.
import type { Graph } from '../../ir/graph.js';
import { elementCount } from '../../ir/graph.js';
import { DETECT_NMS, EVAL_NMS } from '../nms.js';
import type { DecodedRows, HeadCandidate, HeadFamily, HeadRunner, HeadSpecBase, ProbeResult } from './types.js';
import { probeValues, replaceHeadWithOutputs, round4, walkHead } from './graph-util.js';
import { specError, checkInputSize, checkPositiveInt, checkVersion } from './validate.js';

export interface YoloHeadLevel {
  /** Output tensor name. */
  output: string;
  stride: number;
  gridH: number;
  gridW: number;
  /** Anchor sizes in input pixels, 3 per level. */
  anchors: [number, number][];
}

/** The stored spec of a YOLOv5 split head (kind 'yolov5-sigmoid-levels', layout version 1). */
export interface YoloHeadSpec extends HeadSpecBase {
  kind: 'yolov5-sigmoid-levels';
  inputSize: [h: number, w: number];
  numClasses: number;
  /** Boxes divided by the input size, as the official TF export does (the decode returns pixels either way). */
  normalized: boolean;
  levels: YoloHeadLevel[];
}

export const YOLOV5_KIND = 'yolov5-sigmoid-levels';

/** The YOLOv5 (P3-P5) COCO anchors in pixels. */
export const YOLOV5_ANCHORS: [number, number][][] = [
  [[10, 13], [16, 30], [33, 23]],
  [[30, 61], [62, 45], [59, 119]],
  [[116, 90], [156, 198], [373, 326]],
];

/** The standard YOLOv5 three-level head for an input size (strides 8/16/32). */
export function yolov5HeadSpec(
  inputSize: [number, number] = [640, 640],
  numClasses = 80,
  outputs: string[] = ['p3', 'p4', 'p5'],
  normalized = true,
): YoloHeadSpec {
  const strides = [8, 16, 32];
  return {
    kind: YOLOV5_KIND,
    inputSize,
    numClasses,
    normalized,
    levels: strides.map((stride, i) => ({
      output: outputs[i],
      stride,
      gridH: Math.ceil(inputSize[0] / stride),
      gridW: Math.ceil(inputSize[1] / stride),
      anchors: YOLOV5_ANCHORS[i].map(([w, h]) => [w, h] as [number, number]),
    })),
  };
}

/** Total number of rows the head decodes to. */
export function headRowCount(spec: YoloHeadSpec): number {
  return spec.levels.reduce((n, l) => n + l.gridH * l.gridW * l.anchors.length, 0);
}

export function validateYolov5Spec(x: unknown, where = 'YoloHeadSpec'): YoloHeadSpec {
  const fail = specError(where);
  if (typeof x !== 'object' || x === null) fail('expected an object');
  const s = x as YoloHeadSpec;
  if (s.kind !== YOLOV5_KIND) fail(`kind must be '${YOLOV5_KIND}', got ${JSON.stringify(s.kind)}`);
  checkVersion(s, 1, fail);
  checkInputSize(s.inputSize, fail);
  checkPositiveInt(s.numClasses, 'numClasses', fail);
  if (typeof s.normalized !== 'boolean') fail(`normalized must be a boolean, got ${JSON.stringify(s.normalized)}`);
  if (!Array.isArray(s.levels) || s.levels.length === 0) fail('levels must be a non-empty array');
  s.levels.forEach((l, i) => {
    if (typeof l.output !== 'string') fail(`levels[${i}].output must be a tensor name`);
    for (const k of ['stride', 'gridH', 'gridW'] as const) {
      if (!(l[k] > 0)) fail(`levels[${i}].${k} must be positive, got ${l[k]}`);
    }
    if (!Array.isArray(l.anchors) || l.anchors.length === 0 || !l.anchors.every((a) => Array.isArray(a) && a.length === 2)) {
      fail(`levels[${i}].anchors must be [w, h] pairs`);
    }
    // Anchors are box sizes in input pixels: null, non-finite or absurd ones decode to garbage boxes.
    const limit = 16 * Math.max(...s.inputSize);
    const bad = l.anchors.findIndex((a) => !a.every((v) => typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= limit));
    if (bad >= 0) fail(`levels[${i}].anchors[${bad}] is ${JSON.stringify(l.anchors[bad])}; anchors are [w, h] pixel sizes in (0, ${limit}]`);
    // The grid covers the input: grid x stride is the input size (to within one stride when it does not divide).
    const [h, w] = s.inputSize;
    if (!(Math.abs(l.gridH * l.stride - h) < l.stride && Math.abs(l.gridW * l.stride - w) < l.stride)) {
      fail(`levels[${i}]: a ${l.gridH}x${l.gridW} grid at stride ${l.stride} does not cover the ${h}x${w} inputSize`);
    }
  });
  return s;
}

/**
 * Decodes per-level sigmoid outputs into [N, 5+nc] rows [cx, cy, w, h, obj, cls...] (YOLOv5):
 * xy = (2*s_xy - 0.5 + grid_xy) * stride; wh = (2*s_wh)^2 * anchor; obj and classes pass through.
 * Level rows are ordered cell*A + anchor with cell = y*gridW + x; levels are concatenated in order.
 * Boxes are divided by the input size when spec.normalized (as the source model outputs them).
 */
export function decodeYoloHead(spec: YoloHeadSpec, outputs: Float32Array[]): Float32Array {
  if (outputs.length !== spec.levels.length) {
    throw new Error(`decodeYoloHead: the spec has ${spec.levels.length} levels, got ${outputs.length} output tensors`);
  }
  const cols = 5 + spec.numClasses;
  const out = new Float32Array(headRowCount(spec) * cols);
  const [inH, inW] = spec.inputSize;
  const nx = spec.normalized ? 1 / inW : 1;
  const ny = spec.normalized ? 1 / inH : 1;
  let row = 0;
  spec.levels.forEach((level, li) => {
    const a = level.anchors.length;
    const rows = level.gridH * level.gridW * a;
    const src = outputs[li];
    if (src.length !== rows * cols) {
      throw new Error(
        `decodeYoloHead: level ${li} ('${level.output}') expects [1,${rows},${cols}] = ${rows * cols} values, got ${src.length}`,
      );
    }
    for (let gy = 0; gy < level.gridH; gy++) {
      for (let gx = 0; gx < level.gridW; gx++) {
        for (let k = 0; k < a; k++) {
          const r = (gy * level.gridW + gx) * a + k;
          const i = r * cols;
          const o = (row + r) * cols;
          out[o] = (2 * src[i] - 0.5 + gx) * level.stride * nx;
          out[o + 1] = (2 * src[i + 1] - 0.5 + gy) * level.stride * ny;
          const w2 = 2 * src[i + 2];
          const h2 = 2 * src[i + 3];
          out[o + 2] = w2 * w2 * level.anchors[k][0] * nx;
          out[o + 3] = h2 * h2 * level.anchors[k][1] * ny;
          for (let c = 4; c < cols; c++) out[o + c] = src[i + c];
        }
      }
    }
    row += rows;
  });
  return out;
}

/** Ops a YOLOv5 head uses between the detect convs and the [1,N,5+nc] output. */
const HEAD_OPS = new Set([
  'Reshape', 'StridedSlice', 'Slice', 'Sigmoid', 'Mul', 'Add', 'Sub', 'Square', 'Concat', 'Transpose', 'Split',
  'Pow', 'RealDiv', 'Div', 'ExpandDims', 'Squeeze', 'Pack',
]);

function find(graph: Graph): HeadCandidate | undefined {
  if (graph.outputs.length !== 1) return undefined;
  const output = graph.outputs[0];
  const outT = graph.tensors.get(output);
  if (!outT || outT.shape.length !== 3 || outT.shape[0] !== 1 || outT.shape[2] < 6) return undefined;
  const no = outT.shape[2];
  const walk = walkHead(graph, output, (n) => n.op === 'Conv2D', (n) => HEAD_OPS.has(n.op));
  if (!walk) return undefined;
  const anchorsPerCell = levelAnchors(graph, walk.entries, no);
  if (!anchorsPerCell) return undefined;
  // The walk found detect convs of this layout: from here on the head is YOLOv5's, and boxes that do
  // not add up mean a damaged head (a level lost or reshaped away), never a head of another kind.
  checkLevelsAddUp(graph, output, walk.entries, anchorsPerCell);
  const last = walk.nodes[walk.nodes.length - 1];
  return {
    output,
    convOutputs: walk.entries,
    headNodes: walk.nodes,
    anchorNode: last?.name ?? output,
    facts: { numClasses: no - 5, anchorsPerCell },
  };
}

/** The anchors per cell shared by every detect conv ([1, H, W, A*no] outputs), or 0 when they are not such convs. */
function levelAnchors(graph: Graph, convOutputs: string[], no: number): number {
  let anchorsPerCell = 0;
  for (const c of convOutputs) {
    const s = graph.tensors.get(c)!.shape;
    if (s.length !== 4 || s[3] % no !== 0) return 0;
    const a = s[3] / no;
    if (anchorsPerCell && a !== anchorsPerCell) return 0;
    anchorsPerCell = a;
  }
  return anchorsPerCell;
}

/** Throws, naming the source and the output, when the levels' grid cells x anchors are not the output's box count. */
function checkLevelsAddUp(graph: Graph, output: string, convOutputs: string[], anchorsPerCell: number): void {
  const boxes = graph.tensors.get(output)!.shape[1];
  const rows = convOutputs.map((c) => {
    const [, h, w] = graph.tensors.get(c)!.shape;
    return { h, w, n: h * w * anchorsPerCell };
  });
  const total = rows.reduce((sum, r) => sum + r.n, 0);
  if (total === boxes) return;
  const cells = rows.map((r) => `${r.h}x${r.w}`).join(' + ');
  throw new Error(
    `${graph.meta.source}: YOLOv5 head output '${output}' has ${boxes} boxes, but its ${rows.length} level(s) ` +
      `(${cells} cells) x ${anchorsPerCell} anchors add up to ${total}; a head whose shapes do not add up loses detections`,
  );
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

async function probe(graph: Graph, head: HeadCandidate, runHead: HeadRunner, inputSize: [number, number], tolerance: number): Promise<ProbeResult<YoloHeadSpec>> {
  const numClasses = head.facts.numClasses as number;
  const na = head.facts.anchorsPerCell as number;
  const no = numClasses + 5;
  const zeros: Record<string, Float32Array> = {};
  for (const c of head.convOutputs) zeros[c] = new Float32Array(elementCount(graph.tensors.get(c)!.shape));
  const atHalf = await runHead(zeros);
  // Levels appear in the output in some order; find each level's row offset by probing it alone.
  const rowOffsets: number[] = [];
  for (const c of head.convOutputs) {
    const out = await runHead({ ...zeros, [c]: new Float32Array(zeros[c].length).fill(3) });
    let first = -1;
    for (let i = 0; i < out.length; i++) {
      if (Math.abs(out[i] - atHalf[i]) > 1e-6) {
        first = Math.floor(i / no);
        break;
      }
    }
    // The structure says this conv is a level of the output: a level the output ignores is a damaged head.
    if (first < 0) throw new Error(`${graph.meta.source}: the YOLOv5 head output '${head.output}' does not depend on its detection level '${c}' (every level must reach the output)`);
    rowOffsets.push(first);
  }
  const order = head.convOutputs.map((c, i) => ({ c, off: rowOffsets[i] })).sort((a, b) => a.off - b.off);
  const levels: YoloHeadLevel[] = [];
  let expectedOffset = 0;
  let normalized: boolean | undefined;
  for (const { c, off } of order) {
    const [, gh, gw] = graph.tensors.get(c)!.shape;
    if (off !== expectedOffset) return { ok: false, reason: `the rows of '${c}' start at ${off}, expected ${expectedOffset}` };
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
    else if (normalized !== isNorm) return { ok: false, reason: 'levels disagree on normalised vs pixel boxes' };
    const sx = normalized ? inputSize[1] : 1;
    const sy = normalized ? inputSize[0] : 1;
    // As the model computes it, to 1e-4 px (the verification below checks the decode against the
    // model itself, so an FP16-rounded stride of 7.998 stays 7.998).
    stride = round4(stride * sx);
    const anchors: [number, number][] = [];
    for (let a = 0; a < na; a++) anchors.push([round4(atHalf[row(0, a) + 2] * sx), round4(atHalf[row(0, a) + 3] * sy)]);
    levels.push({ output: c, stride, gridH: gh, gridW: gw, anchors });
  }
  const spec: YoloHeadSpec = { kind: YOLOV5_KIND, inputSize, numClasses, normalized: normalized ?? false, levels };
  // Verification: random logits through the real head vs the formula.
  const randomIn: Record<string, Float32Array> = {};
  const sig: Float32Array[] = [];
  levels.forEach((l, i) => {
    const a = probeValues(zeros[l.output].length, -6, 6, 12345 + i);
    randomIn[l.output] = a;
    sig.push(a.map(sigmoid));
  });
  const real = await runHead(randomIn);
  const mine = decodeYoloHead(spec, sig);
  let maxError = 0;
  const scale = spec.normalized ? 1 : Math.max(inputSize[0], inputSize[1]);
  for (let i = 0; i < real.length; i++) maxError = Math.max(maxError, Math.abs(real[i] - mine[i]) / (i % no < 4 ? scale : 1));
  if (!(maxError < tolerance)) return { ok: false, reason: `the YOLOv5 decode differs from the head by ${maxError.toExponential(2)} (relative)` };
  return { ok: true, spec, maxError, notes: [] };
}

/** Ends the graph at one Sigmoid(conv) output per level (same memory layout as the head's rows). */
function cut(graph: Graph, spec: YoloHeadSpec, head: HeadCandidate): { graph: Graph; spec: YoloHeadSpec; note: string } {
  const levels = spec.levels.map((l, i) => ({ ...l, output: `yolo_head/level${i}_sigmoid`, from: l.output }));
  const note = `YOLO head: the int8 model ends at ${levels.length} per-level sigmoid outputs; the box decode runs in float (metadata 'yolo_int8_head')`;
  const g = replaceHeadWithOutputs(graph, head.headNodes, levels.map((l) => ({ name: l.output, from: l.from, op: 'Sigmoid' })), note);
  return { graph: g, spec: { ...spec, levels: levels.map(({ from: _from, ...l }) => l) }, note };
}

function decode(spec: YoloHeadSpec, outputs: ReadonlyMap<string, Float32Array>): DecodedRows {
  const rows = decodeYoloHead(spec, spec.levels.map((l) => outputs.get(l.output)!));
  if (spec.normalized) {
    const [h, w] = spec.inputSize;
    const cols = 5 + spec.numClasses;
    for (let i = 0; i < rows.length; i += cols) {
      rows[i] *= w;
      rows[i + 1] *= h;
      rows[i + 2] *= w;
      rows[i + 3] *= h;
    }
  }
  return { rows, numClasses: spec.numClasses, evalNms: EVAL_NMS, detectNms: DETECT_NMS };
}

export const YOLOV5_FAMILY: HeadFamily<YoloHeadSpec> = {
  name: 'yolov5',
  kind: YOLOV5_KIND,
  version: 1,
  cuts: ['sigmoid-levels'],
  find,
  probe,
  cut: (graph, spec, head) => cut(graph, spec, head),
  validate: validateYolov5Spec,
  outputsOf: (spec) => spec.levels.map((l) => ({ name: l.output, shape: [1, l.gridH, l.gridW, l.anchors.length * (5 + spec.numClasses)] })),
  decode,
  describe: (s) =>
    `YOLOv5 (${s.kind}): ${s.numClasses} classes, input ${s.inputSize.join('x')}, ${s.levels.length} per-level sigmoid outputs ` +
    s.levels.map((l) => `${l.output} stride ${l.stride} ${l.gridH}x${l.gridW}`).join(', ') + '; box decode in float',
};
