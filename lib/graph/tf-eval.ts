// Synchronous evaluation of one IR node on constant inputs (constant folding, import-time folding).
import * as tf from '@tensorflow/tfjs';
import type { AttrValue, IrData, IrDType, IrTensor } from '../ir/graph.js';
import { getOpDef } from '../ops/registry.js';

export function tensorFromIr(t: IrTensor): tf.Tensor {
  if (!t.data) throw new Error(`tensor '${t.name}' has no constant data`);
  if (t.dtype === 'bool') return tf.tensor(Array.from(t.data, (v) => v !== 0), t.shape, 'bool');
  return tf.tensor(t.data as Float32Array | Int32Array, t.shape, t.dtype);
}

function irDType(t: tf.Tensor): IrDType {
  if (t.dtype === 'float32' || t.dtype === 'int32' || t.dtype === 'bool') return t.dtype;
  throw new Error(`unsupported TF.js dtype ${t.dtype}`);
}

function irData(t: tf.Tensor): IrData {
  const d = t.dataSync();
  if (t.dtype === 'bool') return Uint8Array.from(d as Uint8Array);
  return t.dtype === 'int32' ? Int32Array.from(d as Int32Array) : Float32Array.from(d as Float32Array);
}

/** Runs `op` on constant inputs and returns the outputs as constant IR tensors named `outputs`. */
export function evaluateConstantNode(op: string, inputs: IrTensor[], attrs: Record<string, AttrValue>, outputs: string[]): IrTensor[] {
  const def = getOpDef(op);
  return tf.tidy(() => {
    const ins = inputs.map(tensorFromIr);
    const outs = def.runFloat(tf, ins, attrs, inputs);
    return outs.map((t, i) => ({ name: outputs[i], shape: [...t.shape], dtype: irDType(t), data: irData(t) }));
  });
}
