// Rsqrt (element-wise): 1 / sqrt(x). TFLite RSQRT has float32, int8 (fixed-point, rescaled to the output)
// and int16 (a lookup table, zero points 0) kernels (elementwise.cc). The int8 kernel refuses an input
// below its zero point at run time ("Rsqrt is only defined for positive values"): a non-negative
// calibrated input range gives the zero point -128, so every value passes.
import { unaryDef } from '../unary.js';
import { versionByInputType } from '../emit-util.js';

export const Rsqrt = unaryDef({
  op: 'Rsqrt',
  tfjsGraph: 'Rsqrt',
  builtin: 'RSQRT',
  kernel: (tf, x) => tf.rsqrt(x),
  precisions: ['int8', 'int16', 'float'],
  spec: { version: versionByInputType({ int16: 3, int8: 2 }), runtime: ['1.10.0', '2.5.0', '2.15.0'] },
  examples: [
    {
      name: 'Rsqrt of [0.5, 1.5]',
      // The lookup table / fixed-point inverse square root rounds a little more than one step.
      steps: 1,
      build: (b) => {
        const x = b.emit('pos', 'Add', [b.input, b.constant('half', [], Float32Array.of(0.5))], {})[0];
        return b.emit('rsqrt', 'Rsqrt', [x], {});
      },
    },
  ],
});
