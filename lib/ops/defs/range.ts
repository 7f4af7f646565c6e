// Range: start, start + delta, ... below `limit` (above it for a negative delta), from three scalar
// inputs. Its length depends on their values, so they must be constants; the importer then folds it
// into a constant (int32 when start is int32, as TF's Tidx).
import type { IrTensor } from '../../ir/graph.js';
import type { OpDef } from '../types.js';

function scalarOf(t: IrTensor, what: string): number {
  if (!t.data || t.data.length !== 1) throw new Error(`Range ${what} '${t.name}' must be a constant scalar`);
  return Number(t.data[0]);
}

export const Range: OpDef = {
  op: 'Range',
  imports: { tfjsGraph: { Range: { inputs: [0, 1, 2] } }, tflite: { RANGE: { inputs: [0, 1, 2] } } },
  inferShapes([start, limit, delta]) {
    const [s, l, d] = [scalarOf(start, 'start'), scalarOf(limit, 'limit'), scalarOf(delta, 'delta')];
    if (d === 0) throw new Error('Range delta is 0');
    return [[Math.max(0, Math.ceil((l - s) / d))]];
  },
  runFloat(tf, _inputs, _attrs, [start, limit, delta]) {
    const [s, l, d] = [scalarOf(start!, 'start'), scalarOf(limit!, 'limit'), scalarOf(delta!, 'delta')];
    return [tf.range(s, l, d, start!.dtype === 'int32' ? 'int32' : 'float32')];
  },
};
