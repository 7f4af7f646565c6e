// DepthwiseConv2D: NHWC input, filter [kh, kw, inC, multiplier], optional bias [inC*multiplier].
// Written as TFLite DEPTHWISE_CONV_2D with the filter as [1, kh, kw, inC*mult] (the same memory order),
// per-channel int8 weights along axis 3.
import type { OpDef } from '../types.js';
import { attrNumbers, attrPadding, fusedConvArgs, windowOutputSize } from '../util.js';
import { constOf, optionalBias, out0, tfliteActivation, tflitePadding } from '../emit-util.js';
import { importFusedConv, importTfliteConv, layersConvRule } from '../conv-import.js';

export const DepthwiseConv2D: OpDef = {
  op: 'DepthwiseConv2D',
  imports: {
    tfjsGraph: { DepthwiseConv2dNative: importFusedConv('DepthwiseConv2D'), FusedDepthwiseConv2dNative: importFusedConv('DepthwiseConv2D') },
    tfjsLayers: {
      DepthwiseConv2D: layersConvRule('depthwise_kernel'),
    },
    tflite: {
      DEPTHWISE_CONV_2D: importTfliteConv('DepthwiseConv2D', (c, f) => {
        const inC = c.tensor(c.input(0)).shape[3];
        const total = f.shape[3];
        if (f.shape[0] !== 1 || total % inC !== 0) throw c.error(`depthwise filter [${f.shape}] does not fit ${inC} input channels`);
        // [1,kh,kw,C*m] and [kh,kw,C,m] have the same memory order.
        return c.constant(`${c.input(1)}/hwcm`, [f.shape[1], f.shape[2], inC, total / inC], f.data as Float32Array);
      }),
    },
  },
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
  quant: {
    rule: { output: 'calibrated' },
    weighted: {
      input: 0,
      weightsLabel: 'filter',
      // [kh, kw, C, m] is laid out as [1, kh, kw, C*m] already (channel c*m + j).
      weights(node, tensor) {
        const [kh, kw, ic, mult] = tensor(node.inputs[1]).shape;
        return { data: constOf(node, tensor, 1), shape: [1, kh, kw, ic * mult], axis: 3 };
      },
      bias: optionalBias(2),
    },
    emit(ctx) {
      const { node } = ctx;
      const mult = ctx.tensorInfo(node.inputs[1]).shape[3];
      const [sh, sw] = attrNumbers(node.attrs, 'strides', [1, 1]);
      const [dh, dw] = attrNumbers(node.attrs, 'dilations', [1, 1]);
      ctx.op('DEPTHWISE_CONV_2D', [ctx.activation(node.inputs[0]), ctx.weights(), ctx.bias()], [out0(ctx)], {
        padding: tflitePadding(node.attrs),
        strideW: sw,
        strideH: sh,
        depthMultiplier: mult,
        fusedActivationFunction: tfliteActivation(node.attrs),
        dilationWFactor: dw,
        dilationHFactor: dh,
      });
    },
  },
  builtins: {
    DEPTHWISE_CONV_2D: {
      options: 'DepthwiseConv2DOptions',
      version({ inputs: [x, w], outputs: [y], options }) {
        if (x === 'int16') return 5;
        if (x === 'int8' && w === 'int8' && y === 'int8') return 3;
        if ((options.dilationWFactor ?? 1) !== 1 || (options.dilationHFactor ?? 1) !== 1) return 2;
        return 1;
      },
      runtime: ['1.5.0', '1.12.0', '1.14.0', '2.2.0', '2.3.0', '2.3.0', '2.11.0'],
      kernel: { weighted: { input: 0, weights: 1, bias: 2, channelAxis: 3 } },
    },
  },
  examples: [
    {
      name: 'DepthwiseConv2D',
      weighted: true,
      build: (b) => {
        const c = b.shape(b.input)[3];
        const f = b.constant('dw/w', [3, 3, c, 2], b.uniform(3 * 3 * c * 2, -0.5, 0.5));
        const bias = b.constant('dw/b', [c * 2], b.uniform(c * 2, -0.1, 0.1));
        return b.emit('dw', 'DepthwiseConv2D', [b.input, f, bias], { strides: [1, 1], padding: 'SAME', dilations: [1, 1], activation: 'relu6' });
      },
    },
  ],
};
