// Maximum (element-wise, numpy broadcasting). Its int8/int16 kernels (maximum_minimum.cc) compare the
// stored integers, so inputs and output share one set of parameters (quantization_spec.md: "Input and
// outputs must all have same scale/zero_point"). A one-element constant operand (clip_by_value's 0 or
// 6) becomes the attribute `scalar` of a one-input node, written as a scalar in the output's own
// parameters (saturating there, which min/max by it tolerate); two-tensor nodes share a group.
import type { EmitContext, ImportContext, OpDef, OpSignature } from '../types.js';
import { attrNumber, broadcastShapes, sameShape } from '../util.js';
import { operand, out0 } from '../emit-util.js';
import { importLayersChain } from './add.js';

/** op_version.cc (MAXIMUM and MINIMUM): int16 4; a broadcast over more than 4 dims 3; int8 2. */
export function maxMinVersion({ inputs: [x], outputs: [y], inputRanks }: OpSignature): number {
  if (x === 'int16' && y === 'int16') return 4;
  // NeedBroadcastForBinaryInputs compares the dims; ranks stand in for them (equal shapes need no broadcast).
  if (inputRanks.length === 2 && inputRanks[0] !== inputRanks[1] && Math.max(...inputRanks) > 4) return 3;
  return x === 'int8' ? 2 : 1;
}

/** The single value of input i when it is a one-element constant that broadcasts into the other input. */
function scalarInput(c: ImportContext, i: number): number | undefined {
  const t = c.tensor(c.input(i));
  const other = c.tensor(c.input(1 - i));
  if (!t.data || t.data.length !== 1 || other.data || t.shape.length > other.shape.length) return undefined;
  return Number(t.data[0]);
}

/** TF / TFLite binary Maximum or Minimum (commutative): a scalar constant operand becomes the `scalar` attr. */
export function importMaxMin(op: 'Maximum' | 'Minimum') {
  return (c: ImportContext): void => {
    for (const i of [1, 0]) {
      const v = scalarInput(c, i);
      if (v !== undefined) {
        c.emit(op, [c.input(1 - i)], { scalar: v });
        return;
      }
    }
    c.emit(op, [c.input(0), c.input(1)], {});
  };
}

function emitMaxMin(builtin: 'MAXIMUM' | 'MINIMUM') {
  return (ctx: EmitContext): void => {
    const { node } = ctx;
    const out = node.outputs[0];
    const second = node.inputs.length === 2
      ? operand(ctx, node.inputs[1])
      : ctx.scalarLike(`${node.name}/scalar`, attrNumber(node.attrs, 'scalar'), out);
    ctx.op(builtin, [operand(ctx, node.inputs[0]), second], [out0(ctx)]);
  };
}

/** The OpDef of Maximum or Minimum: they differ only in the TF.js kernel and the TFLite builtin. */
export function maxMinDef(op: 'Maximum' | 'Minimum', builtin: 'MAXIMUM' | 'MINIMUM', fn: 'maximum' | 'minimum'): OpDef {
  return {
    op,
    imports: {
      tfjsGraph: { [op]: importMaxMin(op) },
      tfjsLayers: { [op]: importLayersChain(op, fn) },
      tflite: { [builtin]: importMaxMin(op) },
    },
    inferShapes: (inputs) => (inputs.length === 1 ? sameShape(inputs) : [broadcastShapes(inputs[0].shape, inputs[1].shape)]),
    runFloat: (tf, [a, b], attrs) => [tf[fn](a, b ?? tf.scalar(attrNumber(attrs, 'scalar')))],
    quant: { rule: { output: 'shared' }, emit: emitMaxMin(builtin) },
    builtins: {
      [builtin]: { version: maxMinVersion, runtime: ['1.14.0', '1.14.0', '2.3.0', '2.3.0'], kernel: { sameParams: 'all' } },
    },
    examples: [
      { name: `${op} of two tensors`, build: (b) => b.emit(fn, op, [b.conv('c1', b.input, 4), b.conv('c2', b.input, 4)], {}) },
      // clip_by_value(x, -0.3, 0.4) as TF writes it: Minimum by the upper bound, then Maximum by the lower.
      {
        name: `${op} by a scalar (clip_by_value)`,
        build: (b) => {
          const x = b.conv('c', b.input, 4);
          const inner = op === 'Maximum' ? b.emit('clip_hi', 'Minimum', [x], { scalar: 0.4 })[0] : x;
          return b.emit(fn, op, [inner], { scalar: op === 'Maximum' ? -0.3 : 0.4 });
        },
      },
    ],
  };
}

export const Maximum: OpDef = maxMinDef('Maximum', 'MAXIMUM', 'maximum');
