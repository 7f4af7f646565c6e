// quantizeInt8 on the real COCO YOLOv5n, from both fixtures: what LiteRT loads, the TFLite int8 spec
// rules on the file read back with our reader, detections on bus.jpg, and byte-identical output.
// (Accuracy on coco128 images 65-128 with 64 calibration images is measured by `npm run bench`.)
import path from 'node:path';
import crypto from 'node:crypto';
import { expect } from 'chai';
import { quantizeInt8, type QuantizeInt8Result } from '../../lib/yolo/quantize.js';
import { listImageFiles } from '../../lib/quantize/dataset.js';
import { readTflite } from '../../lib/tflite/reader.js';
import { builtinOperatorName } from '../../lib/tflite/operators.js';
import { dtypeName, type TfliteModel } from '../../lib/tflite/model.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { detect } from '../../lib/yolo/evaluate.js';
import { BUS_JPG, COCO128_IMAGES, YOLOV5N_FP16, YOLOV5N_WEB_MODEL, requireFixtures } from '../support/fixtures.js';
import type { YoloHeadSpec } from '../../lib/yolo/head.js';

const CALIB = 8; // enough for the structural checks; the benchmark uses 64

function calibrationFiles(): string[] {
  return listImageFiles(COCO128_IMAGES).slice(0, CALIB);
}

