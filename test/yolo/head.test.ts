import { expect } from 'chai';
import {
  decodeYoloHead, yolov5HeadSpec, headRowCount, readHeadSpec, validateHeadSpec, YOLO_HEAD_METADATA_NAME, type YoloHeadSpec,
} from '../../lib/yolo/head.js';
import { decodeSingleOutput, decodeBoxesAndScores, decodeModelOutputs } from '../../lib/yolo/decode.js';
import type { TfliteModel } from '../../lib/tflite/model.js';
import { YoloModel } from '../../lib/yolo/evaluate.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { BUS_JPG, YOLOV5N_FP16, requireFixtures } from '../support/fixtures.js';
import { mulberry32 } from '../../lib/util/random.js';

const rng = mulberry32;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe('yolo/head', () => {
  it('decodeYoloHead matches a straightforward per-row YOLOv5 formula on random sigmoid outputs', () => {
    const spec = yolov5HeadSpec([64, 96], 2, ['a', 'b', 'c'], true);
    const cols = 7;
    const rand = rng(42);
    const outs = spec.levels.map((l) => Float32Array.from({ length: l.gridH * l.gridW * 3 * cols }, () => sigmoid((rand() - 0.5) * 8)));
    const got = decodeYoloHead(spec, outs);
    expect(got.length).to.equal(headRowCount(spec) * cols);
    expect(headRowCount(spec)).to.equal(3 * (8 * 12 + 4 * 6 + 2 * 3));
    // Independent reference: walk the global row index and recover level, cell and anchor with div/mod.
    let offset = 0;
    let checked = 0;
    let maxDiff = 0;
    for (let li = 0; li < 3; li++) {
      const l = spec.levels[li];
      const n = l.gridH * l.gridW * 3;
      for (let r = 0; r < n; r++) {
        const anchor = r % 3;
        const cell = Math.floor(r / 3);
        const gx = cell % l.gridW;
        const gy = Math.floor(cell / l.gridW);
        const s = outs[li].subarray(r * cols, (r + 1) * cols);
        const want = [
          ((s[0] * 2 - 0.5 + gx) * l.stride) / 96,
          ((s[1] * 2 - 0.5 + gy) * l.stride) / 64,
          (Math.pow(s[2] * 2, 2) * l.anchors[anchor][0]) / 96,
          (Math.pow(s[3] * 2, 2) * l.anchors[anchor][1]) / 64,
          s[4], s[5], s[6],
        ];
        const row = got.subarray((offset + r) * cols, (offset + r + 1) * cols);
        for (let c = 0; c < cols; c++) maxDiff = Math.max(maxDiff, Math.abs(row[c] - want[c]));
        checked++;
      }
      offset += n;
    }
    expect(checked).to.equal(headRowCount(spec));
    expect(maxDiff).to.be.lessThan(1e-6);
  });

  it('pixel (not normalised) decoding and shape errors name the level', () => {
    const spec: YoloHeadSpec = {
      kind: 'yolov5-sigmoid-levels', inputSize: [8, 8], numClasses: 1, normalized: false,
      levels: [{ output: 'only', stride: 8, gridH: 1, gridW: 1, anchors: [[10, 20]] }],
    };
    // s = 0.5 everywhere: xy = (1 - 0.5 + 0) * 8 = 4; wh = 1^2 * anchor.
    expect(Array.from(decodeYoloHead(spec, [new Float32Array(6).fill(0.5)]))).to.deep.equal([4, 4, 10, 20, 0.5, 0.5]);
    expect(() => decodeYoloHead(spec, [new Float32Array(5)])).to.throw(/level 0 \('only'\) expects \[1,1,6\]/);
    expect(() => decodeYoloHead(spec, [])).to.throw(/1 levels, got 0/);
  });

  it('reads the spec from yolo_int8_head metadata and validates it', () => {
    const spec = yolov5HeadSpec([320, 320], 80, ['o1', 'o2', 'o3']);
    const model = {
      metadata: [{ name: YOLO_HEAD_METADATA_NAME, buffer: 1 }],
      buffers: [{ data: new Uint8Array(0) }, { data: new TextEncoder().encode(JSON.stringify(spec)) }],
    } as unknown as TfliteModel;
    expect(readHeadSpec(model)).to.deep.equal(spec);
    expect(readHeadSpec({ metadata: [], buffers: [] } as unknown as TfliteModel)).to.equal(undefined);
    const bad = { ...model, buffers: [model.buffers[0], { data: new TextEncoder().encode('{"kind":"x"}') }] } as TfliteModel;
    expect(() => readHeadSpec(bad, 'm.tflite')).to.throw(/m\.tflite: metadata 'yolo_int8_head': kind must be/);
    expect(() => validateHeadSpec({ ...spec, levels: [] })).to.throw(/levels must be a non-empty array/);
  });

  it('refuses head metadata with impossible anchors or a grid that contradicts inputSize, naming the field', () => {
    const spec = yolov5HeadSpec([320, 320], 80, ['o1', 'o2', 'o3']);
    const withAnchor = (a: unknown) => ({ ...spec, levels: spec.levels.map((l, i) => (i === 1 ? { ...l, anchors: [l.anchors[0], a] } : l)) });
    for (const a of [[null, 10], [1e30, 10], [10, -3], [Infinity, 5]]) {
      expect(() => validateHeadSpec(withAnchor(a), 'm.tflite')).to.throw(/^m\.tflite: levels\[1\]\.anchors\[1\] is .*; anchors are \[w, h\] pixel sizes in \(0, 5120\]$/);
    }
    // inputSize 640 with the grids of 320: the spec contradicts the model input.
    expect(() => validateHeadSpec({ ...spec, inputSize: [640, 640] }, 'm.tflite')).to.throw(/levels\[0\]: a 40x40 grid at stride 8 does not cover the 640x640 inputSize/);
    expect(() => validateHeadSpec({ ...spec, levels: spec.levels.map((l) => ({ ...l, stride: l.stride * 2 })) })).to.throw(/grid at stride 16 does not cover the 320x320 inputSize/);
    expect(validateHeadSpec(structuredClone(spec))).to.deep.equal(spec);
  });

  it('decodes the single-tensor layout (normalised auto-detected or pixels) and the boxes+scores layout', () => {
    const norm = new Float32Array([0.5, 0.25, 0.1, 0.2, 0.9, 0.8]);
    expect(Array.from(decodeSingleOutput(norm, [1, 1, 6], [640, 320]).rows.slice(0, 4))).to.deep.equal([160, 160, 32, 128]);
    const px = new Float32Array([100, 50, 10, 20, 0.9, 0.8]);
    expect(Array.from(decodeSingleOutput(px, [1, 1, 6], [640, 320]).rows.slice(0, 4))).to.deep.equal([100, 50, 10, 20]);
    expect(Array.from(decodeSingleOutput(norm, [1, 1, 6], [640, 320], false).rows.slice(0, 4)).map((v) => +v.toFixed(3))).to.deep.equal([0.5, 0.25, 0.1, 0.2]);
    const bs = decodeBoxesAndScores(new Float32Array([10, 20, 30, 60]), new Float32Array([0.1, 0.7]), 1, [640, 640], { boxFormat: 'xyxy' });
    expect(bs.numClasses).to.equal(2);
    expect(Array.from(bs.rows).map((v) => +v.toFixed(4))).to.deep.equal([20, 40, 20, 40, 1, 0.1, 0.7]);
    const auto = decodeModelOutputs(
      [new Float32Array([0.5]), new Float32Array([0.5, 0.5, 0.25, 0.25])],
      [{ name: 'scores', shape: [1, 1, 1] }, { name: 'boxes', shape: [1, 1, 4] }], [100, 100],
    );
    expect(Array.from(auto.rows)).to.deep.equal([50, 50, 25, 25, 1, 0.5]);
    expect(() => decodeSingleOutput(norm, [1, 6], [640, 640])).to.throw(/shape \[1,6\]/);
  });
});

