// Hostile and careless input, tabled (issue 21): about a thousand bad inputs made in a temp folder
// (special files, bombs, busy loops, mutated models, careless options, output clobbering), each run
// through the CLI in its own child process (test/support/cli-rss.ts: run time and peak RSS), then
// classified: clean error, crash, hang, RSS >= 1 GB, leftover files, unclean message, success where an
// error was expected. Prints the table and writes it into bench/RESULTS.md ("Hostile input").
//
//   npm run bench:hostile [-- --scale 0.3] [--every 10] [--jobs 2] [--timeout 30]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { resultsLog, writeResultsSection } from '../bench/results.js';
import { buildHostileCases, type HostileCase } from './hostile-cases.js';
import { MAX_ERROR_CHARS } from '../lib/cli/error-line.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI_RSS = path.join(REPO, 'test/support/cli-rss.ts');
// The children run in the cases' own folders (detect's default output lands there): tsx by its full address.
const TSX = import.meta.resolve('tsx');
const RSS_LIMIT_KIB = 1024 * 1024;

interface Outcome {
  c: HostileCase;
  code: number | null;
  signal: string | null;
  hang: boolean;
  seconds: number;
  rssKiB: number;
  lines: string[];
  leftovers: string[];
}

const flag = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

/**
 * The entries of the watched folders (full paths; a path that is not a folder, or a system folder
 * such as /dev that others write to, is not listed).
 */
function listWatched(dirs: string[] = []): Set<string> {
  const entries = new Set<string>();
  for (const d of new Set(dirs)) {
    if (!d.startsWith(os.tmpdir()) || !fs.statSync(d, { throwIfNoEntry: false })?.isDirectory()) continue;
    for (const f of fs.readdirSync(d)) entries.add(path.join(d, f));
  }
  return entries;
}

/** One case in a child process, killed (a hang) after `timeout` seconds. */
function runCase(c: HostileCase, timeout: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const before = listWatched(c.watchDirs);
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--import', TSX, CLI_RSS, ...c.argv, '--quiet'], { cwd: c.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let hang = false;
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-200_000)));
    const timer = setTimeout(() => {
      hang = true;
      child.kill('SIGKILL');
    }, timeout * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = stderr.split('\n').filter(Boolean);
      const stats = lines.at(-1)?.startsWith('cli-rss ') ? lines.pop()!.split(' ') : undefined;
      const after = listWatched(c.watchDirs);
      const outputs = code === 0 ? c.outputs ?? [] : [];
      const allowed = (f: string) => before.has(f) || outputs.includes(path.basename(f));
      resolve({
        c, code, signal, hang,
        seconds: stats ? Number(stats[1]) : (Date.now() - t0) / 1000,
        rssKiB: stats ? Number(stats[2]) : 0,
        lines,
        leftovers: [...after].filter((f) => !allowed(f)),
      });
    });
  });
}

