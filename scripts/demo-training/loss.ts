// YOLOv5-style training targets and loss for the demo detector (used by train.ts).
// Targets are built on the CPU as dense per-level arrays (the wasm backend has no gather gradient,
// UnsortedSegmentSum, so the loss uses masks instead of gathering positive anchors).
import * as tf from '@tensorflow/tfjs';
import type { YoloHeadSpec } from '../../lib/yolo/head.js';
import type { YoloLabel } from '../../lib/yolo/dataset.js';

/** Dense targets of one level for a batch: B x gridH x gridW x anchors. */
export interface LevelTargets {
  /** 1 where an anchor is responsible for an object. */
  mask: Float32Array;
  /** Per anchor: tx, ty (object centre minus cell corner, grid units, in [-0.5, 1.5]), tw, th (grid units). */
  box: Float32Array;
  /** Per anchor: one-hot class. */
  cls: Float32Array;
  positives: number;
  /**
   * Optional: 1 where an anchor is neither positive nor background (YOLOv3's ignore rule): it has
   * no objectness loss. Absent: every non-positive anchor is background.
   */
  ignore?: Float32Array;
}

/** YOLOv5 hyper-parameter: an anchor may predict objects whose w and h are within 4x of its own. */
export const ANCHOR_RATIO_LIMIT = 4;

/**
 * Which pyramid levels a label may be assigned to:
 *  - 'all-levels': YOLOv5's rule, every anchor of every level within ANCHOR_RATIO_LIMIT. With the demo's
 *    9 anchors (11-66 px) and objects of 10-77 px this makes a label positive on 8.1 of 9 anchors and
 *    2.9 of 3 levels (measured on 200 training images), so a 10 px object trains stride-32 cells as
 *    positives too: each object yields several confident boxes from different levels whose coarse
 *    boxes overlap the good one too little for NMS (IoU <= 0.45) - the demo's duplicate detections.
 *  - 'best-level': only the level holding the label's best anchor (smallest size ratio) takes it, so
 *    every object has one level, and its positives (neighbour cells, anchors of that level) regress
 *    nearly the same box, which NMS merges.
 *  - 'best-anchor': only the label's best anchor over all levels (YOLOv3's rule), in the centre cell and
 *    its 2 nearest neighbours: the other anchors of that level are trained as background, so they stop
 *    adding poorly fitted boxes of their own shape next to the good one.
 */
export type LevelAssignment = 'all-levels' | 'best-level' | 'best-anchor';
const LEVEL_ASSIGNMENTS: readonly LevelAssignment[] = ['all-levels', 'best-level', 'best-anchor'];

/** Largest of w/aw, aw/w, h/ah, ah/h: YOLOv5's anchor-to-label size ratio. */
export function anchorSizeRatio(w: number, h: number, anchor: readonly [number, number] | readonly number[]): number {
  return Math.max(w / anchor[0], anchor[0] / w, h / anchor[1], anchor[1] / h);
}

/** Level and anchor index of the anchor with the smallest size ratio to a w x h (pixels) label; ties go to the first (finer). */
export function bestAnchorFor(w: number, h: number, head: YoloHeadSpec): { level: number; anchor: number } {
  let best = { level: 0, anchor: 0 };
  let bestRatio = Infinity;
  head.levels.forEach((level, li) => {
    level.anchors.forEach((a, ai) => {
      const r = anchorSizeRatio(w, h, a);
      if (r < bestRatio) {
        bestRatio = r;
        best = { level: li, anchor: ai };
      }
    });
  });
  return best;
}

/** Index of the level whose anchor has the smallest size ratio to a w x h (pixels) label. */
export function bestLevelFor(w: number, h: number, head: YoloHeadSpec): number {
  return bestAnchorFor(w, h, head).level;
}

/** One candidate positive of a label: level, cell, anchor, and the box target relative to that cell (grid units). */
interface Candidate {
  level: number;
  cx: number;
  cy: number;
  anchor: number;
  /** tx, ty (object centre minus cell corner, in [-0.5, 1.5]), tw, th. */
  box: [number, number, number, number];
}

