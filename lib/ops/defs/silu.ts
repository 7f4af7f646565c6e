// Silu (element-wise): x * sigmoid(x) as one node, so the quantizer treats it as a unit (a pass fuses
// Mul(x, Sigmoid(x))). Written as LOGISTIC into an internal tensor (its fixed parameters), then MUL with x.
import type { OpDef } from '../types.js';
import { sameShape } from '../util.js';
import { out0 } from '../emit-util.js';

/**
 * The T >= 1.2785 (where SiLU has its minimum) beyond which |x * sigmoid(x)| < tolerance for all x < -T
 * (|SiLU| decreases monotonically there), found by bisection.
 */
export function siluNegligibleBelow(tolerance: number): number {
  const silu = (x: number) => x / (1 + Math.exp(-x));
  let lo = 1.2785;
  if (Math.abs(silu(-lo)) <= tolerance) return lo;
  let hi = 2;
  while (Math.abs(silu(-hi)) > tolerance && hi < 1e3) hi *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (Math.abs(silu(-mid)) > tolerance) lo = mid;
    else hi = mid;
  }
  return hi;
}

export const Silu: OpDef = {
  op: 'Silu',
  imports: { tfjsLayers: { 'Activation(swish)': {}, 'Activation(silu)': {} } },
  inferShapes: sameShape,
  runFloat: (tf, [x]) => [tf.mul(x, tf.sigmoid(x))],
  quant: {
    rule: { output: 'calibrated' },
    // No input below where x * sigmoid(x) rounds to 0 in the SiLU output's own int8 step changes it.
    inputRange: (r, node) => {
      const out = node.outputRange;
      if (!out) return r;
      const step = (Math.max(out.max, 0) - Math.min(out.min, 0)) / 255;
      return step > 0 ? { min: Math.max(r.min, -siluNegligibleBelow(step / 2)), max: r.max } : r;
    },
    emit(ctx) {
      const xName = ctx.node.inputs[0];
      const x = ctx.activation(xName);
      const sig = ctx.internal(`${ctx.node.name}/sigmoid`, ctx.tensorInfo(xName).shape, ctx.fixedParams('LOGISTIC'));
      ctx.op('LOGISTIC', [x], [sig]);
      ctx.op('MUL', [x, sig], [out0(ctx)], { fusedActivationFunction: 0 });
    },
  },
  examples: [{ name: 'Silu (LOGISTIC + MUL)', steps: 2, build: (b) => b.emit('silu', 'Silu', [b.conv('c', b.input, 4)], {}) }],
};
