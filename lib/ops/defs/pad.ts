// Pad with a constant; `paddings` is flat [before0, after0, before1, after1, ...]. Keeps its input's
// parameters (PADV2's pad value is written in them).
import type * as tfTypes from '@tensorflow/tfjs';
import type { ImportContext, OpDef, ImportRule, OutputValues, Tf } from '../types.js';
import type { IrNode } from '../../ir/graph.js';
import { attrNumber, attrNumbers } from '../util.js';
import { out0 } from '../emit-util.js';
import { padByRows } from '../row-copy.js';

export function padPairs(flat: readonly number[], rank: number): [number, number][] {
  if (flat.length !== rank * 2) throw new Error(`Pad paddings [${flat}] must have 2 entries per dimension (rank ${rank})`);
  return Array.from({ length: rank }, (_, i) => [flat[2 * i], flat[2 * i + 1]] as [number, number]);
}

const RULE: ImportRule = { attrs: { paddings: { constInput: 1 }, constantValue: { constInput: 2, type: 'number', default: 0 } } };

/** Layers ZeroPadding2D: a number, [h, w], or [[top, bottom], [left, right]]. */
function importZeroPadding(c: ImportContext): void {
  const format = c.attr({ attr: 'dataFormat', type: 'string', default: 'channelsLast' });
  if (format !== 'channelsLast') throw c.error(`dataFormat ${String(format)} is not supported (channelsLast expected)`);
  const p = c.attr({ attr: 'padding', type: 'raw' }) as unknown as number | number[] | number[][];
  const [[t, b], [l, r]] = typeof p === 'number' ? [[p, p], [p, p]] : Array.isArray(p[0]) ? (p as number[][]) : [[p[0] as number, p[0] as number], [p[1] as number, p[1] as number]];
  c.emit('Pad', [c.input(0)], { paddings: [0, 0, t, b, l, r, 0, 0], constantValue: 0 });
}

/**
 * The value the float kernel pads with. Exporters (onnx-tf) pad with -Infinity before a VALID
 * max-pool; padding with the input's own minimum gives that max-pool the same result (each window
 * holds a real value) and keeps every calibrated range finite. The integer file pads with the lowest
 * value of the input's type (the pad scalar saturates), which is at most that minimum.
 */
function padValue(tf: Tf, x: tfTypes.Tensor, value: number): number {
  if (value !== -Infinity) return value;
  const min = tf.min(x);
  const lowest = min.dataSync()[0];
  min.dispose();
  return lowest;
}

/**
 * The input's values and, where anything is padded, the pad value (-Infinity pads with the sample's
 * own minimum: nothing new).
 */
function padOutputValues(node: IrNode, shapes: { inputs: number[][] }): OutputValues {
  const padded = attrNumbers(node.attrs, 'paddings').some((p) => p !== 0) && shapes.inputs[0].every((d) => d > 0);
  const value = attrNumber(node.attrs, 'constantValue', 0);
  return { kind: 'all-of', inputs: [node.inputs[0]], values: padded && value !== -Infinity ? [value] : [] };
}

export const Pad: OpDef = {
  op: 'Pad',
  imports: {
    tfjsGraph: { Pad: RULE, PadV2: RULE },
    tfjsLayers: { ZeroPadding2D: importZeroPadding },
    tflite: { PAD: RULE, PADV2: RULE },
  },
  inferShapes([x], attrs) {
    const pairs = padPairs(attrNumbers(attrs, 'paddings'), x.shape.length);
    return [x.shape.map((d, i) => d + pairs[i][0] + pairs[i][1])];
  },
  runFloat: (tf, [x], attrs) => [padByRows(tf, x, padPairs(attrNumbers(attrs, 'paddings'), x.rank), padValue(tf, x, attrNumber(attrs, 'constantValue', 0)))],
  quant: {
    rule: { output: 'same-as-input' },
    outputValues: padOutputValues,
    emit(ctx) {
      const { node } = ctx;
      const x = node.inputs[0];
      const rank = ctx.tensorInfo(x).shape.length;
      const paddings = ctx.int32Constant(`${node.name}/paddings`, attrNumbers(node.attrs, 'paddings'), [rank, 2]);
      const value = attrNumber(node.attrs, 'constantValue', 0);
      if (value === 0) {
        ctx.op('PAD', [ctx.activation(x), paddings], [out0(ctx)]);
      } else {
        // PADV2 takes the pad value as a scalar of the input's type (int8: in the input's parameters).
        const v = ctx.scalarLike(`${node.name}/value`, value, x);
        ctx.op('PADV2', [ctx.activation(x), paddings, v], [out0(ctx)]);
      }
    },
  },
  builtins: {
    PAD: { options: 'PadOptions', version: padVersion, runtime: ['1.5.0', '1.14.0', '2.4.0', '2.6.0', '2.20.0'], kernel: { sameParams: [0] } },
    PADV2: { options: 'PadV2Options', version: padVersion, runtime: ['1.9.0', '1.14.0', '2.4.0', '2.6.0', '2.20.0'], kernel: { sameParams: [0, 2] } },
  },
  examples: [
    { name: 'Pad', build: (b) => b.emit('pad', 'Pad', [b.conv('c', b.input, 4)], { paddings: [0, 0, 1, 1, 2, 2, 0, 0], constantValue: 0 }) },
    { name: 'Pad with a value (PADV2)', build: (b) => b.emit('pad2', 'Pad', [b.conv('c', b.input, 4)], { paddings: [0, 0, 1, 0, 0, 2, 0, 0], constantValue: 0.5 }) },
  ],
};

function padVersion({ inputs: [x], inputRanks: [rank = 4] }: { inputs: (string | undefined)[]; inputRanks: number[] }): number {
  if (x === 'bool') return 5;
  if (rank > 4) return 4;
  if (x === 'int16') return 3;
  return x === 'int8' ? 2 : 1;
}
