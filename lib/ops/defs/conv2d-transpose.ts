// Conv2DTranspose (transposed convolution, "deconvolution"): NHWC input, filter in TF's
// Conv2DBackpropInput layout [kh, kw, outC, inC], optional bias [outC], fused activation, and the
// output shape as an attribute (a transposed convolution's output size is not determined by its
// input: TF asks for it, TFLite takes it as a tensor). Padding is TF's: the forward convolution from
// the output with these strides and padding must give the input's size; SAME puts the odd pad cell
// after (bottom/right), as TFLite's TRANSPOSE_CONV does.
// Written as TFLite TRANSPOSE_CONV with the weights in OHWI, int8 per output channel (axis 0),
// and a bias input (int32, or int64 in 16x8).
import type { ImportContext, OpDef, WeightedOp } from '../types.js';
import { applyActivation, attrActivation, attrNumbers, attrPadding, windowOutputSize, type Padding } from '../util.js';
import { constOf, optionalBias, out0, tfliteActivation, tflitePadding } from '../emit-util.js';

/** IR filter [kh, kw, O, I] -> OHWI (TFLite TRANSPOSE_CONV and MediaPipe's custom op store OHWI). */
function hwoiToOhwi(src: Float32Array, [kh, kw, oc, ic]: readonly number[]): Float32Array {
  const out = new Float32Array(src.length);
  for (let h = 0; h < kh; h++)
    for (let w = 0; w < kw; w++)
      for (let o = 0; o < oc; o++)
        for (let i = 0; i < ic; i++) out[((o * kh + h) * kw + w) * ic + i] = src[((h * kw + w) * oc + o) * ic + i];
  return out;
}

/** OHWI -> the IR's [kh, kw, O, I]. */
function ohwiToHwoi(src: Float32Array, [oc, kh, kw, ic]: readonly number[]): Float32Array {
  const out = new Float32Array(src.length);
  for (let o = 0; o < oc; o++)
    for (let h = 0; h < kh; h++)
      for (let w = 0; w < kw; w++)
        for (let i = 0; i < ic; i++) out[((h * kw + w) * oc + o) * ic + i] = src[((o * kh + h) * kw + w) * ic + i];
  return out;
}

const transposeConvWeights: WeightedOp = {
  input: 0,
  weightsLabel: 'filter',
  weights(node, tensor) {
    const shape = tensor(node.inputs[1]).shape;
    const [kh, kw, oc, ic] = shape;
    return { data: hwoiToOhwi(constOf(node, tensor, 1), shape), shape: [oc, kh, kw, ic], axis: 0 };
  },
  bias: optionalBias(2),
};

/** TFLite-layout (OHWI) float filter input `i` as an IR [kh, kw, O, I] constant. */
function irFilterFromOhwi(c: ImportContext, i: number): string {
  const f = c.tensor(c.input(i));
  if (!(f.data instanceof Float32Array) || f.shape.length !== 4) throw c.error(`input ${i} ('${c.input(i)}') must be a rank-4 float constant (OHWI)`);
  const [oc, kh, kw, ic] = f.shape;
  return c.constant(`${c.input(i)}/hwoi`, [kh, kw, oc, ic], ohwiToHwoi(f.data, f.shape));
}

/** TF.js Conv2DBackpropInput (input_sizes, filter, out_backprop): the gradient of a Conv2D is a transposed one. */
function importBackpropInput(c: ImportContext): void {
  const format = c.attr({ attr: 'data_format', type: 'string' });
  if (format && format !== 'NHWC') throw c.error(`data_format ${String(format)} is not supported (NHWC expected)`);
  const dilations = c.attr({ attr: 'dilations', type: 'spatial' }) as number[];
  if (dilations.some((d) => d !== 1)) throw c.error(`dilations [${dilations}] are not supported`);
  const outputShape = c.constValues(0);
  // A batch of -1 (the graph's batch) is the input's.
  if (outputShape[0] === -1) outputShape[0] = c.tensor(c.input(2)).shape[0];
  c.emit('Conv2DTranspose', [c.input(2), c.input(1)], {
    outputShape,
    strides: c.attr({ attr: 'strides', type: 'spatial' }),
    padding: c.attr({ attr: 'padding', type: 'padding' }),
    activation: 'none',
  });
}

/** tfjs-layers deconvLength: the output size of a Conv2DTranspose layer along one axis. */
const deconvLength = (n: number, stride: number, kernel: number, padding: Padding) => n * stride + (padding === 'VALID' ? Math.max(kernel - stride, 0) : 0);

