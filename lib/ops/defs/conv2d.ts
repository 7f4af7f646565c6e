// Conv2D: NHWC input, HWIO filter [kh, kw, inC, outC], optional bias [outC], fused activation.
// Written as TFLite CONV_2D with the filter in OHWI and per-output-channel int8 weights (axis 0).
import type { OpDef, WeightedOp } from '../types.js';
import { attrNumbers, attrPadding, fusedConvArgs, ohwiToHwio, windowOutputSize } from '../util.js';
import { constOf, optionalBias, out0, tfliteActivation, tflitePadding } from '../emit-util.js';
import { importFusedConv, importTfliteConv, layersConvRule } from '../conv-import.js';

/** Conv2D: HWIO filter -> OHWI, as TFLite CONV_2D wants; per-channel scales along dim 0. */
const conv2dWeights: WeightedOp = {
  input: 0,
  weightsLabel: 'filter',
  weights(node, tensor) {
    const [kh, kw, ic, oc] = tensor(node.inputs[1]).shape;
    const src = constOf(node, tensor, 1);
    const ohwi = new Float32Array(src.length);
    for (let h = 0; h < kh; h++)
      for (let w = 0; w < kw; w++)
        for (let i = 0; i < ic; i++)
          for (let o = 0; o < oc; o++) ohwi[((o * kh + h) * kw + w) * ic + i] = src[((h * kw + w) * ic + i) * oc + o];
    return { data: ohwi, shape: [oc, kh, kw, ic], axis: 0 };
  },
  bias: optionalBias(2),
};

export const Conv2D: OpDef = {
  op: 'Conv2D',
  imports: {
    tfjsGraph: { Conv2D: importFusedConv('Conv2D'), _FusedConv2D: importFusedConv('Conv2D') },
    tfjsLayers: {
      Conv2D: layersConvRule('kernel'),
    },
    tflite: {
      CONV_2D: importTfliteConv('Conv2D', (ctx, f) =>
        ctx.constant(`${ctx.input(1)}/hwio`, [f.shape[1], f.shape[2], f.shape[3], f.shape[0]], ohwiToHwio(f.data as Float32Array, f.shape)),
      ),
    },
  },
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
  quant: {
    rule: { output: 'calibrated' },
    weighted: conv2dWeights,
    emit(ctx) {
      const { node } = ctx;
      const [sh, sw] = attrNumbers(node.attrs, 'strides', [1, 1]);
      const [dh, dw] = attrNumbers(node.attrs, 'dilations', [1, 1]);
      ctx.op('CONV_2D', [ctx.activation(node.inputs[0]), ctx.weights(), ctx.bias()], [out0(ctx)], {
        padding: tflitePadding(node.attrs),
        strideW: sw,
        strideH: sh,
        fusedActivationFunction: tfliteActivation(node.attrs),
        dilationWFactor: dw,
        dilationHFactor: dh,
      });
    },
  },
  builtins: {
    CONV_2D: {
      options: 'Conv2DOptions',
      version: ({ inputs: [x, w], outputs: [y] }) => (x === 'int16' && w === 'int8' ? 4 : x === 'int8' && w === 'int8' && y === 'int8' ? 3 : 1),
      runtime: ['1.5.0', '1.14.0', '1.14.0', '2.3.0', '2.4.0', '2.9.0', '2.11.0', '2.15.0'],
      kernel: { weighted: { input: 0, weights: 1, bias: 2, channelAxis: 0 } },
    },
  },
  examples: [
    { name: 'Conv2D', weighted: true, build: (b) => [b.conv('conv', b.input, 6)] },
    {
      name: 'Conv2D+relu stride 2 VALID',
      weighted: true,
      build: (b) => {
        const ic = b.shape(b.input)[3];
        const w = b.constant('conv/w', [3, 3, ic, 5], b.uniform(3 * 3 * ic * 5, -0.5, 0.5));
        const bias = b.constant('conv/b', [5], b.uniform(5, -0.2, 0.2));
        return b.emit('conv', 'Conv2D', [b.input, w, bias], { strides: [2, 2], padding: 'VALID', dilations: [1, 1], activation: 'relu' });
      },
    },
  ],
};

