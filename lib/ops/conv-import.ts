// Import code shared by Conv2D and DepthwiseConv2D (genuinely fused source ops).
import type { IrTensor } from '../ir/graph.js';
import type { Attrs, ImportContext, ImportRule } from './types.js';

const FUSED_ACTIVATIONS: Record<string, string> = { Relu: 'Relu', Relu6: 'Relu6', LeakyRelu: 'LeakyRelu', Sigmoid: 'Sigmoid', Tanh: 'Tanh', Prelu: 'Prelu' };

/**
 * TF.js Conv2D / _FusedConv2D / DepthwiseConv2dNative / FusedDepthwiseConv2dNative: the convolution,
 * then the fused ops in order - BiasAdd (into the conv) or FusedBatchNorm (a BatchNorm node), then at
 * most one activation (Relu / Relu6 fold into the conv's `activation`; others are their own node).
 * A fused Prelu takes its alpha from the data input after those the conv and its bias/batch norm read.
 */
export function importFusedConv(op: 'Conv2D' | 'DepthwiseConv2D') {
  return (c: ImportContext): void => {
    const format = c.attr({ attr: 'data_format', type: 'string' });
    if (format && format !== 'NHWC') throw c.error(`data_format ${String(format)} is not supported (NHWC expected)`);
    const fused = c.attr({ attr: 'fused_ops', type: 'strings' }) as string[];
    const attrs = {
      strides: c.attr({ attr: 'strides', type: 'spatial' }),
      dilations: c.attr({ attr: 'dilations', type: 'spatial' }),
      padding: c.attr({ attr: 'padding', type: 'padding' }),
      activation: 'none',
    };
    const x = c.input(0), filter = c.input(1);
    if (fused.length === 0) {
      c.emit(op, [x, filter], attrs);
      return;
    }
    let rest = fused;
    let y: string;
    const last = rest.length === 1;
    if (rest[0] === 'BiasAdd') {
      rest = rest.slice(1);
      if (rest.length === 1 && (rest[0] === 'Relu' || rest[0] === 'Relu6')) {
        c.emit(op, [x, filter, c.input(2)], { ...attrs, activation: rest[0].toLowerCase() });
        return;
      }
      const name = last ? c.name : `${c.name}/conv`;
      y = c.emit(op, [x, filter, c.input(2)], attrs, { name, outputs: [name] })[0];
    } else if (rest[0] === 'FusedBatchNorm') {
      rest = rest.slice(1);
      const conv = c.emit(op, [x, filter], attrs, { name: `${c.name}/conv`, outputs: [`${c.name}/conv`] })[0];
      const out = rest.length === 0 ? c.name : `${c.name}/bn`;
      const epsilon = c.attr({ attr: 'epsilon', type: 'number', default: 1e-3 });
      y = c.emit('BatchNorm', [conv, c.input(2), c.input(3), c.input(4), c.input(5)], { epsilon }, { name: out, outputs: [out] })[0];
    } else {
      throw c.error(`fused_ops [${fused}] are not supported`);
    }
    if (rest.length === 0) return;
    if (rest.length > 1) throw c.error(`fused_ops [${fused}] are not supported`);
    const act = FUSED_ACTIVATIONS[rest[0]];
    if (!act) throw c.error(`fused activation ${rest[0]} is not supported`);
    const actAttrs: Attrs = act === 'LeakyRelu' ? { alpha: c.attr({ attr: 'leakyrelu_alpha', type: 'number', default: 0.2 }) } : {};
    const alphaInput = fused[0] === 'BiasAdd' ? 3 : 6;
    c.emit(act, act === 'Prelu' ? [y, c.input(alphaInput)] : [y], actAttrs, { name: c.name, outputs: [c.name] });
  };
}

/**
 * TFLite CONV_2D / DEPTHWISE_CONV_2D: the filter (a float constant after import) is converted to the
 * IR layout by `filterOf`; strides, dilations, padding and the fused activation from the options.
 */
export function importTfliteConv(op: 'Conv2D' | 'DepthwiseConv2D', filterOf: (c: ImportContext, filter: IrTensor) => string) {
  return (c: ImportContext): void => {
    const f = c.tensor(c.input(1));
    if (!(f.data instanceof Float32Array)) throw c.error(`input 1 ('${c.input(1)}') must be a float constant`);
    const filter = filterOf(c, f);
    c.emit(op, [c.input(0), filter, ...(c.hasInput(2) ? [c.input(2)] : [])], {
      strides: c.attr({ attr: ['strideH', 'strideW'], type: 'number' }),
      dilations: c.attr({ attr: ['dilationHFactor', 'dilationWFactor'], type: 'number', default: 1 }),
      padding: c.attr({ attr: 'padding', type: 'padding' }),
      activation: c.attr({ attr: 'fusedActivationFunction', type: 'activation' }),
    });
  };
}

/**
 * The layers import rule of Conv2D and DepthwiseConv2D (NHWC, the kernel and an optional bias, the
 * layer's activation applied after): they differ only in the kernel's weight name.
 */
export function layersConvRule(kernel: 'kernel' | 'depthwise_kernel'): ImportRule {
  return {
    nhwc: true,
    weights: [kernel, 'bias?'],
    activation: true,
    attrs: {
      strides: { attr: 'strides', type: 'pair', default: 1 },
      dilations: { attr: 'dilationRate', type: 'pair', default: 1 },
      padding: { attr: 'padding', type: 'padding', default: 'valid' },
      activation: { value: 'none' },
    },
  };
}
