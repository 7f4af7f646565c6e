// Bilinear resize of NHWC images to `size` [h, w].
import type { OpDef } from '../types.js';
import { attrBool, attrNumbers } from '../util.js';
import { resizeBilinearQuant } from '../quant-rules.js';

export const ResizeBilinear: OpDef = {
  op: 'ResizeBilinear',
  imports: { tfjsGraph: ['ResizeBilinear'], tfjsLayers: ['UpSampling2D(bilinear)'], tflite: ['RESIZE_BILINEAR'] },
  quant: resizeBilinearQuant,
  inferShapes([x], attrs) {
    const [h, w] = attrNumbers(attrs, 'size');
    return [[x.shape[0], h, w, x.shape[3]]];
  },
  runFloat(tf, [x], attrs) {
    const [h, w] = attrNumbers(attrs, 'size');
    return [tf.image.resizeBilinear(x as import('@tensorflow/tfjs').Tensor4D, [h, w], attrBool(attrs, 'alignCorners'), attrBool(attrs, 'halfPixelCenters'))];
  },
};
