// Concat along `axis` (normalised to >= 0), optional fused activation. Inputs and output share one
// set of parameters (the int8 CONCATENATION kernel does not rescale).
import type { ImportContext, OpDef } from '../types.js';
import { applyActivation, attrActivation, attrNumber, normalizeAxis } from '../util.js';
import { operand, out0, tfliteActivation, versionByInputType } from '../emit-util.js';
import { concatByRows } from '../row-copy.js';

/** TF.js ConcatV2: the axis is the last input. */
function importConcatV2(c: ImportContext): void {
  const data = Array.from({ length: c.inputCount - 1 }, (_, i) => c.input(i));
  c.emit('Concat', data, { axis: c.constValues(c.inputCount - 1)[0], activation: 'none' });
}

export const Concat: OpDef = {
  op: 'Concat',
  imports: {
    tfjsGraph: { ConcatV2: importConcatV2 },
    tfjsLayers: { Concatenate: { inputs: 'all', attrs: { axis: { attr: 'axis', type: 'number', default: -1 }, activation: { value: 'none' } } } },
    tflite: {
      CONCATENATION: { inputs: 'all', attrs: { axis: { attr: 'axis', type: 'number' }, activation: { attr: 'fusedActivationFunction', type: 'activation' } } },
    },
  },
  normalizeAttrs: (inputs, attrs) => ({ ...attrs, axis: normalizeAxis(attrNumber(attrs, 'axis'), inputs[0].shape.length) }),
  // Not fused: TFLite's CONCATENATION kernel refuses any fused activation in every dtype
  // (concatenation.cc Prepare: activation must be NONE); only XNNPACK's int8/float path ran it, so an
  // int16 or undelegated concat with a ReLU was refused. A ReLU after a concat stays its own op.
  fusableActivation: false,
  inferShapes(inputs, attrs) {
    const rank = inputs[0].shape.length;
    const axis = normalizeAxis(attrNumber(attrs, 'axis'), rank);
    const out = [...inputs[0].shape];
    out[axis] = 0;
    for (const t of inputs) {
      if (t.shape.length !== rank || t.shape.some((d, i) => i !== axis && d !== inputs[0].shape[i])) {
        throw new Error(`Concat inputs [${inputs.map((x) => `[${x.shape}]`).join(', ')}] differ outside axis ${axis}`);
      }
      out[axis] += t.shape[axis];
    }
    return [out];
  },
  runFloat(tf, inputs, attrs) {
    const axis = normalizeAxis(attrNumber(attrs, 'axis'), inputs[0].rank);
    return [applyActivation(tf, concatByRows(tf, inputs, axis), attrActivation(attrs))];
  },
  quant: {
    rule: { output: 'shared' },
    // Every input value once; a fused activation changes them.
    outputValues: (node) => (attrActivation(node.attrs) === 'none' ? { kind: 'all-of', inputs: node.inputs, values: [] } : undefined),
    emit(ctx) {
      const { node } = ctx;
      const rank = ctx.tensorInfo(node.outputs[0]).shape.length;
      ctx.op('CONCATENATION', node.inputs.map((i) => operand(ctx, i)), [out0(ctx)], {
        axis: normalizeAxis(attrNumber(node.attrs, 'axis'), rank),
        fusedActivationFunction: tfliteActivation(node.attrs),
      });
    },
  },
  builtins: {
    CONCATENATION: {
      options: 'ConcatenationOptions',
      version: versionByInputType({ int16: 3, int8: 2 }),
      runtime: ['1.5.0', '1.14.0', '2.3.0', '2.14.0', '2.21.0'],
      kernel: { sameParams: 'all' },
    },
  },
  examples: [
    { name: 'Concat (shared parameters)', build: (b) => b.emit('cat', 'Concat', [b.conv('c1', b.input, 3), b.conv('c2', b.input, 5)], { axis: 3 }) },
    // A ReLU after a concat stays a RELU op (a fused one is refused by the CONCATENATION kernel).
    {
      name: 'Concat followed by a ReLU',
      build: (b) => b.emit('catr', 'Relu', [b.emit('cat', 'Concat', [b.conv('c1', b.input, 3), b.conv('c2', b.input, 5)], { axis: 3 })[0]], {}),
    },
    // A constant input joins the output's parameters in the output's dtype (int16 in 16x8, float in float).
    {
      name: 'Concat with a constant input',
      build: (b) => b.emit('catk', 'Concat', [b.conv('c', b.input, 3), b.constant('k', [1, 8, 8, 2], Float32Array.from({ length: 128 }, (_, i) => ((i % 7) - 3) / 4))], { axis: 3 }),
    },
  ],
};

