// Shared by the fidelity benches (equalize, adaround): inputs from image files, every output of a
// .tflite in LiteRT, and SQNR / top-1 of one set of outputs against another.
import { datasetInputs, type DatasetStats } from '../lib/quantize/dataset.js';
import { TfliteRunner } from '../lib/runtime/index.js';
import { dequantizeOutput, quantizeInput } from '../lib/pipeline/quantize.js';

export async function inputsFor(files: string[], shape: number[]): Promise<Float32Array[]> {
  const stats: DatasetStats = { files: 0, used: 0, skipped: [] };
  const out: Float32Array[] = [];
  for await (const x of datasetInputs(files, shape, stats)) out.push(x);
  return out;
}

/** Dequantized outputs of a .tflite on each input. */
export async function runAll(tflite: Uint8Array, inputs: Float32Array[]): Promise<{ names: string[]; outs: Float32Array[][] }> {
  const runner = await TfliteRunner.load(tflite);
  try {
    const d = runner.inputs[0];
    const outs: Float32Array[][] = [];
    for (const x of inputs) {
      const arr = d.dtype === 'float32' ? x : quantizeInput(x, d as Parameters<typeof quantizeInput>[1]);
      const o = await runner.run([arr as Float32Array]);
      outs.push(o.map((v, k) => dequantizeOutput(v, runner.outputs[k])));
    }
    return { names: runner.outputs.map((o) => o.name), outs };
  } finally {
    runner.dispose();
  }
}

/** SQNR (dB) per output over all inputs; top-1 agreement when there is one [1, N] output. */
export function compare(ref: Float32Array[][], got: Float32Array[][]): { sqnr: number[]; top1?: number } {
  const sqnr = ref[0].map((_, k) => {
    let s = 0;
    let n = 0;
    ref.forEach((r, j) => r[k].forEach((v, i) => { s += v * v; n += (v - got[j][k][i]) ** 2; }));
    return n > 0 ? 10 * Math.log10(s / n) : Infinity;
  });
  if (ref[0].length !== 1) return { sqnr };
  const argmax = (a: Float32Array) => a.indexOf(Math.max(...a));
  const agree = ref.filter((r, j) => argmax(r[0]) === argmax(got[j][0])).length;
  return { sqnr, top1: agree / ref.length };
}
