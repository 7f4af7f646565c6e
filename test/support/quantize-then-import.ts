// Child process of test/quantize/prefetch-sources.test.ts, run from the TypeScript sources: quantizes
// a model on image files (decoded in a worker thread or in this thread, as argv says) and writes the
// file, then does what a script does next - a dynamic import of a module not loaded yet and a LiteRT
// run of the file - and ends on its own (no process.exit), so an import left unsettled shows as exit
// code 13. Mode 'crash' stops the decode worker at the second file it is asked for, as a crash would.
//   node --import tsx test/support/quantize-then-import.ts <model> <worker|thread|crash> <out.tflite> <image>...
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { quantizeInt8, writeFileAtomic } from '../../lib/index.js';

const [model, mode, out, ...images] = process.argv.slice(2);
// Decode requests (one of our image files) posted to a worker: the proof that the worker, not this
// thread, decoded them (other libraries' workers get other messages).
let posted = 0;
const postMessage = Worker.prototype.postMessage;
Worker.prototype.postMessage = function (this: Worker, ...args: Parameters<Worker['postMessage']>) {
  const file = (args[0] as { file?: unknown } | null)?.file;
  if (typeof file !== 'string' || !images.includes(file)) return postMessage.apply(this, args);
  if (++posted === 2 && mode === 'crash') void this.terminate();
  return postMessage.apply(this, args);
};

const { tflite, report } = await quantizeInt8(model, { representativeDataset: images, numCalibrationSamples: images.length, decodeInWorker: mode !== 'thread' });
await writeFileAtomic(out, tflite);
const { TfliteRunner, imageToInput } = await import('../../lib/index.js');
const metrics = await import('../../lib/yolo/metrics.js');
const runner = await TfliteRunner.load(tflite, { numThreads: 1 });
const input = await imageToInput(images[0], runner.inputs[0]);
const outputs = await runner.run([input.data]);
runner.dispose();
console.log(`RESULT ${JSON.stringify({
  sha256: createHash('sha256').update(tflite).digest('hex'),
  posted,
  skipped: report.calibration.skipped,
  outputValues: outputs.reduce((n, o) => n + o.length, 0),
  metricsExports: Object.keys(metrics).length,
})}`);
