// Head families, by hand: the YOLOv8 DFL decode, the standard anchor-free layout, the float tail,
// spec validation and the output check, and the readers of ultralytics' own metadata.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { decodeYolov8, dflExpectation, leastSquaresLine, YOLOV8_EVAL_NMS, type Yolov8HeadSpec } from '../../lib/yolo/families/yolov8.js';
import { decodeStandardOutput, standardLayoutOf } from '../../lib/yolo/families/standard.js';
import { concatValues, runFloatTail, transposeValues, splitMixedOutputTail, type FloatTailSpec } from '../../lib/yolo/families/float-tail.js';
import { checkSpecOutputs, validateHeadSpec, readHeadSpec, YOLO_HEAD_METADATA_NAME } from '../../lib/yolo/families/index.js';
import { yolov5HeadSpec } from '../../lib/yolo/families/yolov5.js';
import { parsePythonLiteral, parseSimpleYaml, readLastZipEntry, readModelInfoFromTflite, readModelInfoBeside } from '../../lib/graph/importers/model-info.js';
import type { Graph } from '../../lib/ir/graph.js';
import type { TfliteModel } from '../../lib/tflite/model.js';
import { FIXTURES, POSE_WEB_MODEL, requireFixtures } from '../support/fixtures.js';

const ln = Math.log;

function v8Spec(over: Partial<Yolov8HeadSpec> = {}): Yolov8HeadSpec {
  return {
    kind: 'yolov8-dfl-levels',
    version: 1,
    inputSize: [16, 32],
    numClasses: 2,
    regMax: 2,
    scores: 'probabilities',
    normalized: false,
    levels: [{ box: 'b', scores: 's', stride: 8, gridH: 2, gridW: 4, anchorOffset: 0.5 }],
    ...over,
  };
}

describe('YOLOv8 DFL decode (hand calculations)', () => {
  it('leastSquaresLine: exact points give their line; symmetric noise leaves it', () => {
    const exact = leastSquaresLine([[0, 1], [1, 3], [2, 5]]);
    expect(exact.slope).to.be.closeTo(2, 1e-12);
    expect(exact.intercept).to.be.closeTo(1, 1e-12);
    // v = 2c + 1 plus noise +0.3, -0.3, -0.3, +0.3: even around the mean column 1.5 and summing to 0,
    // so by hand it adds 0 to sum (c - 1.5)(v - mean v) and to mean v: slope 2, intercept 1 still.
    const noisy = leastSquaresLine([[0, 1.3], [1, 3 - 0.3], [2, 5 - 0.3], [3, 7 + 0.3]]);
    expect(noisy.slope).to.be.closeTo(2, 1e-12);
    expect(noisy.intercept).to.be.closeTo(1, 1e-12);
    // Anchor points (x + 0.5) * 8 on an 80-cell row, each rounded to a 2.5 px grid (YOLO11n's int8
    // constants): the line's intercept / slope is the offset within 0.01 cells, where dividing by a
    // stride 0.4 % off (8.032) and taking the median reads about 0.5 - 0.004 * 40 = 0.34.
    const row = Array.from({ length: 80 }, (_, x) => [x, Math.round(((x + 0.5) * 8) / 2.5) * 2.5] as [number, number]);
    const line = leastSquaresLine(row);
    expect(line.intercept / line.slope).to.be.closeTo(0.5, 0.01);
    const medianRead = row.map(([x, v]) => v / 8.032 - x).sort((a, b) => a - b)[40];
    expect(medianRead).to.be.below(0.4);
  });

  it('dflExpectation is the softmax-weighted bin index', () => {
    expect(dflExpectation(new Float32Array(16), 0, 16)).to.be.closeTo(7.5, 1e-12);
    // logits [0, ln 2] -> p = [1/3, 2/3] -> E = 2/3
    expect(dflExpectation(Float32Array.from([9, 0, Math.log(2), 9]), 1, 2)).to.be.closeTo(2 / 3, 1e-7);
    // large logits do not overflow (max subtracted)
    const big = Float32Array.from([1000, 1000 + Math.log(3)]);
    expect(dflExpectation(big, 0, 2)).to.be.closeTo(0.75, 1e-5); // float32 of 1000 + ln 3
  });

  it('turns DFL logits and scores into cx, cy, w, h around the cell centre, times the stride', () => {
    const spec = v8Spec();
    // regMax 2: logits [0, ln 3] give d = 0.75; [0, 0] give 0.5; [ln 3, 0] give 0.25.
    const box = new Float32Array(2 * 4 * 4 * 2);
    const cell = 5; // x = 1, y = 1
    const set = (side: number, a: number, b: number) => {
      box[cell * 8 + side * 2] = a;
      box[cell * 8 + side * 2 + 1] = b;
    };
    set(0, 0, ln(3)); // left 0.75
    set(1, 0, 0); // top 0.5
    set(2, ln(3), 0); // right 0.25
    set(3, 0, ln(3)); // bottom 0.75
    const scores = new Float32Array(8 * 2);
    scores[cell * 2] = 0.2;
    scores[cell * 2 + 1] = 0.9;
    const { rows, numClasses, evalNms } = decodeYolov8(spec, new Map([['b', box], ['s', scores]]));
    expect(numClasses).to.equal(2);
    expect(evalNms).to.deep.equal(YOLOV8_EVAL_NMS);
    const r = Array.from(rows.slice(cell * 7, cell * 7 + 7));
    // anchor (1.5, 1.5): x1 = 0.75, x2 = 1.75, y1 = 1.0, y2 = 2.25 -> cx 1.25, cy 1.625, w 1.0, h 1.25 cells
    const expected = [1.25 * 8, 1.625 * 8, 1.0 * 8, 1.25 * 8, 1, 0.2, 0.9];
    r.forEach((v, i) => expect(v).to.be.closeTo(expected[i], 1e-5));
    // cell 0 with all-zero logits: a box of (regMax - 1) strides around (0.5, 0.5)
    expect(Array.from(rows.slice(0, 4))).to.deep.equal([4, 4, 8, 8]);
  });

  it('applies the sigmoid when the spec stores logits', () => {
    const spec = v8Spec({ scores: 'logits' });
    const scores = new Float32Array(16).fill(0);
    scores[3] = ln(3); // sigmoid = 0.75
    const { rows } = decodeYolov8(spec, new Map([['b', new Float32Array(64)], ['s', scores]]));
    expect(rows[7 + 5 + 1]).to.be.closeTo(0.75, 1e-6);
    expect(rows[5]).to.be.closeTo(0.5, 1e-7);
  });

  it('names the tensor and the expected shape when an output has the wrong size', () => {
    expect(() => decodeYolov8(v8Spec(), new Map([['b', new Float32Array(10)], ['s', new Float32Array(16)]]))).to.throw(
      /'b' must be \[1,2,4,8\] \(64 values\), got 10/,
    );
  });
});

