// Light fuzzing of the two importers that read files from the internet: mutated model.json files
// (wrong types, huge / negative / fractional sizes, missing keys, swapped ops) and damaged float
// .tflite files. Every case must import or throw an Error that names the file - never a bare
// TypeError from deep inside, a hang, or an allocation out of proportion to the input.
// Seeded, so any failure is reproducible from the printed case number.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { importModel } from '../../lib/graph/importers/index.js';
import { importTflite } from '../../lib/graph/importers/tflite.js';
import { TfliteBuilder } from '../../lib/tflite/builder.js';
import { writeTflite } from '../../lib/tflite/writer.js';
import { initBackend } from '../../lib/graph/backend.js';
import { tempDir, writeTinyGraphModel } from '../support/tiny-model.js';
import { mulberry32 as prng } from '../support/random.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every [parent, key] in the tree (so a mutation can replace or delete any value). */
function slots(root: Json): [Json[] | Record<string, Json>, string | number][] {
  const out: [Json[] | Record<string, Json>, string | number][] = [];
  const walk = (v: Json) => {
    if (Array.isArray(v)) v.forEach((c, i) => { out.push([v, i]); walk(c); });
    else if (v && typeof v === 'object') for (const k of Object.keys(v)) { out.push([v, k]); walk(v[k]); }
  };
  walk(root);
  return out;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const NASTY: Json[] = [
  -1, 0, -(2 ** 31), 2 ** 21, 2 ** 40, 1e308, 0.5, -0.5, '', 'abc', '-1', '99999999999', null, true, [], {}, [2 ** 21], [-3, 4],
  [65536, 65536], ['1', '2'], { size: '-5' }, { i: 'x' }, { list: { i: [2 ** 30] } }, { list: 5 }, b64('VALID'), b64('NCHW'),
  'Split', 'Reshape', 'Pad', 'ConcatV2', 'StridedSlice', 'Unpack', 'Mean', 'Transpose', 'Const', 'Placeholder', 'Sigmoid',
  '../../etc/passwd', '/etc/passwd', 'x:7', '^conv',
];

function mutateJson(src: Json, rnd: () => number): Json {
  const json = structuredClone(src);
  const n = 1 + Math.floor(rnd() * 3);
  for (let k = 0; k < n; k++) {
    const all = slots(json);
    const [parent, key] = all[Math.floor(rnd() * all.length)];
    const r = rnd();
    if (r < 0.15 && !Array.isArray(parent)) delete (parent as Record<string, Json>)[key as string];
    else if (r < 0.25) (parent as Record<string | number, Json>)[key] = structuredClone(all[Math.floor(rnd() * all.length)][0]);
    else (parent as Record<string | number, Json>)[key] = structuredClone(NASTY[Math.floor(rnd() * NASTY.length)]);
  }
  return json;
}

function memory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

describe('robustness: importer fuzzing', function () {
  this.timeout(120_000);
  before(async () => { await initBackend('cpu'); });

  it('mutated model.json files (600 cases): import or a labelled Error, fast and with bounded memory', async () => {
    const m = writeTinyGraphModel(tempDir('robust-fuzz-'));
    const base = m.json as Json;
    const rnd = prng(2024);
    let imported = 0, rejected = 0, slowest = 0, maxGrowth = 0;
    const messages = new Map<string, number>();
    for (let i = 0; i < 600; i++) {
      const mutated = mutateJson(base, rnd);
      fs.writeFileSync(m.jsonPath, JSON.stringify(mutated));
      const before = memory();
      const t = performance.now();
      try {
        await importModel(m.dir);
        imported++;
      } catch (e) {
        if (!(e instanceof Error)) throw new Error(`case ${i} threw a non-Error: ${String(e)}\n${JSON.stringify(mutated)}`);
        // Labelled: the file's path, or the unsupported-op list that names it.
        const ok = e.message.startsWith(m.jsonPath) || e.message.startsWith(`Unsupported ops in ${m.jsonPath}`) || e.message.startsWith(`${m.dir}:`);
        expect(ok, `case ${i}: unlabelled error '${e.message}'\n${JSON.stringify(mutated)}`).to.equal(true);
        // Specific checks catch these cases; the importer's catch-all wrapper must not be needed.
        expect(e.message, `case ${i}: an internal error leaked`).to.not.include('invalid graph model (');
        const kind = e.message.slice(m.jsonPath.length + 2).replace(/'[^']*'/g, "'…'").replace(/\d+/g, 'N').slice(0, 50);
        messages.set(kind, (messages.get(kind) ?? 0) + 1);
        rejected++;
      }
      slowest = Math.max(slowest, performance.now() - t);
      maxGrowth = Math.max(maxGrowth, memory() - before);
      expect(performance.now() - t, `case ${i} took too long`).to.be.below(5000);
      // The model's weights are 448 bytes: nothing a mutated manifest says may make us allocate much.
      expect(memory() - before, `case ${i} memory growth`).to.be.below(64 * 1024 * 1024);
    }
    if (process.env.FUZZ_VERBOSE) console.log([...messages.keys()].join("\n"));
    console.log(`      600 mutations: ${imported} imported, ${rejected} rejected (${messages.size} distinct messages), slowest ${slowest.toFixed(0)} ms, max growth ${(maxGrowth / 1e6).toFixed(1)} MB`);
    expect(rejected).to.be.above(300); // the mutations do hit the checks
    expect(imported).to.be.above(10); // and harmless ones (e.g. a changed 'generatedBy') still import
  });

  it('damaged float .tflite files through the importer (800 cases): import or a labelled Error, bounded memory', async () => {
    const b = new TfliteBuilder();
    const rnd0 = prng(5);
    const x = b.addTensor({ name: 'x', shape: [1, 6, 6, 2], type: 'float32' });
    const w = b.addTensor({ name: 'w', shape: [3, 3, 3, 2], type: 'float32', data: Float32Array.from({ length: 54 }, () => rnd0() - 0.5) });
    const bias = b.addTensor({ name: 'b', shape: [3], type: 'float32', data: Float32Array.of(0.1, -0.2, 0.3) });
    const c = b.addTensor({ name: 'c', shape: [1, 6, 6, 3], type: 'float32' });
    const s = b.addTensor({ name: 's', shape: [3], type: 'int32', data: Int32Array.of(1, 36, 3) });
    const y = b.addTensor({ name: 'y', shape: [1, 36, 3], type: 'float32' });
    const z = b.addTensor({ name: 'z', shape: [1, 36, 3], type: 'float32' });
    b.addOperator('CONV_2D', [x, w, bias], [c], { padding: 0, strideW: 1, strideH: 1 });
    b.addOperator('RESHAPE', [c, s], [y], { newShape: [1, 36, 3] });
    b.addOperator('LOGISTIC', [y], [z]);
    b.setInputs([x]);
    b.setOutputs([z]);
    const src = writeTflite(b.build());
    const sane = await importTflite(src, { label: 'base' });
    expect(sane.nodes.map((n) => n.op)).to.include('Conv2D');

    const rnd = prng(99);
    let imported = 0, rejected = 0, maxGrowth = 0;
    for (let i = 0; i < 800; i++) {
      const bytes = src.slice();
      const kind = rnd();
      if (kind < 0.1) {
        const cut = bytes.subarray(0, Math.floor(rnd() * bytes.length));
        bytes.fill(0);
        bytes.set(cut);
      } else if (kind < 0.6) {
        for (let k = 0, n = 1 + Math.floor(rnd() * 6); k < n; k++) bytes[Math.floor(rnd() * bytes.length)] ^= 1 << Math.floor(rnd() * 8);
      } else {
        // Large or negative 32-bit values over an aligned word: shape entries, counts, offsets.
        const p = Math.floor(rnd() * (bytes.length / 4)) * 4;
        const v = [2 ** 21, 2 ** 31 - 1, -1, -7, 65536, 0x7fff, 1e6][Math.floor(rnd() * 7)];
        new DataView(bytes.buffer).setInt32(p, v, true);
      }
      const label = `case${i}`;
      const before = memory();
      try {
        await importTflite(bytes, { label });
        imported++;
      } catch (e) {
        if (!(e instanceof Error)) throw new Error(`case ${i} threw a non-Error: ${String(e)}`);
        const ok = e.message.startsWith(`${label}:`) || e.message.startsWith(`Unsupported ops in ${label}`);
        expect(ok, `case ${i}: unlabelled error '${e.message}'`).to.equal(true);
        rejected++;
      }
      maxGrowth = Math.max(maxGrowth, memory() - before);
      expect(memory() - before, `case ${i} memory growth`).to.be.below(64 * 1024 * 1024);
    }
    console.log(`      800 mutations: ${imported} imported, ${rejected} rejected, max growth ${(maxGrowth / 1e6).toFixed(1)} MB`);
    expect(rejected).to.be.above(100);
  });
});
