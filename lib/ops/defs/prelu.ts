// Prelu (element-wise): x for x >= 0, alpha * x below, with a learned alpha (usually per channel,
// e.g. [C] or [1, 1, C]) broadcast against x. Written as TFLite PRELU: its kernels are float32, uint8
// and int8 only (activations.cc), so there is no 16x8 variant; the int8 kernel takes alpha as a
// per-tensor int8 tensor with its own parameters and rescales both branches to the output.
import type { OpDef } from '../types.js';
import { broadcastShapes } from '../util.js';
import { operand, out0 } from '../emit-util.js';

export const Prelu: OpDef = {
  op: 'Prelu',
  imports: {
    tfjsGraph: { Prelu: { inputs: [0, 1] } },
    // Keras PReLU: the `alpha` weight has the input's shape without the batch axis (shared axes are 1).
    tfjsLayers: { PReLU: { weights: ['alpha'] } },
    tflite: { PRELU: { inputs: [0, 1] } },
  },
  inferShapes([x, alpha]) {
    const out = broadcastShapes(x.shape, alpha.shape);
    if (out.length !== x.shape.length || out.some((d, i) => d !== x.shape[i])) {
      throw new Error(`Prelu alpha [${alpha.shape}] does not broadcast to the input [${x.shape}]`);
    }
    return [out];
  },
  runFloat: (tf, [x, alpha]) => [tf.prelu(x, alpha)],
  quant: {
    rule: { output: 'calibrated' },
    precisions: ['int8', 'float'],
    emit: (ctx) => ctx.op('PRELU', [ctx.activation(ctx.node.inputs[0]), operand(ctx, ctx.node.inputs[1])], [out0(ctx)]),
  },
  // op_version.cc has no PRELU case (every signature is version 1); runtime_version.cc: 1.8.0.
  builtins: { PRELU: { runtime: ['1.8.0'] } },
  examples: [
    {
      name: 'Prelu per-channel alpha',
      build: (b) => b.emit('prelu', 'Prelu', [b.conv('c', b.input, 4), b.constant('alpha', [4], Float32Array.from([0.1, 0.25, 0.6, -0.3]))], {}),
    },
    {
      name: 'Prelu alpha [1,1,C]',
      build: (b) => b.emit('prelu', 'Prelu', [b.conv('c', b.input, 3), b.constant('alpha', [1, 1, 3], Float32Array.from([0.05, 0.5, 0.9]))], {}),
    },
  ],
};
