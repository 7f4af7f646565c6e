// Identity (element-wise). Removed by the passes; one that survives is written as a RESHAPE to the
// same shape. The layers `Activation` layer is an Identity followed by its activation.
import type { ImportContext, OpDef } from '../types.js';
import { sameShape } from '../util.js';
import { emitReshape } from './reshape.js';

/**
 * TF Cast to float32: of a float tensor it changes nothing (an Identity); of an integer or bool
 * constant it folds to a float constant. A cast of a computed integer or bool tensor (indices from
 * ArgMax / TopK, masks from comparisons) belongs to post-processing, which is not imported.
 */
function importCast(c: ImportContext): void {
  const to = c.attr({ attr: 'DstT', type: 'string' });
  const x = c.tensor(c.input(0));
  if (to === 'DT_FLOAT' && x.dtype === 'float32') {
    c.emit('Identity', [x.name], {});
  } else if (to === 'DT_FLOAT' && x.data) {
    c.emit('Identity', [c.constant(`${c.name}/float`, [...x.shape], Float32Array.from(x.data as ArrayLike<number>))], {});
  } else {
    throw c.error(
      `a cast of the ${x.dtype} tensor '${x.name}' to ${String(to) || 'an unknown type'} is not supported (only float32 tensors are computed; ` +
      'integer index/mask arithmetic is post-processing: cut the graph before it with opts.outputs)',
    );
  }
}

export const Identity: OpDef = {
  op: 'Identity',
  imports: {
    tfjsGraph: { Identity: {}, StopGradient: {}, Snapshot: {}, Cast: importCast },
    tfjsLayers: { Activation: { activation: true }, Dropout: {} },
  },
  inferShapes: sameShape,
  runFloat: (tf, [x]) => [tf.clone(x)],
  quant: { rule: { output: 'same-as-input' }, outputValues: () => ({ kind: 'same-order' }), emit: emitReshape },
  examples: [{ name: 'Identity', build: (b) => b.emit('id', 'Identity', [b.conv('c', b.input, 4)], {}) }],
};
