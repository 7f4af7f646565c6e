// DepthToSpace (NHWC, TF's DCR order): [n, h, w, b*b*c] -> [n, h*b, w*b, c]; channel (i*b + j)*c + k
// of pixel (y, x) goes to pixel (y*b + i, x*b + j), channel k. It moves values without arithmetic,
// so its output keeps the input's parameters. TFLite's kernel has no int16 case (depth_to_space.cc
// takes float32, uint8, int8, int32, int64): int8 and float only.
import type { ImportRule, OpDef, OpQuant } from '../types.js';
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

/** One TFLite operator with a block_size option (DEPTH_TO_SPACE, SPACE_TO_DEPTH). */
export function blockQuant(tfliteOp: 'DEPTH_TO_SPACE' | 'SPACE_TO_DEPTH'): OpQuant {
  return {
    rule: { output: 'same-as-input' },
    precisions: ['int8', 'float'],
    emit: (ctx) => ctx.op(tfliteOp, [ctx.activation(ctx.node.inputs[0])], [out0(ctx)], { blockSize: blockSizeOf(ctx.node.attrs) }),
  };
}

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
  quant: blockQuant('DEPTH_TO_SPACE'),
  builtins: {
    DEPTH_TO_SPACE: { options: 'DepthToSpaceOptions', version: versionByInputType({ int8: 2 }), runtime: ['2.1.0', '2.5.0'], kernel: { sameParams: [0] } },
  },
  examples: [{ name: 'DepthToSpace block 2', build: (b) => b.emit('d2s', 'DepthToSpace', [b.conv('c', b.input, 8)], { blockSize: 2 }) }],
};