/** TF.js layers Conv2DTranspose: kernel [kh, kw, filters, inC], output size as the layer computes it. */
function importLayersConvTranspose(c: ImportContext): void {
  if (c.attr({ attr: 'dataFormat', type: 'string', default: 'channelsLast' }) !== 'channelsLast') throw c.error('dataFormat channelsFirst is not supported');
  const dilation = c.attr({ attr: 'dilationRate', type: 'pair', default: 1 }) as number[];
  if (dilation.some((d) => d !== 1)) throw c.error(`dilationRate [${dilation}] is not supported`);
  const kernel = c.weight?.('kernel');
  if (!kernel) throw c.error("has no 'kernel' weight");
  const bias = c.attr({ attr: 'useBias', type: 'bool', default: true }) ? c.weight?.('bias') : undefined;
  const strides = c.attr({ attr: 'strides', type: 'pair', default: 1 }) as number[];
  const padding = c.attr({ attr: 'padding', type: 'padding', default: 'valid' }) as Padding;
  const [n, h, w] = c.tensor(c.input(0)).shape;
  const [kh, kw, oc] = c.tensor(kernel).shape;
  const outputShape = [n, deconvLength(h, strides[0], kh, padding), deconvLength(w, strides[1], kw, padding), oc];
  c.emitWithActivation!('Conv2DTranspose', [c.input(0), kernel, ...(bias ? [bias] : [])], { outputShape, strides, padding, activation: 'none' });
}

/** TFLite TRANSPOSE_CONV (output_shape, weights OHWI, input, optional bias). */
function importTfliteTransposeConv(c: ImportContext): void {
  c.emit('Conv2DTranspose', [c.input(2), irFilterFromOhwi(c, 1), ...(c.hasInput(3) ? [c.input(3)] : [])], {
    outputShape: c.constValues(0),
    strides: c.attr({ attr: ['strideH', 'strideW'], type: 'number' }),
    padding: c.attr({ attr: 'padding', type: 'padding' }),
    activation: c.attr({ attr: 'fusedActivationFunction', type: 'activation', default: 'none' }),
  });
}

/**
 * MediaPipe's custom Convolution2DTransposeBias (input, weights OHWI, bias). Its custom options are
 * the raw bytes of a TfLiteTransposeConvParams: int32 padding (1 SAME, 2 VALID), stride_width,
 * stride_height. Its kernel sizes the output itself (mediapipe transpose_conv_bias.cc): SAME pads
 * max(0, k - (in - 1) % s - 1) cells in total, VALID none, out = s * (in - 1) + k - pad; with that
 * output size TF's padding rule gives the same leading pad (pad / 2), so it is a Conv2DTranspose.
 */
function importMediapipeTransposeConvBias(c: ImportContext): void {
  const opts = c.customOptions;
  if (!opts || opts.byteLength < 12) throw c.error(`custom options have ${opts?.byteLength ?? 0} bytes; 12 (padding, stride_w, stride_h) expected`);
  const view = new DataView(opts.buffer, opts.byteOffset, opts.byteLength);
  const code = view.getInt32(0, true);
  const [sw, sh] = [view.getInt32(4, true), view.getInt32(8, true)];
  if (code !== 1 && code !== 2) throw c.error(`padding ${code} is not supported (1 SAME or 2 VALID expected)`);
  if (!(sw >= 1 && sh >= 1)) throw c.error(`strides ${sh}x${sw} are not valid`);
  const padding: Padding = code === 1 ? 'SAME' : 'VALID';
  const filter = irFilterFromOhwi(c, 1);
  const [kh, kw, oc] = c.tensor(filter).shape;
  const [n, h, w] = c.tensor(c.input(0)).shape;
  const size = (inp: number, k: number, s: number) => s * (inp - 1) + k - (padding === 'SAME' ? Math.max(0, k - ((inp - 1) % s) - 1) : 0);
  c.emit('Conv2DTranspose', [c.input(0), filter, c.input(2)], { outputShape: [n, size(h, kh, sh), size(w, kw, sw), oc], strides: [sh, sw], padding, activation: 'none' });
}

