// Mul: element-wise with numpy broadcasting and an optional fused activation.
import type { OpDef } from '../types.js';
import { applyActivation, attrActivation, broadcastShapes } from '../util.js';
import { mulQuant } from '../quant-rules.js';

const broadcast = (inputs: { shape: number[] }[]) => [broadcastShapes(inputs[0].shape, inputs[1].shape)];

export const Mul: OpDef = {
  op: 'Mul',
  // RealDiv by a constant imports as Mul by its reciprocal.
  imports: { tfjsGraph: ['Mul', 'RealDiv'], tfjsLayers: ['Multiply'], tflite: ['MUL'] },
  quant: mulQuant,
  fusableActivation: true,
  inferShapes: broadcast,
  runFloat: (tf, [a, b], attrs) => [applyActivation(tf, tf.mul(a, b), attrActivation(attrs))],
};
