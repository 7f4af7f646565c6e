// The YOLOv8 / YOLO11 detect head (ultralytics `Detect`: anchor-free, DFL boxes, no objectness).
//
// Per level the head has a box branch ending in a conv with 4 x regMax DFL logits (a distribution
// over regMax bins for each of the distances left, top, right, bottom) and a class branch ending in a
// conv with nc logits. The exported graph then concatenates, softmaxes the bins, takes the
// expectation (a fixed 1x1 conv with weights 0..regMax-1), turns distances into a box around the
// anchor point (cell centre) times the stride, applies sigmoid to the classes and joins boxes (pixels
// or 0..1) and probabilities (0..1) in ONE [1, 4+nc, N] tensor - which one int8 scale cannot serve.
//
// Here the int8 graph ends at the per-level conv outputs: DFL logits per level with their own int8
// parameters, and the class branch (sigmoid-ed in int8 at the fixed 1/256 scale, or left as logits);
// softmax, expectation, anchor arithmetic and the Concat run in float post-processing.
//
// Found by structure (the last convs before the output, two per level, through head ops only, with
// the DFL conv recognised as a 1x1 conv on a Softmax), then probed: all-zero logits give a uniform
// bin distribution, i.e. a box of (regMax-1) x stride around each anchor point, which gives strides
// and anchor offsets; perturbing one conv at a time tells box from class branch and each level's
// position in the output; a random probe checks the whole decode against the head.
import type { Graph, IrNode } from '../../ir/graph.js';
import { elementCount, producersOf } from '../../ir/graph.js';
import type { NmsOptions } from '../nms.js';
import type { DecodedRows, HeadCandidate, HeadFamily, HeadRunner, HeadSpecBase, ProbeResult } from './types.js';
import { probeValues, replaceHeadWithOutputs, round4, walkHead } from './graph-util.js';
import { checkInputSize, checkPositiveInt, checkTensorName, checkVersion, specError } from './validate.js';

export const YOLOV8_KIND = 'yolov8-dfl-levels';

export interface Yolov8Level {
  /** Output tensor with the DFL logits, [1, gridH, gridW, 4*regMax]; channel = side*regMax + bin, sides l, t, r, b. */
  box: string;
  /** Output tensor with the class scores, [1, gridH, gridW, numClasses] (see spec.scores). */
  scores: string;
  /** Input pixels per cell. */
  stride: number;
  gridH: number;
  gridW: number;
  /** Anchor point of cell (x, y) = (x + anchorOffset, y + anchorOffset) cells (ultralytics: 0.5). */
  anchorOffset: number;
}

export interface Yolov8HeadSpec extends HeadSpecBase {
  kind: typeof YOLOV8_KIND;
  version: 1;
  inputSize: [h: number, w: number];
  numClasses: number;
  /** DFL bins per box side (ultralytics reg_max, 16). */
  regMax: number;
  /** 'probabilities': the score tensors hold sigmoid(logit); 'logits': the decode applies the sigmoid. */
  scores: 'probabilities' | 'logits';
  /** The source model's own boxes were divided by the input size (the decode returns pixels either way). */
  normalized: boolean;
  levels: Yolov8Level[];
}

/** ultralytics val settings for v8/11 detect models. */
export const YOLOV8_EVAL_NMS: Required<NmsOptions> = {
  confThreshold: 0.001, iouThreshold: 0.7, maxDetections: 300, multiLabel: true, agnostic: false, maxCandidates: 30000,
};

/** ultralytics predict settings for v8/11 (conf 0.25, IoU 0.7, at most 300 boxes). */
export const YOLOV8_DETECT_NMS: Required<NmsOptions> = {
  confThreshold: 0.25, iouThreshold: 0.7, maxDetections: 300, multiLabel: false, agnostic: false, maxCandidates: 30000,
};

/** Ops between the detect convs and the output of an exported v8 head. */
const HEAD_OPS = new Set([
  'Reshape', 'StridedSlice', 'Slice', 'Sigmoid', 'Mul', 'Add', 'Sub', 'Concat', 'Transpose', 'Split', 'Softmax',
  'RealDiv', 'Div', 'ExpandDims', 'Squeeze', 'Pack', 'Unpack', 'Identity',
]);

