// Concat along `axis` (normalised to >= 0). Inputs and output share one set of parameters (the int8
// CONCATENATION kernel does not rescale). No fused activation: TFLite's CONCATENATION kernel refuses any
// (concatenation.cc Prepare: activation must be NONE) in every dtype; only XNNPACK's int8 / float path
// ran one, so an int16 or undelegated concat with a ReLU was refused. A source CONCATENATION that
// carries one imports as Concat + its own Relu / Relu6, and a ReLU after a concat stays its own op.
import type { Attrs, ImportContext, OpDef } from '../types.js';
import { attrNumber, normalizeAxis } from '../util.js';
import { operand, out0, versionByInputType } from '../emit-util.js';
import { concatByRows } from '../row-copy.js';

/** TF.js ConcatV2: the axis is the last input. */
function importConcatV2(c: ImportContext): void {
  const data = Array.from({ length: c.inputCount - 1 }, (_, i) => c.input(i));
  c.emit('Concat', data, { axis: c.constValues(c.inputCount - 1)[0] });
}

/** TFLite CONCATENATION: a fused RELU / RELU6 becomes a node of its own after the Concat. */
function importConcatenation(c: ImportContext): void {
  const data = Array.from({ length: c.inputCount }, (_, i) => c.input(i));
  const axis = c.attr({ attr: 'axis', type: 'number' });
  const activation = c.attr({ attr: 'fusedActivationFunction', type: 'activation' });
  if (activation === 'none') {
    c.emit('Concat', data, { axis });
    return;
  }
  const joined = `${c.output(0)}/concat`;
  c.emit('Concat', data, { axis }, { name: joined, outputs: [joined] });
  c.emit(activation === 'relu6' ? 'Relu6' : 'Relu', [joined], {});
}

/** An `activation` other than 'none' is refused rather than dropped (the kernel could not run it). */
function concatAttrs(rank: number, attrs: Attrs): Attrs {
  const { activation, ...rest } = attrs;
  if (activation !== undefined && activation !== 'none') {
    throw new Error(`Concat takes no fused activation (got '${String(activation)}'): TFLite's CONCATENATION refuses one; put a ${activation === 'relu6' ? 'Relu6' : 'Relu'} node after it`);
  }
  return { ...rest, axis: normalizeAxis(attrNumber(rest, 'axis'), rank) };
}

export const Concat: OpDef = {
  op: 'Concat',
  imports: {
    tfjsGraph: { ConcatV2: importConcatV2 },
    tfjsLayers: { Concatenate: { inputs: 'all', attrs: { axis: { attr: 'axis', type: 'number', default: -1 } } } },
    tflite: { CONCATENATION: importConcatenation },
  },
  normalizeAttrs: (inputs, attrs) => concatAttrs(inputs[0].shape.length, attrs),
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
    return [concatByRows(tf, inputs, axis)];
  },
  quant: {
    rule: { output: 'shared' },
    // Every input value once.
    outputValues: (node) => ({ kind: 'all-of', inputs: node.inputs, values: [] }),
    emit(ctx) {
      const { node } = ctx;
      const rank = ctx.tensorInfo(node.outputs[0]).shape.length;
      ctx.op('CONCATENATION', node.inputs.map((i) => operand(ctx, i)), [out0(ctx)], {
        axis: normalizeAxis(attrNumber(node.attrs, 'axis'), rank),
        fusedActivationFunction: 0, // NONE (the only one the kernel accepts)
      });
    },
  },
  builtins: {
    CONCATENATION: {
      options: 'ConcatenationOptions',
      version: versionByInputType({ int16: 3, int8: 2 }),
      runtime: ['1.5.0', '1.14.0', '2.3.0', '2.14.0', '2.21.0'],
      // concatenation.cc Prepare: TF_LITE_ENSURE_EQ(params->activation, kTfLiteActNone).
      kernel: { sameParams: 'all', noFusedActivation: true },
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

