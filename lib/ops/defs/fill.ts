// Fill: a tensor of shape `dims` (a constant input) holding `value` (a scalar input). With constant
// inputs (how models use it: shapes are static here) the importer folds it into a constant at once,
// so it never reaches quantization; ZerosLike imports as a Fill of its input's (static) shape with 0,
// whatever computes that input.
import type { ImportContext, OpDef } from '../types.js';

/** TF.js ZerosLike / TFLite ZEROS_LIKE: zeros of the input's shape, folded to a constant. */
function importZerosLike(c: ImportContext): void {
  const shape = c.tensor(c.input(0)).shape;
  const dims = c.constant('dims', [shape.length], Float32Array.from(shape));
  c.emit('Fill', [dims, c.constant('zero', [], new Float32Array(1))], {});
}

export const Fill: OpDef = {
  op: 'Fill',
  imports: {
    tfjsGraph: { Fill: { inputs: [0, 1] }, ZerosLike: importZerosLike },
    tflite: { FILL: { inputs: [0, 1] }, ZEROS_LIKE: importZerosLike },
  },
  inferShapes([dims, value]) {
    if (!dims.data) throw new Error(`Fill dims '${dims.name}' must be constant`);
    if (value.shape.length !== 0 && value.shape.some((d) => d !== 1)) throw new Error(`Fill value must be a scalar, got [${value.shape}]`);
    return [Array.from(dims.data as ArrayLike<number>)];
  },
  runFloat(tf, [dims, value], _attrs, consts) {
    const shape = Array.from((consts[0]?.data ?? dims.dataSync()) as ArrayLike<number>);
    return [tf.tidy(() => tf.broadcastTo(tf.reshape(value, []), shape))];
  },
};
