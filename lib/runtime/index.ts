// A small API over LiteRT for running .tflite files from Node.
// LiteRT does not expose quantization parameters, so tensor descriptions combine LiteRT's view
// (what it will accept) with our own flatbuffer reader (scale / zero point).
import {
  INPUT_NORMALIZATION_METADATA, INPUT_RANGE_METADATA, decodeInputNormalization, decodeInputRange, type RecordedNormalization,
} from '../pipeline/quantize.js';
import { loadLiteRtModule, setLiteRtVerbose, takeLiteRtErrors } from './litert-loader.js';
import { readTflite } from '../tflite/reader.js';
import { checkTfliteModel } from '../tflite/check.js';
import { dtypeName, type TfliteModel } from '../tflite/model.js';
import { READ_LIMITS, readRegularFile } from '../util/read-file.js';

export { setLiteRtVerbose };

export type RuntimeDType = 'float32' | 'int32' | 'uint8' | 'int8' | 'int16';
export type RuntimeArray = Float32Array | Int32Array | Uint8Array | Int8Array | Int16Array;

export interface TensorDescription {
  name: string;
  index: number;
  dtype: RuntimeDType;
  shape: number[];
  /** Per-tensor scale (the first one when per-channel); undefined for float tensors. */
  scale?: number;
  zeroPoint?: number;
  /** Inputs: the float range pixels 0..255 map to, when the file records one (absent: [0, 1]). */
  inputRange?: [number, number];
  /** Inputs: the per-channel mean/std (pixel units) the file applies itself, when it records one. */
  inputNormalization?: RecordedNormalization;
}

const ARRAY_FOR: Record<RuntimeDType, { name: string; ctor: new (n: number) => RuntimeArray }> = {
  float32: { name: 'Float32Array', ctor: Float32Array },
  int32: { name: 'Int32Array', ctor: Int32Array },
  uint8: { name: 'Uint8Array', ctor: Uint8Array },
  int8: { name: 'Int8Array', ctor: Int8Array },
  int16: { name: 'Int16Array', ctor: Int16Array },
};

function arrayDType(a: unknown): RuntimeDType | undefined {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Uint8Array) return 'uint8';
  return undefined;
}

function describeArray(a: unknown): string {
  if (a === null || a === undefined) return String(a);
  const ctor = (a as object).constructor?.name ?? typeof a;
  const len = (a as { length?: number }).length;
  return len === undefined ? ctor : `${ctor}(${len})`;
}

export interface RunnerOptions {
  /** Name used in error messages (a file path when loaded from one). */
  label?: string;
  /** Number of CPU threads for XNNPACK (LiteRT's default when omitted). */
  numThreads?: number;
  /**
   * Run the checker (lib/tflite/check.ts) before LiteRT sees the file (default true): a file LiteRT
   * aborts on (a scale of 0, a tensor index out of range) would otherwise trap the WebAssembly runtime
   * and leave the process unable to run the next model.
   */
  check?: boolean;
}

/** Converts a [0,1] float input into this input's integer type (used in the type-guard hint). */
const CONVERT_HINT =
  "quantizeInput(x, runner.inputs[i]) from 'yolo-int8', or imageToInput() for images " +
  '(pixel p -> p-128 for int8 with scale 1/255, zero point -128; p for uint8 with zero point 0)';

/** Throws, naming the file and its first violations, when the checker refuses the model. */
function refuseUnsafe(model: TfliteModel, label: string): void {
  const { ok, violations } = checkTfliteModel(model, { strict: false });
  if (ok) return;
  const shown = violations.slice(0, 3).map((v) => `${v.where}: ${v.message}`).join('; ');
  const more = violations.length > 3 ? `; ... (${violations.length} violations in all)` : '';
  throw new Error(`${label}: refused before loading into LiteRT, the file breaks TFLite's rules: ${shown}${more} (run 'yolo-int8 check' for the full list)`);
}

const RUNTIME_DTYPES = new Set<string>(Object.keys(ARRAY_FOR));

