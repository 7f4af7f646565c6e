// Float execution of the IR with TF.js ops. One pass walks the nodes in order; every produced
// tensor is disposed right after its last consumer ran (unless fetched), so memory stays bounded
// even when a caller observes every activation (calibration).
import * as tf from '@tensorflow/tfjs';
import { elementCount, type Graph, type IrTensor } from '../ir/graph.js';
import { getOpDef } from '../ops/registry.js';
import { initBackend, type BackendName } from './backend.js';
import { tensorFromIr } from './tf-eval.js';

/** The graph's one input, a record by input name, or one array per input in the graph's input order. */
export type FloatInputs = Record<string, Float32Array> | Float32Array | Float32Array[];

export interface StreamOptions {
  /** Tensors whose values are returned (default: the graph outputs). */
  fetch?: string[];
  /**
   * Called once per non-constant tensor (graph inputs included) as soon as it is produced, in
   * execution order. `data` may be a view on the backend's memory (see ExecutorOptions.activationViews):
   * it is valid only during the call, which is synchronous for that reason; copy what you keep.
   */
  onTensor?: (name: string, data: Float32Array, shape: number[]) => void;
}

export interface FloatExecutor {
  readonly backend: BackendName;
  /** Whether onTensor gets heap views where the backend allows (ExecutorOptions.activationViews). */
  readonly activationViews: boolean;
  /**
   * The WebAssembly memory that onTensor's views live in (the wasm backend's heap) when this executor
   * hands out views, else undefined: calibration's kernels read activations there in place.
   */
  heapMemory(): WebAssembly.Memory | undefined;
  /** Runs the graph; returns the graph outputs or the `fetch`ed tensors (any intermediate). */
  run(inputs: FloatInputs, fetch?: string[]): Promise<Record<string, Float32Array>>;
  /** Same pass, streaming every produced tensor to `onTensor`. */
  stream(inputs: FloatInputs, options: StreamOptions): Promise<Record<string, Float32Array>>;
  /** Runs and returns TF.js tensors (the caller disposes them). */
  runTensors(inputs: FloatInputs, fetch?: string[]): Promise<Record<string, tf.Tensor>>;
  dispose(): void;
}

export interface ExecutorOptions {
  backend?: BackendName;
  /**
   * Hand `onTensor` views on the backend's memory instead of copies where the backend keeps float32
   * data in one addressable heap (wasm); default true. Copying every activation out of the wasm heap
   * was 17-30 % of calibration time. Other backends always copy (`await tensor.data()`).
   */
  activationViews?: boolean;
}

/** The wasm backend's public accessor for a tensor's data in its heap (tfjs-backend-wasm's BackendWasm). */
interface HeapBackend {
  typedArrayFromHeap(t: { shape: number[]; dtype: string; dataId: object }): Float32Array | Int32Array | Uint8Array;
}

/**
 * A view of a float32 tensor's values in the wasm heap, or undefined when the backend has none.
 * Valid until the next operation that may allocate (the heap can grow and move), so only for
 * synchronous use.
 */
function heapView(t: tf.Tensor): Float32Array | undefined {
  if (tf.getBackend() !== 'wasm' || t.dtype !== 'float32') return undefined;
  const backend = tf.backend() as unknown as Partial<HeapBackend>;
  if (typeof backend.typedArrayFromHeap !== 'function') return undefined;
  const view = backend.typedArrayFromHeap({ shape: t.shape, dtype: t.dtype, dataId: t.dataId });
  return view instanceof Float32Array ? view : undefined;
}

/** The Emscripten module of tfjs-backend-wasm (BackendWasm.wasm): its exports hold the heap's Memory. */
interface EmscriptenModule {
  asm?: { memory?: unknown };
  wasmMemory?: unknown;
  HEAPF32?: Float32Array;
}

/** The wasm backend's heap Memory, when the current backend is wasm and its heap is that Memory's buffer. */
function wasmHeapMemory(): WebAssembly.Memory | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const module = (tf.backend() as unknown as { wasm?: EmscriptenModule }).wasm;
  const memory = module?.asm?.memory ?? module?.wasmMemory;
  if (!(memory instanceof WebAssembly.Memory) || module?.HEAPF32?.buffer !== memory.buffer) return undefined;
  return memory;
}

function toFloat32(data: Float32Array | Int32Array | Uint8Array): Float32Array {
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

/** The graph's record of input arrays, checked against its inputs' names and sizes. */
function inputRecord(graph: Graph, inputs: FloatInputs): Record<string, Float32Array> {
  if (Array.isArray(inputs)) {
    if (inputs.length !== graph.inputs.length) throw new Error(`the graph has ${graph.inputs.length} input(s) (${graph.inputs.join(', ')}), got ${inputs.length} arrays`);
    return Object.fromEntries(graph.inputs.map((name, k) => [name, inputs[k]]));
  }
  if (!(inputs instanceof Float32Array)) return inputs;
  if (graph.inputs.length !== 1) throw new Error(`the graph has ${graph.inputs.length} inputs (${graph.inputs.join(', ')}): pass a record by name`);
  return { [graph.inputs[0]]: inputs };
}

function inputTensors(graph: Graph, inputs: FloatInputs): Map<string, tf.Tensor> {
  const m = new Map<string, tf.Tensor>();
  const record = inputRecord(graph, inputs);
  for (const name of graph.inputs) {
    const t = graph.tensors.get(name) as IrTensor;
    const data = record[name];
    if (!data) throw new Error(`missing graph input '${name}' [${t.shape}]`);
    if (!(data instanceof Float32Array)) throw new TypeError(`graph input '${name}' must be a Float32Array`);
    if (data.length !== elementCount(t.shape)) {
      throw new RangeError(`graph input '${name}' expects [${t.shape}] = ${elementCount(t.shape)} values, got ${data.length}`);
    }
    m.set(name, tf.tensor(data, t.shape, 'float32'));
  }
  for (const k of Object.keys(record)) if (!graph.inputs.includes(k)) throw new Error(`'${k}' is not a graph input (inputs: ${graph.inputs.join(', ')})`);
  return m;
}

/** Values of tensors as Float32Arrays in `order`; every tensor of `m` is disposed. */
async function download(m: Map<string, tf.Tensor>, order: string[]): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  try {
    for (const name of order) out[name] = toFloat32((await m.get(name)!.data()) as Float32Array);
  } finally {
    for (const t of m.values()) t.dispose();
  }
  return out;
}

