// YOLOv8 / YOLO11 heads on the real exports: the family's probe and decode against the model's own
// head, quantizeInt8 on every source kind (TF.js uint8 weights, TFLite dynamic range, TFLite full
// integer with int8 and with float I/O), the probe-failure fallback, and the generic float tail on
// the YOLOv8n-pose export.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import crypto from 'node:crypto';
import { expect } from 'chai';
import { quantizeInt8, exportFloatTflite, type QuantizeInt8Result } from '../../lib/yolo/quantize.js';
import { treatHead } from '../../lib/quantize/head.js';
import { YOLO_HEAD } from '../../lib/yolo/plugin.js';
import { importModel } from '../../lib/graph/importers/index.js';
import { runDefaultPasses } from '../../lib/graph/passes/index.js';
import { createFloatExecutor } from '../../lib/graph/execute.js';
import { producersOf, type Graph } from '../../lib/ir/graph.js';
import { listImageFiles } from '../../lib/quantize/dataset.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { imageToInput, type InputDescription } from '../../lib/pipeline/input.js';
import { dequantizeOutput } from '../../lib/pipeline/quantize.js';
import { decodeWithSpec, readHeadSpec, runFloatTail, type FloatTailSpec, type Yolov8HeadSpec } from '../../lib/yolo/head.js';
import { decodeStandardOutput } from '../../lib/yolo/families/standard.js';
import { detect } from '../../lib/yolo/evaluate.js';
import { nonMaxSuppression } from '../../lib/yolo/nms.js';
import {
  BUS_JPG, COCO128_IMAGES, DARTS_WEB_MODEL, POSE_WEB_MODEL, YOLOV8N_DIR, YOLOV8N_DYNAMIC, YOLOV8N_FULL_INT, YOLOV8N_INT_FLOAT_IO, ZIDANE_JPG, requireFixtures,
} from '../support/fixtures.js';
import { runCli } from '../support/cli.js';

const V8 = YOLOV8N_DIR;
const DYNAMIC = YOLOV8N_DYNAMIC;
const FULL_INT = YOLOV8N_FULL_INT;
const INT_FLOAT_IO = YOLOV8N_INT_FLOAT_IO;
const DARTS = DARTS_WEB_MODEL;
const POSE = POSE_WEB_MODEL;
const BUS = BUS_JPG;
const ZIDANE = ZIDANE_JPG;

function calibration(n: number): string[] {
  return listImageFiles(COCO128_IMAGES).slice(0, n);
}

function floatInput(graph: Graph): InputDescription {
  return { name: graph.inputs[0], dtype: 'float32', shape: graph.tensors.get(graph.inputs[0])!.shape, scale: 0, zeroPoint: 0 };
}

async function imported(source: string): Promise<Graph> {
  return runDefaultPasses(await importModel(source));
}

