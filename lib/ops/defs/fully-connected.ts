// FullyConnected: x [batch, in] x weights [in, out] (+ bias [out]); a rank>2 input is flattened to
// [elements/in, in] like TFLite's FULLY_CONNECTED without keep_num_dims. Written with the weights as
// [out, in] (per-output-channel int8 along axis 0).
import type { ImportContext, OpDef } from '../types.js';
import { attrActivation, fusedActivation, transpose2d } from '../util.js';
import { constOf, optionalBias, out0, tfliteActivation } from '../emit-util.js';
import { elementCount } from '../../ir/graph.js';
import { importActivationFullyConnected, importTfBatchMatMul } from './batch-matmul.js';

/**
 * TF.js MatMul / _FusedMatMul with a constant right operand (BiasAdd and Relu/Relu6 fused); a plain
 * MatMul of two activations is a BatchMatMul (batch-matmul.ts).
 */
function importMatMul(c: ImportContext): void {
  const wName = c.input(1);
  const w = c.tensor(wName);
  const fused = c.attr({ attr: 'fused_ops', type: 'strings' }) as string[];
  if (!w.data && fused.length === 0) {
    importTfBatchMatMul(c, 'transpose_a', 'transpose_b');
    return;
  }
  if (c.attr({ attr: 'transpose_a', type: 'bool' })) throw c.error('transpose_a is not supported');
  if (!w.data || w.shape.length !== 2) throw c.error('the second operand must be a constant matrix');
  let weights = wName;
  if (c.attr({ attr: 'transpose_b', type: 'bool' })) {
    const [o, i] = w.shape;
    weights = c.constant(`${c.name}/weights_io`, [i, o], transpose2d(w.data as Float32Array, o, i));
  }
  const inputs = [c.input(0), weights];
  let activation = 'none';
  for (const f of fused) {
    if (f === 'BiasAdd') inputs.push(c.input(2));
    else if (f === 'Relu' || f === 'Relu6') activation = f.toLowerCase();
    else throw c.error(`fused op ${f} is not supported`);
  }
  c.emit('FullyConnected', inputs, { activation });
}

/** TFLite FULLY_CONNECTED: weights [out, in] -> [in, out]; weights that are an activation: a BatchMatMul. */
function importTfliteFullyConnected(c: ImportContext): void {
  if (!c.tensor(c.input(1)).data) {
    importActivationFullyConnected(c);
    return;
  }
  if (c.attr({ attr: 'weightsFormat', type: 'number', default: 0 })) throw c.error('only the DEFAULT weights format is supported');
  if (c.attr({ attr: 'keepNumDims', type: 'bool' })) throw c.error('keep_num_dims=true is not supported');
  const w = c.tensor(c.input(1));
  if (!(w.data instanceof Float32Array)) throw c.error(`input 1 ('${c.input(1)}') must be a float constant`);
  const weights = c.constant(`${c.input(1)}/io`, [w.shape[1], w.shape[0]], transpose2d(w.data, w.shape[0], w.shape[1]));
  c.emit('FullyConnected', [c.input(0), weights, ...(c.hasInput(2) ? [c.input(2)] : [])], {
    activation: c.attr({ attr: 'fusedActivationFunction', type: 'activation' }),
  });
}

/** Layers Dense on a rank-2 input. */
function importDense(c: ImportContext): void {
  if (c.tensor(c.input(0)).shape.length !== 2) throw c.error('Dense is only supported on rank-2 inputs (add a Flatten)');
  const ins = [c.input(0), requiredWeight(c, 'kernel')];
  if (c.attr({ attr: 'useBias', type: 'bool', default: true }) !== false) ins.push(requiredWeight(c, 'bias'));
  c.emitWithActivation!('FullyConnected', ins, { activation: 'none' });
}

function requiredWeight(c: ImportContext, suffix: string): string {
  const w = c.weight!(suffix);
  if (!w) throw c.error(`has no '${suffix}' weight`);
  return w;
}

export const FullyConnected: OpDef = {
  op: 'FullyConnected',
  imports: {
    tfjsGraph: { MatMul: importMatMul, _FusedMatMul: importMatMul },
    tfjsLayers: { Dense: importDense },
    tflite: { FULLY_CONNECTED: importTfliteFullyConnected },
  },
  fusableActivation: true,
  inferShapes([x, w]) {
    if (w.shape.length !== 2) throw new Error(`FullyConnected weights must be [in, out], got [${w.shape}]`);
    const n = elementCount(x.shape);
    if (n % w.shape[0] !== 0) throw new Error(`FullyConnected input [${x.shape}] is not a multiple of in=${w.shape[0]}`);
    return [[n / w.shape[0], w.shape[1]]];
  },
  runFloat(tf, [x, w, bias], attrs) {
    const a = x.rank === 2 ? x : tf.reshape(x, [-1, w.shape[0]]);
    return [tf.fused.matMul({
      a: a as import('@tensorflow/tfjs').Tensor2D,
      b: w as import('@tensorflow/tfjs').Tensor2D,
      bias,
      activation: fusedActivation(attrActivation(attrs)),
    })];
  },
  quant: {
    rule: { output: 'calibrated' },
    weighted: {
      input: 0,
      // [in, out] -> [out, in], as TFLite FULLY_CONNECTED wants.
      weights(node, tensor) {
        const [inC, outC] = tensor(node.inputs[1]).shape;
        return { data: transpose2d(constOf(node, tensor, 1), inC, outC), shape: [outC, inC], axis: 0 };
      },
      bias: optionalBias(2),
    },
    emit(ctx) {
      const { node } = ctx;
      const outShape = ctx.tensorInfo(node.outputs[0]).shape;
      ctx.op('FULLY_CONNECTED', [ctx.activation(node.inputs[0]), ctx.weights(), ctx.bias()], [out0(ctx)], {
        fusedActivationFunction: tfliteActivation(node.attrs),
        weightsFormat: 0,
        keepNumDims: outShape.length > 2,
        asymmetricQuantizeInputs: false,
      });
    },
  },
  builtins: {
    FULLY_CONNECTED: {
      options: 'FullyConnectedOptions',
      version(sig) {
        const [x, w] = sig.inputs;
        if (sig.inputs.length === 2) return 6;
        if (sig.options.keepNumDims) return 5;
        return x === 'int8' && w === 'int8' && sig.outputs[0] === 'int8' ? 4 : 1;
      },
      runtime: ['1.5.0', '1.10.0', '1.14.0', '1.14.0', '2.0.0', '2.1.0', '2.3.0', '2.3.0', '2.3.0', '2.11.0', '2.15.0', '2.17.0', '2.18.0', '2.21.0'],
      kernel: { weighted: { input: 0, weights: 1, bias: 2, channelAxis: 0 } },
    },
  },
  examples: [
    {
      name: 'FullyConnected',
      weighted: true,
      build: (b) => {
        const n = elementCount(b.shape(b.input));
        const flat = b.emit('flat', 'Reshape', [b.input], { shape: [1, n] })[0];
        const w = b.constant('fc/w', [n, 10], b.uniform(n * 10, -0.1, 0.1));
        const bias = b.constant('fc/b', [10], b.uniform(10, -0.1, 0.1));
        return b.emit('fc', 'FullyConnected', [flat, w, bias], { activation: 'none' });
      },
    },
  ],
};
