// Div: element-wise a / b with numpy broadcasting and an optional fused activation, for a divisor that
// is computed (a constant divisor imports as Mul by its reciprocal, see mul.ts). TFLite DIV has float32,
// int32 and uint8 kernels only (div.cc), so it is written in float between DEQUANTIZE and QUANTIZE.
// TF Reciprocal(x) imports as Div(1, x); TFLite DIV by a constant, like TF's, as Mul.
import type { ImportContext, OpDef } from '../types.js';
import { applyActivation, attrActivation, broadcastShapes } from '../util.js';
import { operand, out0, tfliteActivation } from '../emit-util.js';
import { importDivision, importRealDiv } from './mul.js';

function importReciprocal(c: ImportContext): void {
  c.emit('Div', [c.constant(`${c.name}/one`, [], Float32Array.of(1)), c.input(0)], { activation: 'none' });
}

export const Div: OpDef = {
  op: 'Div',
  imports: {
    // TF Div on floats is RealDiv; both dispatch on whether the divisor is a constant.
    tfjsGraph: { Div: importRealDiv, Reciprocal: importReciprocal },
    tflite: { DIV: (c) => importDivision(c, c.attr({ attr: 'fusedActivationFunction', type: 'activation' })) },
  },
  fusableActivation: true,
  inferShapes: ([a, b]) => [broadcastShapes(a.shape, b.shape)],
  runFloat: (tf, [a, b], attrs) => [applyActivation(tf, tf.div(a, b), attrActivation(attrs))],
  quant: {
    rule: { output: 'calibrated' },
    precisions: ['float'],
    emit(ctx) {
      const [a, b] = ctx.node.inputs;
      ctx.op('DIV', [operand(ctx, a), operand(ctx, b)], [out0(ctx)], { fusedActivationFunction: tfliteActivation(ctx.node.attrs) });
    },
  },
  builtins: {
    DIV: {
      options: 'DivOptions',
      // op_version.cc: 2 when the inputs broadcast over more than 4 dims (ranks stand in for the dims).
      version: ({ inputRanks }) => (inputRanks.length === 2 && inputRanks[0] !== inputRanks[1] && Math.max(...inputRanks) > 4 ? 2 : 1),
      runtime: ['1.6.0', '2.3.0'],
    },
  },
  examples: [
    {
      name: 'Div by a tensor',
      build: (b) => {
        // A divisor in [1, 2]: the input (in [0, 1]) plus one.
        const d = b.emit('den', 'Add', [b.input, b.constant('one', [], Float32Array.of(1))], {})[0];
        return b.emit('div', 'Div', [b.conv('c', b.input, 4), d], {});
      },
    },
    {
      name: 'Reciprocal (Div of a constant)',
      build: (b) => {
        const d = b.emit('den', 'Add', [b.input, b.constant('half', [], Float32Array.of(0.5))], {})[0];
        return b.emit('recip', 'Div', [b.constant('one2', [], Float32Array.of(1)), d], {});
      },
    },
  ],
};
