// Add: element-wise with numpy broadcasting and an optional fused activation.
import type { OpDef } from '../types.js';
import { applyActivation, attrActivation, broadcastShapes } from '../util.js';
import { addQuant } from '../quant-rules.js';

const broadcast = (inputs: { shape: number[] }[]) => [broadcastShapes(inputs[0].shape, inputs[1].shape)];

export const Add: OpDef = {
  op: 'Add',
  imports: { tfjsGraph: ['Add', 'AddV2', 'BiasAdd'], tfjsLayers: ['Add'], tflite: ['ADD'] },
  quant: addQuant,
  fusableActivation: true,
  inferShapes: broadcast,
  runFloat: (tf, [a, b], attrs) => [applyActivation(tf, tf.add(a, b), attrActivation(attrs))],
};
