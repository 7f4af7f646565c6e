// Child process of the checker-vs-LiteRT fuzz (check-vs-litert.test.ts): loads .tflite files into LiteRT
// one after another and runs each once on zero inputs, printing one line per file:
//   start <i>            before LiteRT sees file i (a process that dies after it aborted on file i)
//   ran <i>              loaded and ran
//   refused <i> <why>    LiteRT (or the runner's I/O type guard, 'io:') refused it
// An abort or trap may leave the wasm runtime unusable, so the worker exits after one and the parent
// starts a fresh process for the files that follow (it also re-runs alone any refusal that matters).
// Usage: node --import tsx litert-worker.ts <list.json> <first index>
import fs from 'node:fs';
import { TfliteRunner, type RuntimeArray } from '../../lib/runtime/index.js';

const ZERO: Record<string, new (n: number) => RuntimeArray> = {
  float32: Float32Array, int32: Int32Array, uint8: Uint8Array, int8: Int8Array, int16: Int16Array,
};

/** What an emscripten abort or a wasm trap looks like (the module may be unusable afterwards). */
const WASM_TRAP = /Aborted\(|RuntimeError|unreachable|out of bounds|null function|table index/i;

async function loadAndRun(file: string): Promise<void> {
  let runner: TfliteRunner;
  try {
    runner = await TfliteRunner.load(new Uint8Array(fs.readFileSync(file)), { label: file, check: false });
  } catch (e) {
    // The runner's own guard on model I/O types is not LiteRT refusing the file.
    const msg = (e as Error).message;
    throw new Error(/only float32, int32, uint8, int8 and int16 model I\/O is supported/.test(msg) ? `io: ${msg}` : msg);
  }
  try {
    await runner.run(runner.inputs.map((d) => new ZERO[d.dtype](d.shape.reduce((a, b) => a * b, 1))));
  } finally {
    runner.dispose();
  }
}

async function main(): Promise<void> {
  const files = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as string[];
  for (let i = Number(process.argv[3]); i < files.length; i++) {
    process.stdout.write(`start ${i}\n`);
    try {
      await loadAndRun(files[i]);
      process.stdout.write(`ran ${i}\n`);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      process.stdout.write(`refused ${i} ${msg.replace(/\s+/g, ' ').slice(0, 300)}\n`);
      if (WASM_TRAP.test(msg) || !(e instanceof Error)) return;
    }
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(2);
  },
);
