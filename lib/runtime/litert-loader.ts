// Loads @litertjs/core (LiteRT.js: WebAssembly + XNNPACK) inside Node.
//
// LiteRT.js is built for browsers. It runs in Node once a few browser-worker globals exist
// (`self`, `importScripts`) and the emscripten glue can find its wasm next to `__dirname`.
// Two further adjustments are needed and are made here, in one place:
//   1. @litertjs/core 2.5.3 maps only float32/int32/uint8 tensors to JS (its DATATYPES table);
//      any model with an int8 input or output fails in `loadAndCompile` with
//      "Element type INT8 is not supported". The wasm runtime itself handles int8 fine, so we
//      load a copy of the package's ESM bundle with two more rows in that table (int8 <-> Int8Array,
//      int16 <-> Int16Array, for the 16x8 models of mixed precision).
//   2. The wasm module prints INFO/WARNING lines on every load; they are filtered unless the
//      caller asks for them (`verbose`).
//   3. On start-up LiteRT tries to create a WebGPU device and reports the failure with console.warn;
//      Node has no WebGPU, so the same copy asks for no WebGPU device (`webGpuDevice: null`, an
//      option of Environment.create) instead of silencing the caller's console while it loads.
import { createRequire } from 'node:module';
import vm from 'node:vm';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { pathToFileURL, fileURLToPath } from 'node:url';

type LiteRtModule = typeof import('@litertjs/core');

const require = createRequire(import.meta.url);
const LITERT_VERSION_PINNED = '2.5.3';

/**
 * LiteRT's wasm state is per process, but this file can be instantiated more than once in a process
 * (from the sources and from dist/, or through loaders that key modules differently). Its state -
 * the loading promise, the log switch and the captured error lines - therefore lives on one global
 * object, so every instance sees the same runtime and the same log.
 */
interface SharedState {
  loading?: Promise<LiteRtModule>;
  verbose: boolean;
  errors: string[];
}
const STATE_KEY = Symbol.for('yolo-int8.litert.state');
const state: SharedState = ((globalThis as { [STATE_KEY]?: SharedState })[STATE_KEY] ??= { verbose: false, errors: [] });

/** Returns and clears the error lines LiteRT printed (e.g. "Failed to allocate tensors"). */
export function takeLiteRtErrors(): string[] {
  return state.errors.splice(0, state.errors.length);
}

function isErrorLine(line: string): boolean {
  return /^ERROR\b|error:|Failed to|failed to/i.test(line) && !isLogNoise(line);
}

/** Whether LiteRT's own INFO/WARNING log lines are printed (default: no). */
export function setLiteRtVerbose(on: boolean): void {
  state.verbose = on;
}

function litertPackageDir(): string {
  return path.dirname(require.resolve('@litertjs/core/package.json'));
}

/** The folder that holds LiteRT's .wasm files (with a trailing slash, as loadLiteRt expects). */
function litertWasmDir(): string {
  return path.join(litertPackageDir(), 'wasm') + path.sep;
}

const DATATYPES_TAIL = '    dtype: "uint8",\n    typedArrayConstructor: Uint8Array,\n    elementType: ElementType.UINT8\n  }\n]);';
const EXTRA_DTYPE_ROWS =
  ',\n  {\n    dtype: "int8",\n    typedArrayConstructor: Int8Array,\n    elementType: ElementType.INT8\n  },' +
  '\n  {\n    dtype: "int16",\n    typedArrayConstructor: Int16Array,\n    elementType: ElementType.INT16\n  }\n]);';

const DEFAULT_ENVIRONMENT = 'await Environment.create()\n';
const NO_WEBGPU_ENVIRONMENT = 'await Environment.create({ webGpuDevice: null })\n';

