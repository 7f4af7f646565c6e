// Imports that validate what they import (issue 21, item 4): a detection head whose shapes do not add
// up, source weights whose dtype the operator cannot take, and label class ids beyond the model's class
// count are errors naming the file and the tensor or line - never a silently worse model or mAP 0.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { readTflite } from '../../lib/tflite/reader.js';
import { writeTflite } from '../../lib/tflite/writer.js';
import { TfliteBuilder } from '../../lib/tflite/builder.js';
import { TensorType } from '../../lib/tflite/model.js';
import { builtinOperatorName } from '../../lib/tflite/operators.js';
import { graphFromTflite, importTflite } from '../../lib/graph/importers/tflite.js';
import { importModel } from '../../lib/graph/importers/index.js';
import { YOLO_HEAD } from '../../lib/yolo/plugin.js';
import { evaluate } from '../../lib/yolo/evaluate.js';
import { MAP_METRIC } from '../../lib/yolo/map-metric.js';
import { readYoloLabels } from '../../lib/yolo/dataset.js';
import { COCO128_IMAGES, YOLOV5N_WEB_MODEL, YOLOV8N_FULL_INT, requireFixtures } from '../support/fixtures.js';
import { tempDir } from '../support/tiny-model.js';

/** The message of what `f` throws (the test fails when it does not throw). */
async function thrown(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

describe('robustness: imports validate what they import', function () {
  this.timeout(120_000);

  it('a YOLOv5 head whose levels do not add up to the output box count names the file and the output', async function () {
    requireFixtures(this);
    const graph = await importModel(YOLOV5N_WEB_MODEL);
    const family = YOLO_HEAD.families.find((f) => f.name === 'yolov5')!;
    const output = graph.outputs[0];
    expect(graph.tensors.get(output)!.shape).to.deep.equal([1, 25200, 85]);
    const head = family.find(graph)!;
    expect(head.convOutputs).to.have.length(3);
    // A head output that ignores its levels (a level lost on the way): the probe names the level.
    const constantHead = async () => new Float32Array(25200 * 85);
    const lost = await thrown(() => family.probe(graph, head, constantHead, [640, 640], 1e-4));
    expect(lost).to.equal(`${path.join(YOLOV5N_WEB_MODEL, 'model.json')}: the YOLOv5 head output '${output}' does not depend on its detection level '${head.convOutputs[0]}' (every level must reach the output)`);
    // The head as a changed Reshape leaves it: the output claims the first level's boxes only
    // (80x80 cells x 3 anchors), while the three detect convs still feed it.
    graph.tensors.get(output)!.shape = [1, 19200, 85];
    const message = await thrown(() => family.find(graph));
    expect(message).to.include(YOLOV5N_WEB_MODEL).and.include(`'${output}' has 19200 boxes`);
    // 80x80 + 40x40 + 20x20 cells, 3 anchors each: 3 x 8400 = 25200, hand-counted.
    expect(message).to.include('(80x80 + 40x40 + 20x20 cells) x 3 anchors add up to 25200');
  });

  it('a changed head Reshape constant in the TF.js file is refused by the importer, naming the file and the node', async function () {
    requireFixtures(this);
    const dir = tempDir('head-reshape-');
    for (const f of fs.readdirSync(YOLOV5N_WEB_MODEL)) fs.copyFileSync(path.join(YOLOV5N_WEB_MODEL, f), path.join(dir, f));
    // model/tf_detect/Reshape_1/shape_1 = [-1, 19200, 85] in the weights; as [-1, 4800, 85] the
    // level's 1,632,000 values become a batch of 4 that cannot join the other levels.
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')).weightsManifest as { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
    let offset = 0;
    for (const w of manifest.flatMap((g) => g.weights)) {
      if (w.name === 'model/tf_detect/Reshape_1/shape_1') break;
      offset += 4 * w.shape.reduce((a, b) => a * b, 1);
    }
    const shards = manifest[0].paths.map((p) => fs.readFileSync(path.join(dir, p)));
    const inFirst = offset < shards[0].length;
    const shard = inFirst ? shards[0] : shards[1];
    const at = inFirst ? offset : offset - shards[0].length;
    expect([shard.readInt32LE(at), shard.readInt32LE(at + 4), shard.readInt32LE(at + 8)]).to.deep.equal([-1, 19200, 85]);
    shard.writeInt32LE(4800, at + 4);
    fs.writeFileSync(path.join(dir, manifest[0].paths[inFirst ? 0 : 1]), shard);
    const message = await thrown(() => importModel(dir));
    expect(message).to.include(path.join(dir, 'model.json')).and.include("node 'model/tf_detect/concat_3'");
  });

  it('a full-integer source whose conv weights were retyped to uint8 is refused naming the operator and the tensor', function () {
    requireFixtures(this);
    const model = readTflite(new Uint8Array(fs.readFileSync(YOLOV8N_FULL_INT)), { label: 'v8' });
    const sg = model.subgraphs[0];
    const conv = sg.operators.find((op) => builtinOperatorName(model.operatorCodes[op.opcodeIndex].builtinCode) === 'CONV_2D')!;
    const weights = sg.tensors[conv.inputs[1]];
    expect(weights.type).to.equal(TensorType.INT8);
    weights.type = TensorType.UINT8;
    const message = (() => {
      try {
        graphFromTflite(model, {}, 'retyped.tflite');
      } catch (e) {
        return (e as Error).message;
      }
      return 'imported';
    })();
    expect(message).to.match(new RegExp(`^retyped\\.tflite: CONV_2D '[^']+': weights '${weights.name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}' are uint8 but input '[^']+' is int8; with int8 activations CONV_2D takes int8 weights$`));
  });

  /** x [1,1,1,2] -> CONV_2D 1x1 -> y, every tensor of `act` type and the weights of `weights` type. */
  function oneConv(act: 'uint8' | 'int16' | 'int8', weights: 'uint8' | 'int8'): Uint8Array {
    const b = new TfliteBuilder();
    const q = (zeroPoint: number) => ({ scale: [0.5], zeroPoint: [zeroPoint] });
    const zp = act === 'uint8' ? 128 : 0;
    const x = b.addTensor({ name: 'x', shape: [1, 1, 1, 2], type: act, quantization: q(zp) });
    const wData = weights === 'uint8' ? Uint8Array.from([130, 126]) : Int8Array.from([2, -2]);
    const w = b.addTensor({ name: 'w', shape: [1, 1, 1, 2], type: weights, data: wData, quantization: q(weights === 'uint8' ? 128 : 0) });
    const biasType = act === 'int16' ? 'int64' : 'int32';
    const bias = b.addTensor({ name: 'bias', shape: [1], type: biasType, data: biasType === 'int64' ? BigInt64Array.from([0n]) : Int32Array.from([0]), quantization: { scale: [0.25], zeroPoint: [0] } });
    const y = b.addTensor({ name: 'y', shape: [1, 1, 1, 1], type: act, quantization: q(zp) });
    b.addOperator('CONV_2D', [x, w, bias], [y], { padding: 1, strideW: 1, strideH: 1, fusedActivationFunction: 0, dilationWFactor: 1, dilationHFactor: 1 });
    b.setInputs([x]);
    b.setOutputs([y]);
    return writeTflite(b.build());
  }

  it('the source rules take uint8 with uint8 (old TFLite) and int8 weights with int16 activations (16x8), and refuse the mixes', async function () {
    // uint8 x uint8: w = 0.5 x (130 - 128, 126 - 128) = (1, -1), as the importer dequantizes it.
    const old = await importTflite(oneConv('uint8', 'uint8'), { label: 'u8.tflite' });
    const conv = old.nodes.find((n) => n.op === 'Conv2D')!;
    expect(Array.from(old.tensors.get(conv.inputs[1])!.data!)).to.deep.equal([1, -1]);
    expect(old.meta.sourceQuantization).to.equal('full-integer');
    await importTflite(oneConv('int16', 'int8'), { label: '16x8.tflite' });
    expect(await thrown(() => importTflite(oneConv('int8', 'uint8'), { label: 'mix.tflite' }))).to.equal(
      "mix.tflite: CONV_2D 'y': weights 'w' are uint8 but input 'x' is int8; with int8 activations CONV_2D takes int8 weights",
    );
    expect(await thrown(() => importTflite(oneConv('uint8', 'int8'), { label: 'mix2.tflite' }))).to.equal(
      "mix2.tflite: CONV_2D 'y': weights 'w' are int8 but input 'x' is uint8; with uint8 activations CONV_2D takes uint8 weights",
    );
  });

  describe('label class ids against the model\'s class count', function () {
    /** A dataset root with one coco128 image in images/ and a label file in labels/ whose line 2 names `classId`. */
    function dataset(classId: number): { root: string; bad: string } {
      const root = tempDir('labels-');
      fs.mkdirSync(path.join(root, 'images'));
      fs.mkdirSync(path.join(root, 'labels'));
      const image = fs.readdirSync(COCO128_IMAGES).sort()[0];
      fs.copyFileSync(path.join(COCO128_IMAGES, image), path.join(root, 'images', image));
      const bad = path.join(root, 'labels', image.replace(/\.jpg$/, '.txt'));
      fs.writeFileSync(bad, `0 0.5 0.5 0.2 0.2\n${classId} 0.4 0.4 0.1 0.1\n`);
      return { root, bad };
    }

    it('readYoloLabels: the count bounds the ids (79 of 80 is the last one)', function () {
      const { bad } = dataset(80);
      expect(() => readYoloLabels(bad, 80)).to.throw(`${bad}:2: class id 80, but the model has 80 classes (ids 0 to 79), got '80 0.4 0.4 0.1 0.1'`);
      expect(readYoloLabels(bad, 81).map((l) => l.classId)).to.deep.equal([0, 80]);
      const huge = dataset(4000000000).bad;
      expect(() => readYoloLabels(huge)).to.throw(`${huge}:2: class id 4000000000 is beyond any class count`);
    });

    it('evaluate and the mAP metric name the label file and line of a class the 80-class model cannot predict', async function () {
      requireFixtures(this);
      const { root, bad } = dataset(80);
      expect(await thrown(() => evaluate(YOLOV8N_FULL_INT, { images: root }))).to.include(`${bad}:2: class id 80, but the model has 80 classes`);
      const set = await MAP_METRIC.load({ images: root }, [640, 640]);
      const bytes = new Uint8Array(fs.readFileSync(YOLOV8N_FULL_INT));
      expect(await thrown(() => set.score(bytes, 'v8'))).to.include(`${bad}:2: class id 80, but the model has 80 classes`);
      // Class 79 is the model's last class: scored, not refused.
      const ok = dataset(79);
      const score = await (await MAP_METRIC.load({ images: ok.root }, [640, 640])).score(bytes, 'v8');
      expect(score.mAP50_95).to.be.within(0, 1);
    });
  });
});