/**
 * YOLOv5's candidates of a label on one level: every anchor whose size ratio is below
 * ANCHOR_RATIO_LIMIT, in the cell containing the centre and the two neighbouring cells nearest to
 * the centre (left/right and up/down).
 */
function levelCandidates(l: YoloLabel, head: YoloHeadSpec, levelIndex: number): Candidate[] {
  const level = head.levels[levelIndex];
  const { gridH, gridW, stride } = level;
  const [inH, inW] = head.inputSize;
  const gx = (l.cx * inW) / stride;
  const gy = (l.cy * inH) / stride;
  const gw = (l.w * inW) / stride;
  const gh = (l.h * inH) / stride;
  const ix = Math.min(gridW - 1, Math.floor(gx));
  const iy = Math.min(gridH - 1, Math.floor(gy));
  const fx = gx - ix;
  const fy = gy - iy;
  const cells: [number, number][] = [[ix, iy]];
  if (fx < 0.5 && ix > 0) cells.push([ix - 1, iy]);
  if (fx > 0.5 && ix < gridW - 1) cells.push([ix + 1, iy]);
  if (fy < 0.5 && iy > 0) cells.push([ix, iy - 1]);
  if (fy > 0.5 && iy < gridH - 1) cells.push([ix, iy + 1]);
  const out: Candidate[] = [];
  level.anchors.forEach(([aw, ah], a) => {
    if (anchorSizeRatio(gw, gh, [aw / stride, ah / stride]) >= ANCHOR_RATIO_LIMIT) return;
    for (const [cx, cy] of cells) out.push({ level: levelIndex, cx, cy, anchor: a, box: [gx - cx, gy - cy, gw, gh] });
  });
  return out;
}

function emptyTargets(batchSize: number, head: YoloHeadSpec, levelIndex: number): LevelTargets {
  const level = head.levels[levelIndex];
  const cells = batchSize * level.gridH * level.gridW * level.anchors.length;
  return { mask: new Float32Array(cells), box: new Float32Array(cells * 4), cls: new Float32Array(cells * head.numClasses), positives: 0 };
}

/** Marks candidate c of image b as a positive of class cls (a later label overwrites an earlier one). */
function setPositive(t: LevelTargets, head: YoloHeadSpec, b: number, c: Candidate, cls: number): void {
  const level = head.levels[c.level];
  const nc = head.numClasses;
  const i = ((b * level.gridH + c.cy) * level.gridW + c.cx) * level.anchors.length + c.anchor;
  t.mask[i] = 1;
  t.box.set(c.box, i * 4);
  t.cls.fill(0, i * nc, (i + 1) * nc);
  t.cls[i * nc + cls] = 1;
}

function countPositives(t: LevelTargets): LevelTargets {
  let positives = 0;
  for (let i = 0; i < t.mask.length; i++) positives += t.mask[i];
  t.positives = positives;
  return t;
}

function checkClass(l: YoloLabel, nc: number, where: string): void {
  if (!(l.classId >= 0 && l.classId < nc)) throw new Error(`${where}: label class ${l.classId} outside 0..${nc - 1}`);
}

/**
 * Static target assignment of one level: YOLOv5's candidates (levelCandidates), restricted by
 * `assignment`: 'best-level' (the default) keeps a label only on the level of its best anchor,
 * 'best-anchor' only that anchor. A later label overwrites an earlier one on the same (cell, anchor).
 */