/** The package bundle with int8 added, written once to a cache file keyed by its content. */
function patchedBundlePath(): string {
  const pkgDir = litertPackageDir();
  const version = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version as string;
  let src = fs.readFileSync(path.join(pkgDir, 'dist', 'index.js'), 'utf8');
  if (!src.includes(DATATYPES_TAIL)) {
    throw new Error(
      `@litertjs/core ${version} at ${pkgDir} does not have the DATATYPES table this library patches to run int8 ` +
        `models; install the pinned version ${LITERT_VERSION_PINNED}.`,
    );
  }
  src = src.replace(DATATYPES_TAIL, DATATYPES_TAIL.slice(0, -'\n]);'.length) + EXTRA_DTYPE_ROWS);
  if (!src.includes(DEFAULT_ENVIRONMENT)) {
    throw new Error(`@litertjs/core ${version} at ${pkgDir}: its loadLiteRt no longer creates the default environment as expected; install the pinned version ${LITERT_VERSION_PINNED}.`);
  }
  src = src.replace(DEFAULT_ENVIRONMENT, NO_WEBGPU_ENVIRONMENT);
  const wasmUtilsUrl = pathToFileURL(require.resolve('@litertjs/wasm-utils')).href;
  src = src.replace('from "@litertjs/wasm-utils"', `from ${JSON.stringify(wasmUtilsUrl)}`);
  const hash = crypto.createHash('sha256').update(src).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), 'yolo-int8-cache');
  const file = path.join(dir, `litertjs-core-${version}-int8-${hash}.mjs`);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true });
    // Written to a temporary name and renamed so concurrent processes never import half a file.
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    fs.writeFileSync(tmp, src);
    fs.renameSync(tmp, file);
  }
  return file;
}

function isLogNoise(line: string): boolean {
  return /^(INFO|WARNING|VERBOSE): /.test(line) || line.startsWith('Created TensorFlow Lite XNNPACK delegate');
}

function installWorkerGlobals(wasmDir: string): void {
  const g = globalThis as Record<string, unknown>;
  // `self` is the global object, as in a worker. Its `document` reads null rather than undefined:
  // libraries that take "self defined, self.document undefined" to mean a web worker (jimp's font
  // loader then fetches files by URL) keep seeing Node; null is as falsy as undefined for LiteRT.
  if (g.self === undefined) {
    g.self = new Proxy(globalThis, { get: (target, key) => (key === 'document' ? (Reflect.get(target, key) ?? null) : Reflect.get(target, key)) });
  }
  if (g.require === undefined) g.require = require;
  if (g.__dirname === undefined) g.__dirname = wasmDir;
  g.importScripts = (url: string) => {
    const file = url.startsWith('file:') ? fileURLToPath(url) : url;
    const code = fs.readFileSync(file, 'utf8');
    vm.runInThisContext(code + '\nself.ModuleFactory = ModuleFactory;', { filename: file });
    // Route the module's stdout/stderr through a filter so LiteRT's INFO/WARNING chatter stays quiet.
    const factory = g.ModuleFactory as (opts?: Record<string, unknown>) => Promise<unknown>;
    g.ModuleFactory = (opts: Record<string, unknown> = {}) =>
      factory({
        ...opts,
        // Everything LiteRT prints goes to stderr: stdout belongs to the caller (e.g. --json output).
        print: (line: string) => {
          if (state.verbose || !isLogNoise(line)) process.stderr.write(line + '\n');
        },
        printErr: (line: string) => {
          if (isErrorLine(line)) {
            // Error lines LiteRT printed since the last takeLiteRtErrors() (it reports some failures only there).
            state.errors.push(line);
            if (state.errors.length > 100) state.errors.shift();
            if (state.verbose) process.stderr.write(line + '\n');
            return;
          }
          if (state.verbose || !isLogNoise(line)) process.stderr.write(line + '\n');
        },
      });
  };
}

/** Loads LiteRT once per process and returns the (int8-capable) @litertjs/core module. */
export function loadLiteRtModule(): Promise<LiteRtModule> {
  if (!state.loading) {
    const loading = (async () => {
      const wasmDir = litertWasmDir();
      installWorkerGlobals(wasmDir);
      const lt = (await import(pathToFileURL(patchedBundlePath()).href)) as LiteRtModule;
      await lt.loadLiteRt(wasmDir);
      return lt;
    })();
    state.loading = loading;
    loading.catch(() => {
      if (state.loading === loading) state.loading = undefined;
    });
  }
  return state.loading;
}