/** Model inputs and outputs must be of a type LiteRT.js maps to a typed array (it refuses others at load). */
function refuseUnsupportedIo(model: TfliteModel, label: string): void {
  const sg = model.subgraphs[0];
  for (const ti of [...sg.inputs, ...sg.outputs]) {
    const t = sg.tensors[ti];
    const dt = t ? dtypeName(t.type) : 'missing';
    if (!RUNTIME_DTYPES.has(dt)) {
      throw new Error(`${label}: tensor '${t?.name ?? ti}' has type ${dt}; only float32, int32, uint8, int8 and int16 model I/O is supported`);
    }
  }
}

export class TfliteRunner {
  readonly inputs: TensorDescription[];
  readonly outputs: TensorDescription[];
  readonly model: TfliteModel;
  readonly label: string;
  private compiled: import('@litertjs/core').CompiledModel | undefined;
  private lt: typeof import('@litertjs/core');

  private constructor(
    lt: typeof import('@litertjs/core'),
    compiled: import('@litertjs/core').CompiledModel,
    model: TfliteModel,
    label: string,
  ) {
    this.lt = lt;
    this.compiled = compiled;
    this.model = model;
    this.label = label;
    const sg = model.subgraphs[0];
    const describe = (ti: number, index: number): TensorDescription => {
      const t = sg.tensors[ti];
      const dt = dtypeName(t.type);
      if (dt !== 'float32' && dt !== 'int32' && dt !== 'uint8' && dt !== 'int8' && dt !== 'int16') {
        throw new Error(`${label}: tensor '${t.name}' has type ${dt}; only float32, int32, uint8, int8 and int16 model I/O is supported`);
      }
      const q = t.quantization;
      const quantized = (dt === 'int8' || dt === 'uint8' || dt === 'int16') && q && q.scale.length > 0;
      return {
        name: t.name,
        index,
        dtype: dt,
        shape: [...t.shape],
        scale: quantized ? q!.scale[0] : undefined,
        zeroPoint: quantized ? q!.zeroPoint[0] ?? 0 : undefined,
      };
    };
    const inputRange = recordedInputRange(model);
    const inputNormalization = recordedInputNormalization(model);
    const recorded = { ...(inputRange ? { inputRange } : {}), ...(inputNormalization ? { inputNormalization } : {}) };
    this.inputs = sg.inputs.map((ti, i) => ({ ...describe(ti, i), ...(i === 0 ? recorded : {}) }));
    this.outputs = sg.outputs.map(describe);
  }

  /** Loads a model from a path or from bytes and compiles it for LiteRT's wasm (XNNPACK) accelerator. */
  static async load(source: string | Uint8Array, options: RunnerOptions = {}): Promise<TfliteRunner> {
    let bytes: Uint8Array;
    let label = options.label ?? 'model';
    if (typeof source === 'string') {
      label = options.label ?? source;
      bytes = readRegularFile(source, 'model file', READ_LIMITS.model);
    } else {
      bytes = source;
    }
    // Our reader validates the file first, so a damaged file gets a precise error instead of a wasm abort.
    const model = readTflite(bytes, { label });
    if (model.subgraphs.length === 0) throw new Error(`${label}: the model has no subgraph`);
    if (options.check !== false) refuseUnsafe(model, label);
    refuseUnsupportedIo(model, label);
    const lt = await loadLiteRtModule();
    let compiled;
    takeLiteRtErrors();
    try {
      compiled = await lt.loadAndCompile(bytes, {
        accelerator: 'wasm',
        ...(options.numThreads ? { cpuOptions: { numThreads: options.numThreads } } : {}),
      } as import('@litertjs/core').CompileOptions);
    } catch (e) {
      const printed = takeLiteRtErrors();
      throw new Error(`${label}: LiteRT could not load the model: ${(e as Error).message}${printed.length ? ` (${printed.join('; ')})` : ''}`);
    }
    const loadErrors = takeLiteRtErrors();
    if (loadErrors.length) {
      compiled.delete();
      throw new Error(`${label}: LiteRT could not prepare the model: ${loadErrors.join('; ')}`);
    }
    return new TfliteRunner(lt, compiled, model, label);
  }

