// GatherNd with constant indices [..., k]: each index row picks x[i0, ..., ik-1] (a slice of the
// remaining dimensions); out shape indicesShape[:-1] + x[k:]. Indices in attributes (they must stay
// int32 when the op is quantized); values are copied, so the output keeps the input's parameters.
import type { ImportContext, OpDef } from '../types.js';
import { attrNumbers } from '../util.js';
import { out0 } from '../emit-util.js';
import { constantIndices } from './gather.js';

export const GatherNd: OpDef = {
  op: 'GatherNd',
  imports: {
    tfjsGraph: { GatherNd: (c: ImportContext) => { c.emit('GatherNd', [c.input(0)], constantIndices(c, 1)); } },
    tflite: { GATHER_ND: (c: ImportContext) => { c.emit('GatherNd', [c.input(0)], constantIndices(c, 1)); } },
  },
  inferShapes([x], attrs) {
    const indices = attrNumbers(attrs, 'indices');
    const shape = attrNumbers(attrs, 'indicesShape');
    const k = shape[shape.length - 1];
    if (shape.length < 1 || !(k >= 1 && k <= x.shape.length)) throw new Error(`indices shape [${shape}] does not index [${x.shape}]`);
    if (indices.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`${indices.length} indices for indices shape [${shape}]`);
    indices.forEach((v, i) => {
      const dim = x.shape[i % k];
      if (!Number.isInteger(v) || v < 0 || v >= dim) throw new Error(`index ${v} is out of range for dimension ${i % k} of [${x.shape}]`);
    });
    return [[...shape.slice(0, -1), ...x.shape.slice(k)]];
  },
  runFloat: (tf, [x], attrs) => [tf.tidy(() => tf.gatherND(x, tf.tensor(attrNumbers(attrs, 'indices'), attrNumbers(attrs, 'indicesShape'), 'int32')))],
  quant: {
    rule: { output: 'same-as-input' },
    emit(ctx) {
      const a = ctx.node.attrs;
      const idx = ctx.int32Constant(`${ctx.node.name}/indices`, attrNumbers(a, 'indices'), attrNumbers(a, 'indicesShape'));
      ctx.op('GATHER_ND', [ctx.activation(ctx.node.inputs[0]), idx], [out0(ctx)]);
    },
  },
  builtins: {
    GATHER_ND: {
      options: 'GatherNdOptions',
      // op_version.cc: int8 needs no version of its own (the version-1 kernel takes it).
      version({ inputs: [x, indices] }) {
        if (x === 'bool') return 5;
        if (indices === 'int16') return 4;
        if (x === 'int16') return 3;
        return x === 'string' ? 2 : 1;
      },
      runtime: ['1.14.0', '2.3.0', '2.5.0'],
      kernel: { sameParams: [0] },
    },
  },
  examples: [
    {
      name: 'GatherNd pixels',
      build: (b) => b.emit('gnd', 'GatherNd', [b.conv('c', b.input, 4)], { indices: [0, 1, 2, 0, 7, 7, 0, 0, 5, 0, 3, 3, 0, 6, 1], indicesShape: [1, 5, 3] }),
    },
  ],
};
