// Small shared helpers for op registry entries: attribute access, shape math and activations.
import type * as tfTypes from '@tensorflow/tfjs';
import type { IrTensor } from '../ir/graph.js';
import type { Attrs, Tf } from './types.js';

export function attrNumber(attrs: Attrs, key: string, fallback?: number): number {
  const v = attrs[key];
  if (typeof v === 'number') return v;
  if (v === undefined && fallback !== undefined) return fallback;
  throw new Error(`attribute '${key}' must be a number, got ${JSON.stringify(v)}`);
}

export function attrNumbers(attrs: Attrs, key: string, fallback?: number[]): number[] {
  const v = attrs[key];
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
  if (v === undefined && fallback !== undefined) return fallback;
  throw new Error(`attribute '${key}' must be a number list, got ${JSON.stringify(v)}`);
}

export function attrString(attrs: Attrs, key: string, fallback?: string): string {
  const v = attrs[key];
  if (typeof v === 'string') return v;
  if (v === undefined && fallback !== undefined) return fallback;
  throw new Error(`attribute '${key}' must be a string, got ${JSON.stringify(v)}`);
}

export function attrBool(attrs: Attrs, key: string, fallback = false): boolean {
  const v = attrs[key];
  if (typeof v === 'boolean') return v;
  if (v === undefined || v === null) return fallback;
  throw new Error(`attribute '${key}' must be a boolean, got ${JSON.stringify(v)}`);
}

export type Padding = 'SAME' | 'VALID';

export function attrPadding(attrs: Attrs): Padding {
  const p = attrString(attrs, 'padding');
  if (p !== 'SAME' && p !== 'VALID') throw new Error(`attribute 'padding' must be 'SAME' or 'VALID', got '${p}'`);
  return p;
}

/** Output length of a windowed op (conv, pool) along one spatial axis, TF semantics. */
export function windowOutputSize(input: number, kernel: number, stride: number, dilation: number, padding: Padding): number {
  const effectiveKernel = (kernel - 1) * dilation + 1;
  if (padding === 'SAME') return Math.ceil(input / stride);
  const n = Math.ceil((input - effectiveKernel + 1) / stride);
  if (n <= 0) throw new Error(`VALID window of size ${effectiveKernel} does not fit in an input of size ${input}`);
  return n;
}

/** Numpy-style broadcast of two static shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`shapes [${a}] and [${b}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Resolves a possibly negative axis against a rank. */
export function normalizeAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/**
 * The permutation that swaps `axis` with the last axis (identity elsewhere). It is its own inverse,
 * so one perm moves an axis to the end and back: how ops that only work on the last axis (TF.js
 * tf.softmax, TFLite SOFTMAX) are applied over any other axis.
 */
export function swapWithLastAxisPerm(rank: number, axis: number): number[] {
  const a = normalizeAxis(axis, rank);
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[a] = rank - 1;
  perm[rank - 1] = a;
  return perm;
}

/** Checks that `perm` is a permutation of 0..rank-1 (Transpose perms come from files). */
export function checkPermutation(perm: readonly number[], rank: number): void {
  if (perm.length !== rank) throw new Error(`perm [${perm}] has ${perm.length} entries for a rank-${rank} tensor`);
  const seen = new Set<number>();
  for (const p of perm) {
    if (!Number.isInteger(p) || p < 0 || p >= rank || seen.has(p)) {
      throw new Error(`perm [${perm}] is not a permutation of the axes 0..${rank - 1}`);
    }
    seen.add(p);
  }
}

export const sameShape = (inputs: IrTensor[]): number[][] => [[...inputs[0].shape]];

export type ActivationName = 'none' | 'relu' | 'relu6';

export function attrActivation(attrs: Attrs): ActivationName {
  const a = attrString(attrs, 'activation', 'none');
  if (a !== 'none' && a !== 'relu' && a !== 'relu6') throw new Error(`attribute 'activation' must be none|relu|relu6, got '${a}'`);
  return a;
}

/** Applies a fused activation after an op that has no fused TF.js kernel. */
export function applyActivation(tf: Tf, x: tfTypes.Tensor, activation: ActivationName): tfTypes.Tensor {
  if (activation === 'relu') return tf.relu(x);
  if (activation === 'relu6') return tf.relu6(x);
  return x;
}

/** The fused-kernel activation name for tf.fused.* (undefined = linear). */
export function fusedActivation(activation: ActivationName): 'relu' | 'relu6' | 'linear' {
  return activation === 'none' ? 'linear' : activation;
}

export function shapeEquals(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The arguments tf.fused.conv2d / tf.fused.depthwiseConv2d share, from an IR conv node's attrs. */
export function fusedConvArgs(x: tfTypes.Tensor, filter: tfTypes.Tensor, bias: tfTypes.Tensor | undefined, attrs: Attrs) {
  const [sh, sw] = attrNumbers(attrs, 'strides', [1, 1]);
  const [dh, dw] = attrNumbers(attrs, 'dilations', [1, 1]);
  return {
    x: x as tfTypes.Tensor4D,
    filter: filter as tfTypes.Tensor4D,
    strides: [sh, sw] as [number, number],
    pad: attrPadding(attrs) === 'SAME' ? ('same' as const) : ('valid' as const),
    dilations: [dh, dw] as [number, number],
    bias,
    activation: fusedActivation(attrActivation(attrs)),
  };
}

export interface BatchNormParams { scale: Float32Array; offset: Float32Array; mean: Float32Array; variance: Float32Array; epsilon: number }

/** Per-output-channel multiplier and additive term of a BatchNorm. */
export function batchNormAffine(p: BatchNormParams): { mul: Float32Array; add: Float32Array } {
  const c = p.scale.length;
  const mul = new Float32Array(c);
  const add = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    mul[i] = p.scale[i] / Math.sqrt(p.variance[i] + p.epsilon);
    add[i] = p.offset[i] - p.mean[i] * mul[i];
  }
  return { mul, add };
}
