// Relu6 (element-wise): min(max(x, 0), 6). Usually fused into the producer's `activation` by a pass.
import type { OpDef } from '../types.js';
import { sameShape } from '../util.js';
import { out0, versionByInputType } from '../emit-util.js';

export const Relu6: OpDef = {
  op: 'Relu6',
  imports: { tfjsGraph: { Relu6: {} }, tfjsLayers: { 'Activation(relu6)': {} }, tflite: { RELU6: {} } },
  inferShapes: sameShape,
  runFloat: (tf, [x]) => [tf.relu6(x)],
  quant: {
    rule: { output: 'calibrated' },
    emit: (ctx) => ctx.op('RELU6', [ctx.activation(ctx.node.inputs[0])], [out0(ctx)]),
  },
  builtins: { RELU6: { version: versionByInputType({ int16: 3, int8: 2 }), runtime: ['1.5.0', '1.14.0', '2.5.0'] } },
  examples: [{ name: 'Relu6', build: (b) => b.emit('relu6', 'Relu6', [b.conv('c', b.input, 4)], {}) }],
};