/** The DFL expectation: a 1x1 conv with one output channel whose input comes (through layout ops) from a Softmax. */
function isDflConv(n: IrNode, graph: Graph, producers: Map<string, IrNode>): boolean {
  if (n.op !== 'Conv2D') return false;
  const w = graph.tensors.get(n.inputs[1]);
  if (!w?.data || w.shape.length !== 4 || w.shape[0] !== 1 || w.shape[1] !== 1 || w.shape[3] !== 1) return false;
  let p = producers.get(n.inputs[0]);
  while (p && (p.op === 'Reshape' || p.op === 'Transpose' || p.op === 'Identity')) p = producers.get(p.inputs[0]);
  return p?.op === 'Softmax';
}

interface V8Facts {
  numClasses: number;
  /** Output layout: 'channels-first' [1, 4+nc, N] (ultralytics) or 'rows' [1, N, 4+nc]. */
  layout: 'channels-first' | 'rows';
  anchors: number;
}

function find(graph: Graph): HeadCandidate | undefined {
  if (graph.outputs.length !== 1) return undefined;
  const output = graph.outputs[0];
  const outT = graph.tensors.get(output);
  if (!outT || outT.shape.length !== 3 || outT.shape[0] !== 1) return undefined;
  const producers = producersOf(graph);
  const walk = walkHead(
    graph,
    output,
    (n) => n.op === 'Conv2D' && !isDflConv(n, graph, producers),
    (n) => HEAD_OPS.has(n.op) || isDflConv(n, graph, producers),
  );
  if (!walk || !walk.nodes.some((n) => n.op === 'Softmax')) return undefined;
  // Two convs per level (same grid): the box branch and the class branch.
  const byGrid = new Map<string, string[]>();
  for (const c of walk.entries) {
    const s = graph.tensors.get(c)!.shape;
    if (s.length !== 4 || s[0] !== 1) return undefined;
    const key = `${s[1]}x${s[2]}`;
    byGrid.set(key, [...(byGrid.get(key) ?? []), c]);
  }
  let anchors = 0;
  for (const convs of byGrid.values()) {
    if (convs.length !== 2) return undefined;
    const s = graph.tensors.get(convs[0])!.shape;
    anchors += s[1] * s[2];
  }
  const [, d1, d2] = outT.shape;
  let layout: V8Facts['layout'];
  let rowsPerAnchor: number;
  if (d2 === anchors) [layout, rowsPerAnchor] = ['channels-first', d1];
  else if (d1 === anchors) [layout, rowsPerAnchor] = ['rows', d2];
  else return undefined;
  const numClasses = rowsPerAnchor - 4;
  if (numClasses < 1) return undefined;
  // One conv of each level must have nc channels and the other a multiple of 4.
  for (const convs of byGrid.values()) {
    const ch = convs.map((c) => graph.tensors.get(c)!.shape[3]);
    const ok = (a: number, b: number) => a === numClasses && b % 4 === 0 && b >= 8;
    if (!ok(ch[0], ch[1]) && !ok(ch[1], ch[0])) return undefined;
  }
  const softmax = walk.nodes.find((n) => n.op === 'Softmax')!;
  const facts: V8Facts = { numClasses, layout, anchors };
  return { output, convOutputs: walk.entries, headNodes: walk.nodes, anchorNode: softmax.name, facts: { ...facts } };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Reads value `attr` (0..3 box, 4.. classes) of anchor `j` from the head output. */
function accessor(out: Float32Array, facts: V8Facts): (attr: number, j: number) => number {
  const cols = facts.numClasses + 4;
  return facts.layout === 'channels-first' ? (a, j) => out[a * facts.anchors + j] : (a, j) => out[j * cols + a];
}

type ValueAt = (attr: number, j: number) => number;
type Failure = { ok: false; reason: string };
const fail = (reason: string): Failure => ({ ok: false, reason });

/**
 * Reads the head's decode off the float head itself: which conv feeds which anchors (perturbing one
 * at a time), the levels (box + score conv per anchor range), each level's stride and anchor offset
 * (from the all-zero answer), then verifies the whole decode on random logits.
 */
async function probe(graph: Graph, head: HeadCandidate, runHead: HeadRunner, inputSize: [number, number], tolerance: number): Promise<ProbeResult<Yolov8HeadSpec>> {
  const facts = head.facts as unknown as V8Facts;
  const zeros: Record<string, Float32Array> = {};
  for (const c of head.convOutputs) zeros[c] = new Float32Array(elementCount(graph.tensors.get(c)!.shape));
  const at0 = accessor(await runHead(zeros), facts);
  const roles = await convRoles(graph, head, runHead, facts, zeros, at0);
  if ('ok' in roles) return roles;
  const read = readLevels(graph, roles, facts, at0, inputSize);
  if ('ok' in read) return read;
  const { levels, firsts, regMax, normalized, strideNotes } = read;
  if (read.covered !== facts.anchors) return fail(`levels cover ${read.covered} anchors of ${facts.anchors}`);
  // The anchor points the graph holds, against the exact cell centres. Exports that quantize every
  // float constant (TF.js int8=True) round the anchor grid too (to ~0.4 cells at 800 px): the decode
  // uses the exact centres the network was trained with, and the check below leaves the anchors out.
  const anchorDeviation = anchorDeviationOf(levels, firsts, at0, normalized ? inputSize[1] : 1);
  if (!(anchorDeviation < 0.5)) return fail(`the head's anchor points are up to ${anchorDeviation.toFixed(2)} cells off the cell centres`);
  const spec: Yolov8HeadSpec = {
    kind: YOLOV8_KIND, version: 1, inputSize, numClasses: facts.numClasses, regMax, scores: 'logits', normalized, levels,
  };
  const { maxError, worst } = await decodeError(spec, head, runHead, facts, zeros, at0);
  if (!(maxError < tolerance)) {
    return fail(`the YOLOv8 DFL decode differs from the head by ${maxError.toExponential(2)} (relative; worst at ${worst})`);
  }
  const notes =
    anchorDeviation > 1e-3
      ? [`the source's anchor-point constants are up to ${anchorDeviation.toFixed(3)} cells off the cell centres (rounded by its export); the decode uses the exact centres`]
      : [];
  if (strideNotes.length) notes.push(`the source's stride constants read ${strideNotes.join(', ')} (int8-rounded); the decode uses input / grid`);
  return { ok: true, spec, maxError, notes };
}

interface ConvRole {
  kind: 'box' | 'scores';
  /** The first anchor the conv changes; it changes `count` consecutive anchors. */
  first: number;
  count: number;
}

/** Perturbs one conv at a time: which anchors and which values (box or score rows) depend on it. */
async function convRoles(
  graph: Graph,
  head: HeadCandidate,
  runHead: HeadRunner,
  facts: V8Facts,
  zeros: Record<string, Float32Array>,
  at0: ValueAt,
): Promise<Map<string, ConvRole> | Failure> {
  const cols = facts.numClasses + 4;
  const roles = new Map<string, ConvRole>();
  for (const c of head.convOutputs) {
    const out = await runHead({ ...zeros, [c]: probeValues(zeros[c].length, -3, 3, 777) });
    const at = accessor(out, facts);
    let first = -1;
    let last = -1;
    let boxRows = false;
    let scoreRows = false;
    for (let j = 0; j < facts.anchors; j++) {
      for (let a = 0; a < cols; a++) {
        if (Math.abs(at(a, j) - at0(a, j)) > 1e-6) {
          if (first < 0) first = j;
          last = j;
          if (a < 4) boxRows = true;
          else scoreRows = true;
        }
      }
    }
    const [, gh, gw] = graph.tensors.get(c)!.shape;
    if (first < 0) return fail(`the head output does not depend on '${c}'`);
    if (boxRows === scoreRows) return fail(`'${c}' changes ${boxRows ? 'both box and score' : 'no'} rows`);
    if (last - first + 1 !== gh * gw) return fail(`'${c}' changes anchors ${first}..${last}, expected ${gh * gw} consecutive`);
    roles.set(c, { kind: boxRows ? 'box' : 'scores', first, count: gh * gw });
  }
  return roles;
}

/**
 * Pairs box and score convs by their anchor range and reads each level (in output order): DFL bins,
 * stride, anchor offset, whether boxes are normalised; `covered` = anchors the levels cover.
 */
function readLevels(
  graph: Graph,
  roles: Map<string, ConvRole>,
  facts: V8Facts,
  at0: ValueAt,
  inputSize: [number, number],
): { levels: Yolov8Level[]; firsts: number[]; regMax: number; normalized: boolean; strideNotes: string[]; covered: number } | Failure {
  const byFirst = new Map<number, { box?: string; scores?: string; count: number }>();
  for (const [c, r] of roles) {
    const e = byFirst.get(r.first) ?? { count: r.count };
    if (e[r.kind]) return fail(`two ${r.kind} convs feed anchors from ${r.first}`);
    e[r.kind] = c;
    byFirst.set(r.first, e);
  }
  const firsts = [...byFirst.keys()].sort((a, b) => a - b);
  let regMax = 0;
  let expected = 0;
  const strideNotes: string[] = [];
  let normalized: boolean | undefined;
  const levels: Yolov8Level[] = [];
  for (const first of firsts) {
    const e = byFirst.get(first)!;
    if (!e.box || !e.scores) return fail(`anchors from ${first} lack a ${e.box ? 'score' : 'box'} conv`);
    if (first !== expected) return fail(`level anchors start at ${first}, expected ${expected}`);
    expected += e.count;
    const [, gh, gw, boxCh] = graph.tensors.get(e.box)!.shape;
    const scoreCh = graph.tensors.get(e.scores)!.shape[3];
    if (scoreCh !== facts.numClasses || boxCh % 4 !== 0) return fail(`'${e.box}' / '${e.scores}' have ${boxCh} / ${scoreCh} channels`);
    if (regMax && boxCh / 4 !== regMax) return fail('levels disagree on the number of DFL bins');
    regMax = boxCh / 4;
    // Zero logits: uniform bins, every distance is (regMax-1)/2, so w = (regMax-1) * stride - read off
    // the width, which does not involve the anchor constants (some exports round those, see below).
    const stride = at0(2, first) / (boxCh / 4 - 1);
    if (!(stride > 0)) return fail(`no positive stride found for the level of '${e.box}'`);
    const isNorm = Math.abs(stride * gw - 1) < 0.01;
    if (normalized === undefined) normalized = isNorm;
    else if (normalized !== isNorm) return fail('levels disagree on normalised vs pixel boxes');
    const offset = anchorOffsetOf(at0, first, stride, gh, gw);
    const pixels = snapStride(stride * (normalized ? inputSize[1] : 1), inputSize[1] / gw, strideNotes);
    levels.push({ box: e.box, scores: e.scores, stride: pixels, gridH: gh, gridW: gw, anchorOffset: offset });
  }
  return { levels, firsts, regMax, normalized: normalized ?? false, strideNotes, covered: expected };
}

/**
 * cx = (x + offset) * stride, cy = (y + offset) * stride: the offset is the intercept over the slope
 * of the least-squares line through the level's all-zero answers (x and y against their cell
 * column and row), snapped to the half cell it is meant to be (ultralytics: 0.5) when within 0.05.
 * The line's own slope, not the stride read off the widths: in a full-integer source the DFL
 * weights, the stride and the anchor constants are each int8-rounded, and a stride 0.4 % off
 * (YOLO11n's DFL weights) moves `at0 / stride - x` by 0.4 % of x, 0.15 cells on an 80-cell grid:
 * the old median of that read 0.35 cells and shifted every box by 1.2 px. A one-cell level has no
 * line: its offset is read with the width's stride.
 */
function anchorOffsetOf(at0: ValueAt, first: number, widthStride: number, gh: number, gw: number): number {
  const points: [number, number][] = [];
  for (let j = 0; j < gh * gw; j++) points.push([j % gw, at0(0, first + j)], [Math.floor(j / gw), at0(1, first + j)]);
  const { slope, intercept } = gh * gw > 1 ? leastSquaresLine(points) : { slope: widthStride, intercept: (at0(0, first) + at0(1, first)) / 2 };
  const offset = intercept / slope;
  return Math.abs(offset * 2 - Math.round(offset * 2)) < 0.1 ? Math.round(offset * 2) / 2 : round4(offset);
}

/** The least-squares line v = slope * c + intercept through points [c, v]. */
export function leastSquaresLine(points: readonly (readonly [number, number])[]): { slope: number; intercept: number } {
  const n = points.length;
  const meanC = points.reduce((a, [c]) => a + c, 0) / n;
  const meanV = points.reduce((a, [, v]) => a + v, 0) / n;
  let cov = 0;
  let varC = 0;
  for (const [c, v] of points) {
    cov += (c - meanC) * (v - meanV);
    varC += (c - meanC) ** 2;
  }
  const slope = cov / varC;
  return { slope, intercept: meanV - slope * meanC };
}

/**
 * The grid spans the input (ultralytics makes grid = input / stride): a stride within 0.5 % of
 * input / grid (`spanning`) is that, read through int8-rounded constants (a full-integer source
 * stores the strides as int8: 8.03 for 8; noted in `notes`); otherwise it is kept as read.
 */
function snapStride(stride: number, spanning: number, notes: string[]): number {
  if (Math.abs(stride - spanning) / spanning < 5e-3) {
    if (Math.abs(stride - spanning) > 1e-3) notes.push(`${round4(stride)} -> ${spanning}`);
    stride = spanning;
  }
  return round4(stride);
}

/** The largest distance (in cells) between the anchor points the head holds and the exact cell centres. */
function anchorDeviationOf(levels: Yolov8Level[], firsts: number[], at0: ValueAt, unitsPerPixel: number): number {
  let deviation = 0;
  for (const l of levels) {
    const first = firsts[levels.indexOf(l)];
    const s = l.stride / unitsPerPixel;
    for (let j = 0; j < l.gridH * l.gridW; j++) {
      const dx = Math.abs(at0(0, first + j) / s - ((j % l.gridW) + l.anchorOffset));
      const dy = Math.abs(at0(1, first + j) / s - (Math.floor(j / l.gridW) + l.anchorOffset));
      deviation = Math.max(deviation, dx, dy);
    }
  }
  return deviation;
}

/**
 * Verification: random logits through the real head vs our decode (scores as logits); the largest
 * relative difference and where. Box centres are compared as offsets from the all-zero answer,
 * which cancels the anchor points.
 */
async function decodeError(
  spec: Yolov8HeadSpec,
  head: HeadCandidate,
  runHead: HeadRunner,
  facts: V8Facts,
  zeros: Record<string, Float32Array>,
  at0: ValueAt,
): Promise<{ maxError: number; worst: string }> {
  const cols = facts.numClasses + 4;
  const randomIn: Record<string, Float32Array> = {};
  const values = new Map<string, Float32Array>();
  head.convOutputs.forEach((c, i) => {
    const v = probeValues(zeros[c].length, -5, 5, 4242 + i);
    randomIn[c] = v;
    values.set(c, v);
  });
  const real = accessor(await runHead(randomIn), facts);
  const mine = decodeYolov8(spec, values).rows;
  const zeroValues = new Map(head.convOutputs.map((c) => [c, zeros[c]]));
  const mine0 = decodeYolov8(spec, zeroValues).rows;
  const normalized = spec.normalized;
  const [h, w] = spec.inputSize;
  const norm = [w, h, w, h];
  let maxError = 0;
  let worst = '';
  for (let j = 0; j < facts.anchors; j++) {
    for (let a = 0; a < cols; a++) {
      const k = j * (cols + 1) + (a < 4 ? a : a + 1);
      const ours = a < 2 ? (mine[k] - mine0[k]) / (normalized ? norm[a] : 1) : a < 4 ? mine[k] / (normalized ? norm[a] : 1) : mine[k];
      const theirs = a < 2 ? real(a, j) - at0(a, j) : real(a, j);
      const scale = a < 4 ? (normalized ? 1 : Math.max(h, w)) : 1;
      const e = Math.abs(theirs - ours) / scale;
      if (!(e <= maxError)) {
        maxError = e;
        worst = `value ${a} of anchor ${j}: head ${theirs}, decode ${ours}`;
      }
    }
  }
  return { maxError, worst };
}

/**
 * Cut variants: where the class branch ends in the int8 graph (the box branch always ends at its DFL
 * logits). 'logit-scores' is the default: on YOLOv8n (coco128 65-128) it measured 0.27 mAP50-95
 * points above 'sigmoid-scores' with minmax and 0.26 with mse calibration (bench/RESULTS.md): the
 * class logits keep their calibrated step, where a LOGISTIC output at 1/256 flattens the low scores
 * that mAP's precision-recall tail is made of.
 */
const CUTS = ['logit-scores', 'sigmoid-scores'] as const;

function cut(graph: Graph, spec: Yolov8HeadSpec, head: HeadCandidate, variant: string): { graph: Graph; spec: Yolov8HeadSpec; note: string } {
  if (!(CUTS as readonly string[]).includes(variant)) throw new Error(`YOLOv8 head: unknown cut '${variant}' (known: ${CUTS.join(', ')})`);
  const sig = variant === 'sigmoid-scores';
  const outputs = spec.levels.flatMap((l, i) => [
    { name: `yolo_head/level${i}_box`, from: l.box },
    { name: `yolo_head/level${i}_scores`, from: l.scores, op: sig ? 'Sigmoid' : undefined },
  ]);
  const levels = spec.levels.map((l, i) => ({ ...l, box: outputs[2 * i].name, scores: outputs[2 * i + 1].name }));
  const note =
    `YOLOv8 head: the int8 model ends at ${levels.length} per-level DFL-logit outputs and ${levels.length} class-${sig ? 'probability' : 'logit'} outputs; ` +
    `the DFL softmax/expectation, anchors and Concat run in float (metadata 'yolo_int8_head')`;
  return { graph: replaceHeadWithOutputs(graph, head.headNodes, outputs, note), spec: { ...spec, scores: sig ? 'probabilities' : 'logits', levels }, note };
}

/** Softmax-weighted mean bin index of `n` logits at `off` (the DFL expectation), max-subtracted for stability. */
export function dflExpectation(logits: Float32Array, off: number, n: number): number {
  let m = -Infinity;
  for (let i = 0; i < n; i++) m = Math.max(m, logits[off + i]);
  let sum = 0;
  let weighted = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(logits[off + i] - m);
    sum += e;
    weighted += e * i;
  }
  return weighted / sum;
}

