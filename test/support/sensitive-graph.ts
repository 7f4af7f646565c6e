// A small graph with one deliberately sensitive layer ('hot': one output channel with weights 40x
// the others, so its per-tensor int8 output grid is far too coarse for the other channels, which are
// the ones the next layer 'out' reads), and inputs on the int8 input grid.
import { GraphBuilder } from '../../lib/graph/builder.js';
import type { Graph } from '../../lib/ir/graph.js';
import { lcg as rng } from './random.js';

export const SHAPE = [1, 8, 8, 3];
export const N = 8 * 8 * 3;

/** `withHot`: 'hot' is a second output (large values, fine on its own grid) beside 'out'. */
export function sensitiveGraph(withHot = false): Graph {
  const r = rng(11);
  const rand = (n: number, a: number) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * a);
  const conv = (b: GraphBuilder, name: string, x: string, k: number, ic: number, oc: number, w: Float32Array) => {
    const wt = b.addConstant(`${name}/w`, [k, k, ic, oc], 'float32', w);
    const bias = b.addConstant(`${name}/b`, [oc], 'float32', rand(oc, 0.05));
    return b.emit(name, 'Conv2D', [x, wt, bias], { strides: [1, 1], padding: 'SAME', dilations: [1, 1], activation: 'none' })[0];
  };
  const b = new GraphBuilder('sensitive');
  const x = b.addInput('input', SHAPE);
  const c1 = conv(b, 'c1', x, 3, 3, 6, rand(3 * 3 * 3 * 6, 0.4));
  const s1 = b.emit('silu1', 'Silu', [c1], {})[0];
  // 'hot': output channel 0 has weights 40x larger (a huge-range channel).
  const wh = rand(3 * 3 * 6 * 4, 0.3);
  for (let i = 0; i < wh.length; i += 4) wh[i] *= 40;
  const hot = conv(b, 'hot', s1, 3, 6, 4, wh);
  // 'out' reads mostly channels 1-3 of hot (channel 0 nearly ignored).
  const wo = rand(4 * 3, 1);
  for (let o = 0; o < 3; o++) wo[o] *= 1e-4;
  const out = conv(b, 'out', hot, 1, 4, 3, wo);
  return b.build(withHot ? [out, hot] : [out], { source: 'sensitive', format: 'built', notes: [] });
}

export const gridInput = (seed: number) => {
  const r = rng(seed);
  return Float32Array.from({ length: N }, () => Math.round(r() * 255) / 255);
};
export const CALIB = Array.from({ length: 12 }, (_, i) => gridInput(100 + i));
export const IMAGES = Array.from({ length: 3 }, (_, i) => gridInput(200 + i));

