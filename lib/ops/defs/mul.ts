// Mul: element-wise with numpy broadcasting and an optional fused activation. RealDiv by a constant
// imports as Mul by its reciprocal (integer kernels exist for MUL, not for DIV); by a computed tensor,
// as Div (div.ts).
import type { AttrValue } from '../../ir/graph.js';
import type { ImportContext, OpDef } from '../types.js';
import { applyActivation, attrActivation, broadcastShapes } from '../util.js';
import { BINARY_RULE, TFLITE_BINARY_RULE, binaryQuant, importLayersChain } from './add.js';

/** a / b: Mul by the reciprocal of a constant divisor, else Div; `activation` fused into either. */
export function importDivision(c: ImportContext, activation: AttrValue): void {
  const d = c.tensor(c.input(1));
  if (!d.data) {
    c.emit('Div', [c.input(0), c.input(1)], { activation });
    return;
  }
  const recip = Float32Array.from(d.data as ArrayLike<number>, (v) => 1 / v);
  c.emit('Mul', [c.input(0), c.constant(`${c.name}/reciprocal`, [...d.shape], recip)], { activation });
}

/** TF RealDiv / Div (no fused activation). */
export const importRealDiv = (c: ImportContext): void => importDivision(c, 'none');

export const Mul: OpDef = {
  op: 'Mul',
  imports: {
    tfjsGraph: { Mul: BINARY_RULE, RealDiv: importRealDiv },
    tfjsLayers: { Multiply: importLayersChain('Mul', 'mul') },
    tflite: { MUL: TFLITE_BINARY_RULE },
  },
  fusableActivation: true,
  inferShapes: (inputs) => [broadcastShapes(inputs[0].shape, inputs[1].shape)],
  runFloat: (tf, [a, b], attrs) => [applyActivation(tf, tf.mul(a, b), attrActivation(attrs))],
  quant: binaryQuant('MUL'),
  builtins: {
    MUL: {
      options: 'MulOptions',
      version({ inputs: [x], inputScales: [s1, s2], outputScales: [so] }) {
        if (x === 'float16') return 8;
        if (x === 'int64') return 5;
        if (x === 'int16') return 4;
        // Version 3 kernels accept a rescale factor in1*in2/out >= 1.
        if (s1 && s2 && so && (s1 * s2) / so >= 1) return 3;
        return x === 'int8' ? 2 : 1;
      },
      runtime: ['1.5.0', '1.14.0', '1.15.0', '2.3.0', '2.6.0', '2.11.0', '2.13.0', '2.23.0'],
    },
  },
  examples: [
    { name: 'Mul', steps: 2, build: (b) => b.emit('mul', 'Mul', [b.conv('c1', b.input, 4), b.conv('c2', b.input, 4)], {}) },
    {
      name: 'Mul by constant',
      build: (b) => b.emit('mulc', 'Mul', [b.input, b.constant('k', [4], Float32Array.from([2, -1, 0.5, 3]))], {}),
    },
  ],
};
