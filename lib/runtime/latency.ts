// Latency of LiteRT models measured side by side: every input through every model in turn, rotating
// which model goes first, so that load from elsewhere on the machine falls on all models alike.
import { TfliteRunner, type RuntimeArray } from './index.js';
import { floatToInput } from '../pipeline/quantize.js';
import { percentile } from '../util/stats.js';

/** What is timed: one model run (TfliteRunner satisfies it). */
export interface TimedRunner {
  run(inputs: RuntimeArray[]): Promise<unknown>;
}

export interface InterleaveOptions {
  /** Passes over the inputs (default 1); the rotation continues across passes. */
  rounds?: number;
  /** One untimed run per model first, on its input 0 (the first run allocates). Default false. */
  warmUp?: boolean;
}

/**
 * Run times (ms) per runner, interleaved: for each input i, runner (turn + j) mod n runs j-th, where
 * the turn advances by one per input. `inputOf(k, i)` gives runner k's input i; it is prepared before
 * the timed run, so only the run itself is measured.
 */
export async function interleavedRunTimes(
  runners: readonly TimedRunner[],
  inputCount: number,
  inputOf: (runner: number, input: number) => RuntimeArray[] | Promise<RuntimeArray[]>,
  options: InterleaveOptions = {},
): Promise<number[][]> {
  const times: number[][] = runners.map(() => []);
  if (options.warmUp) for (let k = 0; k < runners.length; k++) await runners[k].run(await inputOf(k, 0));
  let turn = 0;
  for (let r = 0; r < (options.rounds ?? 1); r++) {
    for (let i = 0; i < inputCount; i++, turn++) {
      for (let j = 0; j < runners.length; j++) {
        const k = (turn + j) % runners.length;
        const input = await inputOf(k, i);
        const t0 = performance.now();
        await runners[k].run(input);
        times[k].push(performance.now() - t0);
      }
    }
  }
  return times;
}

/**
 * Median LiteRT run time (ms) of each model (.tflite bytes) on float inputs (converted to each
 * model's input type once), interleaved over `rounds` passes after one warm-up run each.
 */
export async function medianLatencies(models: Uint8Array[], inputs: (Float32Array | Float32Array[])[], rounds = 1): Promise<number[]> {
  const runners: TfliteRunner[] = [];
  try {
    for (const m of models) runners.push(await TfliteRunner.load(m, { label: 'latency' }));
    // An input set is one array per model input (a bare array: the one input).
    const prepared = runners.map((r) => inputs.map((x) => (Array.isArray(x) ? x : [x]).map((xi, j) => floatToInput(xi, r.inputs[j]))));
    const times = await interleavedRunTimes(runners, inputs.length, (k, i) => prepared[k][i], { rounds, warmUp: true });
    return times.map((t) => percentile(t, 50));
  } finally {
    for (const r of runners) r.dispose();
  }
}
