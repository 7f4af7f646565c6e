// Mutation fuzzing of the reader: every damaged file must either read or throw an Error; never a
// non-Error throw, hang or runaway allocation. Seeded, so any failure is reproducible.
import fs from 'node:fs';
import { expect } from 'chai';
import { readTflite } from '../../lib/tflite/reader.js';
import { mulberry32 } from '../../lib/util/random.js';
import { handBuilt, mutate } from './mutate.js';
import { YOLOV5N_FP16, YOLOV5N_INT8, requireFixtures } from '../support/fixtures.js';


const prng = mulberry32;

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
    requireFixtures(this);
    // The big files: truncation at a random point mostly cuts buffer data, so header mutations dominate.
    run('int8', new Uint8Array(fs.readFileSync(YOLOV5N_INT8)), 600, 7, 200_000);
    run('fp16', new Uint8Array(fs.readFileSync(YOLOV5N_FP16)), 400, 8, 200_000);
  });
});
