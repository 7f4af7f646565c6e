// FullyConnected: x [batch, in] x weights [in, out] (+ bias [out]); a rank>2 input is flattened to
// [elements/in, in] like TFLite's FULLY_CONNECTED without keep_num_dims.
import type { OpDef } from '../types.js';
import { attrActivation, fusedActivation } from '../util.js';
import { elementCount } from '../../ir/graph.js';
import { fullyConnectedQuant } from '../quant-rules.js';

export const FullyConnected: OpDef = {
  op: 'FullyConnected',
  imports: { tfjsGraph: ['MatMul', '_FusedMatMul'], tfjsLayers: ['Dense'], tflite: ['FULLY_CONNECTED'] },
  quant: fullyConnectedQuant,
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
};
