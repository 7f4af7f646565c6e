// Sparse TFLite constants (SparsityParameters) made dense at import: the pure walk against hand-made
// CSR and block-sparse examples, the importer on a built model, and MediaPipe's sparse face detector.
import fs from 'node:fs';
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { densify, sparsityOf, type Sparsity } from '../../lib/graph/importers/densify.js';
import { graphFromTflite } from '../../lib/graph/importers/tflite.js';
import { importModel } from '../../lib/graph/importers/index.js';
import { TfliteBuilder } from '../../lib/tflite/builder.js';
import { initBackend } from '../../lib/graph/backend.js';
import { fixture, requireFixtures } from '../support/fixtures.js';
import { maxAbsDiff, runFloatGraph, runTflite } from '../support/compare.js';
import { uniform } from '../support/random.js';

const dense = (n: number) => ({ format: 'dense' as const, denseSize: n, segments: [], indices: [] });
const csr = (segments: number[], indices: number[]) => ({ format: 'sparse' as const, denseSize: 0, segments, indices });

describe('densify (TFLite SparsityParameters)', function () {
  it('CSR: a dense row dimension and a sparse column dimension', () => {
    // [[1, 0, 0, 2], [0, 0, 0, 0], [0, 3, 0, 0]]
    const sp: Sparsity = { traversalOrder: [0, 1], blockMap: [], levels: [dense(3), csr([0, 2, 2, 3], [0, 3, 1])] };
    expect(Array.from(densify([1, 2, 3], [3, 4], sp, 't'))).to.deep.equal([1, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0]);
  });

  it('CSC: columns walked first (traversal order [1, 0])', () => {
    // [[1, 0], [2, 3], [0, 4]] stored column by column: col 0 rows 0,1; col 1 rows 1,2
    const sp: Sparsity = { traversalOrder: [1, 0], blockMap: [], levels: [dense(2), csr([0, 2, 4], [0, 1, 1, 2])] };
    expect(Array.from(densify([1, 2, 3, 4], [3, 2], sp, 't'))).to.deep.equal([1, 0, 2, 3, 0, 4]);
  });

  it('block-sparse: 2x2 blocks of a 4x4 matrix, a sparse block-column dimension', () => {
    // Blocks (block-row, block-col): (0,1) = [[1,2],[3,4]], (1,0) = [[5,6],[7,8]]; the rest zero.
    const sp: Sparsity = {
      traversalOrder: [0, 1, 2, 3], blockMap: [0, 1],
      levels: [dense(2), csr([0, 1, 2], [1, 0]), dense(2), dense(2)],
    };
    expect(Array.from(densify([1, 2, 3, 4, 5, 6, 7, 8], [4, 4], sp, 't'))).to.deep.equal([
      0, 0, 1, 2,
      0, 0, 3, 4,
      5, 6, 0, 0,
      7, 8, 0, 0,
    ]);
  });

  it('block dimensions walked in swapped order (traversal [0, 1, 3, 2]: blocks stored column-major)', () => {
    const sp: Sparsity = {
      traversalOrder: [0, 1, 3, 2], blockMap: [0, 1],
      levels: [dense(1), csr([0, 1], [0]), dense(2), dense(2)],
    };
    expect(Array.from(densify([1, 2, 3, 4], [2, 2], sp, 't'))).to.deep.equal([1, 3, 2, 4]);
  });

  it('refuses parameters that do not fit the tensor, naming it', () => {
    const sp: Sparsity = { traversalOrder: [0, 1], blockMap: [], levels: [dense(3), csr([0, 2, 2, 3], [0, 3, 1])] };
    expect(() => densify([1, 2], [3, 4], sp, 'm.tflite: w')).to.throw(/^m\.tflite: w: sparsity describes 3 stored values, the buffer holds 2$/);
    expect(() => densify([1, 2, 3], [3, 3], sp, 'w')).to.throw(/index outside 0\.\.2/);
    expect(() => densify([1, 2, 3], [3, 4], { ...sp, traversalOrder: [0, 0] }, 'w')).to.throw(/not a permutation/);
    expect(() => densify([1, 2, 3], [3, 4], { ...sp, levels: [dense(3), csr([0, 2, 9, 3], [0, 3, 1])] }, 'w')).to.throw(/segment 1/);
  });

  it('sparsityOf decodes the reader\'s Int32Vector / Uint16Vector / Uint8Vector unions', () => {
    const sp = sparsityOf({
      traversalOrder: [0, 1], blockMap: null,
      dimMetadata: [
        { format: 0, denseSize: 3, arraySegmentsType: 0, arraySegments: null, arrayIndicesType: 0, arrayIndices: null },
        { format: 1, denseSize: 0, arraySegmentsType: 2, arraySegments: { values: [0, 2, 2, 3] }, arrayIndicesType: 3, arrayIndices: { values: Uint8Array.of(0, 3, 1) } },
      ],
    }, 't');
    expect(sp).to.deep.equal({ traversalOrder: [0, 1], blockMap: [], levels: [dense(3), csr([0, 2, 2, 3], [0, 3, 1])] });
  });

  it('the TFLite importer densifies a sparse weight and drops its DENSIFY op', async () => {
    await initBackend('wasm');
    const b = new TfliteBuilder();
    const x = b.addTensor({ name: 'x', shape: [1, 4], type: 'float32' });
    const w = b.addTensor({ name: 'w', shape: [3, 4], type: 'float32', data: Float32Array.of(1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0) });
    const wd = b.addTensor({ name: 'w_dense', shape: [3, 4], type: 'float32' });
    const y = b.addTensor({ name: 'y', shape: [1, 3], type: 'float32' });
    b.addOperator('DENSIFY', [w], [wd]);
    b.addOperator('FULLY_CONNECTED', [x, wd, -1], [y], { fusedActivationFunction: 0, keepNumDims: false });
    b.setInputs([x]);
    b.setOutputs([y]);
    const model = b.build();
    // w as CSR: [[1, 0, 0, 2], [0, 0, 0, 0], [0, 3, 0, 0]], three stored values.
    model.buffers[model.subgraphs[0].tensors[w].buffer].data = new Uint8Array(Float32Array.of(1, 2, 3).buffer);
    model.subgraphs[0].tensors[w].sparsity = {
      traversalOrder: [0, 1], blockMap: null,
      dimMetadata: [
        { format: 0, denseSize: 3, arraySegmentsType: 0, arraySegments: null, arrayIndicesType: 0, arrayIndices: null },
        { format: 1, denseSize: 0, arraySegmentsType: 1, arraySegments: { values: [0, 2, 2, 3] }, arrayIndicesType: 1, arrayIndices: { values: [0, 3, 1] } },
      ],
    };
    const g = graphFromTflite(model, {}, 'sparse.tflite');
    expect(g.nodes.map((n) => n.op)).to.deep.equal(['FullyConnected']);
    expect(g.meta.notes.join('\n')).to.contain('1 sparse constants made dense at import (1 DENSIFY ops removed)');
    const out = (await runFloatGraph(g, Float32Array.of(1, 10, 100, 1000)))[g.outputs[0]];
    expect(Array.from(out)).to.deep.equal([2001, 0, 30]);
  });

  it('a sparse int8 weight with per-channel scales is made dense before it is dequantized', () => {
    const b = new TfliteBuilder();
    const x = b.addTensor({ name: 'x', shape: [1, 4], type: 'float32' });
    const w = b.addTensor({ name: 'w', shape: [2, 4], type: 'int8', data: new Int8Array(8), quantization: { scale: [0.5, 0.25], zeroPoint: [0, 0], quantizedDimension: 0 } });
    const y = b.addTensor({ name: 'y', shape: [1, 2], type: 'float32' });
    b.addOperator('FULLY_CONNECTED', [x, w, -1], [y], { fusedActivationFunction: 0, keepNumDims: false });
    b.setInputs([x]);
    b.setOutputs([y]);
    const model = b.build();
    // Block-sparse 1x2 blocks: row 0 holds block 1 (columns 2, 3) = [2, 4]; row 1 holds block 0 = [8, -8].
    model.buffers[model.subgraphs[0].tensors[w].buffer].data = Uint8Array.from(Int8Array.of(2, 4, 8, -8));
    model.subgraphs[0].tensors[w].sparsity = {
      traversalOrder: [0, 1, 2], blockMap: [1],
      dimMetadata: [
        { format: 0, denseSize: 2, arraySegmentsType: 0, arraySegments: null, arrayIndicesType: 0, arrayIndices: null },
        { format: 1, denseSize: 0, arraySegmentsType: 3, arraySegments: { values: Uint8Array.of(0, 1, 2) }, arrayIndicesType: 3, arrayIndices: { values: Uint8Array.of(1, 0) } },
        { format: 0, denseSize: 2, arraySegmentsType: 0, arraySegments: null, arrayIndicesType: 0, arrayIndices: null },
      ],
    };
    const g = graphFromTflite(model, {}, 'sparse-int8.tflite');
    const weights = g.tensors.get(g.nodes[0].inputs[1])!;
    // Dense [out, in] = [[0, 0, 1, 2], [2, -2, 0, 0]] (row scales 0.5 and 0.25), held by the IR as [in, out].
    expect(weights.shape).to.deep.equal([4, 2]);
    expect(Array.from(weights.data!)).to.deep.equal([0, 2, 0, -2, 1, 0, 2, 0]);
  });

  it("MediaPipe's sparse face detector: 46 DENSIFY ops of float16 weights; the float import matches LiteRT on the original file", async function () {
    const file = fixture('zoo/face_detection-face_detection_full_range_sparse/face_detection_full_range_sparse.tflite');
    requireFixtures(this, file, 'the zoo face detector');
    // DEPTH_TO_SPACE is imported elsewhere: cut at its inputs and apply it on the host here.
    const cls = 'model_1/model/depthwise_conv2d_40/BiasAdd;model_1/model/depthwise_conv2d_40/depthwise;model_1/model/depthwise_conv2d_40/BiasAdd/ReadVariableOp/resource1';
    const reg = cls.replaceAll('depthwise_conv2d_40', 'depthwise_conv2d_41');
    const g = await importModel(file, { outputs: [reg, cls] });
    expect(g.meta.notes.join('\n')).to.contain('46 sparse constants made dense at import (46 DENSIFY ops removed)');
    const x = uniform(192 * 192 * 3, 7, -1, 1);
    const float = await runFloatGraph(g, x);
    const tail = (t: Float32Array, shape: [number, number, number, number], c: number) =>
      tf.tidy(() => tf.depthToSpace(tf.tensor4d(t, shape), 2).reshape([1, 2304, c]).dataSync() as Float32Array);
    const want = [tail(float[g.outputs[0]], [1, 24, 24, 64], 16), tail(float[g.outputs[1]], [1, 24, 24, 4], 1)];
    const got = await runTflite(new Uint8Array(fs.readFileSync(file)), [x]);
    expect(maxAbsDiff(got[0] as Float32Array, want[0])).to.be.below(1e-3);
    expect(maxAbsDiff(got[1] as Float32Array, want[1])).to.be.below(1e-3);
  });
});