describe('YOLOv8 head family on real exports', function () {
  before(function () {
    requireFixtures(this);
  });

  it('finds and probes the COCO YOLOv8n head (dynamic-range TFLite): strides, grids, DFL bins, classes', async () => {
    const graph = await imported(DYNAMIC);
    const treated = await treatHead(graph, {}, YOLO_HEAD);
    expect(treated.family).to.equal('yolov8');
    expect(treated.treatment).to.equal('split');
    expect(treated.probeMaxError).to.be.below(1e-4);
    const spec = treated.spec as Yolov8HeadSpec;
    expect(spec.kind).to.equal('yolov8-dfl-levels');
    expect(spec.numClasses).to.equal(80);
    expect(spec.regMax).to.equal(16);
    expect(spec.normalized).to.equal(true); // the official TFLite divides boxes by 640
    expect(spec.levels.map((l) => [l.stride, l.gridH, l.gridW, l.anchorOffset])).to.deep.equal([
      [8, 80, 80, 0.5], [16, 40, 40, 0.5], [32, 20, 20, 0.5],
    ]);
    expect(treated.graph.outputs).to.deep.equal(spec.levels.flatMap((l) => [l.box, l.scores]));
  });

  it('the float decode of the split head reproduces the model\'s own [1,84,8400] output (TF.js and LiteRT)', async () => {
    const graph = await imported(DYNAMIC);
    const treated = await treatHead(graph, {}, YOLO_HEAD);
    const spec = treated.spec as Yolov8HeadSpec;
    const full = await createFloatExecutor(graph);
    const split = await createFloatExecutor(treated.graph);
    const { data } = await imageToInput(BUS, floatInput(graph));
    const own = (await full.run(data as Float32Array))[graph.outputs[0]];
    const parts = await split.run(data as Float32Array);
    full.dispose();
    split.dispose();
    const ref = decodeStandardOutput(own, [1, 84, 8400], [640, 640], { normalized: true }).rows;
    const ours = decodeWithSpec(spec, treated.graph.outputs.map((o) => parts[o]), treated.graph.outputs).rows;
    let boxErr = 0;
    let scoreErr = 0;
    for (let r = 0; r < 8400; r++) {
      for (let c = 0; c < 85; c++) {
        const e = Math.abs(ref[r * 85 + c] - ours[r * 85 + c]);
        if (c < 4) boxErr = Math.max(boxErr, e);
        else scoreErr = Math.max(scoreErr, e);
      }
    }
    // float32 head vs float64 decode of the same conv outputs: boxes to ~1e-6 of 640 px, scores to float32 rounding.
    expect(boxErr, 'box px').to.be.below(2e-3);
    expect(scoreErr, 'scores').to.be.below(1e-6);
    // The same through LiteRT: our float export with the head split vs the one with the head kept.
    const keep = await TfliteRunner.load((await exportFloatTflite(DYNAMIC, { head: 'keep' })).tflite);
    const cut = await TfliteRunner.load((await exportFloatTflite(DYNAMIC)).tflite);
    const [ownLite] = await keep.run([data]);
    const cutOut = await cut.run([data]);
    const cutSpec = readHeadSpec(cut.model) as Yolov8HeadSpec;
    const refLite = decodeStandardOutput(ownLite as Float32Array, [1, 84, 8400], [640, 640], { normalized: true }).rows;
    const oursLite = decodeWithSpec(cutSpec, cutOut as Float32Array[], cut.outputs.map((o) => o.name)).rows;
    let liteErr = 0;
    for (let i = 0; i < refLite.length; i++) liteErr = Math.max(liteErr, Math.abs(refLite[i] - oursLite[i]) / (i % 85 < 4 ? 640 : 1));
    expect(liteErr, 'LiteRT, relative').to.be.below(1e-5);
    const detsA = nonMaxSuppression(refLite, 80, { confThreshold: 0.25, iouThreshold: 0.7 });
    const detsB = nonMaxSuppression(oursLite, 80, { confThreshold: 0.25, iouThreshold: 0.7 });
    expect(detsB.map((d) => d.classId)).to.deep.equal(detsA.map((d) => d.classId));
    keep.dispose();
    cut.dispose();
  });

  describe('quantizeInt8 on every source kind', function () {
    const results = new Map<string, QuantizeInt8Result>();
    const sources: [string, string, string | undefined][] = [
      ['TFLite dynamic range (yolov8n_int8.tflite)', DYNAMIC, 'dynamic-range'],
      ['TFLite full integer, int8 I/O (yolov8n_full_integer_quant.tflite)', FULL_INT, 'full-integer'],
      ['TFLite full integer, float I/O (yolov8n_integer_quant.tflite)', INT_FLOAT_IO, 'full-integer'],
      ['TF.js graph model, uint8 weights (yolov8n_darts_web_model)', DARTS, undefined],
    ];
    for (const [label, source, sourceQuantization] of sources) {
      it(`${label}: the head is split per level, all integer, LiteRT runs it`, async () => {
        const r = await quantizeInt8(source, { representativeDataset: calibration(8), numCalibrationSamples: 8 });
        results.set(source, r);
        const spec = r.head as Yolov8HeadSpec;
        expect(r.report.head.family).to.equal('yolov8');
        expect(r.report.head.treatment).to.equal('split');
        expect(r.report.head.cut).to.equal('logit-scores');
        expect(spec.scores).to.equal('logits');
        expect(r.report.sourceQuantization).to.equal(sourceQuantization);
        expect(r.report.allInteger).to.equal(true);
        expect(r.report.quantizeOps).to.equal(0);
        expect(r.report.outputs.map((o) => o.name)).to.deep.equal(spec.levels.flatMap((l) => [l.box, l.scores]));
        for (const o of r.report.outputs) {
          expect(o.dtype).to.equal('int8');
          // DFL logits and class logits (the default cut), each with its own calibrated scale.
          expect(o.scale).to.be.within(0.01, 1);
        }
        const runner = await TfliteRunner.load(r.tflite);
        expect(runner.inputs[0].dtype).to.equal('int8');
        runner.dispose();
      });
    }

    it('class-logit outputs keep the observed maximum of the float head (mse would clip the confident scores)', async function () {
      if (!results.has(DYNAMIC)) this.skip();
      const r = results.get(DYNAMIC)!;
      const spec = r.head as Yolov8HeadSpec;
      // The float graph cut the same way, run on the same 8 calibration images: the largest class logit per level.
      const treated = await treatHead(await imported(DYNAMIC), {}, YOLO_HEAD);
      const exec = await createFloatExecutor(treated.graph);
      const maxOf = new Map<string, number>();
      try {
        for (const image of calibration(8)) {
          const out = await exec.run((await imageToInput(image, floatInput(treated.graph))).data as Float32Array);
          for (const l of spec.levels) maxOf.set(l.scores, out[l.scores].reduce((m, v) => Math.max(m, v), maxOf.get(l.scores) ?? -Infinity));
        }
      } finally {
        exec.dispose();
      }
      const plan = r.report.plan as { tensors: { name: string; range?: [number, number]; origin: { kind: string; method?: string } }[] };
      for (const l of spec.levels) {
        const o = r.report.outputs.find((x) => x.name === l.scores)!;
        const top = o.scale! * (127 - o.zeroPoint!); // the largest value the int8 output can hold
        expect(top, l.scores).to.be.at.least(maxOf.get(l.scores)!);
        expect(top, l.scores).to.be.below(maxOf.get(l.scores)! + 2 * o.scale!);
        const planned = plan.tensors.find((t) => t.name === l.scores)!;
        expect(planned.origin.method).to.equal('mse, score-logits: top kept at the observed max');
        // The box logits keep calibration's own choice.
        expect(plan.tensors.find((t) => t.name === l.box)!.origin.method).to.equal('mse');
      }
    });

    it('the int8 COCO models find what the float model finds on bus.jpg', async function () {
      if (results.size < 3) this.skip();
      const float = (await exportFloatTflite(DYNAMIC, { head: 'keep' })).tflite;
      const want = await detect(float, BUS);
      const classes = (ds: { classId: number }[]) => ds.map((d) => d.classId).sort((a, b) => a - b);
      expect(classes(want)).to.include.members([0, 5]); // people and the bus
      for (const src of [DYNAMIC, FULL_INT, INT_FLOAT_IO]) {
        const got = await detect(results.get(src)!.tflite, BUS);
        for (const w of want.filter((d) => d.score > 0.5)) {
          const match = got.find((g) => g.classId === w.classId && iou(g.box, w.box) > 0.7);
          expect(match, `${path.basename(src)}: class ${w.classId} at [${w.box.map((v) => v.toFixed(0))}]`).to.not.equal(undefined);
        }
      }
    });

    it('re-quantizing the official full-integer file gives the same head spec as the dynamic-range source (same network)', function () {
      if (results.size < 2) this.skip();
      const a = results.get(DYNAMIC)!.head as Yolov8HeadSpec;
      const b = results.get(FULL_INT)!.head as Yolov8HeadSpec;
      // Anchor offsets too: the full-integer file's int8-rounded DFL weights and anchor constants read
      // 0.3477 / 0.4219 before the probe fitted a line (boxes 1.2 px off), the float source's 0.5.
      expect(b.levels.map((l) => [l.stride, l.gridH, l.anchorOffset])).to.deep.equal(a.levels.map((l) => [l.stride, l.gridH, l.anchorOffset]));
      expect(b.numClasses).to.equal(a.numClasses);
    });

    it('the CLI reads our split-head file and the official [1,84,8400] file: compare, inspect, detect', async function () {
      if (!results.has(DYNAMIC)) this.skip();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-int8-v8-cli-'));
      const ours = path.join(dir, 'ours.tflite');
      fs.writeFileSync(ours, results.get(DYNAMIC)!.tflite);
      const data = COCO128_IMAGES;
      const cmp = await runCli(['compare', ours, FULL_INT, '--data', data, '--offset', '64', '--limit', '4', '--fidelity', '--json']);
      expect(cmp.code, cmp.stderr).to.equal(0);
      const json = JSON.parse(cmp.stdout);
      expect(json.models).to.have.length(2);
      for (const m of json.models) {
        expect(m.result.images).to.equal(4);
        expect(m.result.mAP50_95).to.be.within(0.05, 1);
      }
      expect(json.fidelity[0].result.detections.fractionMatched).to.be.above(0.5);
      const inspect = await runCli(['inspect', ours]);
      expect(inspect.code).to.equal(0);
      expect(inspect.stdout).to.match(/detection head \(metadata 'yolo_int8_head'\): YOLOv8\/11 \(yolov8-dfl-levels v1\): 80 classes, input 640x640, regMax 16/);
      const det = await runCli(['detect', ours, BUS, '--json', '--no-save']);
      expect(det.code, det.stderr).to.equal(0);
      const names = JSON.parse(det.stdout).detections.map((d: { className: string }) => d.className);
      expect(names).to.include.members(['person', 'bus']); // class names travel from the source's metadata
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('the same inputs and options give a byte-identical file', async function () {
      if (!results.has(DARTS)) this.skip();
      const again = await quantizeInt8(DARTS, { representativeDataset: calibration(8), numCalibrationSamples: 8 });
      const sha = (x: Uint8Array) => crypto.createHash('sha256').update(x).digest('hex');
      expect(sha(again.tflite)).to.equal(sha(results.get(DARTS)!.tflite));
    });
  });

  it('a head that looks like YOLOv8 but fails the probe is not decoded as YOLOv8: a warning names the node, the generic split applies', async () => {
    const graph = await imported(DARTS);
    // Break the decode: scale the strides constant (the Mul after the box Concat) unevenly.
    const producers = producersOf(graph);
    const mul = graph.nodes.find((n) => n.op === 'Mul' && n.inputs.some((i) => graph.tensors.get(i)?.data?.length === 13125) && producers.get(n.inputs[0])?.op === 'Concat')!;
    expect(mul, 'the strides Mul').to.not.equal(undefined);
    const k = mul.inputs.findIndex((i) => graph.tensors.get(i)?.data);
    const t = graph.tensors.get(mul.inputs[k])!;
    const data = Float32Array.from(t.data as Float32Array, (v, i) => (i % 2 ? v * 1.37 : v));
    graph.tensors.set(t.name, { ...t, data });
    const treated = await treatHead(graph, {}, YOLO_HEAD);
    expect(treated.treatment).to.equal('none');
    expect(treated.warnings.join('\n')).to.match(/a yolov8-like head was found at node '.*Softmax' but failed the numerical probe/);
    const r = await quantizeInt8(graph, { representativeDataset: calibration(4), numCalibrationSamples: 4 });
    expect(r.report.warnings.join('\n')).to.match(/failed the numerical probe/);
    expect(r.report.head.family).to.equal('float-tail');
    expect(r.report.outputs.map((o) => o.shape)).to.deep.equal([[1, 4, 13125], [1, 7, 13125]]);
  });

  it('an unknown head (YOLOv8n-pose): boxes, scores and keypoints become separate int8 outputs and agree with float within their scales', async () => {
    const r = await quantizeInt8(POSE, { representativeDataset: calibration(16), numCalibrationSamples: 16 });
    expect(r.report.head.family).to.equal('float-tail');
    const spec = r.head as FloatTailSpec;
    expect(spec.result).to.deep.equal({ name: 'Identity', shape: [1, 68, 2100] });
    expect(spec.numClasses).to.equal(1); // from the export's metadata.yaml (names)
    expect(spec.extraPerAnchor).to.equal(63); // kpt_shape 21 x 3
    const runner = await TfliteRunner.load(r.tflite);
    const scaleOf = new Map(runner.outputs.map((o) => [o.name, o.scale]));
    // Which part each row of the result comes from, and that part's int8 step.
    const boxPart = spec.parts.find((p) => p.shape[1] === 4)!;
    const scorePart = spec.parts.find((p) => p.shape[1] === 1 && p.shape.length === 3)!;
    expect(scaleOf.get(scorePart.name)).to.equal(1 / 256); // probabilities keep their own fine step
    const graph = await imported(POSE);
    const exec = await createFloatExecutor(graph);
    const errors = { box: [] as number[], score: [] as number[], kxy: [] as number[], kvis: [] as number[] };
    for (const image of [ZIDANE, BUS, ...calibration(72).slice(64)]) {
      const ref = (await exec.run((await imageToInput(image, floatInput(graph))).data as Float32Array))[graph.outputs[0]];
      const raw = await runner.run([(await imageToInput(image, runner.inputs[0])).data]);
      const got = runFloatTail(spec, new Map(runner.outputs.map((o, i) => [o.name, dequantizeOutput(raw[i], o)])));
      for (let j = 0; j < 2100; j++) {
        for (let row = 0; row < 4; row++) errors.box.push(Math.abs(got[row * 2100 + j] - ref[row * 2100 + j]));
        errors.score.push(Math.abs(got[4 * 2100 + j] - ref[4 * 2100 + j]));
        for (let row = 5; row < 68; row++) (((row - 5) % 3 === 2) ? errors.kvis : errors.kxy).push(Math.abs(got[row * 2100 + j] - ref[row * 2100 + j]));
      }
    }
    exec.dispose();
    runner.dispose();
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
    const p99 = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length * 0.99)];
    const boxStep = scaleOf.get(boxPart.name)!;
    const kxyPart = spec.parts.find((p) => p.shape.length === 4 && p.shape[2] === 2)!;
    const kxyStep = scaleOf.get(kxyPart.name)!;
    console.log(`      pose: box median ${(median(errors.box) / boxStep).toFixed(2)} / p99 ${(p99(errors.box) / boxStep).toFixed(2)} steps of ${boxStep.toFixed(3)}; ` +
      `score ${(median(errors.score) * 256).toFixed(2)} / ${(p99(errors.score) * 256).toFixed(2)}; keypoint xy ${(median(errors.kxy) / kxyStep).toFixed(2)} / ${(p99(errors.kxy) / kxyStep).toFixed(2)} steps of ${kxyStep.toFixed(2)}; ` +
      `visibility ${(median(errors.kvis) * 256).toFixed(2)} / ${(p99(errors.kvis) * 256).toFixed(2)} steps of 1/256`);
    // Limits in each part's own output steps: the median error stays within a few steps of its own
    // scale; as one tensor (scale ~13 px) every probability would be 0 or one 13-unit step.
    expect(median(errors.box) / boxStep, 'box median, steps').to.be.below(4);
    expect(median(errors.score) / (1 / 256), 'score median, steps').to.be.below(1);
    expect(p99(errors.score) / (1 / 256), 'score p99, steps').to.be.below(6);
    expect(median(errors.kxy) / kxyStep, 'keypoint xy median, steps').to.be.below(1);
    expect(p99(errors.kxy) / kxyStep, 'keypoint xy p99, steps').to.be.below(8);
    // Visibility is sigmoid(logit) at 1/256, but its logits share one int8 tensor (the keypoint
    // conv's output) with the x/y logits, whose range sets that tensor's step (~0.2 in logit, up to
    // ~0.05 = 13 output steps after the sigmoid): the limit follows from that step, not from 1/256.
    expect(median(errors.kvis) / (1 / 256), 'visibility median, steps').to.be.below(24);
  });
});

function iou(a: number[], b: number[]): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}