/**
 * The float decode: rows [cx, cy, w, h, 1, cls...] in input pixels, levels in order, cell = y*gridW + x.
 * Per side k (l, t, r, b): d_k = sum_i i * softmax(box[cell, k*regMax .. k*regMax+regMax-1])_i;
 * x1 = ax - d_l, y1 = ay - d_t, x2 = ax + d_r, y2 = ay + d_b with (ax, ay) = (x + offset, y + offset);
 * cx = (x1+x2)/2 * stride, w = (x2-x1) * stride (likewise y, h).
 */
export function decodeYolov8(spec: Yolov8HeadSpec, outputs: ReadonlyMap<string, Float32Array>): DecodedRows {
  const nc = spec.numClasses;
  const cols = 5 + nc;
  const R = spec.regMax;
  const total = spec.levels.reduce((n, l) => n + l.gridH * l.gridW, 0);
  const rows = new Float32Array(total * cols);
  let row = 0;
  for (const l of spec.levels) {
    const box = outputs.get(l.box);
    const scores = outputs.get(l.scores);
    const cells = l.gridH * l.gridW;
    if (!box || box.length !== cells * 4 * R) {
      throw new Error(`YOLOv8 decode: '${l.box}' must be [1,${l.gridH},${l.gridW},${4 * R}] (${cells * 4 * R} values), got ${box ? box.length : 'no tensor'}`);
    }
    if (!scores || scores.length !== cells * nc) {
      throw new Error(`YOLOv8 decode: '${l.scores}' must be [1,${l.gridH},${l.gridW},${nc}] (${cells * nc} values), got ${scores ? scores.length : 'no tensor'}`);
    }
    for (let j = 0; j < cells; j++) {
      const ax = (j % l.gridW) + l.anchorOffset;
      const ay = Math.floor(j / l.gridW) + l.anchorOffset;
      const b = j * 4 * R;
      const dl = dflExpectation(box, b, R);
      const dt = dflExpectation(box, b + R, R);
      const dr = dflExpectation(box, b + 2 * R, R);
      const db = dflExpectation(box, b + 3 * R, R);
      const o = (row + j) * cols;
      rows[o] = (ax + (dr - dl) / 2) * l.stride;
      rows[o + 1] = (ay + (db - dt) / 2) * l.stride;
      rows[o + 2] = (dl + dr) * l.stride;
      rows[o + 3] = (dt + db) * l.stride;
      rows[o + 4] = 1;
      const s = j * nc;
      if (spec.scores === 'logits') for (let c = 0; c < nc; c++) rows[o + 5 + c] = sigmoid(scores[s + c]);
      else for (let c = 0; c < nc; c++) rows[o + 5 + c] = scores[s + c];
    }
    row += cells;
  }
  return { rows, numClasses: nc, evalNms: YOLOV8_EVAL_NMS, detectNms: YOLOV8_DETECT_NMS };
}

