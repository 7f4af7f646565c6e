// Float execution of the IR with TF.js ops. One pass walks the nodes in order; every produced
// tensor is disposed right after its last consumer ran (unless fetched), so memory stays bounded
// even when a caller observes every activation (calibration).
import * as tf from '@tensorflow/tfjs';
import { elementCount, type Graph, type IrTensor } from '../ir/graph.js';
import { getOpDef } from '../ops/registry.js';
import { initBackend, type BackendName } from './backend.js';
import { tensorFromIr } from './tf-eval.js';

export type FloatInputs = Record<string, Float32Array> | Float32Array;

export interface StreamOptions {
  /** Tensors whose values are returned (default: the graph outputs). */
  fetch?: string[];
  /**
   * Called once per non-constant tensor (graph inputs included) as soon as it is produced, in
   * execution order. Awaited before the tensor may be disposed.
   */
  onTensor?: (name: string, data: Float32Array, shape: number[]) => void | Promise<void>;
}

export interface FloatExecutor {
  readonly backend: BackendName;
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
}

function toFloat32(data: Float32Array | Int32Array | Uint8Array): Float32Array {
  return data instanceof Float32Array ? data : Float32Array.from(data);
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
  let disposed = false;

  function normalizeInputs(inputs: FloatInputs): Map<string, tf.Tensor> {
    const m = new Map<string, tf.Tensor>();
    const record: Record<string, Float32Array> =
      inputs instanceof Float32Array
        ? (() => {
            if (graph.inputs.length !== 1) throw new Error(`the graph has ${graph.inputs.length} inputs (${graph.inputs.join(', ')}): pass a record by name`);
            return { [graph.inputs[0]]: inputs };
          })()
        : inputs;
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

  async function execute(inputs: FloatInputs, fetchList: string[], onTensor?: StreamOptions['onTensor']): Promise<Map<string, tf.Tensor>> {
    if (disposed) throw new Error('the float executor was disposed');
    for (const f of fetchList) if (!graph.tensors.has(f)) throw new Error(`cannot fetch '${f}': no such tensor in the graph`);
    const fetchSet = new Set(fetchList);
    const live = normalizeInputs(inputs);
    const result = new Map<string, tf.Tensor>();
    const release = (name: string) => {
      const t = live.get(name);
      if (!t) return;
      live.delete(name);
      if (!fetchSet.has(name)) t.dispose();
    };
    try {
      for (const [name, t] of live) {
        if (onTensor) await onTensor(name, toFloat32(await t.data() as Float32Array), [...t.shape]);
        if (fetchSet.has(name)) result.set(name, t);
      }
      for (const [name, t] of constTensors) if (fetchSet.has(name)) result.set(name, t.clone());
      for (let idx = 0; idx < graph.nodes.length; idx++) {
        const node = graph.nodes[idx];
        const def = getOpDef(node.op);
        const ins = node.inputs.map((i) => {
          const t = live.get(i) ?? constTensors.get(i);
          if (!t) throw new Error(`node '${node.name}' (${node.op}): input '${i}' was not computed (graph not in topological order?)`);
          return t;
        });
        const constIns = node.inputs.map((i) => (constTensors.has(i) ? graph.tensors.get(i) : undefined));
        let outs: tf.Tensor[];
        try {
          outs = tf.tidy(() => def.runFloat(tf, ins, node.attrs, constIns));
        } catch (e) {
          throw new Error(`node '${node.name}' (${node.op}) failed: ${(e as Error).message}`);
        }
        for (let k = 0; k < node.outputs.length; k++) {
          const name = node.outputs[k];
          live.set(name, outs[k]);
          if (fetchSet.has(name)) result.set(name, outs[k]);
          if (onTensor) await onTensor(name, toFloat32(await outs[k].data() as Float32Array), [...outs[k].shape]);
        }
        for (let k = node.outputs.length; k < outs.length; k++) outs[k].dispose();
        for (const i of node.inputs) if (lastUse.get(i) === idx) release(i);
        for (const o of node.outputs) if (!lastUse.has(o)) release(o);
      }
    } catch (e) {
      for (const t of live.values()) t.dispose();
      for (const [n, t] of result) if (!constTensors.has(n)) t.dispose();
      throw e;
    }
    for (const [name, t] of live) if (!fetchSet.has(name)) t.dispose();
    return result;
  }

  async function download(m: Map<string, tf.Tensor>, order: string[]): Promise<Record<string, Float32Array>> {
    const out: Record<string, Float32Array> = {};
    try {
      for (const name of order) out[name] = toFloat32((await m.get(name)!.data()) as Float32Array);
    } finally {
      for (const t of m.values()) t.dispose();
    }
    return out;
  }

  return {
    backend,
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
