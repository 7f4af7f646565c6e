// Bilinear resize of NHWC images to `size` [h, w]. Keeps its input's parameters.
import type { OpDef } from '../types.js';
import { attrBool, attrNumbers } from '../util.js';
import { TFJS_RESIZE, TFLITE_RESIZE, resizeQuant, resizeShape } from './resize-nearest.js';

export const ResizeBilinear: OpDef = {
  op: 'ResizeBilinear',
  imports: { tfjsGraph: { ResizeBilinear: TFJS_RESIZE }, tflite: { RESIZE_BILINEAR: TFLITE_RESIZE } },
  inferShapes: resizeShape,
  runFloat(tf, [x], attrs) {
    const [h, w] = attrNumbers(attrs, 'size');
    return [tf.image.resizeBilinear(x as import('@tensorflow/tfjs').Tensor4D, [h, w], attrBool(attrs, 'alignCorners'), attrBool(attrs, 'halfPixelCenters'))];
  },
  quant: resizeQuant('RESIZE_BILINEAR'),
  builtins: {
    RESIZE_BILINEAR: {
      options: 'ResizeBilinearOptions',
      version({ inputs: [x], options }) {
        if (x === 'int16') return 4;
        if (options.halfPixelCenters) return 3;
        return x === 'int8' ? 2 : 1;
      },
      runtime: ['1.7.0', '1.14.0', '2.2.0', '2.5.0'],
      kernel: { sameParams: [0] },
    },
  },
  examples: [
    {
      name: 'ResizeBilinear (half pixel centers)',
      steps: 1,
      // The int16 kernel interpolates with 10-bit fixed-point weights (1/1024 of the value, not of
      // the int16 step): measured 67 steps of a [-3, 3] output at scale 1.5.
      int16Steps: 80,
      build: (b) => b.emit('up', 'ResizeBilinear', [b.conv('c', b.input, 4)], { size: [12, 12], alignCorners: false, halfPixelCenters: true }),
    },
  ],
};