/** One pass over a graph: the tensors alive now, those fetched, and who reads what last. */
class Pass {
  readonly result = new Map<string, tf.Tensor>();

  constructor(
    private readonly graph: Graph,
    private readonly constants: ReadonlyMap<string, tf.Tensor>,
    private readonly lastUse: ReadonlyMap<string, number>,
    private readonly live: Map<string, tf.Tensor>,
    private readonly fetch: ReadonlySet<string>,
    private readonly onTensor: StreamOptions['onTensor'],
    /** Whether onTensor may get heap views (ExecutorOptions.activationViews). */
    private readonly views: boolean,
  ) {}

  /** A produced tensor: kept while read, returned when fetched, streamed when observed. */
  async produced(name: string, t: tf.Tensor): Promise<void> {
    this.live.set(name, t);
    if (this.fetch.has(name)) this.result.set(name, t);
    if (!this.onTensor) return;
    const view = this.views ? heapView(t) : undefined;
    this.onTensor(name, view ?? toFloat32((await t.data()) as Float32Array), [...t.shape]);
  }

  private release(name: string): void {
    const t = this.live.get(name);
    if (!t) return;
    this.live.delete(name);
    if (!this.fetch.has(name)) t.dispose();
  }

  async runNode(idx: number): Promise<void> {
    const node = this.graph.nodes[idx];
    const def = getOpDef(node.op);
    const ins = node.inputs.map((i) => {
      const t = this.live.get(i) ?? this.constants.get(i);
      if (!t) throw new Error(`node '${node.name}' (${node.op}): input '${i}' was not computed (graph not in topological order?)`);
      return t;
    });
    const constIns = node.inputs.map((i) => (this.constants.has(i) ? this.graph.tensors.get(i) : undefined));
    let outs: tf.Tensor[];
    try {
      outs = tf.tidy(() => def.runFloat(tf, ins, node.attrs, constIns));
    } catch (e) {
      throw new Error(`node '${node.name}' (${node.op}) failed: ${(e as Error).message}`);
    }
    for (let k = 0; k < node.outputs.length; k++) await this.produced(node.outputs[k], outs[k]);
    for (let k = node.outputs.length; k < outs.length; k++) outs[k].dispose();
    for (const i of node.inputs) if (this.lastUse.get(i) === idx) this.release(i);
    for (const o of node.outputs) if (!this.lastUse.has(o)) this.release(o);
  }

  async run(): Promise<Map<string, tf.Tensor>> {
    try {
      for (const [name, t] of [...this.live]) await this.produced(name, t);
      for (const [name, t] of this.constants) if (this.fetch.has(name)) this.result.set(name, t.clone());
      for (let idx = 0; idx < this.graph.nodes.length; idx++) await this.runNode(idx);
    } catch (e) {
      for (const t of this.live.values()) t.dispose();
      for (const [n, t] of this.result) if (!this.constants.has(n)) t.dispose();
      throw e;
    }
    for (const [name, t] of this.live) if (!this.fetch.has(name)) t.dispose();
    return this.result;
  }
}

export async function createFloatExecutor(graph: Graph, opts: ExecutorOptions = {}): Promise<FloatExecutor> {
  const backend = await initBackend(opts.backend);
  for (const n of graph.nodes) getOpDef(n.op); // fail before running when an op is unknown
  const constTensors = new Map<string, tf.Tensor>();
  for (const n of graph.nodes) {
    for (const i of n.inputs) {
      const t = graph.tensors.get(i);
      if (t?.data && !constTensors.has(i)) constTensors.set(i, tf.keep(tensorFromIr(t)));
    }
  }
  // Index of the last node reading each activation (for early disposal).
  const lastUse = new Map<string, number>();
  graph.nodes.forEach((n, idx) => n.inputs.forEach((i) => lastUse.set(i, idx)));
  const views = opts.activationViews !== false;
  let disposed = false;

  const execute = (inputs: FloatInputs, fetchList: string[], onTensor?: StreamOptions['onTensor']): Promise<Map<string, tf.Tensor>> => {
    if (disposed) throw new Error('the float executor was disposed');
    for (const f of fetchList) if (!graph.tensors.has(f)) throw new Error(`cannot fetch '${f}': no such tensor in the graph`);
    return new Pass(graph, constTensors, lastUse, inputTensors(graph, inputs), new Set(fetchList), onTensor, views).run();
  };

  return {
    backend,
    activationViews: views,
    heapMemory: () => (views && !disposed ? wasmHeapMemory() : undefined),
    async run(inputs, fetch) {
      const list = fetch ?? graph.outputs;
      return download(await execute(inputs, list), list);
    },
    async stream(inputs, options) {
      const list = options.fetch ?? graph.outputs;
      return download(await execute(inputs, list, options.onTensor), list);
    },
    async runTensors(inputs, fetch) {
      const m = await execute(inputs, fetch ?? graph.outputs);
      return Object.fromEntries(m);
    },
    dispose() {
      disposed = true;
      for (const t of constTensors.values()) t.dispose();
      constTensors.clear();
    },
  };
}
