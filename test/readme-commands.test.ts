// Every shell command of README.md (its ```sh blocks) and of each examples/*.ts header comment runs
// here for real, top to bottom as a user would type them, so the README cannot drift from the code:
// a new command is picked up automatically, and one this file cannot run fails until it is mapped
// below (a placeholder) or excluded with a reason.
//
// They run from a temporary copy of the project (symlinks) with the fixtures at ../shared/fixtures
// beside it, like a fresh clone; `npx yolo-int8` is the built CLI (bin/yolo-int8.js -> dist/, built
// first when missing or older than lib/). Commands that need the fixtures are skipped, visibly, when
// the fixtures are absent.
import { spawnSync } from 'node:child_process';
import { runProcess, type Run } from './support/process.js';
import { FIXTURES, REPO_ROOT } from './support/fixtures.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';

const ROOT = REPO_ROOT;
const FIXTURES_REL = '../shared/fixtures';

/** Commands not run here, and why. */
const EXCLUDED: Record<string, string> = {
  'npm ci': 'installs the project: what CI does before this test runs (it would reinstall node_modules under the running suite)',
  'npm test': 'runs the whole suite, this file included: CI runs it',
};

/**
 * README placeholders and the fixture (or earlier output) that stands for each. `<model.tflite>` is
 * the int8 model the README's "Quantize a YOLOv5 model" commands wrote, reused as a user would.
 */
const PLACEHOLDERS: Record<string, string> = {
  'path/to/yolov5n_web_model': `${FIXTURES_REL}/yolov5n_web_model`,
  'path/to/images': `${FIXTURES_REL}/coco128/images`,
  'path/to/coco128': `${FIXTURES_REL}/coco128`,
  'bus.jpg': `${FIXTURES_REL}/images/bus.jpg`,
  '<model.tflite>': 'yolov5n-int8.tflite',
  '<image>': `${FIXTURES_REL}/images/bus.jpg`,
};

/**
 * Optional `[--option value]` groups of the examples' usage lines are left out, except these, which
 * are passed with a smaller value to keep this file's run time reasonable (the defaults are what
 * test/examples.test.ts and the benchmarks exercise).
 */
const FAST_OPTIONS: Record<string, string> = { '--num': '8', '--eval': '2' };

/** Output files a command writes (checked to exist afterwards). */
const OUTPUT_OPTIONS = new Set(['-o', '--output', '--report']);

/** What no command may print (point 4 of issue 13): TF.js, LiteRT and WebGPU start-up chatter. */
const CHATTER = [
  /looks like you are running TensorFlow\.js in Node/,
  /Platform \w+ has already been set/,
  /^(INFO|WARNING|VERBOSE): /m,
  /Created TensorFlow Lite XNNPACK delegate/,
  /WebGPU/,
];

/** A plain (non-TTY) CLI progress line, or the CLI's note of the dataset split it used. */
const CLI_STDERR_LINE = /^([\w ./-]+: \d+\/\d+( \(\d+\.\d\/s, [\d a-z]+ left\))?|yolo-int8: .*: using .*)$/;

interface DocCommand {
  /** Where it is written: `README.md:57`, `examples/x.ts:4`. */
  where: string;
  text: string;
}

