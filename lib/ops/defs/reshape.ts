// Reshape to a static `shape` (one -1 is resolved against the input's element count).
import type { EmitContext, ImportContext, OpDef } from '../types.js';
import { attrNumbers } from '../util.js';
import { out0 } from '../emit-util.js';
import { elementCount } from '../../ir/graph.js';

/** Resolves one -1 in a target shape against an element count. */
export function resolveReshape(inputShape: readonly number[], target: readonly number[]): number[] {
  const n = elementCount(inputShape);
  const known = target.filter((d) => d !== -1);
  const unknown = target.length - known.length;
  if (unknown > 1) throw new Error(`Reshape target [${target}] has more than one -1`);
  const k = elementCount(known);
  const out = target.map((d) => (d === -1 ? n / k : d));
  if (elementCount(out) !== n || out.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`cannot reshape [${inputShape}] (${n} elements) to [${target}]`);
  }
  return out;
}

/** A RESHAPE to the node's output shape (also how Squeeze, ExpandDims and a surviving Identity are written). */
export function emitReshape(ctx: EmitContext): void {
  const shape = ctx.tensorInfo(ctx.node.outputs[0]).shape;
  const shapeT = ctx.int32Constant(`${ctx.node.name}/shape`, shape, [shape.length]);
  ctx.op('RESHAPE', [ctx.activation(ctx.node.inputs[0]), shapeT], [out0(ctx)], { newShape: shape });
}

/** TFLite RESHAPE: the target from input 1 when present, else from the options. */
function importTfliteReshape(c: ImportContext): void {
  const shape = c.hasInput(1) ? c.constValues(1) : (c.attr({ attr: 'newShape', type: 'numbers' }) as number[]);
  c.emit('Reshape', [c.input(0)], { shape });
}

export const Reshape: OpDef = {
  op: 'Reshape',
  imports: {
    tfjsGraph: { Reshape: { attrs: { shape: { constInput: 1 } } } },
    tfjsLayers: {
      Reshape: (c) => c.emit('Reshape', [c.input(0)], { shape: [c.tensor(c.input(0)).shape[0], ...(c.attr({ attr: 'targetShape', type: 'numbers' }) as number[])] }),
      Flatten: (c) => {
        const s = c.tensor(c.input(0)).shape;
        c.emit('Reshape', [c.input(0)], { shape: [s[0], s.slice(1).reduce((a, d) => a * d, 1)] });
      },
    },
    tflite: { RESHAPE: importTfliteReshape },
  },
  normalizeAttrs: ([x], attrs) => ({ ...attrs, shape: resolveReshape(x.shape, attrNumbers(attrs, 'shape')) }),
  inferShapes: ([x], attrs) => [resolveReshape(x.shape, attrNumbers(attrs, 'shape'))],
  runFloat: (tf, [x], attrs) => [tf.reshape(x, resolveReshape(x.shape, attrNumbers(attrs, 'shape')))],
  quant: { rule: { output: 'same-as-input' }, outputValues: () => ({ kind: 'same-order' }), emit: emitReshape },
  builtins: { RESHAPE: { options: 'ReshapeOptions', runtime: ['1.5.0'], kernel: { sameParams: [0] } } },
  examples: [{ name: 'Reshape', build: (b) => b.emit('rs', 'Reshape', [b.conv('c', b.input, 6)], { shape: [1, -1, 2] }) }],
};