describe('standard single-tensor layouts', () => {
  it('reads [1, 4+nc, N] channels-first (anchor-free: obj = 1) and scales normalised boxes', () => {
    // N = 8 anchors, nc = 2: channel-major data
    const n = 8;
    const data = new Float32Array(6 * n);
    for (let j = 0; j < n; j++) {
      data[0 * n + j] = 0.1 * j; // cx
      data[1 * n + j] = 0.5; // cy
      data[2 * n + j] = 0.2; // w
      data[3 * n + j] = 0.1; // h
      data[4 * n + j] = j / 10; // class 0
      data[5 * n + j] = 1 - j / 10; // class 1
    }
    expect(standardLayoutOf([1, 6, n])).to.equal('anchor-free-channels-first');
    const { rows, numClasses, evalNms } = decodeStandardOutput(data, [1, 6, n], [100, 200]);
    expect(numClasses).to.equal(2);
    expect(evalNms!.iouThreshold).to.equal(0.7);
    expect(Array.from(rows.slice(3 * 7, 4 * 7)).map((v) => +v.toFixed(5))).to.deep.equal([60, 50, 40, 10, 1, 0.3, 0.7]);
  });

  it('keeps [1, N, 5+nc] as YOLOv5 rows (and tiny N stays rows)', () => {
    expect(standardLayoutOf([1, 25200, 85])).to.equal('yolov5-rows');
    expect(standardLayoutOf([1, 1, 6])).to.equal('yolov5-rows');
    expect(standardLayoutOf([1, 84, 8400])).to.equal('anchor-free-channels-first');
  });

  it('drops extra values per anchor (pose keypoints) given the hint, and refuses a count that does not fit', () => {
    const n = 20;
    const data = new Float32Array((4 + 1 + 6) * n).map((_, i) => i);
    const { rows, numClasses } = decodeStandardOutput(data, [1, 11, n], [640, 640], { extraPerAnchor: 6, normalized: false });
    expect(numClasses).to.equal(1);
    expect(Array.from(rows.slice(6, 12))).to.deep.equal([1, 21, 41, 61, 1, 81]);
    expect(() => decodeStandardOutput(data, [1, 11, n], [640, 640], { numClasses: 3, extraPerAnchor: 6 })).to.throw(/do not fit 4 \+ 3 classes \+ 6/);
  });
});

