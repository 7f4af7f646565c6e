// YOLOv5-style training targets and loss for the demo detector (used by scripts/train-demo.ts).
// Targets are built on the CPU as dense per-level arrays (the wasm backend has no gather gradient,
// UnsortedSegmentSum, so the loss uses masks instead of gathering positive anchors).
import * as tf from '@tensorflow/tfjs';
import type { YoloHeadSpec } from '../yolo/head.js';
import type { YoloLabel } from './synthetic.js';

/** Dense targets of one level for a batch: B x gridH x gridW x anchors. */
export interface LevelTargets {
  /** 1 where an anchor is responsible for an object. */
  mask: Float32Array;
  /** Per anchor: tx, ty (object centre minus cell corner, grid units, in [-0.5, 1.5]), tw, th (grid units). */
  box: Float32Array;
  /** Per anchor: one-hot class. */
  cls: Float32Array;
  positives: number;
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

/**
 * YOLOv5 target assignment: for every label and every anchor of a level whose size ratio is below
 * ANCHOR_RATIO_LIMIT, the cell containing the centre and the two neighbouring cells nearest to the
 * centre (left/right and up/down) become positives. A later label overwrites an earlier one on the
 * same (cell, anchor). With 'best-level' (the default) a label only reaches the level of its best anchor,
 * with 'best-anchor' only that anchor.
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
  const level = head.levels[levelIndex];
  const { gridH, gridW, stride } = level;
  const nA = level.anchors.length;
  const nc = head.numClasses;
  const [inH, inW] = head.inputSize;
  const cells = batch.length * gridH * gridW * nA;
  const mask = new Float32Array(cells);
  const box = new Float32Array(cells * 4);
  const cls = new Float32Array(cells * nc);
  batch.forEach((labels, b) => {
    for (const l of labels) {
      if (!(l.cls >= 0 && l.cls < nc)) throw new Error(`buildLevelTargets: label class ${l.cls} outside 0..${nc - 1}`);
      const best = assignment === 'all-levels' ? undefined : bestAnchorFor(l.w * inW, l.h * inH, head);
      if (best && best.level !== levelIndex) continue;
      const gx = (l.cx * inW) / stride;
      const gy = (l.cy * inH) / stride;
      const gw = (l.w * inW) / stride;
      const gh = (l.h * inH) / stride;
      const ix = Math.min(gridW - 1, Math.floor(gx));
      const iy = Math.min(gridH - 1, Math.floor(gy));
      const fx = gx - ix;
      const fy = gy - iy;
      const candidates: [number, number][] = [[ix, iy]];
      if (fx < 0.5 && ix > 0) candidates.push([ix - 1, iy]);
      if (fx > 0.5 && ix < gridW - 1) candidates.push([ix + 1, iy]);
      if (fy < 0.5 && iy > 0) candidates.push([ix, iy - 1]);
      if (fy > 0.5 && iy < gridH - 1) candidates.push([ix, iy + 1]);
      for (let a = 0; a < nA; a++) {
        if (assignment === 'best-anchor' && a !== best!.anchor) continue;
        const aw = level.anchors[a][0] / stride;
        const ah = level.anchors[a][1] / stride;
        if (anchorSizeRatio(gw, gh, [aw, ah]) >= ANCHOR_RATIO_LIMIT) continue;
        for (const [cx, cy] of candidates) {
          const i = ((b * gridH + cy) * gridW + cx) * nA + a;
          mask[i] = 1;
          box.set([gx - cx, gy - cy, gw, gh], i * 4);
          cls.fill(0, i * nc, (i + 1) * nc);
          cls[i * nc + l.cls] = 1;
        }
      }
    }
  });
  let positives = 0;
  for (let i = 0; i < cells; i++) positives += mask[i];
  return { mask, box, cls, positives };
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
      const objTerm = tf.mean(bceWithLogits(objLogits, tobj)).mul(weights.objBalance[li]);
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
