// Layer-by-layer verification of a quantized model: every activation of the int8 model (exposed as
// an extra output of a debug copy) is compared with the same tensor of the float graph on the same
// inputs. Signal-to-quantization-noise ratio (SQNR, dB) per tensor shows where accuracy is lost.
import type { FloatExecutor } from '../graph/execute.js';
import { TfliteRunner } from '../runtime/index.js';
import { runnerInputs, type ModelSample } from './dataset.js';

export interface LayerError {
  tensor: string;
  /** 10 log10(sum x^2 / sum (x - x_q)^2) over all elements and inputs; higher is better. */
  sqnrDb: number;
  /** Mean |x - x_q| divided by the float tensor's observed range. */
  meanErrorOfRange: number;
}

export async function analyzeLayerErrors(
  debugTflite: Uint8Array,
  floatExec: FloatExecutor,
  inputs: AsyncIterable<ModelSample>,
  tensors: string[],
): Promise<LayerError[]> {
  const runner = await TfliteRunner.load(debugTflite, { label: 'layer analysis model' });
  const acc = new Map<string, { signal: number; noise: number; absErr: number; n: number; min: number; max: number }>();
  for (const t of tensors) acc.set(t, { signal: 0, noise: 0, absErr: 0, n: 0, min: Infinity, max: -Infinity });
  const index = new Map(runner.outputs.map((o, i) => [o.name, i]));
  try {
    for await (const x of inputs) {
      const outs = await runner.run(runnerInputs(x, runner.inputs));
      await floatExec.stream(x, {
        fetch: [],
        onTensor: (name, data) => {
          const a = acc.get(name);
          const k = index.get(name);
          if (!a || k === undefined) return;
          const o = runner.outputs[k];
          // Integer outputs are dequantized with their own parameters; float ones (float ops) are values.
          const qd = outs[k];
          const s = o.scale ?? 1;
          const zp = o.zeroPoint ?? 0;
          for (let i = 0; i < data.length; i++) {
            const f = data[i];
            const e = f - (qd[i] - zp) * s;
            a.signal += f * f;
            a.noise += e * e;
            a.absErr += Math.abs(e);
            if (f < a.min) a.min = f;
            if (f > a.max) a.max = f;
          }
          a.n += data.length;
        },
      });
    }
  } finally {
    runner.dispose();
  }
  return tensors
    .filter((t) => acc.get(t)!.n > 0)
    .map((t) => {
      const a = acc.get(t)!;
      return {
        tensor: t,
        sqnrDb: a.noise > 0 ? 10 * Math.log10(a.signal / a.noise) : Infinity,
        meanErrorOfRange: a.absErr / a.n / Math.max(a.max - a.min, 1e-12),
      };
    });
}