/** Why an error line is unclean, or '' when it is one short line that names what it should. */
export function uncleanReason(o: Outcome): string {
  if (o.lines.length !== 1) return `${o.lines.length} stderr lines`;
  const line = o.lines[0];
  // The message after the program's "yolo-int8: " prefix, as lib/cli/error-line.ts bounds it.
  const message = line.replace(/^yolo-int8: /, '');
  if (message.length > MAX_ERROR_CHARS) return `${message.length} chars`;
  if (/Aborted\(|-sASSERTIONS/.test(line)) return 'emscripten abort text';
  if (/\bE[A-Z]{3,}\b(?!\w)/.test(line) && /\b(ENOENT|EISDIR|ELOOP|ENOTDIR|EACCES|EPERM|EEXIST|ENXIO|EINVAL|EFBIG|ESPIPE)\b/.test(line)) return 'raw errno code';
  if (/^yolo-int8:\s*$/.test(line) || line.trim() === '') return 'empty message';
  if (o.c.names && !o.c.names.some((n) => line.includes(n))) return `does not name ${o.c.names[0]}`;
  return '';
}

type Verdict = 'clean error' | 'ok' | 'crash' | 'hang' | 'rss' | 'leftover' | 'unclean' | 'unexpected success';

/** The worst thing about one outcome (a case counts once, under its first failing check). */
function verdict(o: Outcome): Verdict {
  if (o.hang) return 'hang';
  const fatal = o.lines.some((l) => /FATAL ERROR|Check failed|Fatal process out of memory|Segmentation fault/.test(l));
  if (o.signal || fatal || (o.code !== 0 && o.code !== 1 && o.code !== 2)) return 'crash';
  if (o.rssKiB >= RSS_LIMIT_KIB) return 'rss';
  if (o.leftovers.length) return 'leftover';
  if (o.code === 0) return o.c.expect === 'error' ? 'unexpected success' : 'ok';
  return uncleanReason(o) ? 'unclean' : 'clean error';
}

async function runAll(cases: HostileCase[], jobs: number, timeout: number): Promise<Outcome[]> {
  const out: Outcome[] = new Array(cases.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      out[i] = await runCase(cases[i], timeout);
      if (++done % 50 === 0) process.stderr.write(`  ${done}/${cases.length}\n`);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  return out;
}

function table(outcomes: Outcome[], log: (s: string) => void): void {
  const cats = [...new Set(outcomes.map((o) => o.c.category))];
  const cols: Verdict[] = ['clean error', 'ok', 'crash', 'hang', 'rss', 'leftover', 'unclean', 'unexpected success'];
  log(`| category | cases | ${cols.join(' | ')} | max RSS MB | max s |`);
  log(`| --- | ---: | ${cols.map(() => '---:').join(' | ')} | ---: | ---: |`);
  const row = (name: string, os: Outcome[]) => {
    const v = os.map(verdict);
    const maxRss = Math.max(...os.map((o) => o.rssKiB)) / 1024;
    const maxS = Math.max(...os.map((o) => o.seconds));
    log(`| ${name} | ${os.length} | ${cols.map((c) => v.filter((x) => x === c).length).join(' | ')} | ${maxRss.toFixed(0)} | ${maxS.toFixed(1)} |`);
  };
  for (const cat of cats) row(cat, outcomes.filter((o) => o.c.category === cat));
  row('**all**', outcomes);
}

function problems(outcomes: Outcome[], log: (s: string) => void): void {
  const bad = outcomes.filter((o) => !['clean error', 'ok'].includes(verdict(o)));
  log('');
  log(bad.length ? `${bad.length} case(s) not clean:` : 'every case ended with a clean error or a success where one was allowed.');
  const seen = new Map<string, number>();
  for (const o of bad) {
    const v = verdict(o);
    const why = v === 'unclean' ? uncleanReason(o) : v === 'leftover' ? `left ${o.leftovers.join(', ')}` : v === 'crash' ? `exit ${o.code ?? o.signal}` : v;
    const key = `${o.c.category}/${v}/${why.replace(/\d+/g, 'N')}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    if (seen.get(key)! > 3) continue; // three examples of a kind are enough
    const msg = (o.lines.find((l) => /FATAL|Check failed/.test(l)) ?? o.lines[0] ?? '').replace(/\|/g, '\\|').slice(0, 200);
    log(`- ${o.c.category}, ${o.c.name}: **${v}** (${why}) \`${o.c.argv.join(' ').replace(os.tmpdir(), '$TMP').slice(0, 160)}\` -> \`${msg}\``);
  }
  for (const [k, n] of seen) if (n > 3) log(`- ... ${k}: ${n} cases in all`);
}

async function main(): Promise<void> {
  const scale = flag('--scale', 1);
  const jobs = flag('--jobs', 2);
  const timeout = flag('--timeout', 30);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hostile-'));
  const t0 = Date.now();
  try {
    const every = flag('--every', 1); // a sample: every Nth case (a quick look)
    const cases = buildHostileCases(dir, scale).filter((_, i) => i % every === 0);
    console.log(`${cases.length} cases in ${dir}, ${jobs} children, ${timeout} s timeout`);
    const outcomes = await runAll(cases, jobs, timeout);
    const { log, lines } = resultsLog();
    log(`${cases.length} hostile or careless inputs, each through the CLI in a child process (--scale ${scale}; --quiet; ${jobs} at a time, hang = no exit within ${timeout} s); wall ${((Date.now() - t0) / 60000).toFixed(1)} min.`);
    log(`clean error: exit 1 (2: usage), exactly one stderr line (message at most ${MAX_ERROR_CHARS} chars after 'yolo-int8: ') naming the file or option, no errno code, no emscripten abort text. ok: exit 0 where success is allowed (a mutation that leaves a valid file).`);
    log('');
    table(outcomes, log);
    problems(outcomes, log);
    if (every === 1) writeResultsSection('scripts/hostile-table.ts', 'npm run bench:hostile', 'Hostile input', lines.join('\n'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