/** Shell words of a simple command; quotes and backslashes as in sh, `#` starts a comment. */
export function shellWords(line: string, where: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === "'" || ch === '"') {
      const end = line.indexOf(ch, i + 1);
      if (end < 0) throw new Error(`${where}: unterminated ${ch} in: ${line}`);
      cur += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (ch === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else if (ch === '#' && !inWord) {
      break;
    } else if (ch === '<' && !inWord && /^<[^\s<>]+>(\s|$)/.test(line.slice(i))) {
      // A usage placeholder (`<model.tflite>`), not a redirection: mapped through PLACEHOLDERS.
      const end = line.indexOf('>', i);
      cur = line.slice(i, end + 1);
      inWord = true;
      i = end;
    } else if ('|&;<>`$()'.includes(ch)) {
      throw new Error(`${where}: '${ch}' is shell syntax this test does not run; keep README commands simple or extend test/readme-commands.test.ts: ${line}`);
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** The commands of the ```sh blocks of a markdown file, with line continuations joined. */
export function markdownShellCommands(markdown: string, file: string): DocCommand[] {
  const out: DocCommand[] = [];
  const lines = markdown.split(/\r?\n/);
  let inSh = false;
  let pending: DocCommand | undefined;
  lines.forEach((line, i) => {
    if (/^```/.test(line)) {
      inSh = !inSh && /^```(sh|bash|shell|console)\s*$/.test(line);
      return;
    }
    if (!inSh) return;
    const text = pending ? `${pending.text} ${line.trim()}` : line.trim();
    const where = pending?.where ?? `${file}:${i + 1}`;
    if (text.endsWith('\\')) {
      pending = { where, text: text.slice(0, -1).trim() };
      return;
    }
    pending = undefined;
    const cmd = text.replace(/^\$\s+/, '');
    if (cmd && !cmd.startsWith('#')) out.push({ where, text: cmd });
  });
  return out;
}

/** `npx ...` lines of a source file's leading comment block (its usage), without trailing `(notes)`. */
export function headerCommands(source: string, file: string): DocCommand[] {
  const out: DocCommand[] = [];
  const lines = source.split(/\r?\n/);
  for (let i = 0; i < lines.length && /^\/\//.test(lines[i]); i++) {
    const m = /^\/\/\s+(npx\s.*?)\s*(\s{2,}\(.*\))?$/.exec(lines[i]);
    if (m) out.push({ where: `${file}:${i + 1}`, text: m[1].trim() });
  }
  return out;
}

interface Plan {
  doc: DocCommand;
  /** Why the command cannot be run as written (reported as that command's failure). */
  error?: Error;
  /** null: excluded (reason). */
  argv: string[] | null;
  reason?: string;
  outputs: string[];
  /** Mentions the fixtures (directly, through a placeholder, or through an earlier command's output). */
  needsFixtures: boolean;
  cli: boolean;
}

/** Usage syntax -> concrete words: optional `[...]` groups dropped or (FAST_OPTIONS) filled; placeholders mapped. */
function concreteWords(words: string[], where: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w.startsWith('[')) {
      const group: string[] = [];
      let j = i;
      for (; j < words.length; j++) {
        group.push(words[j]);
        if (words[j].endsWith(']')) break;
      }
      if (j === words.length) throw new Error(`${where}: unclosed '[' in the usage line`);
      const inner = group.join(' ').slice(1, -1).trim().split(/\s+/);
      if (inner[0] in FAST_OPTIONS) out.push(inner[0], FAST_OPTIONS[inner[0]]);
      i = j;
      continue;
    }
    const mapped = PLACEHOLDERS[w] ?? w;
    if (/^<.*>$/.test(mapped) || mapped.startsWith('path/to/')) {
      throw new Error(`${where}: the placeholder '${w}' has no stand-in: add it to PLACEHOLDERS in test/readme-commands.test.ts`);
    }
    out.push(mapped);
  }
  return out;
}

function plan(docs: DocCommand[]): Plan[] {
  const fixtureOutputs = new Set<string>();
  return docs.map((doc): Plan => {
    try {
      return planOne(doc, fixtureOutputs);
    } catch (e) {
      return { doc, argv: null, error: e as Error, outputs: [], needsFixtures: false, cli: false };
    }
  });
}

function planOne(doc: DocCommand, fixtureOutputs: Set<string>): Plan {
  {
    const words = shellWords(doc.text, doc.where);
    const key = words.slice(0, 2).join(' ');
    if (key in EXCLUDED) return { doc, argv: null, reason: EXCLUDED[key], outputs: [], needsFixtures: false, cli: false };
    const args = concreteWords(words, doc.where);
    let argv: string[];
    let cli = false;
    if (args[0] === 'npx' && args[1] === 'yolo-int8') {
      argv = [process.execPath, 'bin/yolo-int8.js', ...args.slice(2)];
      cli = true;
    } else if (args[0] === 'npx' && args[1] === 'tsx') {
      argv = [process.execPath, '--import', 'tsx', ...args.slice(2)];
    } else {
      throw new Error(`${doc.where}: no runner for '${key}': map it in test/readme-commands.test.ts or add it to EXCLUDED with a reason`);
    }
    const outputs = args.flatMap((a, i) => (OUTPUT_OPTIONS.has(args[i - 1]) ? [a] : []));
    const needsFixtures = args.some((a) => a.startsWith(FIXTURES_REL) || fixtureOutputs.has(a));
    if (needsFixtures) outputs.forEach((o) => fixtureOutputs.add(o));
    return { doc, argv, outputs, needsFixtures, cli };
  }
}

const README_COMMANDS = markdownShellCommands(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'), 'README.md');
const EXAMPLE_FILES = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.ts')).sort();
const EXAMPLE_COMMANDS = EXAMPLE_FILES.map((f) => ({
  file: `examples/${f}`,
  commands: headerCommands(fs.readFileSync(path.join(ROOT, 'examples', f), 'utf8'), `examples/${f}`),
}));
// README first, then the examples (one of them reuses a model the README's commands wrote).
const PLANS = plan([...README_COMMANDS, ...EXAMPLE_COMMANDS.flatMap((e) => e.commands)]);


function run(argv: string[], cwd: string, limitSeconds: number): Promise<Run> {
  return runProcess(argv, cwd, limitSeconds);
}

/** Newest modification time of the .ts files under `dir`. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds dist/ (what `npm ci` does through `prepare`) when it is missing or older than lib/. */
function ensureBuilt(): void {
  const cli = path.join(ROOT, 'dist/lib/cli/main.js');
  const built = fs.existsSync(cli) ? fs.statSync(cli).mtimeMs : 0;
  if (built >= newestSource(path.join(ROOT, 'lib'))) return;
  console.log(`  (building dist/: ${built ? 'it is older than lib/' : 'it is missing'}; npx yolo-int8 runs the built CLI)`);
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}\n${r.stderr}`);
}

/** A fresh-clone-like folder: <tmp>/yolo-int8 (symlinks to the project's files) and <tmp>/shared/fixtures. */
function makeClone(): { base: string; project: string } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-int8-readme-'));
  const project = path.join(base, 'yolo-int8');
  fs.mkdirSync(project);
  for (const name of fs.readdirSync(ROOT)) {
    // Not .git, and not what an earlier run of these very commands may have left in the project.
    if (name === '.git' || /\.(tflite|png)$/.test(name)) continue;
    fs.symlinkSync(path.join(ROOT, name), path.join(project, name));
  }
  if (fs.existsSync(FIXTURES)) {
    fs.mkdirSync(path.join(base, 'shared'));
    fs.symlinkSync(FIXTURES, path.join(base, 'shared/fixtures'));
  }
  return { base, project };
}

