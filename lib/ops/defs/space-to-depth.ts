// SpaceToDepth (NHWC, the inverse of DepthToSpace): [n, h*b, w*b, c] -> [n, h, w, b*b*c]. Moves
// values only: the output keeps the input's parameters. TFLite's kernel has no int16 case
// (space_to_depth.cc: float32, uint8, int8, int32, int64): int8 and float only.
import type { OpDef } from '../types.js';
import { TFJS_BLOCK_RULE, TFLITE_BLOCK_RULE, blockQuant, blockSizeOf } from './depth-to-space.js';
import { versionByInputType } from '../emit-util.js';

export const SpaceToDepth: OpDef = {
  op: 'SpaceToDepth',
  imports: { tfjsGraph: { SpaceToDepth: TFJS_BLOCK_RULE }, tflite: { SPACE_TO_DEPTH: TFLITE_BLOCK_RULE } },
  inferShapes([x], attrs) {
    const b = blockSizeOf(attrs);
    const [n, h, w, c] = x.shape;
    if (x.shape.length !== 4 || h % b !== 0 || w % b !== 0) throw new Error(`SpaceToDepth input [${x.shape}] must be NHWC with height and width divisible by ${b}`);
    return [[n, h / b, w / b, c * b * b]];
  },
  // TF.js has no spaceToDepth: split each spatial axis into (blocks, b) and move the two b's before c.
  runFloat(tf, [x], attrs) {
    const b = blockSizeOf(attrs);
    const [n, h, w, c] = x.shape;
    return [tf.tidy(() => tf.reshape(tf.transpose(tf.reshape(x, [n, h / b, b, w / b, b, c]), [0, 1, 3, 2, 4, 5]), [n, h / b, w / b, b * b * c]))];
  },
  quant: blockQuant('SPACE_TO_DEPTH'),
  builtins: {
    SPACE_TO_DEPTH: { options: 'SpaceToDepthOptions', version: versionByInputType({ int8: 2 }), runtime: ['1.5.0', '1.14.0'], kernel: { sameParams: [0] } },
  },
  examples: [{ name: 'SpaceToDepth block 2', build: (b) => b.emit('s2d', 'SpaceToDepth', [b.conv('c', b.input, 3)], { blockSize: 2 }) }],
};
