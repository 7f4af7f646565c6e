// Precision / recall at the max-F1 confidence (ultralytics ap_per_class) against hand calculations.
import { expect } from 'chai';
import { boxSmooth, interpLeft, precisionRecallAtMaxF1 } from '../../lib/yolo/precision-recall.js';
import type { ImageStats } from '../../lib/yolo/metrics.js';

/** One image's stats from (class, score, TP at IoU 0.5) detections and label classes. */
function image(dets: [number, number, boolean][], labels: number[]): ImageStats {
  return { correct: dets.map((d) => [d[2]]), scores: dets.map((d) => d[1]), predClasses: dets.map((d) => d[0]), labelClasses: labels };
}

describe('yolo/precision-recall: P and R as ultralytics val prints them', () => {
  it('interpLeft is numpy.interp with a left value', () => {
    const xp = [-0.9, -0.8, -0.7];
    const fp = [1, 0.5, 2 / 3];
    expect(interpLeft(-0.95, xp, fp, 7)).to.equal(7); // below the first point: left
    expect(interpLeft(-0.85, xp, fp, 7)).to.be.closeTo(0.75, 1e-12); // halfway from 1 to 0.5
    expect(interpLeft(-0.7, xp, fp, 7)).to.be.closeTo(2 / 3, 1e-12);
    expect(interpLeft(0, xp, fp, 7)).to.be.closeTo(2 / 3, 1e-12); // above the last: the last value
  });

  it('boxSmooth: width round(2 f n) // 2 + 1, edges padded with the end values', () => {
    // n = 20, f = 0.1: width round(4) // 2 + 1 = 3, one pad on each side.
    const y = [0, 0, 3, ...new Array<number>(16).fill(0), 6];
    expect(boxSmooth(y, 0.1)).to.deep.equal([0, 1, 1, 1, ...new Array<number>(14).fill(0), 2, 4]);
    // n = 1000, f = 0.1: width 101 (50 each side); a constant stays constant.
    const flat = boxSmooth(new Array<number>(1000).fill(0.25), 0.1);
    expect(flat).to.have.length(1000);
    expect(Math.max(...flat.map((v) => Math.abs(v - 0.25)))).to.be.below(1e-12);
  });

  it('two classes: P and R are read on the F1 plateau below the lowest true positive', () => {
    // Class 0 (2 labels): 0.9 TP, 0.8 FP, 0.7 TP -> below 0.7: P 2/3, R 1, F1 0.8.
    // Class 1 (1 label): 0.6 TP -> below 0.6: P 1, R 1, F1 1. Mean F1 0.9 for every confidence <= 0.6,
    // less above (0.4 on (0.6, 0.7]), so the max lies on that plateau: P = (2/3 + 1) / 2, R = 1.
    const stats = [image([[0, 0.9, true], [0, 0.8, false]], [0, 0]), image([[0, 0.7, true], [1, 0.6, true]], [1])];
    const pr = precisionRecallAtMaxF1(stats);
    expect(pr.precision).to.be.closeTo(5 / 6, 1e-9);
    expect(pr.recall).to.be.closeTo(1, 1e-9);
    expect(pr.confidence).to.be.at.most(0.6);
    expect(pr.f1).to.be.closeTo((0.8 + 1) / 2, 1e-9);
    expect(pr.classes).to.deep.equal([
      { classId: 0, images: 1, instances: 2, precision: pr.classes[0].precision, recall: 1 },
      { classId: 1, images: 1, instances: 1, precision: 1, recall: 1 },
    ]);
    expect(pr.classes[0].precision).to.be.closeTo(2 / 3, 1e-9);
  });

  it('a labelled class without detections counts as P = R = 0 in the means; unlabelled classes are ignored', () => {
    // Class 0: one label, one TP at 0.9. Class 2: two labels in two images, never detected.
    // Class 5: a detection but no label (ignored). On [0, 0.9] class 0 has P = R = 1: means (1 + 0) / 2.
    const stats = [image([[0, 0.9, true], [5, 0.95, false]], [0, 2]), image([], [2])];
    const pr = precisionRecallAtMaxF1(stats);
    expect(pr.precision).to.be.closeTo(0.5, 1e-9);
    expect(pr.recall).to.be.closeTo(0.5, 1e-9);
    expect(pr.classes.map((c) => [c.classId, c.images, c.instances, c.precision, c.recall])).to.deep.equal([
      [0, 1, 1, 1, 1],
      [2, 2, 2, 0, 0],
    ]);
  });

  it('the F1 maximum can sit above low-score false positives: they are not counted', () => {
    // One class, 2 labels: TP 0.9, TP 0.8, then FPs at 0.2 and 0.1. Above 0.8 (to 0.9) R = 0.5 to 1
    // rising; at confidences in [0.2, 0.8] the FP at 0.2 is interpolated in; the plateau near 0.8 keeps
    // P = 1, R = 1 (F1 1) from c = 0.8 down towards 0.2 where P falls linearly to 2/3 at 0.2.
    // The smoothed F1 peaks inside (0.2, 0.8), where P = 1 - (1/3)(0.8 - c)/0.6 > 0.9 for c > 0.62.
    const pr = precisionRecallAtMaxF1([image([[0, 0.9, true], [0, 0.8, true], [0, 0.2, false], [0, 0.1, false]], [0, 0])]);
    expect(pr.recall).to.be.closeTo(1, 1e-9);
    expect(pr.confidence).to.be.within(0.62, 0.8);
    expect(pr.precision).to.be.closeTo(1 - ((0.8 - pr.confidence) / 0.6) * (1 / 3), 1e-9);
    expect(pr.precision).to.be.above(0.9);
  });
});
