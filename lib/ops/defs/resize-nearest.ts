// Nearest-neighbour resize of NHWC images to `size` [h, w].
import type { OpDef } from '../types.js';
import { attrBool, attrNumbers } from '../util.js';
import { resizeNearestQuant } from '../quant-rules.js';

export const ResizeNearest: OpDef = {
  op: 'ResizeNearest',
  imports: { tfjsGraph: ['ResizeNearestNeighbor'], tfjsLayers: ['UpSampling2D(nearest)'], tflite: ['RESIZE_NEAREST_NEIGHBOR'] },
  quant: resizeNearestQuant,
  inferShapes([x], attrs) {
    const [h, w] = attrNumbers(attrs, 'size');
    return [[x.shape[0], h, w, x.shape[3]]];
  },
  runFloat(tf, [x], attrs) {
    const [h, w] = attrNumbers(attrs, 'size');
    return [tf.image.resizeNearestNeighbor(x as import('@tensorflow/tfjs').Tensor4D, [h, w], attrBool(attrs, 'alignCorners'), attrBool(attrs, 'halfPixelCenters'))];
  },
};