function sha(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** The TFLite int8 spec rules, asserted on a file read back with our reader. */
function checkSpecRules(model: TfliteModel): void {
  const sg = model.subgraphs[0];
  const t = (i: number) => sg.tensors[i];
  const q = (i: number) => t(i).quantization!;
  const same = (a: number, b: number, where: string) => {
    expect(q(a).scale[0], `${where}: scale of '${t(a).name}' vs '${t(b).name}'`).to.equal(q(b).scale[0]);
    expect(q(a).zeroPoint[0], `${where}: zero point`).to.equal(q(b).zeroPoint[0]);
  };
  for (const tensor of sg.tensors) {
    const dt = dtypeName(tensor.type);
    expect(['int8', 'int32'], `tensor '${tensor.name}' type`).to.include(dt);
    if (dt === 'int32' && !tensor.quantization) continue; // shape / padding operands are plain int32
    expect(tensor.quantization?.scale.length, `tensor '${tensor.name}' has quantization`).to.be.greaterThan(0);
    for (const zp of tensor.quantization!.zeroPoint) {
      expect(zp).to.be.within(-128, 127);
    }
  }
  for (const op of sg.operators) {
    const name = builtinOperatorName(model.operatorCodes[op.opcodeIndex].builtinCode);
    const [x, w, b] = op.inputs;
    const y = op.outputs[0];
    if (name === 'CONV_2D' || name === 'DEPTHWISE_CONV_2D') {
      const axis = name === 'CONV_2D' ? 0 : 3;
      const channels = t(w).shape[axis];
      expect(q(w).scale.length, `${t(w).name}: per-channel scales`).to.equal(channels);
      expect(q(w).quantizedDimension).to.equal(axis);
      expect(q(w).zeroPoint.every((z) => z === 0), 'weights symmetric').to.equal(true);
      const data = new Int8Array(model.buffers[t(w).buffer].data.buffer, model.buffers[t(w).buffer].data.byteOffset, model.buffers[t(w).buffer].data.length);
      let minWeight = 0;
      for (const v of data) minWeight = Math.min(minWeight, v);
      expect(minWeight, 'weights in [-127, 127]').to.be.at.least(-127);
      expect(dtypeName(t(b).type)).to.equal('int32');
      expect(q(b).zeroPoint.every((z) => z === 0)).to.equal(true);
      q(b).scale.forEach((s, c) => expect(s).to.be.closeTo(q(x).scale[0] * q(w).scale[c], 1e-6 * s));
    } else if (name === 'LOGISTIC') {
      expect(q(y).scale[0]).to.equal(1 / 256);
      expect(q(y).zeroPoint[0]).to.equal(-128);
    } else if (['MAX_POOL_2D', 'RESHAPE', 'PAD', 'PADV2', 'STRIDED_SLICE', 'RESIZE_NEAREST_NEIGHBOR'].includes(name)) {
      same(y, x, name);
    } else if (name === 'CONCATENATION') {
      for (const i of op.inputs) same(i, y, name);
    }
  }
}

async function checkLoadsInLiteRt(result: QuantizeInt8Result): Promise<void> {
  const runner = await TfliteRunner.load(result.tflite);
  try {
    expect(runner.inputs).to.have.length(1);
    const input = runner.inputs[0];
    expect(input.dtype).to.equal('int8');
    expect(input.shape).to.deep.equal([1, 640, 640, 3]);
    expect(input.scale).to.be.closeTo(1 / 255, 1e-9);
    expect(input.zeroPoint).to.equal(-128);
    expect(runner.outputs.map((o) => o.dtype)).to.deep.equal(['int8', 'int8', 'int8']);
    expect(runner.outputs.map((o) => o.shape)).to.deep.equal([
      [1, 80, 80, 255],
      [1, 40, 40, 255],
      [1, 20, 20, 255],
    ]);
  } finally {
    runner.dispose();
  }
  expect(result.report.allInteger).to.equal(true);
  expect(result.report.quantizeOps).to.equal(0);
  expect(result.report.head.treatment).to.equal('split');
  // Strides as the model computes them (the float .tflite's FP16 constants give 7.998 instead of 8).
  const head = result.head as YoloHeadSpec;
  expect(head.kind).to.equal('yolov5-sigmoid-levels');
  head.levels.forEach((l, i) => expect(l.stride).to.be.closeTo([8, 16, 32][i], 0.01 * l.stride));
  // The anchors the probe read off the graph are YOLOv5's (pixels at 640).
  expect(head.levels[2].anchors.map(([w, h]) => [Math.round(w), Math.round(h)])).to.deep.equal([
    [116, 90],
    [156, 198],
    [373, 326],
  ]);
}

/** bus.jpg: the bus and at least three of the four people. */
async function checkBus(tflite: Uint8Array): Promise<void> {
  const dets = await detect(tflite, BUS_JPG);
  const people = dets.filter((d) => d.classId === 0 && d.score > 0.4);
  const buses = dets.filter((d) => d.classId === 5);
  expect(people.length, `people in ${JSON.stringify(dets)}`).to.be.at.least(3);
  expect(buses.length, 'bus').to.be.at.least(1);
  // The bus box in the original 810x1080 image (float model: about 22,231 - 805,750).
  const [x1, y1, x2, y2] = buses[0].box;
  expect(x1).to.be.closeTo(22, 40);
  expect(y1).to.be.closeTo(231, 40);
  expect(x2).to.be.closeTo(805, 40);
  expect(y2).to.be.closeTo(750, 40);
}

describe('quantizeInt8 on the real YOLOv5n', function () {
  before(function () {
    requireFixtures(this);
  });

  let fromWeb: QuantizeInt8Result;

  it('from the TF.js graph model: int8 I/O, every tensor integer, spec rules, bus.jpg', async () => {
    fromWeb = await quantizeInt8(YOLOV5N_WEB_MODEL, {
      representativeDataset: calibrationFiles(),
      numCalibrationSamples: CALIB,
    });
    await checkLoadsInLiteRt(fromWeb);
    checkSpecRules(readTflite(fromWeb.tflite));
    await checkBus(fromWeb.tflite);
    expect(fromWeb.report.cutAt).to.deep.equal(['model/tf_detect/concat_3']);
    expect(fromWeb.tflite.length).to.be.below(2176184); // smaller than the official int8 file
  });

  it('from the float .tflite: the same checks', async () => {
    const r = await quantizeInt8(YOLOV5N_FP16, {
      representativeDataset: calibrationFiles(),
      numCalibrationSamples: CALIB,
    });
    await checkLoadsInLiteRt(r);
    checkSpecRules(readTflite(r.tflite));
    await checkBus(r.tflite);
  });

  it('the same inputs and options give a byte-identical file', async () => {
    const again = await quantizeInt8(YOLOV5N_WEB_MODEL, {
      representativeDataset: calibrationFiles(),
      numCalibrationSamples: CALIB,
    });
    expect(sha(again.tflite)).to.equal(sha(fromWeb.tflite));
  });

  it('uint8 input and float32 outputs when asked (QUANTIZE / DEQUANTIZE only at the boundary)', async () => {
    const r = await quantizeInt8(YOLOV5N_WEB_MODEL, {
      representativeDataset: calibrationFiles().slice(0, 2),
      numCalibrationSamples: 2,
      inputType: 'uint8',
      outputType: 'float32',
    });
    expect(r.report.inputs[0].dtype).to.equal('uint8');
    expect(r.report.inputs[0].zeroPoint).to.equal(0);
    expect(r.report.outputs.map((o) => o.dtype)).to.deep.equal(['float32', 'float32', 'float32']);
    expect(r.report.ops.QUANTIZE).to.equal(1);
    expect(r.report.ops.DEQUANTIZE).to.equal(3);
    await checkBus(r.tflite);
  });
});