describe('README and example commands run as written', function () {
  this.timeout(900_000);

  describe('extraction', () => {
    it('finds the README commands and a usage command in every example header, and can run or excuse each', () => {
      expect(README_COMMANDS.length, 'no ```sh command found in README.md').to.be.greaterThan(0);
      for (const e of EXAMPLE_COMMANDS) expect(e.commands.length, `${e.file}: no 'npx ...' usage line in its header comment`).to.be.greaterThan(0);
      expect(PLANS.filter((p) => p.argv).length).to.be.greaterThan(0);
      for (const p of PLANS) if (p.error) throw p.error;
    });

    it('parses shell words, sh blocks with continuations, and header usage lines', () => {
      expect(shellWords(`npx yolo-int8 quantize 'a b' --calib "images/*.jpg"  # note`, 't')).to.deep.equal(['npx', 'yolo-int8', 'quantize', 'a b', '--calib', 'images/*.jpg']);
      expect(() => shellWords('npx a | grep b', 't')).to.throw(/'\|' is shell syntax/);
      const md = 'x\n```sh\nnpm ci  # c\nnpx a \\\n  --b 1\n```\n```ts\nnot sh\n```\n';
      expect(markdownShellCommands(md, 'M')).to.deep.equal([
        { where: 'M:3', text: 'npm ci  # c' },
        { where: 'M:4', text: 'npx a --b 1' },
      ]);
      const ts = '// Title\n//\n//   npx tsx examples/x.ts <m> [--num 64]\n//   npx tsx examples/x.ts            (no model: demo)\nimport x;\n// npx not-header\n';
      expect(headerCommands(ts, 'x.ts').map((c) => c.text)).to.deep.equal(['npx tsx examples/x.ts <m> [--num 64]', 'npx tsx examples/x.ts']);
      expect(concreteWords(['npx', 'tsx', 'e.ts', '[out.tflite]', '[--num', '64]', '[--other', '1]', 'bus.jpg'], 'w'))
        .to.deep.equal(['npx', 'tsx', 'e.ts', '--num', '8', `${FIXTURES_REL}/images/bus.jpg`]);
      expect(() => concreteWords(['npx', 'yolo-int8', 'eval', '<unknown.tflite>'], 'w')).to.throw(/'<unknown\.tflite>' has no stand-in/);
    });
  });

  describe('in a fresh copy of the project, top to bottom', function () {
    let clone: { base: string; project: string };
    const skippedNoFixtures = new Set<Plan>();
    const failed = new Set<string>();
    before(function () {
      this.timeout(600_000);
      ensureBuilt();
      clone = makeClone();
    });
    after(() => clone && fs.rmSync(clone.base, { recursive: true, force: true }));

    for (const p of PLANS) {
      const title = `${p.doc.where}: ${p.doc.text}`;
      if (p.error) {
        it(title, () => {
          throw p.error;
        });
        continue;
      }
      if (!p.argv) {
        it(`${title}  (excluded: ${p.reason})`, () => {
          expect(p.reason).to.be.a('string');
        });
        continue;
      }
      it(title, async function () {
        if (p.needsFixtures && !fs.existsSync(FIXTURES)) {
          skippedNoFixtures.add(p);
          console.log(`      (skipped: needs ${FIXTURES_REL}, not found)`);
          this.skip();
        }
        // A command reusing an earlier command's output cannot run when that command failed.
        const missingInput = p.argv!.find((a) => failed.has(a));
        if (missingInput) throw new Error(`'${missingInput}' was not written: an earlier command failed`);
        const r = await run(p.argv!, clone.project, 600);
        const log = `exit ${r.code} after ${r.seconds.toFixed(0)} s\n--- stdout\n${r.stdout.slice(-3000)}\n--- stderr\n${r.stderr.slice(-3000)}`;
        if (r.code !== 0) p.outputs.forEach((o) => failed.add(o));
        expect(r.code, log).to.equal(0);
        for (const o of p.outputs) expect(fs.existsSync(path.join(clone.project, o)), `${o} was not written\n${log}`).to.equal(true);
        for (const c of CHATTER) {
          expect(r.stdout, `stdout has ${c}`).to.not.match(c);
          expect(r.stderr, `stderr has ${c}`).to.not.match(c);
        }
        if (p.cli) {
          for (const line of r.stderr.split('\n').filter((l) => l !== '')) expect(line, `unexpected stderr line\n${log}`).to.match(CLI_STDERR_LINE);
        }
        if (/^skipped: /m.test(r.stdout)) console.log(`      (the example skipped itself: ${r.stdout.split('\n')[0]})`);
        else console.log(`      (${r.seconds.toFixed(0)} s)`);
      });
    }
  });
});
