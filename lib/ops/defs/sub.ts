// Sub: element-wise with numpy broadcasting and an optional fused activation.
import type { OpDef } from '../types.js';
import { applyActivation, attrActivation, broadcastShapes } from '../util.js';
import { subQuant } from '../quant-rules.js';

const broadcast = (inputs: { shape: number[] }[]) => [broadcastShapes(inputs[0].shape, inputs[1].shape)];

export const Sub: OpDef = {
  op: 'Sub',
  imports: { tfjsGraph: ['Sub'], tfjsLayers: ['Subtract'], tflite: ['SUB'] },
  quant: subQuant,
  fusableActivation: true,
  inferShapes: broadcast,
  runFloat: (tf, [a, b], attrs) => [applyActivation(tf, tf.sub(a, b), attrActivation(attrs))],
};
