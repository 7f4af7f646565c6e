// Worker-thread entry of the image prefetcher (prefetch.ts): turns image files into model inputs
// while the main thread runs float passes. One request, one reply, in the order asked.
import { parentPort, workerData } from 'node:worker_threads';
import { imageFileInput, type ImageInputSpec } from './image-input.js';

/** A request: the file and its index in the dataset's order. */
export interface DecodeRequest {
  index: number;
  file: string;
}

/** A reply: the input (its buffer transferred) or the one-line reason the file cannot be used. */
export type DecodeReply = { index: number; input: Float32Array } | { index: number; error: string };

const spec = workerData as ImageInputSpec;
const port = parentPort!;
port.on('message', async (req: DecodeRequest) => {
  try {
    const input = await imageFileInput(req.file, spec);
    port.postMessage({ index: req.index, input } satisfies DecodeReply, [input.buffer as ArrayBuffer]);
  } catch (e) {
    port.postMessage({ index: req.index, error: (e as Error).message } satisfies DecodeReply);
  }
});