export function validateYolov8Spec(x: unknown, where = 'YOLOv8 head spec'): Yolov8HeadSpec {
  const fail = specError(where);
  if (typeof x !== 'object' || x === null) fail('expected an object');
  const s = x as Yolov8HeadSpec;
  if (s.kind !== YOLOV8_KIND) fail(`kind must be '${YOLOV8_KIND}', got ${JSON.stringify(s.kind)}`);
  checkVersion(s, 1, fail);
  checkInputSize(s.inputSize, fail);
  checkPositiveInt(s.numClasses, 'numClasses', fail);
  checkPositiveInt(s.regMax, 'regMax', fail);
  if (s.scores !== 'probabilities' && s.scores !== 'logits') fail(`scores must be 'probabilities' or 'logits', got ${JSON.stringify(s.scores)}`);
  if (typeof s.normalized !== 'boolean') fail(`normalized must be a boolean, got ${JSON.stringify(s.normalized)}`);
  if (!Array.isArray(s.levels) || s.levels.length === 0) fail('levels must be a non-empty array');
  s.levels.forEach((l, i) => {
    checkTensorName(l.box, `levels[${i}].box`, fail);
    checkTensorName(l.scores, `levels[${i}].scores`, fail);
    for (const k of ['stride', 'gridH', 'gridW'] as const) if (!(l[k] > 0)) fail(`levels[${i}].${k} must be positive, got ${l[k]}`);
    if (!Number.isFinite(l.anchorOffset)) fail(`levels[${i}].anchorOffset must be a number, got ${JSON.stringify(l.anchorOffset)}`);
  });
  return s;
}

export const YOLOV8_FAMILY: HeadFamily<Yolov8HeadSpec> = {
  name: 'yolov8',
  kind: YOLOV8_KIND,
  version: 1,
  cuts: CUTS,
  find,
  probe,
  cut,
  validate: validateYolov8Spec,
  outputsOf: (spec) =>
    spec.levels.flatMap((l) => [
      { name: l.box, shape: [1, l.gridH, l.gridW, 4 * spec.regMax] },
      { name: l.scores, shape: [1, l.gridH, l.gridW, spec.numClasses] },
    ]),
  decode: decodeYolov8,
  // Class logits (the default cut) become scores through the decode's sigmoid.
  outputRoles: (s) => (s.scores === 'logits' ? Object.fromEntries(s.levels.map((l) => [l.scores, 'score-logits' as const])) : {}),
  describe: (s) =>
    `YOLOv8/11 (${s.kind} v${s.version}): ${s.numClasses} classes, input ${s.inputSize.join('x')}, regMax ${s.regMax}, ` +
    `scores as ${s.scores}, levels ` + s.levels.map((l) => `${l.box} + ${l.scores} stride ${l.stride} ${l.gridH}x${l.gridW}`).join(', ') +
    '; DFL, anchors and Concat in float',
};