export function buildLevelTargets(
  batch: readonly (readonly YoloLabel[])[],
  head: YoloHeadSpec,
  levelIndex: number,
  assignment: LevelAssignment = 'best-level',
): LevelTargets {
  if (!LEVEL_ASSIGNMENTS.includes(assignment)) {
    throw new Error(`buildLevelTargets: assignment must be one of ${LEVEL_ASSIGNMENTS.join(', ')}, got '${String(assignment)}'`);
  }
  const [inH, inW] = head.inputSize;
  const t = emptyTargets(batch.length, head, levelIndex);
  batch.forEach((labels, b) => {
    for (const l of labels) {
      checkClass(l, head.numClasses, 'buildLevelTargets');
      const best = assignment === 'all-levels' ? undefined : bestAnchorFor(l.w * inW, l.h * inH, head);
      if (best && best.level !== levelIndex) continue;
      for (const c of levelCandidates(l, head, levelIndex)) {
        if (assignment === 'best-anchor' && c.anchor !== best!.anchor) continue;
        setPositive(t, head, b, c, l.classId);
      }
    }
  });
  return countPositives(t);
}

/** IoU of two boxes given as centre x, y and width, height. */
function iouCxcywh(a: readonly number[], b: readonly number[]): number {
  const iw = Math.min(a[0] + a[2] / 2, b[0] + b[2] / 2) - Math.max(a[0] - a[2] / 2, b[0] - b[2] / 2);
  const ih = Math.min(a[1] + a[3] / 2, b[1] + b[3] / 2) - Math.max(a[1] - a[3] / 2, b[1] - b[3] / 2);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / (a[2] * a[3] + b[2] * b[3] - inter);
}

/**
 * Dynamic assignment from the model's own predictions (in the spirit of YOLOX's SimOTA / TOOD's
 * task alignment, reduced to its core): among all of a label's YOLOv5 candidates on every level,
 * only the `k` whose predicted boxes overlap the label best become positives; every other anchor is
 * background. The model is thus trained to report each object with the few boxes it already places
 * best (which NMS merges) and to keep its other anchors near the object silent, without the ambiguity
 * of a fixed best-anchor rule between anchors of nearly equal size.
 * `predictions[level]`: the sigmoid head outputs of the batch, [B, gridH, gridW, anchors*(5+nc)] flattened.
 * Ties keep the static order (level, anchor, cell); returns one LevelTargets per level.
 */
export function buildTopIouTargets(
  batch: readonly (readonly YoloLabel[])[],
  head: YoloHeadSpec,
  predictions: readonly Float32Array[],
  k: number,
  ignoreIoU?: number,
  minIoU?: number,
): LevelTargets[] {
  if (!(Number.isInteger(k) && k >= 1)) throw new Error(`buildTopIouTargets: k must be a positive integer, got ${k}`);
  const per = 5 + head.numClasses;
  head.levels.forEach((level, li) => {
    const expected = batch.length * level.gridH * level.gridW * level.anchors.length * per;
    if (predictions[li]?.length !== expected) {
      throw new Error(`buildTopIouTargets: predictions of level '${level.output}' have ${predictions[li]?.length} values, expected ${expected}`);
    }
  });
  const targets = head.levels.map((_, li) => emptyTargets(batch.length, head, li));
  batch.forEach((labels, b) => {
    for (const l of labels) {
      checkClass(l, head.numClasses, 'buildTopIouTargets');
      const scored = head.levels.flatMap((level, li) =>
        levelCandidates(l, head, li).map((c) => {
          const o = (((b * level.gridH + c.cy) * level.gridW + c.cx) * level.anchors.length + c.anchor) * per;
          const p = predictions[li];
          // Decoded as in the loss and lib/yolo's decodeYoloHead, in grid units relative to the cell corner.
          const pred = [2 * p[o] - 0.5, 2 * p[o + 1] - 0.5, (2 * p[o + 2]) ** 2 * (level.anchors[c.anchor][0] / level.stride), (2 * p[o + 3]) ** 2 * (level.anchors[c.anchor][1] / level.stride)];
          return { c, iou: iouCxcywh(pred, c.box) };
        }),
      );
      // Stable sort: equal IoUs keep the candidate order.
      scored.sort((x, y) => y.iou - x.iou);
      // The best candidate is always positive (the label must be learnt); the others of the k best only
      // when their predicted box already fits (minIoU): a positive at IoU 0.3-0.5 is taught to score
      // high beside the best box while overlapping it too little for NMS, a duplicate at test time.
      scored.slice(0, k).forEach(({ c, iou }, rank) => {
        if (rank === 0 || minIoU === undefined || iou >= minIoU) setPositive(targets[c.level], head, b, c, l.classId);
      });
      if (ignoreIoU !== undefined) {
        // Candidates beyond the k best that already place a good box are not taught to be background:
        // training them to 0 next to equally good positives only makes the model hedge (low scores
        // everywhere); boxes that good overlap the kept box enough for NMS to merge them.
        for (const { c, iou } of scored.slice(k)) {
          if (iou < ignoreIoU) break;
          const t = targets[c.level];
          const level = head.levels[c.level];
          t.ignore ??= new Float32Array(t.mask.length);
          t.ignore[((b * level.gridH + c.cy) * level.gridW + c.cx) * level.anchors.length + c.anchor] = 1;
        }
      }
    }
  });
  // A positive of another label is never ignored.
  for (const t of targets) if (t.ignore) for (let i = 0; i < t.mask.length; i++) if (t.mask[i]) t.ignore[i] = 0;
  return targets.map(countPositives);
}

