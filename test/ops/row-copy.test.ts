// The float executor's row copies (lib/ops/row-copy.ts) against TF.js's own Slice, StridedSlice,
// Split, Concat and PadV2 kernels: the same 32-bit patterns (NaN payloads and -0 included) on the
// wasm heap path and on the cpu backend (which keeps TF.js's kernels), and on every slice, concat and
// pad of a real model (YOLOv5n).
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { concatByRows, copyBox, padByRows, placeBox, sliceByRows, splitByRows, type SliceBox } from '../../lib/ops/row-copy.js';
import { initBackend, type BackendName } from '../../lib/graph/backend.js';
import { createFloatExecutor } from '../../lib/graph/execute.js';
import { importModel } from '../../lib/graph/importers/index.js';
import { runDefaultPasses } from '../../lib/graph/passes/index.js';
import { getOpDef } from '../../lib/ops/registry.js';
import { attrNumber, attrNumbers } from '../../lib/ops/util.js';
import { padPairs } from '../../lib/ops/defs/pad.js';
import { YOLOV5N_WEB_MODEL, requireFixtures } from '../support/fixtures.js';
import { mulberry32 } from '../support/random.js';

/**
 * Float values with special bit patterns mixed in: a NaN with a payload, -0, infinities and, unless
 * `signalling` is false, a signalling NaN. TF.js's cpu kernels move values through JavaScript numbers,
 * where V8 may or may not quiet a signalling NaN depending on how far it has optimised the loop, so
 * the cpu comparisons leave it out (activations never hold one: arithmetic produces quiet NaNs).
 */
function specialValues(n: number, seed: number, signalling = true): Float32Array {
  const r = mulberry32(seed);
  const bits = new Int32Array(n);
  const special = [0x7fc01234, signalling ? 0xffa00001 | 0 : 0xffc00001 | 0, 0x80000000 | 0, 0x7f800000, 0xff800000 | 0];
  const f = new Float32Array(bits.buffer);
  for (let i = 0; i < n; i++) f[i] = r() * 8 - 4;
  for (let i = 0; i < n; i += 7) bits[i] = special[i % special.length];
  return f;
}

const bitsOf = (t: tf.Tensor): number[] => [...new Int32Array((t.dataSync() as Float32Array).slice().buffer)];

/** The first index where two float arrays' bit patterns differ, or -1 (lengths must match). */
function firstBitDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).to.equal(b.length);
  const x = new Int32Array(a.buffer, a.byteOffset, a.length);
  const y = new Int32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

const BOXES: { shape: number[]; box: SliceBox }[] = [
  { shape: [1, 40, 3, 85], box: { begin: [0, 0, 0, 0], size: [1, 40, 3, 2] } },
  { shape: [1, 40, 3, 85], box: { begin: [0, 0, 0, 4], size: [1, 40, 3, 81] } },
  { shape: [1, 40, 3, 85], box: { begin: [0, 0, 0, 85], size: [1, 40, 3, 0] } },
  { shape: [1, 40, 3, 85], box: { begin: [0, 5, 1, 0], size: [1, 30, 2, 85] } },
  { shape: [1, 40, 3, 85], box: { begin: [0, 5, 0, 0], size: [1, 30, 3, 85] } }, // one run of 7650: set
  { shape: [2, 6, 5], box: { begin: [1, 2, 1], size: [1, 3, 3] } },
  { shape: [7], box: { begin: [2], size: [4] } },
  { shape: [4, 6], box: { begin: [0, 0], size: [4, 6] } },
];

