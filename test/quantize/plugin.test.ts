// The generic quantizer's hooks (lib/quantize/plugin.ts) with a plug-in written here, not lib/yolo's:
// what a task knows reaches the core only as data - a head spec and the file metadata it writes, range
// rules as recipe overrides, a dataset resolver - and without a plug-in the core stays generic.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { GraphBuilder } from '../../lib/graph/builder.js';
import { quantizeInt8, type QuantizeInt8Options } from '../../lib/quantize/index.js';
import { plainImageSource } from '../../lib/quantize/dataset.js';
import type { HeadPlugin, HeadSpecData, QuantizerPlugin } from '../../lib/quantize/plugin.js';
import { readTflite } from '../../lib/tflite/reader.js';

/** A 1x1 conv that copies channel 0 of the input: its output is the input's channel 0. */
function copyChannelGraph() {
  const b = new GraphBuilder('copy-channel');
  const x = b.addInput('input', [1, 16, 16, 2]);
  const w = b.addConstant('c/w', [1, 1, 2, 1], 'float32', Float32Array.of(1, 0));
  const bias = b.addConstant('c/b', [1], 'float32', Float32Array.of(0));
  const c = b.emit('c', 'Conv2D', [x, w, bias], { strides: [1, 1], padding: 'VALID', dilations: [1, 1], activation: 'none' })[0];
  return b.build([c], { source: 'copy-channel', format: 'built', notes: [] });
}

/** Channel 0 is at most 0.1 everywhere but one pixel at 1: an error-minimising range (mse) clips that top. */
function samplesWithOneBrightPixel(): Float32Array[] {
  return Array.from({ length: 32 }, (_, s) => Float32Array.from({ length: 512 }, (_, i) => (s === 3 && i === 10 ? 1 : ((i * 7 + s * 3) % 11) / 110)));
}

const OPTIONS: QuantizeInt8Options = { representativeDataset: samplesWithOneBrightPixel(), numCalibrationSamples: 32, calibration: 'mse', backend: 'wasm' };

function originOf(report: Awaited<ReturnType<typeof quantizeInt8>>['report'], tensor: string) {
  return report.plan.tensors.find((t) => t.key === tensor)!.origin;
}

interface TestSpec extends HeadSpecData {
  role: string;
}

/** A head plug-in that finds no head by structure but reads one from the graph's source metadata. */
const TEST_HEAD: HeadPlugin<TestSpec> = {
  families: [],
  fromSource: (graph) => {
    const meta = graph.meta.sourceMetadata as { testHead?: string } | undefined;
    if (!meta?.testHead) return undefined;
    return { spec: { kind: 'test-head', numClasses: 1, inputSize: [16, 16], role: meta.testHead }, note: `test head from the source: ${meta.testHead}` };
  },
  splitOutputTail: () => undefined,
  metadata: (spec) => ({ test_head: new TextEncoder().encode(JSON.stringify(spec)) }),
  describe: (spec) => `test head (${spec.role})`,
  overrides: (spec) => [{ match: 'c', rangeRule: 'keep-observed-max', reason: spec.role }],
};

