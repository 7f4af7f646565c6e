// Add: element-wise with numpy broadcasting and an optional fused activation.
import type { ImportContext, ImportRule, OpDef, OpQuant, OpSignature } from '../types.js';
import { applyActivation, attrActivation, broadcastShapes } from '../util.js';
import { operand, out0, tfliteActivation } from '../emit-util.js';

const broadcast = (inputs: { shape: number[] }[]) => [broadcastShapes(inputs[0].shape, inputs[1].shape)];

/** A binary element-wise op written as one TFLite operator with a fused activation. */
export function binaryQuant(tfliteOp: 'ADD' | 'SUB' | 'MUL'): OpQuant {
  return {
    rule: { output: 'calibrated' },
    emit(ctx) {
      const [a, b] = ctx.node.inputs;
      ctx.op(tfliteOp, [operand(ctx, a), operand(ctx, b)], [out0(ctx)], {
        fusedActivationFunction: tfliteActivation(ctx.node.attrs),
        // int16 ADD/SUB with general (not power-of-two) scales: the pot_scale_int16 = false kernels.
        ...(ctx.precision === 'int16' && tfliteOp !== 'MUL' ? { potScaleInt16: false } : {}),
      });
    },
  };
}

/** Data rule of a two-input element-wise source op (no fused activation in TF.js). */
export const BINARY_RULE: ImportRule = { inputs: [0, 1], attrs: { activation: { value: 'none' } } };
/** TFLite: the fused activation from the options. */
export const TFLITE_BINARY_RULE: ImportRule = { inputs: [0, 1], attrs: { activation: { attr: 'fusedActivationFunction', type: 'activation' } } };

/**
 * N inputs folded into a chain of binary nodes, the last one writing the source op's output: layers
 * Add / Multiply / Maximum / Minimum and TF AddN (one input: a copy).
 */
export function importLayersChain(op: string, suffix: string) {
  return (c: ImportContext): void => {
    let acc = c.input(0);
    if (c.inputCount === 1) {
      c.emit('Identity', [acc], {});
      return;
    }
    for (let k = 1; k < c.inputCount; k++) {
      const name = k === c.inputCount - 1 ? c.output(0) : `${c.output(0)}/${suffix}_${k}`;
      acc = c.emit(op, [acc, c.input(k)], { activation: 'none' }, { name, outputs: [name] })[0];
    }
  };
}

export const Add: OpDef = {
  op: 'Add',
  imports: {
    tfjsGraph: { Add: BINARY_RULE, AddV2: BINARY_RULE, AddN: importLayersChain('Add', 'add'), BiasAdd: { ...BINARY_RULE, nhwc: true } },
    tfjsLayers: { Add: importLayersChain('Add', 'add') },
    tflite: { ADD: TFLITE_BINARY_RULE },
  },
  fusableActivation: true,
  inferShapes: broadcast,
  runFloat: (tf, [a, b], attrs) => [applyActivation(tf, tf.add(a, b), attrActivation(attrs))],
  quant: binaryQuant('ADD'),
  builtins: {
    ADD: {
      options: 'AddOptions',
      version({ inputs: [x], outputs: [y], options }: OpSignature) {
        if (x === 'float16') return 6;
        if (x === 'int64') return 4;
        if (x === 'int16' && y === 'int16' && options.potScaleInt16 === false) return 3;
        return x === 'int8' ? 2 : 1;
      },
      runtime: ['1.5.0', '1.14.0', '2.4.0', '2.6.0', '2.13.0', '2.23.0'],
    },
  },
  examples: [{ name: 'Add', build: (b) => b.emit('add', 'Add', [b.conv('c1', b.input, 4), b.conv('c2', b.input, 4)], {}) }],
};
