import { expect } from 'chai';
import { nonMaxSuppression, boxIou, EVAL_NMS } from '../../lib/yolo/nms.js';
import { matchImage, apPerClass, computeAp, interp } from '../../lib/yolo/metrics.js';
import type { Detection } from '../../lib/yolo/nms.js';

/** Builds decoded rows [cx,cy,w,h,obj,cls...] from xyxy boxes. */
function rows(nc: number, items: { box: number[]; obj: number; cls: number[] }[]): Float32Array {
  const cols = 5 + nc;
  const out = new Float32Array(items.length * cols);
  items.forEach((it, r) => {
    const [x1, y1, x2, y2] = it.box;
    out.set([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1, it.obj, ...it.cls], r * cols);
  });
  return out;
}

describe('yolo/nms', () => {
  it('boxIou on hand-computed cases', () => {
    expect(boxIou([0, 0, 10, 10], [0, 0, 10, 10])).to.equal(1);
    expect(boxIou([0, 0, 10, 10], [5, 0, 15, 10])).to.be.closeTo(50 / 150, 1e-12);
    expect(boxIou([0, 0, 10, 10], [10, 10, 20, 20])).to.equal(0);
    expect(boxIou([0, 0, 10, 10], [2, 2, 4, 4])).to.be.closeTo(4 / 100, 1e-12);
  });

  it('suppresses same-class overlaps above the IoU threshold, keeps other classes, orders by score', () => {
    const r = rows(2, [
      { box: [0, 0, 10, 10], obj: 0.9, cls: [0.9, 0.1] }, // score 0.81, class 0
      { box: [1, 0, 11, 10], obj: 0.8, cls: [0.9, 0.1] }, // IoU 90/110 = 0.818 with the first: suppressed
      { box: [5, 0, 15, 10], obj: 0.8, cls: [0.8, 0.1] }, // IoU 1/3: kept (0.64)
      { box: [0, 0, 10, 10], obj: 0.9, cls: [0.1, 0.5] }, // class 1 at the same place: kept (0.45)
      { box: [30, 30, 40, 40], obj: 0.2, cls: [0.9, 0] }, // objectness 0.2 < 0.25: filtered before scoring
      { box: [50, 50, 60, 60], obj: 0.5, cls: [0.4, 0.3] }, // score 0.2 < 0.25
    ]);
    const d = nonMaxSuppression(r, 2, { confThreshold: 0.25, iouThreshold: 0.45 });
    expect(d.map((x) => x.classId)).to.deep.equal([0, 0, 1]);
    expect(d[0].score).to.be.closeTo(0.81, 1e-6);
    expect(d[1].score).to.be.closeTo(0.64, 1e-6);
    expect(d[1].box).to.deep.equal([5, 0, 15, 10]);
    expect(d[2].score).to.be.closeTo(0.45, 1e-6);
    const agnostic = nonMaxSuppression(r, 2, { confThreshold: 0.25, iouThreshold: 0.45, agnostic: true });
    expect(agnostic.map((x) => x.score.toFixed(2))).to.deep.equal(['0.81', '0.64']);
  });

  it('multi-label emits one candidate per class above the threshold; max detections caps the output', () => {
    const r = rows(3, [{ box: [0, 0, 10, 10], obj: 0.5, cls: [0.6, 0.4, 0.001] }]);
    const single = nonMaxSuppression(r, 3, { confThreshold: 0.001, multiLabel: false });
    expect(single.map((x) => x.classId)).to.deep.equal([0]);
    const multi = nonMaxSuppression(r, 3, EVAL_NMS);
    // 0.5*0.001 = 0.0005 < 0.001, so class 2 is not a candidate.
    expect(multi.map((x) => [x.classId, +x.score.toFixed(4)])).to.deep.equal([[0, 0.3], [1, 0.2]]);
    expect(nonMaxSuppression(r, 3, { ...EVAL_NMS, maxDetections: 1 })).to.have.length(1);
  });

  it('scales normalised boxes with boxScale and rejects rows of the wrong width', () => {
    const r = rows(1, [{ box: [0.1, 0.2, 0.3, 0.4], obj: 1, cls: [1] }]);
    const [d] = nonMaxSuppression(r, 1, {}, [640, 320]);
    d.box.forEach((v, i) => expect(v).to.be.closeTo([64, 64, 192, 128][i], 1e-4));
    expect(() => nonMaxSuppression(new Float32Array(13), 2)).to.throw(/7-column rows/);
  });
});

