// LeakyRelu (element-wise): x for x >= 0, alpha * x below.
import type { OpDef } from '../types.js';
import { attrNumber, sameShape } from '../util.js';
import { out0, versionByInputType } from '../emit-util.js';

export const LeakyRelu: OpDef = {
  op: 'LeakyRelu',
  imports: {
    tfjsGraph: { LeakyRelu: { attrs: { alpha: { attr: 'alpha', type: 'number', default: 0.2 } } } },
    tfjsLayers: { LeakyReLU: { attrs: { alpha: { attr: 'alpha', type: 'number', default: 0.3 } } } },
    tflite: { LEAKY_RELU: { attrs: { alpha: { attr: 'alpha', type: 'number' } } } },
  },
  inferShapes: sameShape,
  runFloat: (tf, [x], attrs) => [tf.leakyRelu(x, attrNumber(attrs, 'alpha', 0.2))],
  quant: {
    rule: { output: 'calibrated' },
    emit: (ctx) => ctx.op('LEAKY_RELU', [ctx.activation(ctx.node.inputs[0])], [out0(ctx)], { alpha: attrNumber(ctx.node.attrs, 'alpha', 0.2) }),
  },
  builtins: { LEAKY_RELU: { options: 'LeakyReluOptions', version: versionByInputType({ int16: 2 }), runtime: ['1.13.1', '2.3.0'] } },
  examples: [{ name: 'LeakyRelu', build: (b) => b.emit('lrelu', 'LeakyRelu', [b.conv('c', b.input, 4)], { alpha: 0.1 }) }],
};
