// The graph-model importer end to end on the real YOLOv5n TF.js export: cut point, passes and the
// IR's float output against TF.js's own GraphModel execution on bus.jpg.
import path from 'node:path';
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { importTfjsGraphModel } from '../../lib/graph/importers/tfjs-graph.js';
import { runDefaultPasses } from '../../lib/graph/passes/index.js';
import { createFloatExecutor } from '../../lib/graph/execute.js';
import { initBackend } from '../../lib/graph/backend.js';
import { maxAbsDiff } from '../support/compare.js';
import { YOLOV5N_WEB_MODEL, requireFixtures } from '../support/fixtures.js';
import { letterboxedBus, loadGraphModelFromDir } from '../support/float-models.js';

describe('YOLOv5n TF.js graph model', function () {
  const dir = YOLOV5N_WEB_MODEL;
  let input: Float32Array;
  let reference: Float32Array;
  let model: tf.GraphModel;

  before(async function () {
    requireFixtures(this);
    expect(await initBackend('wasm')).to.equal('wasm');
    input = await letterboxedBus();
    model = await loadGraphModelFromDir(dir);
    const x = tf.tensor4d(input, [1, 640, 640, 3]);
    // execute, not executeAsync: up to concat_3 there is no control flow (executeAsync would say so on the console).
    const y = model.execute(x, 'model/tf_detect/concat_3') as tf.Tensor;
    reference = (await y.data()) as Float32Array;
    x.dispose();
    y.dispose();
  });

  after(() => model?.dispose());

  it('cuts before NMS at model/tf_detect/concat_3 and says so', async function () {
    const g = await importTfjsGraphModel(dir);
    expect(g.meta.format).to.equal('tfjs-graph-model');
    expect(g.meta.cutAt).to.deep.equal(['model/tf_detect/concat_3']);
    expect(g.meta.notes.join(' ')).to.contain('NonMaxSuppressionV3');
    expect(g.inputs).to.deep.equal(['x']);
    expect(g.outputs).to.deep.equal(['model/tf_detect/concat_3']);
    expect(g.tensors.get('model/tf_detect/concat_3')!.shape).to.deep.equal([1, 25200, 85]);
    expect(g.nodes.some((n) => /nms/.test(n.name))).to.equal(false);
  });

  it('IR float output matches tf.GraphModel.execute within 1e-4 (before and after passes)', async function () {
    const raw = await importTfjsGraphModel(path.join(dir, 'model.json'));
    const g = runDefaultPasses(raw);
    const counts: Record<string, number> = {};
    for (const n of g.nodes) counts[n.op] = (counts[n.op] ?? 0) + 1;
    expect(counts.Silu).to.equal(57); // one per conv except the 3 detect-head convs
    expect(counts.Sigmoid).to.equal(9); // 66 sigmoids in the source, 57 of them inside SiLUs
    expect(counts.Conv2D).to.equal(60);
    for (const graph of [raw, g]) {
      const ex = await createFloatExecutor(graph, { backend: 'wasm' });
      const out = await ex.run(input);
      ex.dispose();
      const diff = maxAbsDiff(out['model/tf_detect/concat_3'], reference);
      console.log(`    IR (${graph === raw ? 'imported' : 'after passes'}) vs GraphModel max abs diff ${diff.toExponential(2)}`);
      expect(diff).to.be.below(1e-4);
    }
  });

  it('imports an already loaded tf.GraphModel the same way', async function () {
    const fromModel = await importTfjsGraphModel(model);
    const fromDir = await importTfjsGraphModel(dir);
    expect(fromModel.outputs).to.deep.equal(fromDir.outputs);
    expect(fromModel.nodes.map((n) => n.op)).to.deep.equal(fromDir.nodes.map((n) => n.op));
    const w = 'model/tf_conv/sequential/conv2d/Conv2D/ReadVariableOp';
    expect(Array.from(fromModel.tensors.get(w)!.data!)).to.deep.equal(Array.from(fromDir.tensors.get(w)!.data!));
  });
});