describe('yolo/metrics', () => {
  it('interp follows numpy.interp, including repeated x values', () => {
    expect(interp(0.25, [0, 0.5, 1], [1, 0, 1])).to.be.closeTo(0.5, 1e-12);
    expect(interp(0.5, [0, 0.5, 0.5, 1], [1, 1, 0.2, 0.2])).to.be.closeTo(0.2, 1e-12);
    expect(interp(1, [0, 0.5, 1, 1], [1, 1, 0.7, 0])).to.equal(0);
    expect(interp(-1, [0, 1], [3, 4])).to.equal(3);
  });

  it('computeAp: perfect detector is ~1 and hand-computed curves match', () => {
    // Perfect: recall 1 at precision 1; the trapezoid to the final (recall 1, precision 0) point loses 0.005.
    expect(computeAp([1], [1])).to.be.closeTo(0.995, 1e-9);
    // TP, FP, TP with 2 labels: envelope 1 up to recall 0.5, 2/3 after; worked out by hand = 0.828333...
    expect(computeAp([0.5, 0.5, 1], [1, 0.5, 2 / 3])).to.be.closeTo(0.8283333, 1e-6);
    // TP, FP, FP with 2 labels: 0.49 + 0.0066667 + 0.0833333 = 0.58.
    expect(computeAp([0.5, 0.5, 0.5], [1, 0.5, 1 / 3])).to.be.closeTo(0.58, 1e-9);
  });

  it('mAP over classes present in the labels, at IoU 0.5 and 0.5:0.95', () => {
    const labels = [
      { classId: 0, box: [0, 0, 10, 10] as [number, number, number, number] },
      { classId: 0, box: [20, 20, 30, 30] as [number, number, number, number] },
      { classId: 1, box: [100, 100, 110, 110] as [number, number, number, number] }, // never detected: AP 0
    ];
    const dets: Detection[] = [
      { classId: 0, score: 0.9, box: [0, 0, 10, 10] },
      { classId: 0, score: 0.8, box: [50, 50, 60, 60] },
      { classId: 0, score: 0.7, box: [20, 20, 30, 35] }, // IoU 100/150 = 0.667: TP up to threshold 0.65
      { classId: 7, score: 0.6, box: [0, 0, 10, 10] }, // class without labels: ignored
    ];
    const stats = matchImage(dets, labels);
    expect(stats.correct[2]).to.deep.equal([true, true, true, true, false, false, false, false, false, false]);
    const ap = apPerClass([stats]);
    expect(ap.classes).to.deep.equal([0, 1]);
    // class 0: 4 thresholds at 0.828333, 6 at 0.58; class 1: 0.
    expect(ap.mAP50).to.be.closeTo(0.8283333 / 2, 1e-6);
    expect(ap.mAP50_95).to.be.closeTo((4 * 0.8283333 + 6 * 0.58) / 10 / 2, 1e-6);
  });

  it('matching keeps, per label, the highest-scored detection among those that chose it (YOLOv5 process_batch)', () => {
    const labels = [{ classId: 0, box: [0, 0, 10, 10] as [number, number, number, number] }];
    const dets: Detection[] = [
      { classId: 0, score: 0.9, box: [0, 0, 10, 15] }, // IoU 0.667
      { classId: 0, score: 0.5, box: [0, 0, 10, 11] }, // IoU 0.909
    ];
    const s = matchImage(dets, labels);
    expect(s.correct[0][0]).to.equal(true);
    expect(s.correct[1][0]).to.equal(false);
    // At 0.7 only the second detection overlaps enough.
    expect(s.correct[0][4]).to.equal(false);
    expect(s.correct[1][4]).to.equal(true);
  });

  it('images without detections still count their labels', () => {
    const a = matchImage([{ classId: 0, score: 0.9, box: [0, 0, 10, 10] }], [{ classId: 0, box: [0, 0, 10, 10] }]);
    const b = matchImage([], [{ classId: 0, box: [0, 0, 10, 10] }]);
    // recall 0.5 at precision 1, then the envelope falls linearly to 0 at recall 1: 0.5 + 0.25.
    const ap = apPerClass([a, b]);
    expect(ap.mAP50).to.be.closeTo(0.75, 1e-9);
  });
});
