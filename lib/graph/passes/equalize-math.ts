// The arithmetic of cross-layer equalization (Nagel et al. 2019, "Data-Free Quantization Through
// Weight Equalization and Bias Correction", section 4.1), on the IR's weight layouts:
//   Conv2D HWIO [kh, kw, in, out]: output channel = k % out, input channel = floor(k / out) % in;
//   DepthwiseConv2D [kh, kw, C, m]: output channel c*m + j = k % (C*m), input channel c = floor(k / m) % C;
//   FullyConnected [in, out]: output channel = k % out, input channel = floor(k / out).
// For W1 -> f -> W2 with f positive-homogeneous per channel (f(x / s) = f(x) / s for s > 0), dividing
// W1's output channel i (and its bias) by s_i and multiplying W2's input channel i by s_i leaves the
// function unchanged. With r1_i, r2_i the ranges (max |w|) of those channels, the paper's choice
//   s_i = sqrt(r1_i * r2_i) / r2_i = sqrt(r1_i / r2_i)
// makes both ranges sqrt(r1_i * r2_i): each channel's share of its tensor's range becomes equal on both sides.

export type WeightedOpName = 'Conv2D' | 'DepthwiseConv2D' | 'FullyConnected';

/** How flat weight indices map to channels for one weight tensor. */
export interface ChannelLayout {
  outChannels: number;
  inChannels: number;
  outOf(k: number): number;
  inOf(k: number): number;
}

export function channelLayout(op: WeightedOpName, shape: readonly number[]): ChannelLayout {
  if (op === 'FullyConnected') {
    const [inC, outC] = shape;
    return { outChannels: outC, inChannels: inC, outOf: (k) => k % outC, inOf: (k) => Math.floor(k / outC) };
  }
  const [, , inC, last] = shape;
  if (op === 'Conv2D') {
    return { outChannels: last, inChannels: inC, outOf: (k) => k % last, inOf: (k) => Math.floor(k / last) % inC };
  }
  // Depthwise: `last` is the channel multiplier.
  const outC = inC * last;
  return { outChannels: outC, inChannels: inC, outOf: (k) => k % outC, inOf: (k) => Math.floor(k / last) % inC };
}

/** max |w| per channel, the channel of flat index k given by `channelOf`. */
export function perChannelMaxAbs(data: ArrayLike<number>, channels: number, channelOf: (k: number) => number): Float64Array {
  const r = new Float64Array(channels);
  for (let k = 0; k < data.length; k++) {
    const c = channelOf(k);
    const a = Math.abs(data[k]);
    if (a > r[c]) r[c] = a;
  }
  return r;
}

function maxOf(r: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < r.length; i++) if (r[i] > m) m = r[i];
  return m;
}

/**
 * The scale s_i per channel: W1's output channel i is divided by s_i, W2's input channel i multiplied
 * by s_i. Channels where either range is zero, not finite, or below `deadBelow` times the largest range
 * on its side keep s_i = 1: there is nothing to balance. (BN-folded networks have channels whose
 * weights are ~1e-13 of the others: balancing those would blow the other side up by 1e6 or more.)
 */
export function equalizationScales(r1: ArrayLike<number>, r2: ArrayLike<number>, deadBelow = 0): Float64Array {
  if (r1.length !== r2.length) throw new Error(`equalization: ${r1.length} output channels vs ${r2.length} input channels`);
  const floor1 = deadBelow * maxOf(r1);
  const floor2 = deadBelow * maxOf(r2);
  const s = new Float64Array(r1.length);
  for (let i = 0; i < r1.length; i++) {
    const v = Math.sqrt(r1[i] * r2[i]) / r2[i];
    s[i] = r1[i] > floor1 && r2[i] > floor2 && r1[i] > 0 && r2[i] > 0 && Number.isFinite(v) && v > 0 ? v : 1;
  }
  return s;
}

/** A copy of `data` with each element multiplied by factors[channelOf(k)]. */
export function scaleChannels(data: ArrayLike<number>, factors: ArrayLike<number>, channelOf: (k: number) => number): Float32Array {
  const out = new Float32Array(data.length);
  for (let k = 0; k < data.length; k++) out[k] = data[k] * factors[channelOf(k)];
  return out;
}

/** 1 / s per channel. */
export function reciprocal(s: ArrayLike<number>): Float64Array {
  return Float64Array.from(s, (v) => 1 / v);
}

/** Largest |log s_i| (0 when every s_i is 1): how far one equalization step still moves the weights. */
export function maxLogScale(s: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < s.length; i++) m = Math.max(m, Math.abs(Math.log(s[i])));
  return m;
}

/**
 * max / min over the channels with a range above `deadBelow` times the largest (1 when fewer than two):
 * how unbalanced a tensor's live channels are.
 */
export function rangeSpread(r: ArrayLike<number>, deadBelow = 0): number {
  const floor = deadBelow * maxOf(r);
  let lo = Infinity;
  let hi = 0;
  for (let i = 0; i < r.length; i++) {
    if (!(r[i] > 0) || r[i] <= floor) continue;
    lo = Math.min(lo, r[i]);
    hi = Math.max(hi, r[i]);
  }
  return hi > 0 && lo < hi ? hi / lo : 1;
}
