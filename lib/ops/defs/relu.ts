// Relu (element-wise). Usually fused into the producer's `activation` by a pass.
import type { ImportContext, OpDef } from '../types.js';
import { sameShape } from '../util.js';
import { out0, versionByInputType } from '../emit-util.js';

/** Layers ReLU: plain, capped at 6, or leaky. */
function importLayersRelu(c: ImportContext): void {
  const max = c.attr({ attr: 'maxValue', type: 'number', default: null });
  const slope = c.attr({ attr: 'negativeSlope', type: 'number', default: 0 });
  const threshold = c.attr({ attr: 'threshold', type: 'number', default: 0 });
  if (threshold !== 0) throw c.error('threshold != 0 is not supported');
  if (slope !== 0) {
    if (max != null) throw c.error('negativeSlope with maxValue is not supported');
    c.emit('LeakyRelu', [c.input(0)], { alpha: slope });
  } else if (max == null) c.emit('Relu', [c.input(0)], {});
  else if (max === 6) c.emit('Relu6', [c.input(0)], {});
  else throw c.error(`maxValue ${max} is not supported (none or 6)`);
}

export const Relu: OpDef = {
  op: 'Relu',
  imports: {
    tfjsGraph: { Relu: {} },
    tfjsLayers: { ReLU: importLayersRelu, 'Activation(relu)': {} },
    tflite: { RELU: {} },
  },
  inferShapes: sameShape,
  runFloat: (tf, [x]) => [tf.relu(x)],
  quant: {
    rule: { output: 'calibrated' },
    emit: (ctx) => ctx.op('RELU', [ctx.activation(ctx.node.inputs[0])], [out0(ctx)]),
  },
  builtins: {
    RELU: { version: versionByInputType({ int16: 3, int8: 2, uint8: 2 }), runtime: ['1.5.0', '2.1.0', '2.5.0'] },
  },
  examples: [{ name: 'Relu', build: (b) => b.emit('relu', 'Relu', [b.conv('c', b.input, 4)], {}) }],
};