describe('row copies (lib/ops/row-copy.ts)', function () {
  it('copyBox copies the box in row-major order (hand-computed)', () => {
    // shape [2, 3, 4], values 0..23 at heap[0..23]; box begin [1, 1, 2], size [1, 2, 2]: rows (1,1)
    // and (1,2), columns 2-3, written from heap[30].
    const heap = Int32Array.from({ length: 40 }, (_, i) => (i < 24 ? i : -1));
    copyBox(heap, 0, [2, 3, 4], { begin: [1, 1, 2], size: [1, 2, 2] }, 30);
    expect([...heap.subarray(29, 35)]).to.deep.equal([-1, 18, 19, 22, 23, -1]);
    copyBox(heap, 0, [2, 3, 4], { begin: [0, 1, 0], size: [1, 2, 4] }, 24); // full rows merge: one run of 8
    expect([...heap.subarray(24, 32)]).to.deep.equal([4, 5, 6, 7, 8, 9, 10, 11]);
    // placeBox puts [1, 2] (values 100, 101 at heap[0..1]) into the box begin [1, 1] of a [3, 4] array at heap[10].
    const target = Int32Array.from({ length: 22 }, (_, i) => (i < 2 ? 100 + i : 0));
    placeBox(target, 0, [3, 4], { begin: [1, 1], size: [1, 2] }, 10);
    expect([...target.subarray(10, 22)]).to.deep.equal([0, 0, 0, 0, 0, 100, 101, 0, 0, 0, 0, 0]);
  });

  for (const backend of ['wasm', 'cpu'] as BackendName[]) {
    it(`${backend}: slice, strided slice, split, concat and pad give TF.js's kernels' bits`, async () => {
      await initBackend(backend);
      BOXES.forEach(({ shape, box }, k) => {
        const x = tf.tensor(specialValues(shape.reduce((a, b) => a * b, 1), k + 1, backend === 'wasm'), shape);
        const mine = tf.tidy(() => sliceByRows(tf, x, box));
        const theirs = tf.slice(x, box.begin as number[], box.size as number[]);
        expect(mine.shape, `box ${k}`).to.deep.equal(theirs.shape);
        expect(bitsOf(mine), `box ${k}`).to.deep.equal(bitsOf(theirs));
        tf.dispose([x, mine, theirs]);
      });
      const x = tf.tensor(specialValues(1 * 20 * 20 * 32, 9, backend === 'wasm'), [1, 20, 20, 32]);
      const mine = tf.tidy(() => splitByRows(tf, x, [16, 10, 6], 3));
      const theirs = tf.split(x, [16, 10, 6], 3);
      mine.forEach((t, k) => expect(bitsOf(t), `piece ${k}`).to.deep.equal(bitsOf(theirs[k])));
      const def = getOpDef('StridedSlice'); // shrink axis 3 at index 4, with a -1 stride fallback beside
      const shrink = def.runFloat(tf, [x], { begin: [0, 2, 0, 4], end: [1, 18, 20, 5], strides: [1, 1, 1, 1], endMask: 0, shrinkAxisMask: 8 }, [])[0];
      expect(bitsOf(shrink)).to.deep.equal(bitsOf(tf.stridedSlice(x, [0, 2, 0, 4], [1, 18, 20, 5], [1, 1, 1, 1], 0, 0, 0, 0, 8)));
      expect(shrink.shape).to.deep.equal([1, 16, 20]);
      tf.dispose([x, ...mine, ...theirs, shrink]);
      for (const axis of [0, 2, 3]) { // channel rows of 16, 300 and 0 values; whole blocks
        const parts = [16, 300, 0].map((c, k) => tf.tensor(specialValues(2 * 3 * 4 * c, 20 + k, backend === 'wasm'), [2, 3, 4, c]));
        const inputs = axis === 3 ? parts : [parts[0], parts[0], parts[0]];
        const joined = tf.tidy(() => concatByRows(tf, inputs, axis));
        const reference = tf.concat(inputs, axis);
        expect(joined.shape, `axis ${axis}`).to.deep.equal(reference.shape);
        expect(bitsOf(joined), `axis ${axis}`).to.deep.equal(bitsOf(reference));
        tf.dispose([...parts, joined, reference]);
      }
      const pads: { shape: number[]; pairs: [number, number][]; value: number }[] = [
        { shape: [1, 12, 10, 3], pairs: [[0, 0], [2, 2], [2, 2], [0, 0]], value: 0 },
        { shape: [1, 6, 5, 16], pairs: [[0, 0], [0, 1], [1, 0], [0, 0]], value: -0 },
        { shape: [2, 7], pairs: [[1, 0], [0, 3]], value: 0.3 }, // 0.3 is not a float32: stored rounded
        { shape: [2, 3, 4], pairs: [[0, 0], [0, 0], [0, 0]], value: 5 },
        { shape: [1, 0, 4, 2], pairs: [[0, 0], [1, 1], [0, 0], [0, 0]], value: 7 },
      ];
      pads.forEach(({ shape, pairs, value }, k) => {
        const x = tf.tensor(specialValues(shape.reduce((a, b) => a * b, 1), 40 + k, backend === 'wasm'), shape);
        const padded = tf.tidy(() => padByRows(tf, x, pairs, value));
        const reference = tf.pad(x, pairs, value);
        expect(padded.shape, `pad ${k}`).to.deep.equal(reference.shape);
        expect(bitsOf(padded), `pad ${k}`).to.deep.equal(bitsOf(reference));
        tf.dispose([x, padded, reference]);
      });
    });
  }

  it('YOLOv5n (wasm): every slice, concat and pad node of the real graph gives TF.js kernels\' bits', async function () {
    requireFixtures(this, YOLOV5N_WEB_MODEL, 'yolov5n_web_model');
    const graph = runDefaultPasses(await importModel(YOLOV5N_WEB_MODEL));
    const slices = graph.nodes.filter((n) => ['StridedSlice', 'Slice', 'Split', 'Concat', 'Pad'].includes(n.op));
    expect(slices.length).to.be.greaterThan(0);
    const exec = await createFloatExecutor(graph, { backend: 'wasm' });
    try {
      const shape = graph.tensors.get(graph.inputs[0])!.shape;
      const fetch = [...new Set(slices.flatMap((n) => [...n.inputs, ...n.outputs]))].filter((t) => !graph.tensors.get(t)!.data);
      const values = await exec.run(specialValues(shape.reduce((a, b) => a * b, 1), 5).map((v) => (Number.isFinite(v) ? Math.abs(v) / 4 : 0.5)), fetch);
      for (const n of slices) {
        const [x, ...more] = n.inputs.map((i) => tf.tensor(values[i], graph.tensors.get(i)!.shape));
        const a = n.attrs as Parameters<typeof attrNumbers>[0];
        const reference = n.op === 'StridedSlice'
          ? [tf.stridedSlice(x, attrNumbers(a, 'begin'), attrNumbers(a, 'end'), attrNumbers(a, 'strides'), 0, attrNumber(a, 'endMask', 0), 0, 0, attrNumber(a, 'shrinkAxisMask', 0))]
          : n.op === 'Slice' ? [tf.slice(x, attrNumbers(a, 'begin'), attrNumbers(a, 'size'))]
            : n.op === 'Pad' ? [tf.pad(x, padPairs(attrNumbers(a, 'paddings'), x.rank), attrNumber(a, 'constantValue', 0))]
            : n.op === 'Concat' ? [tf.concat([x, ...more], attrNumber(a, 'axis'))] : tf.split(x, attrNumbers(a, 'sizes'), attrNumber(a, 'axis'));
        n.outputs.forEach((o, k) => {
          expect(firstBitDifference(values[o], reference[k].dataSync() as Float32Array), `${n.name} output ${k}`).to.equal(-1);
        });
        tf.dispose([x, ...more, ...reference]);
      }
    } finally {
      exec.dispose();
    }
  });
});
