// Conv2D: NHWC input, HWIO filter [kh, kw, inC, outC], optional bias [outC], fused activation.
import type { OpDef } from '../types.js';
import { attrNumbers, attrPadding, fusedConvArgs, windowOutputSize } from '../util.js';
import { conv2dQuant } from '../quant-rules.js';

export const Conv2D: OpDef = {
  op: 'Conv2D',
  imports: { tfjsGraph: ['Conv2D', '_FusedConv2D'], tfjsLayers: ['Conv2D'], tflite: ['CONV_2D'] },
  quant: conv2dQuant,
  fusableActivation: true,
  inferShapes([x, filter], attrs) {
    const [sh, sw] = attrNumbers(attrs, 'strides', [1, 1]);
    const [dh, dw] = attrNumbers(attrs, 'dilations', [1, 1]);
    const padding = attrPadding(attrs);
    if (x.shape.length !== 4) throw new Error(`Conv2D input must be rank 4 NHWC, got [${x.shape}]`);
    if (filter.shape.length !== 4 || filter.shape[2] !== x.shape[3]) {
      throw new Error(`Conv2D filter [${filter.shape}] does not match input channels ${x.shape[3]} (HWIO expected)`);
    }
    return [[
      x.shape[0],
      windowOutputSize(x.shape[1], filter.shape[0], sh, dh, padding),
      windowOutputSize(x.shape[2], filter.shape[1], sw, dw, padding),
      filter.shape[3],
    ]];
  },
  runFloat: (tf, [x, filter, bias], attrs) => [tf.fused.conv2d(fusedConvArgs(x, filter, bias, attrs))],
};
