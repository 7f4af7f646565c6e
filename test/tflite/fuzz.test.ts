// Mutation fuzzing of the reader: every damaged file must either read or throw an Error; never a
// non-Error throw, hang or runaway allocation. Seeded, so any failure is reproducible.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { readTflite } from '../../lib/tflite/reader.js';
import { writeTflite } from '../../lib/tflite/writer.js';
import { TfliteBuilder } from '../../lib/tflite/builder.js';
import { mulberry32 } from '../../lib/util/random.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = path.resolve(repoRoot, '../shared/fixtures');

const prng = mulberry32;

function handBuilt(): Uint8Array {
  const b = new TfliteBuilder();
  const q = { scale: [0.05], zeroPoint: [-3] };
  const x = b.addTensor({ name: 'x', shape: [1, 4, 4, 2], type: 'int8', quantization: q });
  const w = b.addTensor({ name: 'w', shape: [2, 1, 1, 2], type: 'int8', data: Int8Array.from([1, -2, 3, 4]), quantization: { scale: [0.1, 0.2], zeroPoint: [0, 0], quantizedDimension: 0 } });
  const bias = b.addTensor({ name: 'b', shape: [2], type: 'int32', data: Int32Array.from([10, -20]) });
  const c = b.addTensor({ name: 'c', shape: [1, 4, 4, 2], type: 'int8', quantization: q });
  const s = b.addTensor({ name: 's', shape: [3], type: 'int32', data: Int32Array.from([1, 16, 2]) });
  const y = b.addTensor({ name: 'y', shape: [1, 16, 2], type: 'int8', quantization: q });
  b.addOperator('CONV_2D', [x, w, bias], [c], { padding: 0, strideW: 1, strideH: 1 });
  b.addOperator('RESHAPE', [c, s], [y], { newShape: [1, 16, 2] });
  b.setInputs([x]);
  b.setOutputs([y]);
  return writeTflite(b.build());
}

/** One random mutation: byte flips, a truncation, or a random 32-bit value written over an aligned word. */
function mutate(src: Uint8Array, rnd: () => number, headerBias: number): Uint8Array {
  const kind = Math.floor(rnd() * 3);
  // Most structure (tables, vtables, offsets) of a TFLite file sits away from the buffer data; aim
  // mutations at the first/last `headerBias` bytes half of the time so they hit structure, not weights.
  const pos = (): number => {
    if (rnd() < 0.5 || src.length <= 2 * headerBias) return Math.floor(rnd() * src.length);
    return rnd() < 0.5 ? Math.floor(rnd() * headerBias) : src.length - 1 - Math.floor(rnd() * headerBias);
  };
  if (kind === 1) return src.subarray(0, Math.floor(rnd() * src.length));
  const out = src.slice();
  if (kind === 0) {
    const n = 1 + Math.floor(rnd() * 8);
    for (let i = 0; i < n; i++) out[pos()] ^= 1 << Math.floor(rnd() * 8);
  } else {
    const p = pos() & ~3;
    const r = rnd();
    const v = r < 0.3 ? Math.floor(rnd() * 2 ** 32) : r < 0.6 ? Math.floor(rnd() * src.length) : r < 0.8 ? 0xffffffff - Math.floor(rnd() * 64) : Math.floor(rnd() * 256);
    if (p + 4 <= out.length) new DataView(out.buffer).setUint32(p, v >>> 0, true);
  }
  return out;
}

describe('tflite reader fuzz', function () {
  this.timeout(120_000);

  function run(name: string, src: Uint8Array, iterations: number, seed: number, headerBias: number) {
    const rnd = prng(seed);
    let read = 0, errors = 0;
    const t0 = performance.now();
    let slowest = 0;
    for (let i = 0; i < iterations; i++) {
      const bytes = mutate(src, rnd, headerBias);
      // heapUsed misses typed-array backing stores (copied buffers live there): count arrayBuffers too.
      const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
      const t = performance.now();
      try {
        readTflite(bytes, { label: `${name}#${i}` });
        read++;
      } catch (e) {
        if (!(e instanceof Error)) throw new Error(`${name} mutation ${i} (seed ${seed}) threw a non-Error: ${String(e)}`);
        expect(e.message, `mutation ${i}`).to.match(new RegExp(`^${name}#${i}: `));
        errors++;
      }
      slowest = Math.max(slowest, performance.now() - t);
      // Allocation stays proportional to the input (heap growth can include garbage, so this is loose).
      const grew = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - heapBefore;
      expect(grew, `mutation ${i} heap growth`).to.be.below(64 * src.length + 64 * 1024 * 1024);
    }
    console.log(`      ${name}: ${iterations} mutations, ${read} read, ${errors} rejected, ${(performance.now() - t0).toFixed(0)} ms, slowest ${slowest.toFixed(1)} ms`);
  }

  it('hand-built model: 4000 mutations', function () {
    run('hand', handBuilt(), 4000, 42, 4096);
  });

  it('YOLOv5n int8 and fp16 fixtures: 600 + 400 mutations', function () {
    if (!fs.existsSync(fixtures)) { console.log('  (skipped: ../shared/fixtures not found)'); this.skip(); }
    // The big files: truncation at a random point mostly cuts buffer data, so header mutations dominate.
    run('int8', new Uint8Array(fs.readFileSync(path.join(fixtures, 'yolov5n/yolov5n-int8.tflite'))), 600, 7, 200_000);
    run('fp16', new Uint8Array(fs.readFileSync(path.join(fixtures, 'yolov5n/yolov5n-fp16.tflite'))), 400, 8, 200_000);
  });
});
