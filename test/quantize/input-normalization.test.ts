// Per-channel mean/std normalisation (pixel units): quantizeInt8 writes it as the graph's first op, so
// the int8 file takes pixels (int8 = pixel - 128 at scale 1) and records the normalisation. Checked
// against the float graph without it, fed (pixel - mean_c) / std_c computed here by hand.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { exportFloatTflite, quantizeInt8 } from '../../lib/quantize/index.js';
import { analyzeSensitivity, firstInputs } from '../../lib/quantize/sensitivity.js';
import { importModel } from '../../lib/graph/importers/index.js';
import { runDefaultPasses } from '../../lib/graph/passes/index.js';
import { createFloatExecutor } from '../../lib/graph/execute.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { readTflite } from '../../lib/tflite/reader.js';
import { dequantizeOutput, pixelsToInput } from '../../lib/pipeline/quantize.js';
import { mulberry32 } from '../../lib/util/random.js';
import { tempDir, writeTinyGraphModel, type TinyModel } from '../support/tiny-model.js';
import { runCli } from '../support/cli.js';
import { writeDataset } from '../../lib/demo/synthetic.js';
import { maxAbsDiff, sqnrDb } from '../support/compare.js';

const MEAN = [123.675, 116.28, 103.53];
const STD = [58.395, 57.12, 57.375];

/** (pixel - mean_c) / std_c over interleaved RGB, as the model expects its input. */
function normalized(pixels: Uint8Array, mean: number[], std: number[]): Float32Array {
  return Float32Array.from(pixels, (p, i) => (p - mean[i % 3]) / std[i % 3]);
}