describe('float tail', () => {
  it('concatValues and transposeValues agree with TF.js', () => {
    const a = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
    const b = Float32Array.from({ length: 2 * 1 * 4 }, (_, i) => 100 + i);
    const ours = concatValues([a, b], [[2, 3, 4], [2, 1, 4]], 1);
    const theirs = tf.concat([tf.tensor(a, [2, 3, 4]), tf.tensor(b, [2, 1, 4])], 1).dataSync();
    expect(Array.from(ours)).to.deep.equal(Array.from(theirs));
    const x = Float32Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => i * 0.5);
    for (const perm of [[0, 3, 1, 2], [0, 2, 3, 1], [3, 2, 1, 0], [0, 1, 2, 3]]) {
      const t = transposeValues(x, [2, 3, 4, 5], perm);
      expect(Array.from(t), `perm ${perm}`).to.deep.equal(Array.from(tf.transpose(tf.tensor(x, [2, 3, 4, 5]), perm).dataSync()));
    }
  });

  it('runs concat / reshape / transpose steps from the parts back to the source output', () => {
    const spec: FloatTailSpec = {
      kind: 'float-tail', version: 1, inputSize: [8, 8], numClasses: 1, extraPerAnchor: 0,
      parts: [{ name: 'box', shape: [1, 4, 3] }, { name: 'score', shape: [1, 1, 3] }],
      steps: [
        { op: 'concat', inputs: ['box', 'score'], axis: 1, output: 'cat', shape: [1, 5, 3] },
        { op: 'transpose', input: 'cat', perm: [0, 2, 1], output: 't', shape: [1, 3, 5] },
        { op: 'reshape', input: 't', output: 'out', shape: [1, 15] },
      ],
      result: { name: 'out', shape: [1, 15] },
    };
    const box = Float32Array.from({ length: 12 }, (_, i) => i);
    const score = Float32Array.from([0.1, 0.2, 0.3]);
    const out = runFloatTail(spec, new Map([['box', box], ['score', score]]));
    // row j of the transposed [3,5]: box[0..3][j], score[j]
    expect(Array.from(out).map((v) => +v.toFixed(3))).to.deep.equal([0, 3, 6, 9, 0.1, 1, 4, 7, 10, 0.2, 2, 5, 8, 11, 0.3]);
    expect(() => runFloatTail(spec, new Map([['box', box]]))).to.throw(/no output 'score'/);
  });

  it('splits an output Concat only when its inputs\' ranges differ by more than the factor', () => {
    const t = (name: string, shape: number[]) => ({ name, shape, dtype: 'float32' as const });
    const graph: Graph = {
      tensors: new Map([
        ['x', t('x', [1, 8, 8, 3])], ['px', t('px', [1, 4, 6])], ['p', t('p', [1, 2, 6])], ['out', t('out', [1, 6, 6])],
      ]),
      nodes: [
        { name: 'px_node', op: 'Relu', inputs: ['x'], outputs: ['px'], attrs: {} },
        { name: 'p_node', op: 'Sigmoid', inputs: ['x'], outputs: ['p'], attrs: {} },
        { name: 'cat', op: 'Concat', inputs: ['px', 'p'], outputs: ['out'], attrs: { axis: 1 } },
      ],
      inputs: ['x'],
      outputs: ['out'],
      meta: { source: 'hand', format: 'built', notes: [] },
    };
    const ranges = (pxMax: number) => new Map([['px', { min: 0, max: pxMax }], ['p', { min: 0, max: 1 }], ['out', { min: 0, max: pxMax }]]);
    expect(splitMixedOutputTail(graph, ranges(4), { inputSize: [8, 8] })).to.equal(undefined);
    const split = splitMixedOutputTail(graph, ranges(640), { inputSize: [8, 8] })!;
    expect(split.mixed).to.deep.equal([{ node: 'cat', ratio: 640 }]);
    expect(split.graph.outputs).to.deep.equal(['px', 'p']);
    expect(split.graph.nodes.map((n) => n.name)).to.deep.equal(['px_node', 'p_node']);
    expect(split.spec.steps).to.deep.equal([{ op: 'concat', inputs: ['px', 'p'], axis: 1, output: 'out', shape: [1, 6, 6] }]);
    expect(split.spec.numClasses).to.equal(1); // [1, 6, 6]: 6 rows per anchor - 5 (YOLOv5 rows layout)
  });
});

