// BatchMatMul: a product of two activations (attention's q·kᵀ and attn·v), x [..., m, k] · y [..., k, n]
// with numpy broadcasting over the batch dimensions; adjX / adjY transpose the last two dimensions of
// x / y first. A matrix product with a constant right operand is FullyConnected (fully-connected.ts);
// that file hands its non-constant sources (TF MatMul, onnx2tf's FULLY_CONNECTED on activations) here.
//
// TFLite BATCH_MATMUL (lite/kernels/batch_matmul.cc): both inputs and the output of one type, ranks 2
// to 5, per-tensor parameters; int8 takes any zero points (it subtracts them like FULLY_CONNECTED),
// 16x8 needs zero point 0 on both inputs and the output. No fused activation.
import type { Tensor } from '@tensorflow/tfjs';
import type { ImportContext, OpDef } from '../types.js';
import { attrBool, broadcastShapes } from '../util.js';
import { operand, out0 } from '../emit-util.js';

/** BATCH_MATMUL kernel: ranks 2..5 on both operands. */
const MIN_RANK = 2;
const MAX_RANK = 5;

/** [rows, cols] of the last two dimensions, swapped when `adjoint`. */
function matrixDims(shape: readonly number[], adjoint: boolean): [number, number] {
  const [r, c] = shape.slice(-2);
  return adjoint ? [c, r] : [r, c];
}

/** Output shape of x·y: broadcast batch dimensions, then [m, n]; throws when k differs. */
export function batchMatMulShape(x: readonly number[], y: readonly number[], adjX: boolean, adjY: boolean): number[] {
  if (x.length < MIN_RANK || y.length < MIN_RANK) throw new Error(`BatchMatMul needs operands of rank >= 2, got [${x}] and [${y}]`);
  const [m, kx] = matrixDims(x, adjX);
  const [ky, n] = matrixDims(y, adjY);
  if (kx !== ky) throw new Error(`BatchMatMul: inner dimensions differ: [${x}]${adjX ? 'ᵀ' : ''} · [${y}]${adjY ? 'ᵀ' : ''} (${kx} vs ${ky})`);
  return [...broadcastShapes(x.slice(0, -2), y.slice(0, -2)), m, n];
}

/** TF BatchMatMul / BatchMatMulV2 (adj_x, adj_y) and MatMul (transpose_a, transpose_b). */
export function importTfBatchMatMul(c: ImportContext, adjXKey = 'adj_x', adjYKey = 'adj_y'): void {
  c.emit('BatchMatMul', [c.input(0), c.input(1)], {
    adjX: c.attr({ attr: adjXKey, type: 'bool', default: false }),
    adjY: c.attr({ attr: adjYKey, type: 'bool', default: false }),
  });
}

/**
 * TFLite FULLY_CONNECTED whose weights [out, in] are an activation (onnx2tf writes attention's matmuls
 * so): the input times the weights transposed, the input first flattened to [rows, in] as the FC
 * kernel does unless keep_num_dims (then the batch dimensions broadcast over the weights).
 */
export function importActivationFullyConnected(c: ImportContext): void {
  if (c.hasInput(2)) throw c.error('a bias on a FULLY_CONNECTED with non-constant weights is not supported');
  if (c.attr({ attr: 'fusedActivationFunction', type: 'activation' }) !== 'none') throw c.error('a fused activation on a FULLY_CONNECTED with non-constant weights is not supported');
  const x = c.tensor(c.input(0));
  const inner = c.tensor(c.input(1)).shape[1];
  let lhs = c.input(0);
  if (x.shape.length !== 2 && !c.attr({ attr: 'keepNumDims', type: 'bool', default: false })) {
    const flat = `${c.name}/flat`;
    const rows = x.shape.reduce((a, b) => a * b, 1) / inner;
    lhs = c.emit('Reshape', [lhs], { shape: [rows, inner] }, { name: flat, outputs: [flat] })[0];
  }
  c.emit('BatchMatMul', [lhs, c.input(1)], { adjX: false, adjY: true });
}

/**
 * Layers Dot of two rank-3 inputs [batch, ., .] (Keras batch_dot): the contracted axis of each (1 or
 * 2) says whether it is transposed; the result is [batch, rest of x, rest of y].
 */
