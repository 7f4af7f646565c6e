// DepthToSpace (NHWC, TF's DCR order): [n, h, w, b*b*c] -> [n, h*b, w*b, c]; channel (i*b + j)*c + k
// of pixel (y, x) goes to pixel (y*b + i, x*b + j), channel k. It moves values without arithmetic,
// so its output keeps the input's parameters. TFLite's kernel has no int16 case (depth_to_space.cc
// takes float32, uint8, int8, int32, int64), so int16 is written as the same permutation from ops that
// take int16 and keep parameters: RESHAPE [n*h, w, b, b*c], TRANSPOSE [0, 2, 1, 3] (transpose.cc int16,
// op_version.cc version 5), RESHAPE [n, h*b, w*b, c] (depthToSpaceSteps).
import type { EmitContext, ImportRule, OpDef, OpQuant } from '../types.js';
import { attrNumber } from '../util.js';
import { out0, versionByInputType } from '../emit-util.js';

/** TF.js graph DepthToSpace / SpaceToDepth: NHWC only, block_size attribute. */
export const TFJS_BLOCK_RULE: ImportRule = { nhwc: true, attrs: { blockSize: { attr: 'block_size', type: 'number' } } };
/** TFLite DEPTH_TO_SPACE / SPACE_TO_DEPTH: block_size option. */
export const TFLITE_BLOCK_RULE: ImportRule = { attrs: { blockSize: { attr: 'blockSize', type: 'number' } } };

/** The block size, checked (the kernels need at least 1). */
export function blockSizeOf(attrs: Parameters<typeof attrNumber>[0]): number {
  const b = attrNumber(attrs, 'blockSize');
  if (!(Number.isInteger(b) && b >= 1)) throw new Error(`block size ${b} must be a positive integer`);
  return b;
}

/**
 * DepthToSpace as reshape / transpose / reshape, for input [n, h, w, b*b*c]: as [n*h, w, b, b*c] the
 * last two axes are channel (i*b + j)*c + k split into (i, j*c + k); swapping axes 1 and 2 gives
 * [n*h, b, w, b*c] = rows (y, i) and columns (x, (j, k)), which read as [n, h*b, w*b, c] put channel k
 * at row y*b + i, column x*b + j.
 */
export function depthToSpaceSteps(shape: number[], b: number): { first: number[]; perm: number[]; last: number[] } {
  const [n, h, w, ch] = shape;
  return { first: [n * h, w, b, ch / b], perm: [0, 2, 1, 3], last: [n, h * b, w * b, ch / (b * b)] };
}

/** int16 DepthToSpace: RESHAPE, TRANSPOSE, RESHAPE into internal tensors with the input's parameters (values only move). */
function emitDepthToSpaceInt16(ctx: EmitContext): void {
  const name = ctx.node.inputs[0];
  const steps = depthToSpaceSteps(ctx.tensorInfo(name).shape, blockSizeOf(ctx.node.attrs));
  const params = ctx.params(name);
  const shaped = ctx.internal(`${ctx.node.name}/blocks`, steps.first, params);
  ctx.op('RESHAPE', [ctx.activation(name), ctx.int32Constant(`${ctx.node.name}/blocks_shape`, steps.first)], [shaped], { newShape: steps.first });
  const swapped = ctx.internal(`${ctx.node.name}/swapped`, [steps.first[0], steps.first[2], steps.first[1], steps.first[3]], params);
  ctx.op('TRANSPOSE', [shaped, ctx.int32Constant(`${ctx.node.name}/perm`, steps.perm)], [swapped]);
  ctx.op('RESHAPE', [swapped, ctx.int32Constant(`${ctx.node.name}/shape`, steps.last)], [out0(ctx)], { newShape: steps.last });
}

/** One TFLite operator with a block_size option (DEPTH_TO_SPACE, SPACE_TO_DEPTH). */
export function blockQuant(tfliteOp: 'DEPTH_TO_SPACE' | 'SPACE_TO_DEPTH'): OpQuant {
  return {
    rule: { output: 'same-as-input' },
    precisions: ['int8', 'float'],
    emit: (ctx) => ctx.op(tfliteOp, [ctx.activation(ctx.node.inputs[0])], [out0(ctx)], { blockSize: blockSizeOf(ctx.node.attrs) }),
  };
}

const DEPTH_TO_SPACE_QUANT = blockQuant('DEPTH_TO_SPACE');

export const DepthToSpace: OpDef = {
  op: 'DepthToSpace',
  imports: { tfjsGraph: { DepthToSpace: TFJS_BLOCK_RULE }, tflite: { DEPTH_TO_SPACE: TFLITE_BLOCK_RULE } },
  inferShapes([x], attrs) {
    const b = blockSizeOf(attrs);
    const [n, h, w, c] = x.shape;
    if (x.shape.length !== 4 || c % (b * b) !== 0) throw new Error(`DepthToSpace input [${x.shape}] must be NHWC with channels divisible by ${b * b}`);
    return [[n, h * b, w * b, c / (b * b)]];
  },
  runFloat: (tf, [x], attrs) => [tf.depthToSpace(x as import('@tensorflow/tfjs').Tensor4D, blockSizeOf(attrs), 'NHWC')],
  quant: {
    ...DEPTH_TO_SPACE_QUANT,
    precisions: ['int8', 'int16', 'float'],
    emit: (ctx) => (ctx.precision === 'int16' ? emitDepthToSpaceInt16(ctx) : DEPTH_TO_SPACE_QUANT.emit(ctx)),
  },
  builtins: {
    DEPTH_TO_SPACE: { options: 'DepthToSpaceOptions', version: versionByInputType({ int8: 2 }), runtime: ['2.1.0', '2.5.0'], kernel: { sameParams: [0] } },
  },
  examples: [
    { name: 'DepthToSpace block 2', build: (b) => b.emit('d2s', 'DepthToSpace', [b.conv('c', b.input, 8)], { blockSize: 2 }) },
    { name: 'DepthToSpace block 2, 3 channels out', build: (b) => b.emit('d2s', 'DepthToSpace', [b.conv('c', b.input, 12)], { blockSize: 2 }) },
  ],
};