describe('yolo/head conventions against the real float model (bus.jpg)', function () {
  before(function () { requireFixtures(this); });
  let rows: Float32Array;

  before(async () => {
    const yolo = new YoloModel(await TfliteRunner.load(YOLOV5N_FP16));
    const input = await yolo.prepare(BUS_JPG);
    rows = (await yolo.forward(input)).outputs[0];
    yolo.runner.dispose();
  });

  /** Inverts the YOLOv5 decode of every row under a cell-order convention; returns rows whose sigmoids leave [0,1]. */
  function rowsOutsideSigmoidRange(cellOf: (cell: number, gridW: number, gridH: number) => [number, number]): number {
    const spec = yolov5HeadSpec([640, 640], 80);
    let offset = 0;
    let bad = 0;
    const tol = 2e-3; // FP16-rounded constants in the export
    for (const l of spec.levels) {
      const n = l.gridH * l.gridW * 3;
      for (let r = 0; r < n; r++) {
        const [gx, gy] = cellOf(Math.floor(r / 3), l.gridW, l.gridH);
        const a = l.anchors[r % 3];
        const o = (offset + r) * 85;
        const sx = ((rows[o] * 640) / l.stride + 0.5 - gx) / 2;
        const sy = ((rows[o + 1] * 640) / l.stride + 0.5 - gy) / 2;
        const sw = Math.sqrt((rows[o + 2] * 640) / a[0]) / 2;
        const sh = Math.sqrt((rows[o + 3] * 640) / a[1]) / 2;
        if ([sx, sy, sw, sh].some((s) => !(s > -tol && s < 1 + tol))) bad++;
      }
      offset += n;
    }
    return bad;
  }

  it('every one of the 25200 rows is a YOLOv5 decode of sigmoids with cell = y*gridW + x, row = cell*3 + anchor', () => {
    expect(rows.length).to.equal(25200 * 85);
    expect(rowsOutsideSigmoidRange((cell, w) => [cell % w, Math.floor(cell / w)])).to.equal(0);
    // The check has teeth: a transposed cell order breaks thousands of rows.
    expect(rowsOutsideSigmoidRange((cell, _w, h) => [Math.floor(cell / h), cell % h])).to.be.greaterThan(1000);
  });

  it('the known top row 24682 (person, 0.8201) is level P5, cell (7, 11), anchor 1', () => {
    const o = 24682 * 85;
    expect(rows[o + 4] * rows[o + 5]).to.be.closeTo(0.8201, 2e-3);
    const r = 24682 - 19200 - 4800;
    expect([r % 3, Math.floor(r / 3) % 20, Math.floor(Math.floor(r / 3) / 20)]).to.deep.equal([1, 7, 11]);
    expect(rows[o] * 640).to.be.within(6.5 * 32, 8.5 * 32);
    expect(rows[o + 1] * 640).to.be.within(10.5 * 32, 12.5 * 32);
  });
});