export interface LossWeights {
  box: number;
  obj: number;
  cls: number;
  /** Objectness loss weight per level (YOLOv5: 4, 1, 0.4 for strides 8, 16, 32). */
  objBalance: number[];
}

/**
 * YOLOv5's hyp.scratch gains with obj rescaled as its train.py does at 128 px (obj * (S/640)^2).
 * train.py would also scale cls by nc/80 (0.025 for 4 classes), but with that weight the class loss
 * stayed at its prior for the first 175 steps (the shared backbone only followed box/obj gradients),
 * so cls keeps a 10x larger weight here.
 */
export const DEMO_LOSS_WEIGHTS: LossWeights = { box: 0.05, obj: 1.0 * (128 / 640) ** 2, cls: 0.25, objBalance: [4, 1, 0.4] };

/** Numerically stable binary cross-entropy on logits: max(x,0) - x*z + log(1+exp(-|x|)). */
export function bceWithLogits(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.relu(logits).sub(logits.mul(targets)).add(tf.softplus(tf.neg(tf.abs(logits)))));
}

/** Elementwise GIoU of boxes given as centre (..., 2) and size (..., 2); returns shape (...). */
export function giou(pxy: tf.Tensor, pwh: tf.Tensor, txy: tf.Tensor, twh: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const eps = 1e-7;
    const p0 = pxy.sub(pwh.div(2));
    const p1 = pxy.add(pwh.div(2));
    const t0 = txy.sub(twh.div(2));
    const t1 = txy.add(twh.div(2));
    const interWh = tf.relu(tf.minimum(p1, t1).sub(tf.maximum(p0, t0)));
    const lastAxis = pxy.rank - 1;
    const inter = tf.prod(interWh, lastAxis);
    const union = tf.prod(pwh, lastAxis).add(tf.prod(twh, lastAxis)).sub(inter).add(eps);
    const iou = inter.div(union);
    const hull = tf.prod(tf.maximum(p1, t1).sub(tf.minimum(p0, t0)), lastAxis).add(eps);
    return iou.sub(hull.sub(union).div(hull));
  });
}

