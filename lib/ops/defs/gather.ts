// Gather with constant indices: out = x indexed along `axis` by `indices` (shape `indicesShape`),
// out shape x[:axis] + indicesShape + x[axis+1:]. The indices live in attributes, not as a constant
// input, because every constant input of a quantized op is written in the op's precision: int32
// indices must stay int32. Moves values only, so the output keeps the input's parameters (GATHER's
// int8/int16 kernels copy stored integers).
import type { ImportContext, OpDef } from '../types.js';
import { attrNumber, attrNumbers, normalizeAxis } from '../util.js';
import { out0 } from '../emit-util.js';

/** Reads constant indices (input `i`) into attributes, checking them against the gathered dimension. */
export function constantIndices(c: ImportContext, i: number): { indices: number[]; indicesShape: number[] } {
  if (!c.tensor(c.input(i)).data) throw c.error(`indices (input ${i}, '${c.input(i)}') must be constant; gathers by computed indices are not supported`);
  return { indices: c.constValues(i), indicesShape: [...c.tensor(c.input(i)).shape] };
}

function importGather(axisFrom: 'input' | 'option') {
  return (c: ImportContext): void => {
    const batchDims = c.attr({ attr: axisFrom === 'input' ? 'batch_dims' : 'batchDims', type: 'number', default: 0 });
    if (batchDims !== 0) throw c.error(`batch_dims ${String(batchDims)} is not supported`);
    const axis = axisFrom === 'input' ? c.constValues(2)[0] : (c.attr({ attr: 'axis', type: 'number', default: 0 }) as number);
    c.emit('Gather', [c.input(0)], { ...constantIndices(c, 1), axis });
  };
}

export const Gather: OpDef = {
  op: 'Gather',
  imports: {
    tfjsGraph: { GatherV2: importGather('input') },
    tflite: { GATHER: importGather('option') },
  },
  normalizeAttrs: ([x], attrs) => ({ ...attrs, axis: normalizeAxis(attrNumber(attrs, 'axis'), x.shape.length) }),
  inferShapes([x], attrs) {
    const axis = normalizeAxis(attrNumber(attrs, 'axis'), x.shape.length);
    const indices = attrNumbers(attrs, 'indices');
    const shape = attrNumbers(attrs, 'indicesShape');
    if (indices.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`${indices.length} indices for indices shape [${shape}]`);
    const bad = indices.find((i) => !Number.isInteger(i) || i < 0 || i >= x.shape[axis]);
    if (bad !== undefined) throw new Error(`index ${bad} is out of range for dimension ${axis} of [${x.shape}]`);
    return [[...x.shape.slice(0, axis), ...shape, ...x.shape.slice(axis + 1)]];
  },
  runFloat: (tf, [x], attrs) => [tf.tidy(() => tf.gather(x, tf.tensor(attrNumbers(attrs, 'indices'), attrNumbers(attrs, 'indicesShape'), 'int32'), attrNumber(attrs, 'axis')))],
  quant: {
    rule: { output: 'same-as-input' },
    emit(ctx) {
      const a = ctx.node.attrs;
      const idx = ctx.int32Constant(`${ctx.node.name}/indices`, attrNumbers(a, 'indices'), attrNumbers(a, 'indicesShape'));
      ctx.op('GATHER', [ctx.activation(ctx.node.inputs[0]), idx], [out0(ctx)], { axis: attrNumber(a, 'axis'), batchDims: 0 });
    },
  },
  builtins: {
    GATHER: {
      options: 'GatherOptions',
      version({ inputs: [x, indices], options }) {
        if (x === 'int4') return 7;
        if (indices === 'int16') return 6;
        if (options.batchDims) return 5;
        if (x === 'int16') return 4;
        if (x === 'bool') return 3;
        return x === 'int8' ? 2 : 1;
      },
      runtime: ['1.6.0', '1.14.0', '1.15.0', '2.4.0', '2.5.0'],
      kernel: { sameParams: [0] },
    },
  },
  examples: [
    { name: 'Gather channels', build: (b) => b.emit('g', 'Gather', [b.conv('c', b.input, 5)], { indices: [4, 0, 2, 2], indicesShape: [4], axis: 3 }) },
    { name: 'Gather rows by a 2-D index', build: (b) => b.emit('g', 'Gather', [b.conv('c', b.input, 3)], { indices: [7, 0, 3, 3, 1, 6], indicesShape: [2, 3], axis: -3 }) },
  ],
};
