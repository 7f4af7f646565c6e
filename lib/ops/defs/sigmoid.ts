// Sigmoid (element-wise). Its int8/int16 output parameters are fixed by the LOGISTIC kernel.
import type { OpDef } from '../types.js';
import { sameShape } from '../util.js';
import { out0 } from '../emit-util.js';

/** Logit beyond which the int8 LOGISTIC output (scale 1/256, zp -128) saturates: ln(255.5 / 0.5). */
export const LOGISTIC_SATURATION = Math.log(255.5 / 0.5);

const clip = (v: number) => Math.max(-LOGISTIC_SATURATION, Math.min(LOGISTIC_SATURATION, v));

export const Sigmoid: OpDef = {
  op: 'Sigmoid',
  imports: { tfjsGraph: { Sigmoid: {} }, tfjsLayers: { 'Activation(sigmoid)': {} }, tflite: { LOGISTIC: {} } },
  inferShapes: sameShape,
  runFloat: (tf, [x]) => [tf.sigmoid(x)],
  quant: {
    rule: { output: 'fixed', op: 'LOGISTIC' },
    // No logit beyond where the int8 sigmoid saturates changes its output.
    inputRange: (r) => ({ min: clip(r.min), max: clip(r.max) }),
    emit: (ctx) => ctx.op('LOGISTIC', [ctx.activation(ctx.node.inputs[0])], [out0(ctx)]),
  },
  builtins: {
    LOGISTIC: {
      version: ({ inputs: [x], outputs: [y] }) => (x === 'int16' && y === 'int16' ? 3 : x === 'int8' ? 2 : 1),
      runtime: ['1.14.0', '1.14.0', '2.3.0'],
      kernel: { fixedOutput: 'LOGISTIC' },
    },
  },
  examples: [{ name: 'Sigmoid', build: (b) => b.emit('sig', 'Sigmoid', [b.conv('c', b.input, 4)], {}) }],
};
