// Sub: element-wise with numpy broadcasting and an optional fused activation.
import type { OpDef } from '../types.js';
import { applyActivation, attrActivation, broadcastShapes } from '../util.js';
import { BINARY_RULE, TFLITE_BINARY_RULE, binaryQuant } from './add.js';

export const Sub: OpDef = {
  op: 'Sub',
  imports: {
    tfjsGraph: { Sub: BINARY_RULE },
    tfjsLayers: { Subtract: { inputs: [0, 1], attrs: { activation: { value: 'none' } } } },
    tflite: { SUB: TFLITE_BINARY_RULE },
  },
  fusableActivation: true,
  inferShapes: (inputs) => [broadcastShapes(inputs[0].shape, inputs[1].shape)],
  runFloat: (tf, [a, b], attrs) => [applyActivation(tf, tf.sub(a, b), attrActivation(attrs))],
  quant: binaryQuant('SUB'),
  builtins: {
    SUB: {
      options: 'SubOptions',
      version({ inputs: [x], outputs: [y], options }) {
        if (x === 'int16' && y === 'int16' && options.potScaleInt16 === false) return 5;
        if (x === 'int64') return 4;
        return x === 'int8' ? 2 : 1;
      },
      runtime: ['1.6.0', '1.14.0', '2.3.0', '2.4.0', '2.4.0'],
    },
  },
  examples: [{ name: 'Sub', build: (b) => b.emit('sub', 'Sub', [b.conv('c1', b.input, 4), b.conv('c2', b.input, 4)], {}) }],
};
