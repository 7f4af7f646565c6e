// YOLO11n (the official full-integer TFLite, dequantized at import): its C2PSA attention imports as
// BatchMatMul (onnx2tf wrote q·kᵀ and attn·v as FULLY_CONNECTED on activations), the v8 head family
// recognises its head, and quantizeInt8 with default options gives a file that passes check, runs in
// LiteRT and finds what the float export of the same weights finds.
import { expect } from 'chai';
import { quantizeInt8, exportFloatTflite, type QuantizeInt8Result } from '../../lib/yolo/quantize.js';
import { importModel } from '../../lib/graph/importers/index.js';
import { listImageFiles } from '../../lib/quantize/dataset.js';
import { checkTflite } from '../../lib/tflite/check.js';
import { readTflite } from '../../lib/tflite/reader.js';
import { builtinOperatorName } from '../../lib/tflite/operators.js';
import { detect, loadYoloModel } from '../../lib/yolo/evaluate.js';
import { boxIou } from '../../lib/yolo/nms.js';
import type { Yolov8HeadSpec } from '../../lib/yolo/head.js';
import { BUS_JPG, COCO128_IMAGES, fixture, requireFixtures } from '../support/fixtures.js';

const YOLO11N = fixture('yolo11n/yolo11n_full_integer_quant.tflite');

describe('YOLO11n (official full-integer TFLite, C2PSA attention)', function () {
  let result: QuantizeInt8Result;

  before(async function () {
    requireFixtures(this, YOLO11N, 'yolo11n/yolo11n_full_integer_quant.tflite');
    result = await quantizeInt8(YOLO11N, { representativeDataset: listImageFiles(COCO128_IMAGES).slice(0, 4), numCalibrationSamples: 4 });
  });

  it('imports the attention\'s FULLY_CONNECTED on activations as BatchMatMul (q·kᵀ [400,400], attn·v [64,400])', async () => {
    const graph = await importModel(YOLO11N);
    const mm = graph.nodes.filter((n) => n.op === 'BatchMatMul');
    expect(mm).to.have.length(4);
    const shapes = mm.map((n) => graph.tensors.get(n.outputs[0])!.shape.join('x')).sort();
    expect(shapes).to.deep.equal(['400x400', '400x400', '64x400', '64x400']);
    for (const n of mm) expect(n.attrs).to.deep.include({ adjX: false, adjY: true });
  });

  it('the v8 head family splits the head; the file is all integer with int8 BATCH_MATMUL and passes check', () => {
    const { report } = result;
    expect(report.head.family).to.equal('yolov8');
    expect(report.head.treatment).to.equal('split');
    expect((result.head as Yolov8HeadSpec).numClasses).to.equal(80);
    // The source's DFL weights, strides and anchor points are int8-rounded (the widths read a stride
    // 0.4 % off): the anchor points are still the cell centres, 0.5 (the median read 0.35 / 0.42 / 0.5).
    expect((result.head as Yolov8HeadSpec).levels.map((l) => [l.stride, l.gridH, l.anchorOffset])).to.deep.equal([[8, 80, 0.5], [16, 40, 0.5], [32, 20, 0.5]]);
    expect(report.sourceQuantization).to.equal('full-integer');
    expect(report.allInteger).to.equal(true);
    const check = checkTflite(result.tflite);
    expect(check.violations, JSON.stringify(check.violations.slice(0, 3))).to.deep.equal([]);
    const model = readTflite(result.tflite);
    const sg = model.subgraphs[0];
    const bmm = sg.operators.filter((op) => builtinOperatorName(model.operatorCodes[op.opcodeIndex].builtinCode) === 'BATCH_MATMUL');
    expect(bmm).to.have.length(4);
    for (const op of bmm) for (const t of [...op.inputs, ...op.outputs]) expect(sg.tensors[t].type, sg.tensors[t].name).to.equal(9); // int8
  });

  it('the split head\'s decode puts box centres where the float head itself does (LiteRT, bus.jpg, per level)', async () => {
    // The kept head carries the source's int8-rounded anchor points (0.31 cells apart at stride 8)
    // and DFL weights: single anchors differ, but the mean centre shift over a level's cells is the
    // decode's anchor offset error. With the offsets the median read (0.3477 / 0.4219) it was about
    // -0.15 cells: -1.2 px at strides 8 and 16.
    const keep = await loadYoloModel((await exportFloatTflite(YOLO11N, { head: 'keep' })).tflite);
    const split = await loadYoloModel((await exportFloatTflite(YOLO11N)).tflite);
    const rowsOf = async (m: typeof keep) => {
      const decoded = m.decode((await m.forward(await m.prepare(BUS_JPG))).outputs);
      return { rows: decoded.rows, cols: 5 + decoded.numClasses };
    };
    const a = await rowsOf(keep);
    const b = await rowsOf(split);
    keep.runner.dispose();
    split.runner.dispose();
    let first = 0;
    for (const cells of [6400, 1600, 400]) {
      for (const k of [0, 1]) {
        let shift = 0;
        for (let j = first; j < first + cells; j++) shift += b.rows[j * b.cols + k] - a.rows[j * a.cols + k];
        expect(Math.abs(shift / cells), `level of ${cells} cells, ${k ? 'cy' : 'cx'} mean shift (px)`).to.be.below(0.3);
      }
      first += cells;
    }
  });

  it('runs in LiteRT and finds on bus.jpg what the float export of the same weights finds', async () => {
    const float = (await exportFloatTflite(YOLO11N, { head: 'keep' })).tflite;
    const want = (await detect(float, BUS_JPG)).filter((d) => d.score > 0.5);
    expect(want.map((d) => d.classId)).to.include.members([0, 5]); // people and the bus
    const got = await detect(result.tflite, BUS_JPG);
    for (const w of want) {
      const match = got.find((g) => g.classId === w.classId && boxIou(g.box, w.box) > 0.7);
      expect(match, `class ${w.classId} at [${w.box.map((v) => v.toFixed(0))}]`).to.not.equal(undefined);
    }
  });
});
