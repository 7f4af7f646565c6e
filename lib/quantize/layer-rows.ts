// The rows a weighted layer multiplies its weights with (im2col at one output position), for learned
// rounding: for an output position p, row[k] is the input value weight k multiplies there (0 in the
// padding), so the layer's pre-activation output at p in channel o is sum_k row[k] W[o, k] + bias[o].
// Column order follows the plan's weight layout: CONV_2D and TRANSPOSE_CONV are OHWI (k = (ky kw +
// kx) I + i), FULLY_CONNECTED is [O, I] (k = i); DEPTHWISE_CONV_2D reads the same (ky, kx, i) patch
// and its output channel o uses the columns of input channel floor(o / multiplier).
import type { Graph, IrNode } from '../ir/graph.js';
import { attrNumbers, attrPadding } from '../ops/util.js';

export interface LayerRows {
  /** Values per row (the weights one output channel of conv / FC has; depthwise: kh kw C). */
  columns: number;
  /** Output positions of one input (batch x height x width, or the FC's leading positions). */
  positions: number;
  /** Writes the row of output position `p` for input `x` into out[k * stride + offset]. */
  fill(x: Float32Array, p: number, out: Float32Array, stride: number, offset: number): void;
}

export const ROUNDING_OPS: readonly string[] = ['Conv2D', 'DepthwiseConv2D', 'FullyConnected', 'Conv2DTranspose'];

/** TF padding before the first element along one axis (SAME: half the total, the odd cell after). */
function padBefore(padding: string, input: number, output: number, kernel: number, stride: number, dilation: number): number {
  if (padding !== 'SAME') return 0;
  return Math.floor(Math.max((output - 1) * stride + (kernel - 1) * dilation + 1 - input, 0) / 2);
}

/** The row reader of a Conv2D, DepthwiseConv2D, FullyConnected or Conv2DTranspose node; throws naming it otherwise. */
export function layerRows(graph: Graph, node: IrNode): LayerRows {
  const shapeOf = (name: string) => graph.tensors.get(name)!.shape;
  const x = shapeOf(node.inputs[0]);
  const y = shapeOf(node.outputs[0]);
  const f = shapeOf(node.inputs[1]);
  if (node.op === 'FullyConnected') {
    const inC = x.at(-1)!;
    return { columns: inC, positions: x.reduce((a, b) => a * b, 1) / inC, fill: (data, p, out, stride, offset) => {
      for (let k = 0; k < inC; k++) out[k * stride + offset] = data[p * inC + k];
    } };
  }
  if (node.op !== 'Conv2D' && node.op !== 'DepthwiseConv2D' && node.op !== 'Conv2DTranspose') {
    throw new Error(`learned rounding: node '${node.name}' (${node.op}) is not a convolution or fully-connected layer`);
  }
  const [, H, W, C] = x;
  const [B, OH, OW] = y;
  const [kh, kw] = f;
  const [sh, sw] = attrNumbers(node.attrs, 'strides', [1, 1]);
  const padding = attrPadding(node.attrs);
  const columns = kh * kw * C;
  const positions = B * OH * OW;
  if (node.op === 'Conv2DTranspose') {
    // The forward convolution from the output gives the input: oy = iy sh + ky - pad.
    const pt = padBefore(padding, OH, H, kh, sh, 1);
    const pl = padBefore(padding, OW, W, kw, sw, 1);
    return { columns, positions, fill: (data, p, out, stride, offset) => {
      const b = Math.floor(p / (OH * OW));
      const oy = Math.floor(p / OW) % OH;
      const ox = p % OW;
      for (let ky = 0; ky < kh; ky++) {
        const ny = oy + pt - ky;
        const iy = ny / sh;
        for (let kx = 0; kx < kw; kx++) {
          const nx = ox + pl - kx;
          const ix = nx / sw;
          const inside = ny >= 0 && nx >= 0 && ny % sh === 0 && nx % sw === 0 && iy < H && ix < W;
          const base = ((b * H + iy) * W + ix) * C;
          for (let i = 0; i < C; i++) out[((ky * kw + kx) * C + i) * stride + offset] = inside ? data[base + i] : 0;
        }
      }
    } };
  }
  const [dh, dw] = attrNumbers(node.attrs, 'dilations', [1, 1]);
  const pt = padBefore(padding, H, OH, kh, sh, dh);
  const pl = padBefore(padding, W, OW, kw, sw, dw);
  return { columns, positions, fill: (data, p, out, stride, offset) => {
    const b = Math.floor(p / (OH * OW));
    const oy = Math.floor(p / OW) % OH;
    const ox = p % OW;
    for (let ky = 0; ky < kh; ky++) {
      const iy = oy * sh + ky * dh - pt;
      for (let kx = 0; kx < kw; kx++) {
        const ix = ox * sw + kx * dw - pl;
        const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
        const base = ((b * H + iy) * W + ix) * C;
        for (let i = 0; i < C; i++) out[((ky * kw + kx) * C + i) * stride + offset] = inside ? data[base + i] : 0;
      }
    }
  } };
}

/**
 * `count` output positions of `positions`, evenly spaced with an offset that moves with `seed` (the
 * image index), so different images contribute different positions. All of them when count >= positions.
 */
export function samplePositions(positions: number, count: number, seed: number): number[] {
  if (count >= positions) return Array.from({ length: positions }, (_, p) => p);
  // The golden-ratio sequence spreads the offsets of successive images over [0, 1).
  const offset = (seed * 0.6180339887498949) % 1;
  return Array.from({ length: count }, (_, j) => Math.floor(((j + offset) * positions) / count) % positions);
}