/** Identity whose gradient is zero (TF's stop_gradient; tfjs has no such op). */
export const stopGradient = tf.customGrad(((x: tf.Tensor) => ({
  value: x.clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as never) as unknown as (x: tf.Tensor) => tf.Tensor;

/**
 * Objectness target of positive anchors: 'one', or 'iou' as in YOLOv5 (the detached GIoU of the
 * anchor's predicted box with its target, clamped at 0), which makes scores rank boxes by
 * localisation quality so that poorly placed duplicates score low.
 */
export type ObjTarget = 'one' | 'iou';

export interface LossParts {
  total: tf.Scalar;
  box: tf.Scalar;
  obj: tf.Scalar;
  cls: tf.Scalar;
}

/**
 * YOLOv5 loss for raw head logits (one [B,H,W,3*(5+nc)] tensor per level):
 *   box: mean over positives of 1 - GIoU(decoded prediction, target), in grid units;
 *   obj: BCE over all anchors against 0 / the positive anchors' objTarget, weighted per level;
 *   cls: BCE over positives and classes against one-hot.
 */
export function yoloLoss(
  logits: readonly tf.Tensor[],
  targets: readonly LevelTargets[],
  head: YoloHeadSpec,
  weights: LossWeights = DEMO_LOSS_WEIGHTS,
  objTarget: ObjTarget = 'one',
): LossParts {
  const nc = head.numClasses;
  let lbox: tf.Tensor = tf.scalar(0);
  let lobj: tf.Tensor = tf.scalar(0);
  let lcls: tf.Tensor = tf.scalar(0);
  head.levels.forEach((level, li) => {
    const t = targets[li];
    const nA = level.anchors.length;
    const [lb, lo, lc] = tf.tidy(() => {
      const batch = logits[li].shape[0];
      const p = logits[li].reshape([batch, level.gridH, level.gridW, nA, 5 + nc]);
      const mask = tf.tensor(t.mask, [batch, level.gridH, level.gridW, nA]);
      const npos = Math.max(1, t.positives);
      const tbox = tf.tensor(t.box, [batch, level.gridH, level.gridW, nA, 4]);
      const anchorGrid = tf.tensor(level.anchors.flatMap(([w, h]) => [w / level.stride, h / level.stride]), [1, 1, 1, nA, 2]);
      const s = tf.sigmoid(p.slice([0, 0, 0, 0, 0], [-1, -1, -1, -1, 4]));
      const pxy = s.slice([0, 0, 0, 0, 0], [-1, -1, -1, -1, 2]).mul(2).sub(0.5);
      const pwh = tf.square(s.slice([0, 0, 0, 0, 2], [-1, -1, -1, -1, 2]).mul(2)).mul(anchorGrid);
      const txy = tbox.slice([0, 0, 0, 0, 0], [-1, -1, -1, -1, 2]);
      const twh = tbox.slice([0, 0, 0, 0, 2], [-1, -1, -1, -1, 2]);
      const g = giou(pxy, pwh, txy, twh);
      const boxTerm = tf.sum(tf.scalar(1).sub(g).mul(mask)).div(npos);
      const objLogits = p.slice([0, 0, 0, 0, 4], [-1, -1, -1, -1, 1]).squeeze([4]);
      const tobj = objTarget === 'iou' ? stopGradient(tf.relu(g)).mul(mask) : mask;
      const objBce = bceWithLogits(objLogits, tobj);
      // Ignored anchors contribute nothing; the mean keeps the all-anchor denominator (as without ignores).
      const objKept = t.ignore ? objBce.mul(tf.scalar(1).sub(tf.tensor(t.ignore, [batch, level.gridH, level.gridW, nA]))) : objBce;
      const objTerm = tf.mean(objKept).mul(weights.objBalance[li]);
      const clsLogits = p.slice([0, 0, 0, 0, 5], [-1, -1, -1, -1, nc]);
      const tcls = tf.tensor(t.cls, [batch, level.gridH, level.gridW, nA, nc]);
      const clsTerm = tf.sum(bceWithLogits(clsLogits, tcls).mul(mask.expandDims(4))).div(npos * nc);
      return [boxTerm, objTerm, clsTerm];
    });
    const nb = lbox.add(lb);
    const no = lobj.add(lo);
    const ncl = lcls.add(lc);
    tf.dispose([lbox, lobj, lcls, lb, lo, lc]);
    lbox = nb;
    lobj = no;
    lcls = ncl;
  });
  const box = lbox.mul(weights.box) as tf.Scalar;
  const obj = lobj.mul(weights.obj) as tf.Scalar;
  const cls = lcls.mul(weights.cls) as tf.Scalar;
  tf.dispose([lbox, lobj, lcls]);
  return { total: box.add(obj).add(cls) as tf.Scalar, box, obj, cls };
}
