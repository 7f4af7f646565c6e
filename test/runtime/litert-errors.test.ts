// LiteRT reports some failures only as log lines (e.g. XNNPACK cannot take an int8 CONCATENATION
// whose inputs have other parameters than its output, and the runtime then says "Failed to allocate
// tensors" and returns stale buffers). TfliteRunner must turn that into an error, never return garbage.
import { expect } from 'chai';
import { TfliteBuilder } from '../../lib/tflite/builder.js';
import { writeTflite } from '../../lib/tflite/writer.js';
import { TfliteRunner } from '../../lib/runtime/index.js';

function concatModel(sameParams: boolean): Uint8Array {
  const b = new TfliteBuilder();
  const q = (scale: number, zeroPoint: number) => ({ scale: [scale], zeroPoint: [zeroPoint] });
  const a = b.addTensor({ name: 'a', shape: [1, 2, 2, 3], type: 'int8', quantization: q(0.1, 0) });
  const c = b.addTensor({ name: 'b', shape: [1, 2, 2, 3], type: 'int8', quantization: sameParams ? q(0.1, 0) : q(0.02, 5) });
  const y = b.addTensor({ name: 'y', shape: [1, 2, 2, 6], type: 'int8', quantization: q(0.1, 0) });
  b.addOperator('CONCATENATION', [a, c], [y], { axis: 3, fusedActivationFunction: 0 });
  b.setInputs([a, c]);
  b.setOutputs([y]);
  return writeTflite(b.build());
}

async function runOrError(bytes: Uint8Array): Promise<{ out?: Int8Array; error?: string }> {
  try {
    // The checker would refuse the second model before LiteRT sees it; here LiteRT's own handling is tested.
    const r = await TfliteRunner.load(bytes, { check: false });
    try {
      const a = Int8Array.from({ length: 12 }, (_, i) => i);
      const c = Int8Array.from({ length: 12 }, (_, i) => -i | 0);
      return { out: (await r.run([a, c]))[0] as Int8Array };
    } finally {
      r.dispose();
    }
  } catch (e) {
    return { error: (e as Error).message };
  }
}

describe('TfliteRunner: failures LiteRT only logs', () => {
  it('runs a CONCATENATION whose inputs share the output parameters, with the exact result', async () => {
    const { out, error } = await runOrError(concatModel(true));
    expect(error).to.equal(undefined);
    // Same parameters: concatenation copies the int8 values.
    const want = [];
    for (let p = 0; p < 4; p++) want.push(p * 3, p * 3 + 1, p * 3 + 2, -(p * 3) | 0, -(p * 3 + 1), -(p * 3 + 2));
    expect(Array.from(out!)).to.deep.equal(want);
  });

  it('refuses, by default, a CONCATENATION whose parameters differ before LiteRT sees it', async () => {
    let error = '';
    try {
      await TfliteRunner.load(concatModel(false), { label: 'concat.tflite' });
    } catch (e) {
      error = (e as Error).message;
    }
    expect(error).to.match(/^concat\.tflite: refused before loading into LiteRT, the file breaks TFLite's rules: operator 0 CONCATENATION \(output 'y'\): /);
  });

  it('either requantizes correctly or throws, never returns stale data, when parameters differ', async () => {
    const { out, error } = await runOrError(concatModel(false));
    console.log(`      (LiteRT: ${error ?? "ran and requantized"})`);
    if (error !== undefined) {
      expect(error).to.match(/LiteRT (failed to run|could not prepare|could not load) the model/);
      return;
    }
    // A kernel that accepts it must requantize input b (scale 0.02, zp 5) into the output (0.1, 0).
    for (let p = 0; p < 4; p++) {
      for (let k = 0; k < 3; k++) {
        const bq = -(p * 3 + k);
        expect(out![p * 6 + 3 + k]).to.equal(Math.round(((bq - 5) * 0.02) / 0.1));
      }
    }
  });
});
