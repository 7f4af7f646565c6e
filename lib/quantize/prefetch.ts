// Image files read ahead of the float passes: a worker thread decodes and letterboxes the next files
// (decode-worker.ts) while the main thread runs the current one through the model, so on a machine
// with a free core decoding costs the passes only the time they wait for it. Results come back in the
// dataset's order; a file that cannot be used comes back with its one-line reason. A worker that dies
// rejects every file it was asked for, naming it: the caller fails, nothing waits forever.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { DecodeReply, DecodeRequest } from './decode-worker.js';
import { imageFileInput, type ImageInputSpec } from './image-input.js';

/** One file of the dataset: its input, or why it cannot be used. */
export type ImageInput = { file: string; input: Float32Array } | { file: string; error: string };

/**
 * How the worker's entry is run from the TypeScript sources (tests, scripts, benches run through tsx):
 * tsx's CommonJS require hook, registered inside the worker, compiles decode-worker.ts and its imports
 * in the worker's own thread. Not tsx's ESM loader: ESM customization hooks run on a hooks thread whose
 * relation to workers differs between Node versions (Node 20: tsx's --import registers on the main
 * thread only, so a worker does not inherit it and needs tsImport, which registers hooks from the
 * worker; Node 22: one hooks thread shared with the workers), and with tsImport in the worker a later
 * dynamic import in the main thread was once reported never to settle (not reproduced since on Node
 * 20.20 / tsx 4.23). The require hook involves no hooks thread. Undefined when tsx cannot be resolved
 * (sources run by another TypeScript runner).
 */
function sourceWorkerScript(): string | undefined {
  let tsxCjsApi: string;
  try {
    tsxCjsApi = createRequire(import.meta.url).resolve('tsx/cjs/api');
  } catch {
    return undefined;
  }
  const entry = fileURLToPath(new URL('./decode-worker.ts', import.meta.url));
  return `require(${JSON.stringify(tsxCjsApi)}).register();\nrequire(${JSON.stringify(entry)});`;
}

const RUNNING_SOURCES = import.meta.url.endsWith('.ts');
/** The worker's start: the built .js next to this module, or the script that runs the sources (above). */
const SOURCE_WORKER_SCRIPT = RUNNING_SOURCES ? sourceWorkerScript() : undefined;

/** Whether a worker can be started here (built package, or sources with tsx resolvable). */
export function decodeWorkerAvailable(): boolean {
  return !RUNNING_SOURCES || SOURCE_WORKER_SCRIPT !== undefined;
}

function startWorker(spec: ImageInputSpec, resourceLimits?: ResourceLimits): Worker {
  if (!RUNNING_SOURCES) return new Worker(new URL('./decode-worker.js', import.meta.url), { workerData: spec, resourceLimits });
  return new Worker(SOURCE_WORKER_SCRIPT!, { eval: true, workerData: spec, resourceLimits });
}

/** Files decoded in this thread, one after the other (few files: no worker start-up to pay). */
async function* inThread(files: readonly string[], spec: ImageInputSpec, onDecode: (seconds: number) => void): AsyncGenerator<ImageInput> {
  for (const file of files) {
    const t0 = performance.now();
    let result: ImageInput;
    try {
      result = { file, input: await imageFileInput(file, spec) };
    } catch (e) {
      result = { file, error: (e as Error).message };
    }
    onDecode((performance.now() - t0) / 1000);
    yield result;
  }
}

/** The worker and the files it was asked for and has not answered yet. */
class DecodeWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { file: string; resolve: (r: DecodeReply) => void; reject: (e: Error) => void }>();
  private failure: string | undefined;

  constructor(spec: ImageInputSpec, resourceLimits?: ResourceLimits) {
    this.worker = startWorker(spec, resourceLimits);
    this.worker.unref(); // an idle worker never keeps the process alive; ref'd while a file is asked for
    this.worker.on('message', (reply: DecodeReply) => this.answered(reply));
    this.worker.on('error', (e) => this.fail(`failed (${e.message})`));
    this.worker.on('exit', (code) => this.fail(`stopped (exit code ${code})`));
  }

  private answered(reply: DecodeReply): void {
    const p = this.pending.get(reply.index);
    this.pending.delete(reply.index);
    if (this.pending.size === 0) this.worker.unref();
    p?.resolve(reply);
  }

  private fail(what: string): void {
    this.failure ??= what;
    for (const p of this.pending.values()) p.reject(new Error(`${p.file}: the image decode worker ${this.failure} while reading it`));
    this.pending.clear();
  }

  /** The reply for one file; rejects (naming the file) when the worker dies first. */
  request(index: number, file: string): Promise<DecodeReply> {
    const reply = new Promise<DecodeReply>((resolve, reject) => {
      if (this.failure) return reject(new Error(`${file}: the image decode worker ${this.failure} before reading it`));
      this.pending.set(index, { file, resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ index, file } satisfies DecodeRequest);
    });
    reply.catch(() => undefined); // rejections are seen when the reply is awaited, in order
    return reply;
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    this.pending.clear();
    // Not awaited: terminate()'s promise does not keep the event loop alive, so a script whose only
    // pending work was that await ended there (measured with the built package: exit code 13, unsettled
    // top-level await, even with the worker ref'd). Nothing needs the thread gone before going on.
    this.worker.unref();
    void this.worker.terminate().catch(() => undefined);
  }
}

export interface PrefetchOptions {
  /** Files decoded ahead of the one being used (default 2: three inputs in memory at most). */
  ahead?: number;
  /** Memory limits of the worker thread (node:worker_threads); a worker past them stops and says so. */
  resourceLimits?: ResourceLimits;
  /**
   * Decode in a worker thread (default: yes, from the built package and from the sources alike; in
   * this thread when no worker can be started, see decodeWorkerAvailable).
   */
  worker?: boolean;
}

/**
 * The files as model inputs, in order, with `ahead` files decoded ahead of the one being used (in a
 * worker thread, all but the first; in this thread when there are at most two files). `onWait` gets the time each file
 * was waited for: decoding that overlapped the caller's work costs nothing there.
 */
export async function* prefetchImageInputs(
  files: readonly string[],
  spec: ImageInputSpec,
  onWait: (seconds: number) => void,
  options: PrefetchOptions = {},
): AsyncGenerator<ImageInput> {
  if (files.length <= 2 || !(options.worker ?? true) || !decodeWorkerAvailable()) {
    yield* inThread(files, spec, onWait);
    return;
  }
  const ahead = options.ahead ?? 2;
  const worker = new DecodeWorker(spec, options.resourceLimits);
  const queue: Promise<DecodeReply>[] = [];
  // The first file is decoded in this thread: the worker starts meanwhile (measured 1-2 s to its first
  // reply on a loaded machine, most of it start-up) and has the next files asked for by then, so its
  // start-up overlaps this decode and the first float pass instead of being waited for.
  let asked = 1;
  try {
    for (let i = 0; i < files.length; i++) {
      while (asked < files.length && asked <= i + ahead) queue.push(worker.request(asked, files[asked++]));
      if (i === 0) {
        yield* inThread(files.slice(0, 1), spec, onWait);
        continue;
      }
      const t0 = performance.now();
      const reply = await queue.shift()!;
      onWait((performance.now() - t0) / 1000);
      yield 'error' in reply ? { file: files[i], error: reply.error } : { file: files[i], input: reply.input };
    }
  } finally {
    await worker.close();
  }
}