  /** Checks one input array against the model's input and explains the fix when it does not match. */
  checkInput(index: number, data: unknown): void {
    const d = this.inputs[index];
    const expectedCount = d.shape.reduce((a, b) => a * b, 1);
    const got = arrayDType(data);
    const where = `${this.label}: input ${index} '${d.name}'`;
    const quant = d.scale !== undefined ? `, scale ${d.scale}, zero point ${d.zeroPoint}` : '';
    const expected = `${d.dtype} [${d.shape.join(',')}]${quant}`;
    if (got === undefined) {
      throw new TypeError(`${where} expects a ${ARRAY_FOR[d.dtype].name} (${expected}), got ${describeArray(data)}`);
    }
    if (got !== d.dtype) {
      let fix = '';
      if ((d.dtype === 'int8' || d.dtype === 'uint8') && got === 'float32') {
        fix = ` This is a quantized model: convert float inputs with ${CONVERT_HINT}.`;
      } else if (d.dtype === 'float32') {
        fix = ' This is a float model: pass float values (e.g. pixels / 255) in a Float32Array.';
      } else if (d.dtype === 'int8' && got === 'uint8') {
        fix = ` int8 and uint8 differ by 128: convert with ${CONVERT_HINT}.`;
      }
      throw new TypeError(`${where} expects ${expected} in a ${ARRAY_FOR[d.dtype].name}, got ${describeArray(data)}.${fix}`);
    }
    if ((data as RuntimeArray).length !== expectedCount) {
      throw new RangeError(
        `${where} expects ${expected} = ${expectedCount} elements, got ${(data as RuntimeArray).length}`,
      );
    }
  }

  /** Runs the model. Inputs are given in the model's input order; outputs come back in output order. */
  async run(inputs: RuntimeArray[] | RuntimeArray): Promise<RuntimeArray[]> {
    const compiled = this.compiled;
    if (!compiled) throw new Error(`${this.label}: the runner was disposed`);
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length !== this.inputs.length) {
      throw new Error(`${this.label}: the model has ${this.inputs.length} input(s), got ${list.length}`);
    }
    list.forEach((a, i) => this.checkInput(i, a));
    // Int8Array is accepted by the int8-patched LiteRT bundle (see litert-loader.ts); its typings predate that.
    const tensors = list.map((a, i) => new this.lt.Tensor(a as Float32Array, this.inputs[i].shape));
    try {
      takeLiteRtErrors();
      const out = await compiled.run(tensors);
      // LiteRT reports some failures (e.g. tensors it could not allocate) only as log lines and
      // returns stale buffers: treat any error line as a failed run.
      const runErrors = takeLiteRtErrors();
      if (runErrors.length) {
        for (const t of out) t.delete();
        throw new Error(`${this.label}: LiteRT failed to run the model: ${runErrors.join('; ')}`);
      }
      try {
        return out.map((t) => t.toTypedArray() as RuntimeArray);
      } finally {
        for (const t of out) t.delete();
      }
    } finally {
      for (const t of tensors) t.delete();
    }
  }

  dispose(): void {
    this.compiled?.delete();
    this.compiled = undefined;
  }
}

/** The input range quantizeInt8 recorded in the file's metadata (pipeline/quantize.ts), if any. */
function recordedInputRange(model: TfliteModel): [number, number] | undefined {
  const entry = model.metadata.find((m) => m.name === INPUT_RANGE_METADATA);
  const data = entry ? model.buffers[entry.buffer]?.data : undefined;
  return data ? decodeInputRange(data) : undefined;
}

/** The mean/std quantizeInt8 recorded having written as the graph's first op (pipeline/quantize.ts), if any. */
function recordedInputNormalization(model: TfliteModel): RecordedNormalization | undefined {
  const entry = model.metadata.find((m) => m.name === INPUT_NORMALIZATION_METADATA);
  const data = entry ? model.buffers[entry.buffer]?.data : undefined;
  return data ? decodeInputNormalization(data) : undefined;
}
