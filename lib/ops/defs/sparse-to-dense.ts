// SparseToDense: a tensor of shape `output_shape` holding `default_value` except at `sparse_indices`,
// which take `sparse_values`. TF inputs: indices (0-D, 1-D [N] or 2-D [N, rank]), output_shape (1-D),
// values (0-D, one for all, or 1-D [N]), default_value (0-D). The output shape is the value of a
// constant input, so indices and shape must be constants; models use it to build constant offsets
// (NanoDet's anchor grid: every input constant), which the constant-folding pass turns into a
// constant at import, so it never reaches quantization. Without a quantization rule, a SparseToDense
// whose values are computed stays unsupported (TFLite SPARSE_TO_DENSE would take them in float).
import type { IrTensor } from '../../ir/graph.js';
import type { OpDef } from '../types.js';

function constantOf(t: IrTensor | undefined, what: string): number[] {
  if (!t?.data) throw new Error(`SparseToDense ${what}${t ? ` '${t.name}'` : ''} must be constant`);
  return Array.from(t.data as ArrayLike<number>, Number);
}

/** The indices as [N, rank] rows (a scalar or a 1-D list index the first axis only, as TF reads them). */
export function sparseIndexRows(indices: IrTensor, rank: number): number[][] {
  const flat = constantOf(indices, 'indices');
  if (indices.shape.length === 2) {
    if (indices.shape[1] !== rank) throw new Error(`SparseToDense indices '${indices.name}' have rows of ${indices.shape[1]} for an output of rank ${rank}`);
    return Array.from({ length: indices.shape[0] }, (_, i) => flat.slice(i * rank, (i + 1) * rank));
  }
  if (indices.shape.length > 2) throw new Error(`SparseToDense indices '${indices.name}' must be 0-D, 1-D or 2-D, got [${indices.shape}]`);
  return flat.map((i) => [i]);
}

/** The dense values in row-major order: `fill` everywhere, `values[k]` (or the one value) at row k. */
export function scatterDense(shape: number[], rows: number[][], values: ArrayLike<number>, fill: number): number[] {
  const out = new Array<number>(shape.reduce((a, b) => a * b, 1)).fill(fill);
  if (values.length !== 1 && values.length !== rows.length) {
    throw new Error(`SparseToDense has ${rows.length} indices but ${values.length} values`);
  }
  rows.forEach((row, k) => {
    let offset = 0;
    row.forEach((index, axis) => {
      if (!(index >= 0 && index < shape[axis])) throw new Error(`SparseToDense index [${row}] is outside the output shape [${shape}]`);
      offset = offset * shape[axis] + index;
    });
    out[offset] = values.length === 1 ? values[0] : values[k];
  });
  return out;
}

export const SparseToDense: OpDef = {
  op: 'SparseToDense',
  imports: {
    tfjsGraph: { SparseToDense: { inputs: [0, 1, 2, 3] } },
    tflite: { SPARSE_TO_DENSE: { inputs: [0, 1, 2, 3] } },
  },
  inferShapes([, shape]) {
    return [constantOf(shape, 'output_shape')];
  },
  // Written with the scatter above rather than tf.sparseToDense: the shape and indices are constants
  // by now, and one implementation serves every dtype (TF.js would refuse the int32 defaults some
  // exporters pair with float values).
  runFloat(tf, [, , values, fill], _attrs, [indicesT, shapeT]) {
    const shape = constantOf(shapeT, 'output_shape');
    const rows = sparseIndexRows(indicesT!, shape.length);
    const dense = scatterDense(shape, rows, values.dataSync(), fill.dataSync()[0]);
    return [tf.tensor(dense, shape, values.dtype)];
  },
};
