// The op registry: every IR op type and its entry. Adding an op = one file in defs/ + one line here.
import type { OpDef } from './types.js';
import { Add } from './defs/add.js';
import { AvgPool } from './defs/avg-pool.js';
import { BatchNorm } from './defs/batch-norm.js';
import { Concat } from './defs/concat.js';
import { Conv2D } from './defs/conv2d.js';
import { DepthwiseConv2D } from './defs/depthwise-conv2d.js';
import { ExpandDims } from './defs/expand-dims.js';
import { FullyConnected } from './defs/fully-connected.js';
import { Identity } from './defs/identity.js';
import { LeakyRelu } from './defs/leaky-relu.js';
import { MaxPool } from './defs/max-pool.js';
import { Mean } from './defs/mean.js';
import { Mul } from './defs/mul.js';
import { Pack } from './defs/pack.js';
import { Pad } from './defs/pad.js';
import { Relu } from './defs/relu.js';
import { Relu6 } from './defs/relu6.js';
import { Reshape } from './defs/reshape.js';
import { ResizeBilinear } from './defs/resize-bilinear.js';
import { ResizeNearest } from './defs/resize-nearest.js';
import { Sigmoid } from './defs/sigmoid.js';
import { Silu } from './defs/silu.js';
import { Slice } from './defs/slice.js';
import { Softmax } from './defs/softmax.js';
import { Split } from './defs/split.js';
import { Square } from './defs/square.js';
import { Squeeze } from './defs/squeeze.js';
import { StridedSlice } from './defs/strided-slice.js';
import { Sub } from './defs/sub.js';
import { Tanh } from './defs/tanh.js';
import { Transpose } from './defs/transpose.js';
import { Unpack } from './defs/unpack.js';

export const OP_DEFS: readonly OpDef[] = [
  Add, AvgPool, BatchNorm, Concat, Conv2D, DepthwiseConv2D, ExpandDims, FullyConnected, Identity, LeakyRelu,
  MaxPool, Mean, Mul, Pack, Pad, Relu, Relu6, Reshape, ResizeBilinear, ResizeNearest, Sigmoid, Silu, Slice,
  Softmax, Split, Square, Squeeze, StridedSlice, Sub, Tanh, Transpose, Unpack,
];

const BY_OP = new Map(OP_DEFS.map((d) => [d.op, d]));

/** The registry entry of an IR op type; throws naming the op when there is none. */
export function getOpDef(op: string): OpDef {
  const d = BY_OP.get(op);
  if (!d) throw new Error(`no op registry entry for IR op '${op}' (known: ${[...BY_OP.keys()].join(', ')})`);
  return d;
}

export function hasOpDef(op: string): boolean {
  return BY_OP.has(op);
}