describe('head spec validation and output checks', () => {
  it('dispatches on kind, lists the kinds it knows, refuses newer versions', () => {
    expect(validateHeadSpec(v8Spec()).kind).to.equal('yolov8-dfl-levels');
    expect(() => validateHeadSpec({ kind: 'yolov9' }, 'm.tflite')).to.throw(/m\.tflite: kind must be one of 'yolov5-sigmoid-levels', 'yolov8-dfl-levels', 'float-tail', got "yolov9"/);
    expect(() => validateHeadSpec({ ...v8Spec(), version: 2 })).to.throw(/version 2 is newer than this yolo-int8 reads \(up to 1\)/);
    expect(() => validateHeadSpec({ ...v8Spec(), regMax: 0 })).to.throw(/regMax must be a positive integer/);
    expect(() => validateHeadSpec({ ...v8Spec(), scores: 'x' })).to.throw(/scores must be 'probabilities' or 'logits'/);
    // A YOLOv5 spec without a version (files written before versioning) is version 1.
    expect(validateHeadSpec(yolov5HeadSpec()).kind).to.equal('yolov5-sigmoid-levels');
  });

  it('a spec that does not match the output tensors names the tensor and the expected shape', () => {
    const spec = v8Spec();
    expect(() => checkSpecOutputs(spec, [{ name: 'b', shape: [1, 2, 4, 8] }], 'x.tflite')).to.throw(/x\.tflite: .*reads output 's' \[1,2,4,2\], which the model does not have/);
    expect(() => checkSpecOutputs(spec, [{ name: 'b', shape: [1, 2, 4, 9] }, { name: 's', shape: [1, 2, 4, 2] }], 'x.tflite')).to.throw(
      /x\.tflite: output 'b' is \[1,2,4,9\], but metadata 'yolo_int8_head' \(yolov8-dfl-levels\) expects \[1,2,4,8\]/,
    );
    expect(() => checkSpecOutputs(spec, [{ name: 'b', shape: [1, 2, 4, 8] }, { name: 's', shape: [1, 2, 4, 2] }])).to.not.throw();
  });

  it('reads a YOLOv8 spec from a model\'s metadata', () => {
    const spec = v8Spec();
    const model = {
      metadata: [{ name: YOLO_HEAD_METADATA_NAME, buffer: 1 }],
      buffers: [{ data: new Uint8Array(0) }, { data: new TextEncoder().encode(JSON.stringify(spec)) }],
    } as unknown as TfliteModel;
    expect(readHeadSpec(model)).to.deep.equal(spec);
  });
});

describe('ultralytics metadata readers', () => {
  it('parse Python literals as str(dict) writes them', () => {
    expect(parsePythonLiteral("{'a': 1, 'b': [2, 3.5], 'c': {0: 'x', 1: \"it's\"}, 'd': (640, 640), 'e': True, 'f': None}")).to.deep.equal({
      a: 1, b: [2, 3.5], c: { 0: 'x', 1: "it's" }, d: [640, 640], e: true, f: null,
    });
  });

  it('parse the YAML subset ultralytics writes', () => {
    const y = parseSimpleYaml("task: pose\nimgsz:\n- 320\n- 320\nnames:\n  0: hand\n  1: '9'\nkpt_shape:\n- 21\n- 3\n");
    expect(y).to.deep.equal({ task: 'pose', imgsz: [320, 320], names: { 0: 'hand', 1: '9' }, kpt_shape: [21, 3] });
  });

  it('read the zip ultralytics appends to its .tflite files, and metadata.yaml beside TF.js exports', function () {
    const file = path.join(FIXTURES, 'yolov8n/yolov8n_int8.tflite');
    requireFixtures(this, file);
    const bytes = new Uint8Array(fs.readFileSync(file));
    expect(readLastZipEntry(bytes)).to.match(/^\{'description': 'Ultralytics YOLOv8n model/);
    const info = readModelInfoFromTflite(bytes)!;
    expect(info.task).to.equal('detect');
    expect(info.names).to.have.length(80);
    expect(info.names![0]).to.equal('person');
    expect(info.names![79]).to.equal('toothbrush');
    expect(readModelInfoFromTflite(new Uint8Array(100))).to.equal(undefined);
    const pose = readModelInfoBeside(POSE_WEB_MODEL)!;
    expect(pose).to.include({ task: 'pose' });
    expect(pose.names).to.deep.equal(['hand']);
    expect(pose.kptShape).to.deep.equal([21, 3]);
    expect(pose.imgsz).to.deep.equal([320, 320]);
  });
});