function importLayersDot(c: ImportContext): void {
  if (c.inputCount !== 2) throw c.error(`Dot takes two inputs, got ${c.inputCount}`);
  if (c.attr({ attr: 'normalize', type: 'bool', default: false })) throw c.error('Dot with normalize=true (cosine proximity) is not supported');
  const ranks = [0, 1].map((i) => c.tensor(c.input(i)).shape.length);
  if (ranks.some((r) => r !== 3)) throw c.error(`Dot is supported on rank-3 inputs, got ranks ${ranks.join(' and ')}`);
  const [ax, ay] = (c.attr({ attr: 'axes', type: 'pair' }) as number[]).map((a) => (a < 0 ? a + 3 : a));
  if (![ax, ay].every((a) => a === 1 || a === 2)) throw c.error(`Dot axes must be 1 or 2 (not the batch axis), got [${ax}, ${ay}]`);
  c.emit('BatchMatMul', [c.input(0), c.input(1)], { adjX: ax === 1, adjY: ay === 2 });
}

export const BatchMatMul: OpDef = {
  op: 'BatchMatMul',
  imports: {
    tfjsGraph: { BatchMatMul: (c) => importTfBatchMatMul(c), BatchMatMulV2: (c) => importTfBatchMatMul(c) },
    tfjsLayers: { Dot: importLayersDot },
    tflite: {
      BATCH_MATMUL: {
        inputs: [0, 1],
        attrs: { adjX: { attr: 'adjX', type: 'bool', default: false }, adjY: { attr: 'adjY', type: 'bool', default: false } },
      },
    },
  },
  inferShapes: ([x, y], attrs) => [batchMatMulShape(x.shape, y.shape, attrBool(attrs, 'adjX'), attrBool(attrs, 'adjY'))],
  runFloat: (tf, [x, y], attrs) => [tf.matMul(x as Tensor, y as Tensor, attrBool(attrs, 'adjX'), attrBool(attrs, 'adjY'))],
  quant: {
    rule: { output: 'calibrated' },
    emit(ctx) {
      const { node } = ctx;
      for (const t of node.inputs) {
        const rank = ctx.tensorInfo(t).shape.length;
        if (rank < MIN_RANK || rank > MAX_RANK) throw new Error(`${node.name}: TFLite BATCH_MATMUL takes ranks ${MIN_RANK} to ${MAX_RANK}, '${t}' has rank ${rank}`);
      }
      ctx.op('BATCH_MATMUL', node.inputs.map((t) => operand(ctx, t)), [out0(ctx)], {
        adjX: attrBool(node.attrs, 'adjX'),
        adjY: attrBool(node.attrs, 'adjY'),
        asymmetricQuantizeInputs: false,
      });
    },
  },
  builtins: {
    BATCH_MATMUL: {
      options: 'BatchMatMulOptions',
      // op_version.cc: int16 3, int8 2; 4 is the hybrid (float x int8) kernel with asymmetric inputs.
      version({ inputs: [x, y], outputs: [o], options }) {
        if (x === 'int16') return 3;
        if (x === 'int8') return 2;
        return x === 'float32' && y === 'int8' && o === 'float32' && options.asymmetricQuantizeInputs ? 4 : 1;
      },
      runtime: ['2.3.0', '2.3.0', '2.4.0', '2.5.0'],
    },
  },
  examples: [
    {
      // q·kᵀ as in attention: [1, 64, 4] · [1, 64, 4]ᵀ.
      name: 'BatchMatMul adj_y',
      build: (b) => {
        const q = b.emit('q', 'Reshape', [b.conv('c1', b.input, 4)], { shape: [1, 64, 4] })[0];
        const k = b.emit('k', 'Reshape', [b.conv('c2', b.input, 4)], { shape: [1, 64, 4] })[0];
        return b.emit('qk', 'BatchMatMul', [q, k], { adjX: false, adjY: true });
      },
    },
    {
      // Rank 4 (two heads), the left operand transposed: [1, 2, 32, 4]ᵀ · [1, 2, 32, 3].
      name: 'BatchMatMul adj_x rank 4',
      build: (b) => {
        const a = b.emit('a', 'Reshape', [b.conv('c1', b.input, 4)], { shape: [1, 2, 32, 4] })[0];
        const v = b.emit('v', 'Reshape', [b.conv('c2', b.input, 3)], { shape: [1, 2, 32, 3] })[0];
        return b.emit('av', 'BatchMatMul', [a, v], { adjX: true, adjY: false });
      },
    },
    {
      // A rank-2 operand broadcast over the batch of the other: [1, 64, 4] · [4, 16].
      name: 'BatchMatMul broadcast',
      build: (b) => {
        const x = b.emit('x', 'Reshape', [b.conv('c1', b.input, 4)], { shape: [1, 64, 4] })[0];
        const y = b.emit('y', 'Reshape', [b.conv('c2', b.input, 1)], { shape: [4, 16] })[0];
        return b.emit('xy', 'BatchMatMul', [x, y], { adjX: false, adjY: false });
      },
    },
  ],
};