export const Conv2DTranspose: OpDef = {
  op: 'Conv2DTranspose',
  imports: {
    tfjsGraph: { Conv2DBackpropInput: importBackpropInput },
    tfjsLayers: { Conv2DTranspose: importLayersConvTranspose },
    tflite: { TRANSPOSE_CONV: importTfliteTransposeConv, 'CUSTOM(Convolution2DTransposeBias)': importMediapipeTransposeConvBias },
  },
  fusableActivation: true,
  inferShapes([x, filter, bias], attrs) {
    const out = attrNumbers(attrs, 'outputShape');
    const [sh, sw] = attrNumbers(attrs, 'strides', [1, 1]);
    const padding = attrPadding(attrs);
    if (x.shape.length !== 4) throw new Error(`Conv2DTranspose input must be rank 4 NHWC, got [${x.shape}]`);
    if (filter.shape.length !== 4 || filter.shape[3] !== x.shape[3]) {
      throw new Error(`Conv2DTranspose filter [${filter.shape}] does not match input channels ${x.shape[3]} ([kh,kw,outC,inC] expected)`);
    }
    if (out.length !== 4 || out[0] !== x.shape[0] || out[3] !== filter.shape[2]) throw new Error(`output shape [${out}] does not fit input [${x.shape}] and filter [${filter.shape}]`);
    if (bias && (bias.shape.length !== 1 || bias.shape[0] !== out[3])) throw new Error(`bias [${bias.shape}] does not match ${out[3]} output channels`);
    // The convolution this one transposes must map the output back onto the input.
    if (windowOutputSize(out[1], filter.shape[0], sh, 1, padding) !== x.shape[1] || windowOutputSize(out[2], filter.shape[1], sw, 1, padding) !== x.shape[2]) {
      throw new Error(`output shape [${out}] with strides ${sh}x${sw} ${padding} does not transpose a convolution of input [${x.shape}]`);
    }
    return [[...out]];
  },
  runFloat(tf, [x, filter, bias], attrs) {
    const [n, h, w, c] = attrNumbers(attrs, 'outputShape');
    const [sh, sw] = attrNumbers(attrs, 'strides', [1, 1]);
    const pad = attrPadding(attrs) === 'SAME' ? 'same' : 'valid';
    return [tf.tidy(() => {
      const y = tf.conv2dTranspose(x as import('@tensorflow/tfjs').Tensor4D, filter as import('@tensorflow/tfjs').Tensor4D, [n, h, w, c], [sh, sw], pad);
      return applyActivation(tf, bias ? tf.add(y, bias) : y, attrActivation(attrs));
    })];
  },
  quant: {
    rule: { output: 'calibrated' },
    weighted: transposeConvWeights,
    emit(ctx) {
      const { node } = ctx;
      const [sh, sw] = attrNumbers(node.attrs, 'strides', [1, 1]);
      const shape = ctx.int32Constant(`${node.name}/output_shape`, attrNumbers(node.attrs, 'outputShape'), [4]);
      ctx.op('TRANSPOSE_CONV', [shape, ctx.weights(), ctx.activation(node.inputs[0]), ctx.bias()], [out0(ctx)], {
        padding: tflitePadding(node.attrs),
        strideW: sw,
        strideH: sh,
        fusedActivationFunction: tfliteActivation(node.attrs),
      });
    },
  },
  builtins: {
    TRANSPOSE_CONV: {
      options: 'TransposeConvOptions',
      version({ inputs, outputs: [y], options }) {
        // op_version.cc tests input 0 (the int32 output shape) for int16 here, as restated.
        if (inputs[0] === 'int16' && inputs[1] === 'int8' && y === 'int16' && options.quantizedBiasType) return 5;
        if (options.fusedActivationFunction) return 4;
        if (inputs.length === 4 && inputs[3] !== undefined) return 3;
        return inputs[1] === 'int8' ? 2 : 1;
      },
      runtime: ['1.9.0', '2.2.0', '2.3.0', '2.13.0'],
      kernel: { weighted: { input: 2, weights: 1, bias: 3, channelAxis: 0 } },
    },
  },
  examples: [
    {
      name: 'Conv2DTranspose stride 2 SAME + bias',
      weighted: true,
      build: (b) => {
        const x = b.conv('c', b.input, 5);
        const f = b.constant('tc/w', [3, 3, 6, 5], b.uniform(3 * 3 * 6 * 5, -0.5, 0.5));
        const bias = b.constant('tc/b', [6], b.uniform(6, -0.2, 0.2));
        return b.emit('tc', 'Conv2DTranspose', [x, f, bias], { outputShape: [1, 16, 16, 6], strides: [2, 2], padding: 'SAME', activation: 'none' });
      },
    },
    {
      name: 'Conv2DTranspose 4x4 stride 2 VALID + relu',
      weighted: true,
      build: (b) => {
        const ic = b.shape(b.input)[3];
        const f = b.constant('tc/w', [4, 4, 3, ic], b.uniform(4 * 4 * 3 * ic, -0.5, 0.5));
        const bias = b.constant('tc/b', [3], b.uniform(3, -0.2, 0.2));
        return b.emit('tc', 'Conv2DTranspose', [b.input, f, bias], { outputShape: [1, 18, 18, 3], strides: [2, 2], padding: 'VALID', activation: 'relu' });
      },
    },
  ],
};