describe('per-channel mean/std input normalisation', () => {
  let m: TinyModel;
  const r = mulberry32(7);
  const pixels = () => Uint8Array.from({ length: 8 * 8 * 3 }, () => Math.floor(r() * 256));
  before(() => {
    m = writeTinyGraphModel();
  });
  after(() => fs.rmSync(path.dirname(m.jsonPath), { recursive: true, force: true }));

  it('the int8 file takes pixels, records mean/std, and agrees with the float graph fed normalised values', async () => {
    const calib = Array.from({ length: 16 }, pixels);
    const { tflite, report } = await quantizeInt8(m.dir, { representativeDataset: calib, inputNormalization: { mean: MEAN, std: STD }, backend: 'wasm' });
    expect(report.notes).to.include("input 'x' takes pixels 0..255: (pixel - mean) / std with mean [123.675, 116.28, 103.53], std [58.395, 57.12, 57.375] is the first op 'x/normalize'");
    const model = readTflite(tflite);
    const ops = model.subgraphs[0].operators.map((o) => model.operatorCodes[o.opcodeIndex].builtinCode);
    expect(ops[0]).to.equal(4); // DEPTHWISE_CONV_2D: the normalisation, before the model's own conv
    const runner = await TfliteRunner.load(tflite);
    const graph = runDefaultPasses(await importModel(m.dir));
    const ex = await createFloatExecutor(graph, { backend: 'wasm' });
    try {
      const input = runner.inputs[0];
      expect([input.dtype, input.scale, input.zeroPoint]).to.deep.equal(['int8', 1, -128]);
      expect(input.inputRange).to.deep.equal([0, 255]);
      expect(input.inputNormalization).to.deep.equal({ mean: MEAN, std: STD });
      let signal = 0;
      let noise = 0;
      let worst = 0;
      for (let k = 0; k < 6; k++) {
        const p = pixels();
        const fed = pixelsToInput(p, input);
        expect(Array.from(fed)).to.deep.equal(Array.from(p, (v) => v - 128));
        const got = dequantizeOutput((await runner.run([fed]))[0], runner.outputs[0]);
        const want = (await ex.run(normalized(p, MEAN, STD)))[graph.outputs[0]];
        for (let i = 0; i < want.length; i++) {
          signal += want[i] ** 2;
          noise += (got[i] - want[i]) ** 2;
        }
        worst = Math.max(worst, maxAbsDiff(got, want));
      }
      // Sigmoid output at scale 1/256: a few steps (3.1 measured); 45.1 dB measured.
      expect(worst).to.be.lessThan(4 / 256);
      expect(sqnrDb(signal, noise)).to.be.greaterThan(40);
    } finally {
      runner.dispose();
      ex.dispose();
    }
  });

  it('the float export with the normalisation takes pixels and equals the float model fed normalised values', async () => {
    const mean = [100];
    const std = [50, 60, 70];
    const withNorm = await exportFloatTflite(m.dir, { inputNormalization: { mean, std } });
    const plain = await exportFloatTflite(m.dir);
    const a = await TfliteRunner.load(withNorm.tflite);
    const b = await TfliteRunner.load(plain.tflite);
    try {
      expect(a.inputs[0].inputRange).to.deep.equal([0, 255]);
      const p = pixels();
      const got = (await a.run([pixelsToInput(p, a.inputs[0])]))[0] as Float32Array;
      const want = (await b.run([normalized(p, [100, 100, 100], std)]))[0] as Float32Array;
      expect(maxAbsDiff(got, want)).to.be.lessThan(1e-5);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('the sensitivity analysis takes the option, and measures on the inputs in the range calibration saw', async () => {
    const p = pixels();
    // With the normalisation in the graph the range is [0, 255]: the pixels as they are.
    const input = [{ name: 'input', shape: [1, 8, 8, 3] }];
    expect(Array.from((await firstInputs([p], input, 1, undefined, [0, 255]))[0][0])).to.deep.equal(Array.from(p));
    expect(Array.from((await firstInputs([p], input, 1, undefined, [-1, 1]))[0][0])).to.deep.equal(Array.from(p, (v) => Math.fround((2 * v) / 255 - 1)));
    const both = { representativeDataset: [p], inputNormalization: { mean: MEAN }, inputRange: [-1, 1] as [number, number] };
    let message = '';
    await analyzeSensitivity(m.dir, both).catch((e: Error) => (message = e.message));
    expect(message).to.equal('analyzeSensitivity: give inputRange or inputNormalization, not both (with inputNormalization the model takes pixels 0..255)');
  });

  it('refuses bad mean/std with an error naming the option', async () => {
    const calib = [pixels()];
    const refused = async (inputNormalization: unknown, inputRange?: [number, number]) => {
      const options = { representativeDataset: calib, inputNormalization: inputNormalization as { mean: number[] }, ...(inputRange ? { inputRange } : {}) };
      try {
        await quantizeInt8(m.dir, options);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('not refused');
    };
    expect(await refused({ mean: MEAN, std: [58, 0, 57] })).to.match(/inputNormalization\.std must be > 0 for every channel, got \[58, 0, 57\]/);
    expect(await refused({ mean: [1, 2] })).to.match(/mean for input 'x' has 2 values; the input has 3 channels \(give 3 or 1\)/);
    expect(await refused({ std: ['a'] })).to.match(/inputNormalization\.std must be a list of finite numbers/);
    expect(await refused({})).to.match(/inputNormalization needs mean or std/);
    expect(await refused({ mean: MEAN }, [-1, 1])).to.match(/give inputRange or inputNormalization, not both/);
  });

  it('the CLI takes --mean/--std and refuses malformed ones before any work', async () => {
    const out = path.join(m.dir, 'out.tflite');
    const run = (...extra: string[]) => runCli(['quantize', m.dir, '--calib', m.dir, '-o', out, ...extra]);
    const count = await run('--mean', '1,2');
    expect(count.code).to.not.equal(0);
    expect(count.stderr).to.match(/--mean expects 1 or 3 values \(one per channel\), got 2 \('1,2'\)/);
    expect((await run('--std', '58,0,57')).stderr).to.match(/--std expects one or three numbers > 0 in pixel units.*\(got '58,0,57'\)/);
    expect((await run('--mean', '1,x,3')).stderr).to.match(/--mean expects one or three numbers in pixel units/);
    expect((await run('--mean', '120', '--input-range', '-1,1')).stderr).to.match(/--mean \/ --std make the model take pixels 0\.\.255; give them or --input-range, not both/);
    expect(fs.existsSync(out)).to.equal(false);
  });

  it('quantize --mean --std writes a file that takes pixels and records them', async () => {
    const dir = tempDir('norm-');
    const { imagesDir } = await writeDataset(path.join(dir, 'images'), { count: 2, seed: 3, size: 32 });
    const out = path.join(dir, 'norm.tflite');
    const r = await runCli(['quantize', m.dir, '--calib', imagesDir, '-o', out, '--mean', MEAN.join(','), '--std', '57']);
    const runner = r.code === 0 ? await TfliteRunner.load(fs.readFileSync(out)) : undefined;
    try {
      expect(r.code, r.stderr).to.equal(0);
      expect(runner!.inputs[0].inputRange).to.deep.equal([0, 255]);
      expect(runner!.inputs[0].inputNormalization).to.deep.equal({ mean: MEAN, std: [57] });
    } finally {
      runner?.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
