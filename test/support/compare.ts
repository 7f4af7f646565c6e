// Comparing what LiteRT runs with the float graph: the float executor and a .tflite run with their
// resources released, the largest difference, and the output signal / noise of an int8 model.
import { createFloatExecutor } from '../../lib/graph/execute.js';
import type { Graph } from '../../lib/ir/graph.js';
import { TfliteRunner, type RuntimeArray } from '../../lib/runtime/index.js';
import { dequantizeOutput } from '../../lib/pipeline/quantize.js';
import { int8FromUnit } from './int8-input.js';
import { pooledSqnrLowerBoundDb } from '../../lib/util/stats.js';

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The IR graph run in float (TF.js wasm): the tensors in `fetch` (default: the graph's outputs). */
export async function runFloatGraph(graph: Graph, input: Float32Array | Record<string, Float32Array>, fetch?: string[]): Promise<Record<string, Float32Array>> {
  const ex = await createFloatExecutor(graph, { backend: 'wasm' });
  try {
    return await ex.run(input, fetch);
  } finally {
    ex.dispose();
  }
}

/** A .tflite run once in LiteRT: its outputs in order. */
export async function runTflite(tflite: Uint8Array, inputs: RuntimeArray[]): Promise<RuntimeArray[]> {
  const runner = await TfliteRunner.load(tflite);
  try {
    return await runner.run(inputs);
  } finally {
    runner.dispose();
  }
}

export function sqnrDb(signal: number, noise: number): number {
  return 10 * Math.log10(signal / noise);
}

/** Signal and noise (sums of squares) of one output, pooled over inputs, and per input. */
export interface FileError {
  signal: number;
  noise: number;
  images: { signal: number; noise: number }[];
}

/**
 * Output signal and noise (sums of squares) of an int8-input .tflite run in LiteRT against the float
 * graph, over `inputs` in [0, 1] (fed as round(255 x) - 128, saturated, the int8 input at scale 1/255),
 * pooled and per input.
 */
export async function tfliteVsFloat(tflite: Uint8Array, graph: Graph, inputs: Float32Array[]): Promise<FileError> {
  const runner = await TfliteRunner.load(tflite);
  const ex = await createFloatExecutor(graph, { backend: 'wasm' });
  const images: { signal: number; noise: number }[] = [];
  try {
    for (const x of inputs) {
      const q = int8FromUnit(x);
      const got = dequantizeOutput((await runner.run([q]))[0], runner.outputs[0]);
      const want = (await ex.run(x))[graph.outputs[0]];
      const image = { signal: 0, noise: 0 };
      for (let i = 0; i < want.length; i++) {
        image.signal += want[i] * want[i];
        image.noise += (got[i] - want[i]) ** 2;
      }
      images.push(image);
    }
  } finally {
    runner.dispose();
    ex.dispose();
  }
  return { signal: images.reduce((a, e) => a + e.signal, 0), noise: images.reduce((a, e) => a + e.noise, 0), images };
}

/**
 * What accuracy.minSqnrDb reads of one output: the lower of its pooled SQNR and the bound for unseen
 * images from its per-image errors (pooledSqnrLowerBoundDb, tested against hand values on its own).
 */
export function minSqnrCriterionDb(e: FileError): number {
  const dB = (s: number, n: number) => (n > 0 ? 10 * Math.log10(s / n) : Infinity);
  return Math.min(dB(e.signal, e.noise), pooledSqnrLowerBoundDb(e.images));
}
