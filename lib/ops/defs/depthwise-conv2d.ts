// DepthwiseConv2D: NHWC input, filter [kh, kw, inC, multiplier], optional bias [inC*multiplier].
import type { OpDef } from '../types.js';
import { attrNumbers, attrPadding, fusedConvArgs, windowOutputSize } from '../util.js';
import { depthwiseConv2dQuant } from '../quant-rules.js';

export const DepthwiseConv2D: OpDef = {
  op: 'DepthwiseConv2D',
  imports: {
    tfjsGraph: ['DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative'],
    tfjsLayers: ['DepthwiseConv2D'],
    tflite: ['DEPTHWISE_CONV_2D'],
  },
  quant: depthwiseConv2dQuant,
  fusableActivation: true,
  inferShapes([x, filter], attrs) {
    const [sh, sw] = attrNumbers(attrs, 'strides', [1, 1]);
    const [dh, dw] = attrNumbers(attrs, 'dilations', [1, 1]);
    const padding = attrPadding(attrs);
    if (x.shape.length !== 4) throw new Error(`DepthwiseConv2D input must be rank 4 NHWC, got [${x.shape}]`);
    if (filter.shape.length !== 4 || filter.shape[2] !== x.shape[3]) {
      throw new Error(`DepthwiseConv2D filter [${filter.shape}] does not match input channels ${x.shape[3]} ([kh,kw,inC,mult] expected)`);
    }
    return [[
      x.shape[0],
      windowOutputSize(x.shape[1], filter.shape[0], sh, dh, padding),
      windowOutputSize(x.shape[2], filter.shape[1], sw, dw, padding),
      filter.shape[2] * filter.shape[3],
    ]];
  },
  runFloat: (tf, [x, filter, bias], attrs) => [tf.fused.depthwiseConv2d(fusedConvArgs(x, filter, bias, attrs))],
};
