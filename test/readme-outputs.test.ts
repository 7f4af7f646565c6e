// The files the README's commands write (quantized models, pictures, charts, reports) land where git
// ignores them, so following the README leaves a clean `git status` (issue 22: "nothing left behind").
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { REPO_ROOT } from './support/fixtures.js';

/** Options whose value is a file a command writes. */
const OUTPUT_OPTIONS = new Set(['-o', '--output', '--report', '--chart']);

/** `npx yolo-int8 ...` commands of the README's ```sh blocks, as words (quotes stripped, continuations joined). */
function readmeCliCommands(markdown: string): string[][] {
  const commands: string[][] = [];
  let inSh = false;
  let pending = '';
  for (const line of markdown.split(/\r?\n/)) {
    if (/^```/.test(line)) {
      inSh = !inSh && /^```(sh|bash|shell)\s*$/.test(line);
      continue;
    }
    if (!inSh) continue;
    const text = `${pending} ${line.trim()}`.trim();
    if (text.endsWith('\\')) {
      pending = text.slice(0, -1);
      continue;
    }
    pending = '';
    const words = (text.match(/'[^']*'|"[^"]*"|\S+/g) ?? []).map((w) => w.replace(/^['"]|['"]$/g, ''));
    if (words[0] === 'npx' && words[1] === 'yolo-int8') commands.push(words.slice(2));
  }
  return commands;
}

/** The paths a CLI command writes, relative to where it runs (detect without -o: runs/detect/predict*). */
function writtenPaths(words: string[]): string[] {
  const out = words.flatMap((w, i) => (OUTPUT_OPTIONS.has(words[i - 1]) ? [w] : []));
  if (words[0] === 'detect' && !words.includes('-o') && !words.includes('--output') && !words.includes('--no-save')) {
    out.push(path.join('runs', 'detect', 'predict', `${path.basename(words[2], path.extname(words[2]))}.png`));
  }
  return out;
}

describe('README commands write only where git ignores', () => {
  it('every output path of the README commands is matched by .gitignore', function () {
    if (!fs.existsSync(path.join(REPO_ROOT, '.git'))) {
      console.log('      (skipped: not a git checkout)');
      this.skip();
    }
    const commands = readmeCliCommands(fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8'));
    const outputs = commands.flatMap(writtenPaths);
    // The README has outputs of each kind: models, detect pictures (explicit and default), the chart.
    expect(outputs.some((o) => o.endsWith('.tflite'))).to.equal(true);
    expect(outputs.some((o) => o.startsWith(path.join('runs', 'detect')))).to.equal(true);
    expect(outputs.some((o) => /^[^/]+\.png$/.test(o))).to.equal(true);
    // --no-index: the rules alone decide, whether or not the file exists or is tracked.
    const r = spawnSync('git', ['check-ignore', '--no-index', '--verbose', '--non-matching', ...outputs], { cwd: REPO_ROOT, encoding: 'utf8' });
    const notIgnored = r.stdout.split('\n').filter((l) => l.startsWith('::')).map((l) => l.replace(/^::\s+/, ''));
    expect(notIgnored, 'README outputs git would show as untracked').to.deep.equal([]);
    expect(r.stdout.trim().split('\n')).to.have.length(outputs.length);
  });
});
