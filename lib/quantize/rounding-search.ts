// Learned rounding of one output channel's weights (the math; learned-rounding.ts gathers the data).
//
// The channel's output on N sampled input rows is y = X w (X: N x K, the layer's float inputs as the
// channel sees them). Rounding the weights to q (integers, step s) changes it by e = X (s q - w). Like
// AdaRound (Nagel et al. 2020, "Up or Down? Adaptive Rounding for Post-Training Quantization"), each
// weight may only round down or up (floor or ceil of w / s, within the int8 weight range) and the
// choice minimises ||e||^2 on calibration data; instead of AdaRound's relaxed sigmoid and gradient
// descent, this searches the binary choices directly by coordinate descent from nearest rounding.
// With G = X^T X (the Gram matrix of the channel's columns) the error is r^T G r, r = s q - w, and
// flipping weight k by d = +-s changes it by 2 d (G r)_k + d^2 G_kk: a flip is kept only when that is
// negative, and G r is updated in O(K). So a sweep costs O(K) per weight flipped, not O(N K). Every accepted flip lowers the error, so the result is never worse than
// nearest rounding on the rows it was fitted on; the caller also checks held-out rows.

/**
 * The layer's input rows as columns: column k (weight k's input over the N rows) is
 * data[k * rows, (k + 1) * rows). Column-major so that x_k . e reads contiguous memory.
 */
export interface InputColumns {
  data: Float32Array;
  rows: number;
  columns: number;
}

export interface ChannelRounding {
  /** The chosen integer weights (same order as the channel's weight indices). */
  q: Int32Array;
  /** ||X (s q - w)||^2 with nearest rounding and with the chosen one. */
  errorBefore: number;
  errorAfter: number;
  /** Weights whose rounding differs from nearest. */
  flipped: number;
}

/** One output channel: its float weights, the integer nearest rounding, the step and the integer limits. */
export interface ChannelWeights {
  w: Float32Array;
  nearest: ArrayLike<number>;
  /** Column of X each weight reads. */
  column: Int32Array;
  scale: number;
  qmin: number;
  qmax: number;
}

/** The other admissible integer for a weight (floor or ceil of w / s, whichever nearest is not), or nearest itself when there is none. */
export function otherRounding(w: number, scale: number, nearest: number, qmin: number, qmax: number): number {
  const r = w / scale;
  const alt = r > nearest ? nearest + 1 : r < nearest ? nearest - 1 : nearest;
  return alt < qmin || alt > qmax ? nearest : alt;
}

/** e = X (s q - w) over the rows, in float64. */
export function roundingError(cols: InputColumns, ch: ChannelWeights, q: ArrayLike<number>): Float64Array {
  const e = new Float64Array(cols.rows);
  const n = cols.rows;
  for (let k = 0; k < ch.w.length; k++) {
    const d = ch.scale * q[k] - ch.w[k];
    if (d === 0) continue;
    const base = ch.column[k] * n;
    for (let r = 0; r < n; r++) e[r] += d * cols.data[base + r];
  }
  return e;
}

export function sumOfSquares(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return s;
}

/**
 * The Gram matrix G = X_S^T X_S of the columns S a channel reads (|S| x |S|, row-major, float64): the
 * error of any rounding is r^T G r with r = s q - w, so the search never touches the rows again.
 */
export function gramOf(cols: InputColumns, columns: Int32Array): Float64Array {
  const k = columns.length;
  const n = cols.rows;
  const g = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    const xa = cols.data.subarray(columns[a] * n, (columns[a] + 1) * n);
    for (let b = a; b < k; b++) {
      const xb = cols.data.subarray(columns[b] * n, (columns[b] + 1) * n);
      let dot = 0;
      for (let r = 0; r < n; r++) dot += xa[r] * xb[r];
      g[a * k + b] = dot;
      g[b * k + a] = dot;
    }
  }
  return g;
}

/** v^T G v and G v for a k x k Gram matrix. */
function quadratic(gram: Float64Array, v: Float64Array): { value: number; gv: Float64Array } {
  const k = v.length;
  const gv = new Float64Array(k);
  let value = 0;
  for (let a = 0; a < k; a++) {
    let s = 0;
    const row = a * k;
    for (let b = 0; b < k; b++) s += gram[row + b] * v[b];
    gv[a] = s;
    value += v[a] * s;
  }
  return { value, gv };
}

/** r = s q - w. */
function residual(ch: ChannelWeights, q: ArrayLike<number>): Float64Array {
  return Float64Array.from(ch.w, (w, k) => ch.scale * q[k] - w);
}

/** The channel's output energy ||X w||^2 = w^T G w (the signal its error is compared with). */
export function channelSignal(gram: Float64Array, ch: ChannelWeights): number {
  return quadratic(gram, Float64Array.from(ch.w)).value;
}

/**
 * Coordinate descent over up/down choices from nearest rounding, at most `sweeps` passes over the
 * weights (stops early when a pass flips nothing). `gram` is the Gram matrix of the channel's columns
 * in the order of its weights (gramOf). The error never increases.
 */
export function searchChannelRounding(gram: Float64Array, ch: ChannelWeights, sweeps: number): ChannelRounding {
  const K = ch.w.length;
  const q = Int32Array.from(ch.nearest);
  const start = quadratic(gram, residual(ch, q));
  const g = start.gv;
  const errorBefore = start.value;
  let error = errorBefore;
  for (let sweep = 0; sweep < sweeps; sweep++) {
    let changed = 0;
    for (let k = 0; k < K; k++) {
      const alt = q[k] === ch.nearest[k] ? otherRounding(ch.w[k], ch.scale, q[k], ch.qmin, ch.qmax) : ch.nearest[k];
      if (alt === q[k]) continue;
      const d = ch.scale * (alt - q[k]);
      const delta = 2 * d * g[k] + d * d * gram[k * K + k];
      // A relative margin keeps float64 round-off from accepting flips that change nothing.
      if (!(delta < -1e-12 * error)) continue;
      q[k] = alt;
      const row = k * K;
      for (let j = 0; j < K; j++) g[j] += d * gram[row + j];
      error += delta;
      changed++;
    }
    if (changed === 0) break;
  }
  // The running sum drifts by round-off: the reported error is recomputed.
  const errorAfter = quadratic(gram, residual(ch, q)).value;
  let flipped = 0;
  for (let k = 0; k < K; k++) if (q[k] !== ch.nearest[k]) flipped++;
  return { q, errorBefore, errorAfter, flipped };
}
