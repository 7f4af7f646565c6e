import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { readyQuietly } from '../../lib/graph/backend.js';
import type { YoloHeadSpec } from '../../lib/yolo/head.js';
import { boxIou, DETECT_NMS, nonMaxSuppression } from '../../lib/yolo/nms.js';
import { countImage } from '../../lib/demo/operating-point.js';
import { detectionsOf } from '../../scripts/demo-training/evaluate.js';
import { anchorSizeRatio, bceWithLogits, bestAnchorFor, bestLevelFor, buildLevelTargets, buildTopIouTargets, giou, yoloLoss, type LevelAssignment } from '../../scripts/demo-training/loss.js';

// One level, 2x2 grid, stride 8, 3 anchors, 2 classes: small enough to compute by hand.
const HEAD: YoloHeadSpec = {
  kind: 'yolov5-sigmoid-levels',
  inputSize: [16, 16],
  numClasses: 2,
  normalized: false,
  levels: [{ output: 'p', stride: 8, gridH: 2, gridW: 2, anchors: [[4, 4], [8, 8], [16, 16]] }],
};

// Two levels on a 32 px input: stride 8 (4x4 grid, anchors 4 and 8 px), stride 16 (2x2, anchors 16 and 32 px).
const TWO_LEVELS: YoloHeadSpec = {
  ...HEAD,
  inputSize: [32, 32],
  levels: [
    { output: 'p3', stride: 8, gridH: 4, gridW: 4, anchors: [[4, 4], [8, 8]] },
    { output: 'p4', stride: 16, gridH: 2, gridW: 2, anchors: [[16, 16], [32, 32]] },
  ],
};

