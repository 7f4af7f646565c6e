// Nearest-neighbour resize of NHWC images to `size` [h, w]. Keeps its input's parameters.
import type { ImportContext, ImportRule, OpDef, OpQuant, OutputValues } from '../types.js';
import type { IrNode } from '../../ir/graph.js';
import { attrBool, attrNumbers } from '../util.js';
import { out0 } from '../emit-util.js';

export const TFJS_RESIZE: ImportRule = {
  attrs: {
    size: { constInput: 1 },
    alignCorners: { attr: 'align_corners', type: 'bool' },
    halfPixelCenters: { attr: 'half_pixel_centers', type: 'bool' },
  },
};

export const TFLITE_RESIZE: ImportRule = {
  attrs: {
    size: { constInput: 1 },
    alignCorners: { attr: 'alignCorners', type: 'bool' },
    halfPixelCenters: { attr: 'halfPixelCenters', type: 'bool' },
  },
};

/** Layers UpSampling2D: an integer factor per axis, nearest or bilinear. */
function importUpSampling(c: ImportContext): void {
  const format = c.attr({ attr: 'dataFormat', type: 'string', default: 'channelsLast' });
  if (format !== 'channelsLast') throw c.error(`dataFormat ${String(format)} is not supported (channelsLast expected)`);
  const [sh, sw] = c.attr({ attr: 'size', type: 'pair', default: 2 }) as number[];
  const x = c.tensor(c.input(0)).shape;
  const interp = c.attr({ attr: 'interpolation', type: 'string', default: 'nearest' });
  if (interp !== 'nearest' && interp !== 'bilinear') throw c.error(`interpolation '${String(interp)}' is not supported`);
  c.emit(interp === 'nearest' ? 'ResizeNearest' : 'ResizeBilinear', [c.input(0)], { size: [x[1] * sh, x[2] * sw], alignCorners: false, halfPixelCenters: false });
}

/** A resize written as one TFLite operator (size as an int32 constant). */
export function resizeQuant(tfliteOp: 'RESIZE_NEAREST_NEIGHBOR' | 'RESIZE_BILINEAR'): OpQuant {
  return {
    rule: { output: 'same-as-input' },
    emit(ctx) {
      const a = ctx.node.attrs;
      const size = ctx.int32Constant(`${ctx.node.name}/size`, attrNumbers(a, 'size'), [2]);
      ctx.op(tfliteOp, [ctx.activation(ctx.node.inputs[0]), size], [out0(ctx)], {
        alignCorners: attrBool(a, 'alignCorners'),
        halfPixelCenters: attrBool(a, 'halfPixelCenters'),
      });
    },
  };
}

export function resizeShape([x]: { shape: number[] }[], attrs: Parameters<typeof attrNumbers>[0]): number[][] {
  const [h, w] = attrNumbers(attrs, 'size');
  return [[x.shape[0], h, w, x.shape[3]]];
}

/**
 * Enlarging by a whole factor per axis picks every input pixel (each source index is reached, with or
 * without aligned corners or half-pixel centres), so the output holds exactly the input's values.
 */
function nearestUpsampleValues(node: IrNode, shapes: { inputs: number[][]; outputs: number[][] }): OutputValues | undefined {
  const [x, y] = [shapes.inputs[0], shapes.outputs[0]];
  const whole = (axis: number) => x[axis] > 0 && y[axis] >= x[axis] && y[axis] % x[axis] === 0;
  return whole(1) && whole(2) ? { kind: 'all-of', inputs: [node.inputs[0]], values: [] } : undefined;
}

export const ResizeNearest: OpDef = {
  op: 'ResizeNearest',
  imports: {
    tfjsGraph: { ResizeNearestNeighbor: TFJS_RESIZE },
    tfjsLayers: { UpSampling2D: importUpSampling },
    tflite: { RESIZE_NEAREST_NEIGHBOR: TFLITE_RESIZE },
  },
  inferShapes: resizeShape,
  runFloat(tf, [x], attrs) {
    const [h, w] = attrNumbers(attrs, 'size');
    return [tf.image.resizeNearestNeighbor(x as import('@tensorflow/tfjs').Tensor4D, [h, w], attrBool(attrs, 'alignCorners'), attrBool(attrs, 'halfPixelCenters'))];
  },
  quant: { ...resizeQuant('RESIZE_NEAREST_NEIGHBOR'), outputValues: nearestUpsampleValues },
  builtins: {
    RESIZE_NEAREST_NEIGHBOR: {
      options: 'ResizeNearestNeighborOptions',
      version({ inputs: [x], options }) {
        if (x === 'int16') return 4;
        if (options.halfPixelCenters || options.alignCorners) return 3;
        return x === 'int8' ? 2 : 1;
      },
      runtime: ['1.13.1', '1.14.0', '2.3.0', '2.4.0'],
      kernel: { sameParams: [0] },
    },
  },
  examples: [
    {
      name: 'ResizeNearest (half pixel centers)',
      build: (b) => b.emit('up', 'ResizeNearest', [b.conv('c', b.input, 4)], { size: [16, 16], alignCorners: false, halfPixelCenters: true }),
    },
  ],
};
