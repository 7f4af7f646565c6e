// The checker agrees with LiteRT: a seeded corpus of mutated .tflite files (litert-fuzz.ts: structured
// edits of tensor types, shapes, quantization, operator options, operand indices, operator codes and
// buffers, plus byte mutations) goes through `checkTflite` (lenient, as TfliteRunner.load runs it), and
// every file the checker accepts is loaded into LiteRT and run once on zero inputs in a child process
// (litert-worker.ts). Any file the checker accepts and LiteRT refuses, aborts or hangs on fails the test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { checkTflite } from '../../lib/tflite/check.js';
import { buildCorpus, runInLiteRt } from './litert-fuzz.js';

/** Re-runs each file alone in a fresh worker (a refusal seen after another file's trap may be its echo). */
async function confirmAlone(files: string[], dir: string): Promise<Map<string, string>> {
  const refused = new Map<string, string>();
  for (const [k, file] of files.entries()) {
    const r = await runInLiteRt([file], path.join(dir, `confirm-${k}.json`), 20);
    const why = r.refused.get(0);
    if (why !== undefined) refused.set(file, why);
  }
  return refused;
}

describe('checker vs LiteRT: mutated files', function () {
  this.timeout(600_000);

  it('no file the checker accepts is refused, aborted or hung on by LiteRT (seeded corpus of 1,200)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-vs-litert-'));
    const t0 = performance.now();
    try {
      const corpus = buildCorpus(dir, 800, 400, 2026);
      const accepted = new Set<number>();
      const byRule = new Map<string, number>();
      corpus.files.forEach((file, i) => {
        const r = checkTflite(new Uint8Array(fs.readFileSync(file)), { label: file, strict: false });
        if (r.ok) accepted.add(i);
        for (const rule of new Set(r.violations.map((v) => v.rule))) byRule.set(rule, (byRule.get(rule) ?? 0) + 1);
      });
      // Every file goes to LiteRT (the refused ones too, for the agreement counts).
      const lt = await runInLiteRt(corpus.files, path.join(dir, 'all.json'), 20);
      const suspects = [...lt.refused.keys()].filter((i) => accepted.has(i)).map((i) => corpus.files[i]);
      const confirmed = await confirmAlone(suspects, dir);
      const disagreements = [...confirmed].filter(([, why]) => !why.startsWith('io: '));
      const refusedBoth = [...lt.refused.keys()].filter((i) => !accepted.has(i)).length;
      const seconds = ((performance.now() - t0) / 1000).toFixed(0);
      console.log(`      ${corpus.files.length} files (${corpus.structured} structured edits, ${corpus.byte} byte mutations; ${corpus.unwritable} edits not writable), ${lt.workers} LiteRT worker(s), ${seconds} s`);
      console.log(`      check accepted ${accepted.size}: LiteRT ran ${accepted.size - confirmed.size}, refused ${disagreements.length}, I/O types the runner does not take ${confirmed.size - disagreements.length}`);
      console.log(`      check refused ${corpus.files.length - accepted.size}: LiteRT (or the reader before it) refused ${refusedBoth}, ran ${corpus.files.length - accepted.size - refusedBoth}`);
      console.log(`      refusals by rule: ${[...byRule].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`).join(', ')}`);
      const shown = disagreements.slice(0, 10).map(([file, why]) => `${file}: ${why}`).join('\n');
      expect(disagreements.length, `files the checker accepts and LiteRT refuses:\n${shown}`).to.equal(0);
      expect(lt.ran.length + lt.refused.size, 'every file reached LiteRT').to.equal(corpus.files.length);
      expect(accepted.size, 'the corpus reaches LiteRT with files the checker accepts').to.be.at.least(100);
      expect(corpus.files.length - accepted.size, 'the mutations reach the checker rules').to.be.at.least(1000);
    } finally {
      // CHECK_VS_LITERT_KEEP=1 keeps the corpus for a look at a failing file.
      if (!process.env.CHECK_VS_LITERT_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
