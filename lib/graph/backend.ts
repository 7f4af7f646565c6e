// TF.js backend selection for float execution: tfjs-node ('tensorflow') when the optional peer
// @tensorflow/tfjs-node is installed, else the wasm backend (XNNPACK-like speed, no native build),
// else the pure-JS cpu backend.
//
// Two things make this more than a setBackend call:
//   - Concurrency. Two quantizations started together (a tool embedding the library may do that)
//     must not each probe and switch backends while the other creates tensors: every backend change
//     goes through one shared promise chain, so calls run one after the other and the second finds
//     the backend the first chose.
//   - Quiet. TF.js's cpu backend prints "Hi, looks like you are running TensorFlow.js in Node.js..."
//     (console.warn) on its first tensor; this library picks its backend deliberately, so that
//     banner is a message the caller never asked for. It is consumed once, see quietCpuBanner.
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import path from 'node:path';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

const require = createRequire(import.meta.url);

/**
 * Per-process state, on one global object: this file can be instantiated twice in a process (from the
 * sources and from dist/) while TF.js, whose backend is process-wide, is loaded once.
 */
interface BackendState {
  /** The tail of the chain every backend change waits on. */
  queue: Promise<unknown>;
  /** cpu backend instances whose first-use banner was already consumed. */
  quietCpu: WeakSet<object>;
}
const STATE_KEY = Symbol.for('yolo-int8.tfjs.backend.state');
const state: BackendState = ((globalThis as { [STATE_KEY]?: BackendState })[STATE_KEY] ??= {
  queue: Promise.resolve(),
  quietCpu: new WeakSet(),
});

/**
 * TF.js's cpu backend prints its Node.js banner from the first `write` of each backend instance,
 * through tfjs-core's `warn`, which is silent while the PROD flag is set. So: one 1-element write and
 * dispose with PROD set, synchronously (no caller code can run in between, so no other warning is
 * hidden), and PROD put back as it was. Idempotent per backend instance. It never creates a backend
 * (tf.ready() would replace an instance created here by a new one): it quiets the cpu instance the
 * engine registered, and the current one if that is a cpu backend.
 */
function quietCpuBanner(): void {
  const engine = tf.engine();
  let current: tf.KernelBackend | undefined;
  try {
    if (engine.backendName === 'cpu') current = tf.backend();
  } catch {
    current = undefined; // a backend is still starting: nothing to quiet yet
  }
  for (const cpu of new Set([engine.registry['cpu'], current])) {
    if (!cpu || state.quietCpu.has(cpu)) continue;
    const env = tf.env();
    const prod = env.getBool('PROD');
    env.set('PROD', true);
    try {
      const id = cpu.write(new Float32Array(1), [1], 'float32');
      cpu.disposeData(id);
    } finally {
      env.set('PROD', prod);
    }
    state.quietCpu.add(cpu);
  }
}

/** Runs `step` after every backend change already started (one chain for the whole process). */
function serialized<T>(step: () => Promise<T>): Promise<T> {
  const run = state.queue.then(step);
  state.queue = run.catch(() => undefined);
  return run;
}

/**
 * tf.ready() (it starts the best registered backend, often cpu) without the cpu banner, in turn with
 * the other backend changes.
 */
export function readyQuietly(): Promise<void> {
  return serialized(async () => {
    await tf.ready();
    quietCpuBanner();
  });
}

async function tryTensorflow(): Promise<boolean> {
  try {
    // A variable specifier keeps bundlers and tsc from requiring the optional peer.
    const name = '@tensorflow/tfjs-node';
    await import(name);
    return await tf.setBackend('tensorflow');
  } catch {
    return false;
  }
}

async function tryWasm(): Promise<boolean> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // In Node the wasm binaries are read from the package's dist folder (a directory path works).
    const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
    wasm.setWasmPaths(dist);
    return await tf.setBackend('wasm');
  } catch {
    return false;
  }
}

async function selectBackend(pref?: BackendName): Promise<BackendName> {
  const name = await switchBackend(pref);
  quietCpuBanner();
  return name;
}

async function switchBackend(pref?: BackendName): Promise<BackendName> {
  const current = tf.getBackend() as BackendName | undefined;
  // getBackend() may only have *started* an async backend (wasm): always wait until it is ready.
  if (pref && current === pref) {
    await tf.ready();
    return pref;
  }
  if (!pref && (current === 'tensorflow' || current === 'wasm') && tf.engine().backendName) {
    await tf.ready();
    return current;
  }
  const order: BackendName[] = pref ? [pref] : ['tensorflow', 'wasm', 'cpu'];
  for (const b of order) {
    const ok = b === 'tensorflow' ? await tryTensorflow() : b === 'wasm' ? await tryWasm() : await tf.setBackend('cpu');
    if (ok) {
      await tf.ready();
      return b;
    }
  }
  throw new Error(`TF.js backend '${pref}' could not be initialised${pref === 'tensorflow' ? ' (is @tensorflow/tfjs-node installed?)' : ''}`);
}

/**
 * Makes a TF.js backend current and returns its name. `pref` forces one backend (error when it
 * cannot start); without it the order is tensorflow, wasm, cpu. Calling it again is cheap.
 * Concurrent calls are served one after the other (one shared promise chain), so they never race.
 */
export function initBackend(pref?: BackendName): Promise<BackendName> {
  return serialized(() => selectBackend(pref));
}