describe('quantizer plug-in hooks', () => {
  it('a recipe rangeRule keeps the observed max that calibration clipped', async () => {
    const plain = await quantizeInt8(copyChannelGraph(), OPTIONS);
    const plainC = plain.report.tensors.find((t) => t.tensor === 'c')!;
    expect(plainC.max, 'mse clips the one bright pixel').to.be.below(1);
    const ruled = await quantizeInt8(copyChannelGraph(), { ...OPTIONS, recipe: { overrides: [{ match: 'c', rangeRule: 'keep-observed-max' }] } });
    expect(ruled.report.tensors.find((t) => t.tensor === 'c')!.max).to.be.at.least(1);
    expect(originOf(ruled.report, 'c')).to.deep.equal({ kind: 'calibrated', method: 'mse, keep-observed-max: top kept at the observed max' });
  });

  it('a recipe rejects an unknown range rule and a rule beside an explicit range', async () => {
    const bad = (overrides: unknown) => quantizeInt8(copyChannelGraph(), { ...OPTIONS, recipe: { overrides: overrides as never } });
    await expectRejection(bad([{ match: 'c', rangeRule: 'widest' }]), /rangeRule 'widest' is not one of keep-observed-max/);
    await expectRejection(bad([{ match: 'c', rangeRule: 'keep-observed-max', range: [0, 1] }]), /cannot go with an explicit 'range'/);
  });

  it("a plug-in head's spec, overrides and metadata reach the plan and the file; the recipe echoes only the user's overrides", async () => {
    const graph = copyChannelGraph();
    graph.meta.sourceMetadata = { testHead: 'logits' };
    const plugin: QuantizerPlugin<TestSpec> = { head: TEST_HEAD };
    const { tflite, report, head } = await quantizeInt8(graph, OPTIONS, plugin);
    expect(head).to.deep.equal({ kind: 'test-head', numClasses: 1, inputSize: [16, 16], role: 'logits' });
    expect(report.head).to.include({ treatment: 'split', family: 'test-head' });
    expect(report.notes).to.include('test head from the source: logits');
    expect(report.recipe.overrides).to.deep.equal([]);
    expect(report.tensors.find((t) => t.tensor === 'c')!.max).to.be.at.least(1);
    expect(originOf(report, 'c')).to.deep.equal({ kind: 'calibrated', method: 'mse, logits: top kept at the observed max' });
    const model = readTflite(tflite);
    const entry = model.metadata.find((m) => m.name === 'test_head')!;
    expect(JSON.parse(new TextDecoder().decode(model.buffers[entry.buffer].data))).to.deep.equal(head);
  });

  it('without a plug-in the source metadata is ignored and accuracy.maxDrop asks for a task metric', async () => {
    const graph = copyChannelGraph();
    graph.meta.sourceMetadata = { testHead: 'logits' };
    const { report } = await quantizeInt8(graph, OPTIONS);
    expect(report.head.treatment).to.equal('none');
    await expectRejection(
      quantizeInt8(copyChannelGraph(), { ...OPTIONS, accuracy: { maxDrop: 1, validation: 'anything' } }),
      /accuracy.maxDrop needs a task metric, and this quantizer has none/,
    );
  });
});

describe('plainImageSource (the dataset paths of a quantizer without plug-in)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plain-images-'));
  // The resolver lists files by name; nothing is decoded.
  for (const f of ['b.png', 'a.jpg', 'notes.txt']) fs.writeFileSync(path.join(dir, f), '');
  fs.writeFileSync(path.join(dir, 'list.txt'), 'a.jpg\n# a comment\nb.png\n');
  fs.mkdirSync(path.join(dir, 'root', 'images'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'root', 'images', 'c.jpg'), '');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads a folder of images, a glob, a .txt list and one image, sorted', () => {
    const images = [path.join(dir, 'a.jpg'), path.join(dir, 'b.png')];
    expect(plainImageSource(dir)).to.deep.equal({ images, info: { source: dir, layout: 'images-folder', images: 2 } });
    expect(plainImageSource(path.join(dir, '*.png')).images).to.deep.equal([path.join(dir, 'b.png')]);
    expect(plainImageSource(path.join(dir, 'list.txt'))).to.deep.include({ images, info: { source: path.join(dir, 'list.txt'), layout: 'list-file', images: 2 } });
    expect(plainImageSource(path.join(dir, 'a.jpg')).info.layout).to.equal('image-file');
  });

  it('a dataset root (images/ below it) is a plug-in layout: the plain resolver says what it expected', () => {
    expect(() => plainImageSource(path.join(dir, 'root'))).to.throw(/no image files .* in the folder \(expected a folder of images, a \.txt list/);
    expect(() => plainImageSource(path.join(dir, 'missing'))).to.throw(/no such file or folder/);
  });
});

async function expectRejection(p: Promise<unknown>, message: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect((e as Error).message).to.match(message);
    return;
  }
  expect.fail(`expected a rejection matching ${message}`);
}
