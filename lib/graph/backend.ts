// TF.js backend selection for float execution: tfjs-node ('tensorflow') when the optional peer
// @tensorflow/tfjs-node is installed, else the wasm backend (XNNPACK-like speed, no native build),
// else the pure-JS cpu backend.
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import path from 'node:path';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

const require = createRequire(import.meta.url);

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

/**
 * Makes a TF.js backend current and returns its name. `pref` forces one backend (error when it
 * cannot start); without it the order is tensorflow, wasm, cpu. Calling it again is cheap.
 */
export async function initBackend(pref?: BackendName): Promise<BackendName> {
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