describe('demo/decode (the float evaluation: lib/yolo decode, NMS and the demo\'s count)', () => {
  it('decodes xy = (2s - 0.5 + cell) * stride, wh = (2s)^2 * anchor, score = obj * cls', () => {
    const data = new Float32Array(2 * 2 * 3 * 7);
    // Cell (x=1, y=0), anchor 2: s = (0.75, 0.25, 0.5, 0.25), obj 0.9, classes (0.2, 0.8).
    const o = ((0 * 2 + 1) * 3 + 2) * 7;
    data.set([0.75, 0.25, 0.5, 0.25, 0.9, 0.2, 0.8], o);
    const dets = detectionsOf([data], HEAD, 0.5, 0.45);
    expect(dets).to.have.length(1);
    const d = dets[0];
    // cx = (1.5 - 0.5 + 1) * 8 = 16, cy = (0.5 - 0.5 + 0) * 8 = 0, w = 1^2 * 16 = 16, h = 0.5^2 * 16 = 4.
    expect(d.classId).to.equal(1);
    expect(d.score).to.be.closeTo(0.72, 1e-6);
    expect(d.box).to.deep.equal([8, -2, 24, 2]);
    expect(detectionsOf([data], HEAD, 0.75, 0.45)).to.have.length(0);
    expect(() => detectionsOf([new Float32Array(5)], HEAD, 0.5, 0.45)).to.throw(/level 0 \('p'\) expects \[1,12,7\] = 84 values, got 5/);
  });

  it('boxIou, NMS and matching on hand-computed cases', () => {
    const a = [0, 0, 10, 10];
    expect(boxIou(a, [5, 0, 15, 10])).to.be.closeTo(50 / 150, 1e-12);
    expect(boxIou(a, [10, 0, 20, 10])).to.equal(0);
    // Decoded rows [cx, cy, w, h, obj, p0, p1] with obj 1, so that a row's score is its class probability.
    const row = (cls: number, score: number, [x0, y0, x1, y1]: number[]) => [(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0, 1, cls === 0 ? score : 0, cls === 1 ? score : 0];
    const rows = [
      row(0, 0.6, [1, 0, 11, 10]), // IoU with the 0.9 box 9/11 = 0.82: suppressed
      row(0, 0.9, [0, 0, 10, 10]),
      row(1, 0.5, [0, 0, 10, 10]), // other class: kept
      row(0, 0.4, [5, 0, 15, 10]), // IoU 0.33 with the 0.9 box: kept
    ];
    const kept = nonMaxSuppression(new Float32Array(rows.flat()), 2, { ...DETECT_NMS, confThreshold: 0.3, iouThreshold: 0.45 });
    expect(kept.map((d) => d.score)).to.deep.equal([0.9, 0.5, 0.4].map(Math.fround));
    const truth = [
      { classId: 0, box: [0, 0, 10, 10] as [number, number, number, number] },
      { classId: 1, box: [30, 30, 40, 40] as [number, number, number, number] },
    ];
    // 0.9 matches truth 0; the class-1 box is far from truth 1; 0.4 has IoU 0.33 < 0.5.
    const counts = { truePositives: 0, detections: 0, labels: 0 };
    countImage(counts, kept, truth);
    expect(counts).to.deep.equal({ truePositives: 1, detections: 3, labels: 2 });
    // A duplicate of an already matched truth is a false positive.
    const duplicate = { truePositives: 0, detections: 0, labels: 0 };
    countImage(duplicate, [kept[0], { ...kept[0], score: 0.6, box: [1, 0, 11, 10] }], truth.slice(0, 1));
    expect(duplicate).to.deep.equal({ truePositives: 1, detections: 2, labels: 1 });
  });
});

describe('demo/loss', () => {
  // Whatever backend has the highest priority (wasm when another test file imported it) must be ready.
  before(async () => {
    await readyQuietly(); // tf.ready() without the cpu backend's Node.js banner
  });

  it('assigns a label to the centre cell + 2 nearest neighbours for anchors within 4x', () => {
    // Centre (6, 10) px -> grid (0.75, 1.25): cell (0,1); x frac 0.75 -> right neighbour (1,1);
    // y frac 0.25 -> upper neighbour (0,0). Size 10x10 px: anchors 4 (ratio 2.5), 8 (1.25) ok; 16 (ratio 1.6) ok.
    const t = buildLevelTargets([[{ classId: 1, cx: 6 / 16, cy: 10 / 16, w: 10 / 16, h: 10 / 16 }]], HEAD, 0);
    const positives: string[] = [];
    for (let i = 0; i < t.mask.length; i++) if (t.mask[i]) positives.push(`${Math.floor(i / 3) % 2},${Math.floor(i / 6)},a${i % 3}`);
    expect(positives.sort()).to.deep.equal(['0,0,a0', '0,0,a1', '0,0,a2', '0,1,a0', '0,1,a1', '0,1,a2', '1,1,a0', '1,1,a1', '1,1,a2']);
    expect(t.positives).to.equal(9);
    // Cell (x=1, y=1), anchor 1: offsets relative to that cell's corner, size in grid units.
    const i = (1 * 2 + 1) * 3 + 1;
    expect(Array.from(t.box.subarray(i * 4, i * 4 + 4))).to.deep.equal([0.75 - 1, 1.25 - 1, 1.25, 1.25]);
    expect(Array.from(t.cls.subarray(i * 2, i * 2 + 2))).to.deep.equal([0, 1]);
    // A 1.5 px object is more than 4x smaller than anchors 8 and 16 (ratios 5.3, 10.7): only anchor 4 (2.7x).
    const small = buildLevelTargets([[{ classId: 0, cx: 0.25, cy: 0.25, w: 1.5 / 16, h: 1.5 / 16 }]], HEAD, 0);
    for (let k = 0; k < small.mask.length; k++) if (small.mask[k]) expect(k % 3).to.equal(0);
    expect(small.positives).to.equal(1); // centre exactly at a cell centre (frac 0.5): no neighbours
    expect(() => buildLevelTargets([[{ classId: 5, cx: 0.5, cy: 0.5, w: 0.1, h: 0.1 }]], HEAD, 0)).to.throw(/class 5 outside 0..1/);
  });

  it("'best-level' / 'best-anchor' give a label to its best anchor's level / that anchor only, 'all-levels' to every level within 4x", () => {
    const two = TWO_LEVELS;
    expect(anchorSizeRatio(10, 10, [4, 4])).to.equal(2.5);
    expect(anchorSizeRatio(10, 5, [8, 8])).to.equal(1.6); // 8/5 is the largest of 1.25, 0.8, 0.625, 1.6
    // 10 px: ratios 2.5, 1.25 | 1.6, 3.2 -> best anchor 8 px (level 0); 14 px: 3.5, 1.75 | 1.14, 2.29 -> level 1.
    expect(bestLevelFor(10, 10, two)).to.equal(0);
    expect(bestLevelFor(14, 14, two)).to.equal(1);
    // Centre (12, 12) px: level 0 cell (1,1) frac 0.5 -> no neighbours; level 1 cell (0,0) frac 0.75 -> right and lower neighbours.
    const label10 = [[{ classId: 0, cx: 12 / 32, cy: 12 / 32, w: 10 / 32, h: 10 / 32 }]];
    const label14 = [[{ classId: 1, cx: 12 / 32, cy: 12 / 32, w: 14 / 32, h: 14 / 32 }]];
    const count = (labels: typeof label10, assign: LevelAssignment) => [0, 1].map((li) => buildLevelTargets(labels, two, li, assign).positives);
    expect(count(label10, 'all-levels')).to.deep.equal([2, 6]); // 1 cell x 2 anchors | 3 cells x 2 anchors
    expect(count(label10, 'best-level')).to.deep.equal([2, 0]);
    expect(count(label14, 'all-levels')).to.deep.equal([2, 6]); // 14 px: 4 px anchor at ratio 3.5 < 4 still counts
    expect(count(label14, 'best-level')).to.deep.equal([0, 6]);
    // 'best-anchor': 10 px -> anchor 8 px only (1 cell); 14 px -> anchor 16 px only (3 cells).
    expect(count(label10, 'best-anchor')).to.deep.equal([1, 0]);
    expect(count(label14, 'best-anchor')).to.deep.equal([0, 3]);
    const t14 = buildLevelTargets(label14, two, 1, 'best-anchor');
    for (let i = 0; i < t14.mask.length; i++) if (t14.mask[i]) expect(i % 2, `positive ${i}`).to.equal(0);
    expect(bestAnchorFor(14, 14, two)).to.deep.equal({ level: 1, anchor: 0 });
    expect(() => buildLevelTargets(label10, two, 0, 'nearest' as never)).to.throw(/assignment must be one of all-levels, best-level, best-anchor, got 'nearest'/);
  });

  it("'top-iou' makes the k candidates whose predicted boxes fit the label best the only positives", () => {
    const two = TWO_LEVELS;
    // 10 px square centred at (12, 12). Candidates: level 0 cell (1,1) anchors 0, 1; level 1 cells (0,0), (1,0), (0,1) anchors 0, 1.
    const labels = [[{ classId: 1, cx: 12 / 32, cy: 12 / 32, w: 10 / 32, h: 10 / 32 }]];
    const per = 7;
    const p0 = new Float32Array(4 * 4 * 2 * per); // all zeros: xy = -0.5, wh = 0, IoU 0 with the label
    const p1 = new Float32Array(2 * 2 * 2 * per);
    // Level 1, cell (x=1, y=0), anchor 0 predicts the label exactly: centre (0.75 - 1, 0.75) = (2s - 0.5), size 0.625 = (2s)^2 * 16/16.
    p1.set([0.125, 0.625, Math.sqrt(0.625) / 2, Math.sqrt(0.625) / 2], ((0 * 2 + 1) * 2 + 0) * per);
    // Level 0, cell (1,1), anchor 1: right centre (0.5, 0.5), size 0.625 of a 1.25 target: IoU 0.25.
    p0.set([0.5, 0.5, Math.sqrt(0.625) / 2, Math.sqrt(0.625) / 2], ((1 * 4 + 1) * 2 + 1) * per);
    const positives = (k: number) => buildTopIouTargets(labels, two, [p0, p1], k).map((t) => Array.from(t.mask.entries()).filter(([, m]) => m).map(([i]) => i));
    const l1 = ((0 * 2 + 1) * 2 + 0); // mask index of level 1, cell (1,0), anchor 0
    const l0a1 = (1 * 4 + 1) * 2 + 1;
    expect(positives(1)).to.deep.equal([[], [l1]]);
    expect(positives(2)).to.deep.equal([[l0a1], [l1]]);
    // k = 3: the third is the first IoU-0 candidate in static order (level 0, anchor 0, centre cell).
    expect(positives(3)).to.deep.equal([[l0a1 - 1, l0a1], [l1]]);
    const t = buildTopIouTargets(labels, two, [p0, p1], 1)[1];
    expect(Array.from(t.box.subarray(l1 * 4, l1 * 4 + 4))).to.deep.equal([0.75 - 1, 0.75, 0.625, 0.625]);
    expect(Array.from(t.cls.subarray(l1 * 2, l1 * 2 + 2))).to.deep.equal([0, 1]);
    expect(t.positives).to.equal(1);
    // ignoreIoU 0.2: beyond the best (k = 1), the IoU-0.25 candidate has no objectness loss; IoU-0 ones stay background.
    const ig = buildTopIouTargets(labels, two, [p0, p1], 1, 0.2);
    expect(ig.map((t) => (t.ignore ? Array.from(t.ignore.entries()).filter(([, v]) => v).map(([i]) => i) : []))).to.deep.equal([[l0a1], []]);
    expect(ig.map((t) => t.positives)).to.deep.equal([0, 1]);
    // minIoU 0.3: of the 2 best, the IoU-0.25 candidate is not positive (the best always is); minIoU 0.2 keeps it.
    const minPositives = (k: number, minIoU: number) =>
      buildTopIouTargets(labels, two, [p0, p1], k, undefined, minIoU).map((t) => Array.from(t.mask.entries()).filter(([, m]) => m).map(([i]) => i));
    expect(minPositives(2, 0.3)).to.deep.equal([[], [l1]]);
    expect(minPositives(2, 0.2)).to.deep.equal([[l0a1], [l1]]);
    expect(minPositives(1, 1.1)).to.deep.equal([[], [l1]]);
    expect(() => buildTopIouTargets(labels, two, [p0, p1], 0)).to.throw(/k must be a positive integer, got 0/);
    expect(() => buildTopIouTargets(labels, two, [p0, new Float32Array(3)], 1)).to.throw(/level 'p4' have 3 values, expected 56/);
  });

  it('ignored anchors have no objectness loss; the mean keeps all anchors in the denominator', () => {
    // 2x2 grid x 3 anchors = 12 anchors, no positives: obj loss = gain * balance * sum_i(1 - ignore_i) * softplus(x_i) / 12.
    const objLogits = [-3, -1, 0.5, 2, -2, 0, 1, -0.5, 3, -4, 0.25, 1.5];
    const raw = new Float32Array(2 * 2 * 3 * 7);
    objLogits.forEach((x, i) => (raw[i * 7 + 4] = x));
    const ignore = new Float32Array(12);
    ignore[3] = 1; // logit 2
    ignore[8] = 1; // logit 3
    const base = { mask: new Float32Array(12), box: new Float32Array(48), cls: new Float32Array(24), positives: 0 };
    const weights = { box: 0.05, obj: 0.5, cls: 0.25, objBalance: [2] };
    const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    const logits = tf.tensor4d(raw, [1, 2, 2, 21]);
    const all = yoloLoss([logits], [base], HEAD, weights).obj.dataSync()[0];
    const some = yoloLoss([logits], [{ ...base, ignore }], HEAD, weights).obj.dataSync()[0];
    const expected = (skip: Set<number>) => (0.5 * 2 * objLogits.reduce((acc, x, i) => acc + (skip.has(i) ? 0 : softplus(x)), 0)) / 12;
    expect(all).to.be.closeTo(expected(new Set()), 1e-5);
    expect(some).to.be.closeTo(expected(new Set([3, 8])), 1e-5);
    logits.dispose();
  });

  it('bceWithLogits equals -z log(sigmoid x) - (1-z) log(1 - sigmoid x)', () => {
    const xs = [-30, -2, -0.5, 0, 0.7, 3, 25];
    const zs = [0, 1, 0.3, 1, 0, 1, 0.5];
    const got = bceWithLogits(tf.tensor1d(xs), tf.tensor1d(zs)).arraySync() as number[];
    xs.forEach((x, i) => {
      const z = zs[i];
      // log(sigmoid x) = -log(1+e^-x), log(1 - sigmoid x) = -x - log(1+e^-x), written stably in float64.
      const lse = Math.max(0, -x) + Math.log(Math.exp(-Math.max(0, -x)) + Math.exp(-x - Math.max(0, -x)));
      const expected = z * lse + (1 - z) * (x + lse);
      expect(got[i]).to.be.closeTo(expected, 1e-5 * Math.max(1, Math.abs(expected)));
    });
  });

  it('giou: 1 for identical boxes, IoU for nested, negative for disjoint boxes', () => {
    const t = (v: number[][]) => tf.tensor2d(v);
    const g = giou(t([[0, 0], [0, 0], [0, 0]]), t([[2, 2], [2, 2], [2, 2]]), t([[0, 0], [0, 0], [3, 0]]), t([[2, 2], [1, 1], [2, 2]])).arraySync() as number[];
    expect(g[0]).to.be.closeTo(1, 1e-6);
    expect(g[1]).to.be.closeTo(0.25, 1e-6); // nested: hull = union
    // Disjoint: boxes [-1,1]x[-1,1] and [2,4]x[-1,1]: IoU 0, hull 5x2 = 10, union 8 -> -(10-8)/10.
    expect(g[2]).to.be.closeTo(-0.2, 1e-6);
  });
});
