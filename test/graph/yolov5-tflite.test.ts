// The float-TFLite importer on the official YOLOv5n fp16 export, against LiteRT running the file.
import path from 'node:path';
import { expect } from 'chai';
import { importTflite } from '../../lib/graph/importers/tflite.js';
import { importModel } from '../../lib/graph/importers/index.js';
import { runDefaultPasses } from '../../lib/graph/passes/index.js';
import { createFloatExecutor } from '../../lib/graph/execute.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { maxAbsDiff } from '../support/compare.js';
import { YOLOV5N_FP16, YOLOV5N_INT8, requireFixtures } from '../support/fixtures.js';
import { letterboxedBus } from '../support/float-models.js';

describe('YOLOv5n float TFLite', function () {
  const file = YOLOV5N_FP16;
  let input: Float32Array;
  let reference: Float32Array;

  before(async function () {
    requireFixtures(this);
    input = await letterboxedBus();
    const runner = await TfliteRunner.load(file);
    reference = (await runner.run(input))[0] as Float32Array;
    runner.dispose();
  });

  it('imports every op, folds the fp16 DEQUANTIZEs and matches LiteRT within 1e-3', async function () {
    const raw = await importTflite(file);
    expect(raw.meta.format).to.equal('tflite');
    expect(raw.inputs).to.deep.equal(['input_1']);
    expect(raw.outputs).to.deep.equal(['Identity']);
    expect(raw.nodes.filter((n) => n.op === 'Conv2D')).to.have.length(60);
    // weights are float32 HWIO constants now
    const conv0 = raw.nodes.find((n) => n.op === 'Conv2D')!;
    expect(raw.tensors.get(conv0.inputs[1])!.shape).to.deep.equal([6, 6, 3, 16]);
    expect(raw.tensors.get(conv0.inputs[1])!.data).to.be.instanceOf(Float32Array);
    const g = runDefaultPasses(raw);
    expect(g.nodes.filter((n) => n.op === 'Silu')).to.have.length(57);
    const ex = await createFloatExecutor(g, { backend: 'wasm' });
    const out = (await ex.run(input))['Identity'];
    ex.dispose();
    const diff = maxAbsDiff(out, reference);
    console.log(`    IR vs LiteRT max abs diff ${diff.toExponential(2)}`);
    expect(diff).to.be.below(1e-3);
  });

  it('importModel detects .tflite paths and bytes', async function () {
    const fs = await import('node:fs');
    const a = await importModel(file);
    const b = await importModel(new Uint8Array(fs.readFileSync(file)));
    expect(a.meta.format).to.equal('tflite');
    expect(b.nodes.map((n) => n.op)).to.deep.equal(a.nodes.map((n) => n.op));
  });

  it('imports the uint8 full-integer model as its float graph (see tflite-quantized-sources.test.ts)', async function () {
    const g = await importTflite(YOLOV5N_INT8);
    expect(g.meta.sourceQuantization).to.equal('full-integer');
    expect(g.inputs).to.deep.equal(['input_1']);
    expect(g.outputs).to.deep.equal(['Identity']);
    expect(g.tensors.get('input_1')!.dtype).to.equal('float32');
    expect(g.nodes.filter((n) => n.op === 'Conv2D')).to.have.length(60);
  });
});
