// Mean over `axes` (normalised, sorted, unique), optionally keeping reduced dimensions.
import type { OpDef } from '../types.js';
import { attrBool, attrNumbers, normalizeAxis } from '../util.js';
import { out0, versionByInputType } from '../emit-util.js';

export const Mean: OpDef = {
  op: 'Mean',
  imports: {
    tfjsGraph: { Mean: { attrs: { axes: { constInput: 1 }, keepDims: { attr: 'keep_dims', type: 'bool' } } } },
    tfjsLayers: { GlobalAveragePooling2D: { nhwc: true, attrs: { axes: { value: [1, 2] }, keepDims: { attr: 'keepDims', type: 'bool' } } } },
    tflite: { MEAN: { attrs: { axes: { constInput: 1 }, keepDims: { attr: 'keepDims', type: 'bool' } } } },
  },
  normalizeAttrs: ([x], attrs) => ({ ...attrs, axes: [...new Set(attrNumbers(attrs, 'axes').map((a) => normalizeAxis(a, x.shape.length)))].sort() }),
  inferShapes([x], attrs) {
    const axes = attrNumbers(attrs, 'axes').map((a) => normalizeAxis(a, x.shape.length));
    const keep = attrBool(attrs, 'keepDims');
    const out: number[] = [];
    x.shape.forEach((d, i) => {
      if (!axes.includes(i)) out.push(d);
      else if (keep) out.push(1);
    });
    return [out];
  },
  runFloat: (tf, [x], attrs) => [tf.mean(x, attrNumbers(attrs, 'axes'), attrBool(attrs, 'keepDims'))],
  quant: {
    rule: { output: 'calibrated' },
    emit(ctx) {
      const axes = attrNumbers(ctx.node.attrs, 'axes');
      const a = ctx.int32Constant(`${ctx.node.name}/axes`, axes, [axes.length]);
      ctx.op('MEAN', [ctx.activation(ctx.node.inputs[0]), a], [out0(ctx)], { keepDims: attrBool(ctx.node.attrs, 'keepDims') });
    },
  },
  builtins: { MEAN: { options: 'ReducerOptions', version: versionByInputType({ int16: 3, int8: 2 }), runtime: ['1.6.0', '1.14.0', '2.4.0'] } },
  // int8 MEAN averages on the input's (coarser) grid before requantizing to the output scale:
  // measured up to ~3.3 output steps here, where the output scale is a third of the input's.
  examples: [{ name: 'Mean', steps: 2.5, build: (b) => b.emit('mean', 'Mean', [b.conv('c', b.input, 4)], { axes: [1, 2], keepDims: true }) }],
};
