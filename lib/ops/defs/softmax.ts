// Softmax over one axis (default the last, any axis of any rank), with TFLite's beta (logit scale).
// TF.js tf.softmax and TFLite SOFTMAX only work on the last axis: another axis is swapped to the end
// and back with one self-inverse transpose (float here; TRANSPOSE + SOFTMAX + TRANSPOSE when written).
import type { OpDef, ImportRule } from '../types.js';
import { attrNumber, normalizeAxis, sameShape, swapWithLastAxisPerm } from '../util.js';
import { out0, versionByInputType } from '../emit-util.js';

const LAST_AXIS: ImportRule['attrs'] = { axis: { value: -1 }, beta: { value: 1 } };

export const Softmax: OpDef = {
  op: 'Softmax',
  imports: {
    tfjsGraph: { Softmax: { attrs: LAST_AXIS } },
    tfjsLayers: {
      'Activation(softmax)': { attrs: LAST_AXIS },
      Softmax: { attrs: { axis: { attr: 'axis', type: 'number', default: -1 }, beta: { value: 1 } } },
    },
    tflite: { SOFTMAX: { attrs: { axis: { value: -1 }, beta: { attr: 'beta', type: 'number', default: 1 } } } },
  },
  inferShapes(inputs, attrs) {
    const rank = inputs[0].shape.length;
    if (rank === 0) throw new Error('Softmax needs a tensor of rank 1 or more, got a scalar');
    normalizeAxis(attrNumber(attrs, 'axis', -1), rank);
    return sameShape(inputs);
  },
  runFloat(tf, [x], attrs) {
    const beta = attrNumber(attrs, 'beta', 1);
    const axis = normalizeAxis(attrNumber(attrs, 'axis', -1), x.rank);
    const logits = beta === 1 ? x : tf.mul(x, beta);
    if (axis === x.rank - 1) return [tf.softmax(logits)];
    const perm = swapWithLastAxisPerm(x.rank, axis);
    return [tf.transpose(tf.softmax(tf.transpose(logits, perm)), perm)];
  },
  quant: {
    rule: { output: 'fixed', op: 'SOFTMAX' },
    /**
     * Over another axis than the last: TRANSPOSE (swap the axis with the last one; keeps the input's
     * parameters) + SOFTMAX (fixed output parameters) + the same TRANSPOSE back (its own inverse;
     * keeps the softmax parameters, which are the node output's).
     */
    emit(ctx) {
      const { node } = ctx;
      const x = node.inputs[0];
      const shape = ctx.tensorInfo(x).shape;
      const axis = normalizeAxis(attrNumber(node.attrs, 'axis', -1), shape.length);
      const options = { beta: attrNumber(node.attrs, 'beta', 1) };
      if (axis === shape.length - 1) {
        ctx.op('SOFTMAX', [ctx.activation(x)], [out0(ctx)], options);
        return;
      }
      const perm = swapWithLastAxisPerm(shape.length, axis);
      const swappedShape = perm.map((p) => shape[p]);
      const permT = ctx.int32Constant(`${node.name}/perm`, perm, [perm.length]);
      const swappedIn = ctx.internal(`${node.name}/axis_last`, swappedShape, ctx.params(x));
      const swappedOut = ctx.internal(`${node.name}/softmax_axis_last`, swappedShape, ctx.fixedParams('SOFTMAX'));
      ctx.op('TRANSPOSE', [ctx.activation(x), permT], [swappedIn]);
      ctx.op('SOFTMAX', [swappedIn], [swappedOut], options);
      ctx.op('TRANSPOSE', [swappedOut, permT], [out0(ctx)]);
    },
  },
  builtins: {
    SOFTMAX: {
      options: 'SoftmaxOptions',
      version: versionByInputType({ int16: 3, int8: 2 }),
      runtime: ['1.5.0', '1.14.0', '2.3.0'],
      kernel: { fixedOutput: 'SOFTMAX' },
    },
  },
  examples: [
    // int16 SOFTMAX: measured 1.7 steps (exp and reciprocal lookup tables).
    { name: 'Softmax', int16Steps: 2, build: (b) => b.emit('sm', 'Softmax', [b.conv('c', b.input, 4)], { beta: 1 }) },
    { name: 'Softmax over axis 1', int16Steps: 2, build: (b) => b.emit('sm1', 'Softmax', [b.conv('c', b.input, 4)], { axis: 1, beta: 1 }) },
  ],
};
