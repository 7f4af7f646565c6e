// Pure pieces of the CLI: glob matching, progress output, tables, option parsing, usage errors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { patternToRegExp, matchNames, resolveImageList, hasWildcard } from '../../lib/cli/glob.js';
import { formatBar, plainLineDue, Progress, progressRate } from '../../lib/cli/progress.js';
import { formatTable, formatBytes } from '../../lib/cli/table.js';
import { parseIntOption, parseFloatOption, parseChoice, readClassNames, UsageError } from '../../lib/cli/main.js';
import { runCli } from '../support/cli.js';
import { REPO_ROOT } from '../support/fixtures.js';

describe('cli: glob', () => {
  it('matches * and ? on file names, everything else literally', () => {
    expect(patternToRegExp('*.jpg').test('a.jpg')).to.equal(true);
    expect(patternToRegExp('*.jpg').test('a.jpeg')).to.equal(false);
    expect(patternToRegExp('*.jpg').test('ajpg')).to.equal(false); // '.' is literal, not "any character"
    expect(patternToRegExp('img_??.png').test('img_01.png')).to.equal(true);
    expect(patternToRegExp('img_??.png').test('img_1.png')).to.equal(false);
    expect(patternToRegExp('a+b(1).jpg').test('a+b(1).jpg')).to.equal(true);
    expect(matchNames(['b.jpg', 'a.jpg', 'c.png', 'x.jpg.txt'], '*.jpg')).to.deep.equal(['a.jpg', 'b.jpg']);
    expect(hasWildcard('dir/*.jpg')).to.equal(true);
    expect(hasWildcard('dir/a.jpg')).to.equal(false);
  });

  it('resolves a folder, a glob and a file; errors name what was not found', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-glob-'));
    for (const f of ['b.jpg', 'a.jpg', 'c.png', 'notes.txt']) fs.writeFileSync(path.join(dir, f), 'x');
    expect(resolveImageList(dir).map((f) => path.basename(f))).to.deep.equal(['a.jpg', 'b.jpg', 'c.png']);
    expect(resolveImageList(path.join(dir, '*.jpg')).map((f) => path.basename(f))).to.deep.equal(['a.jpg', 'b.jpg']);
    expect(resolveImageList(path.join(dir, '?.png')).map((f) => path.basename(f))).to.deep.equal(['c.png']);
    expect(resolveImageList(path.join(dir, 'a.jpg'))).to.deep.equal([path.join(dir, 'a.jpg')]);
    expect(() => resolveImageList(path.join(dir, '*.bmp'))).to.throw(/no file in .* matches '\*\.bmp'/);
    expect(() => resolveImageList(path.join(dir, 'missing'))).to.throw(/no such file or folder/);
    expect(() => resolveImageList(path.join(dir, 'nope', '*.jpg'))).to.throw(/does not exist/);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('cli: progress', () => {
  it('draws a bar proportional to done/total', () => {
    expect(formatBar('calibrate', 0, 4, 8)).to.equal('calibrate [........] 0/4   0%');
    expect(formatBar('calibrate', 2, 4, 8)).to.equal('calibrate [####....] 2/4  50%');
    expect(formatBar('calibrate', 4, 4, 8)).to.equal('calibrate [########] 4/4 100%');
  });

  it('with a rate: images per second and the time left (hand-computed)', () => {
    // 12 of 64 images in 4 s: 3 per second, 52 left -> 17.33 s -> "18 s"; 10 of 400 in 5 s: 2/s, 195 s.
    const r = progressRate(12, 64, 4)!;
    expect(r.perSecond).to.equal(3);
    expect(r.etaSeconds).to.be.closeTo(52 / 3, 1e-12);
    expect(formatBar('calibrate', 12, 64, 8, r)).to.equal('calibrate [##......] 12/64  18%, 3.0/s, 18 s left');
    expect(formatBar('calibrate', 10, 400, 8, progressRate(10, 400, 5))).to.equal('calibrate [........]  10/400   2%, 2.0/s, 3 min 15 s left');
    expect(progressRate(0, 64, 1)).to.equal(undefined);
    let plain = '';
    new Progress({ write: (s: string) => (plain += s) }).update('calibrate', 12, 64, r);
    expect(plain).to.equal('calibrate: 12/64 (3.0/s, 18 s left)\n');
  });

  it('prints plain lines at the first step, every 10 % and the last step', () => {
    const printed: number[] = [];
    let last = -1;
    for (let d = 1; d <= 64; d++) {
      if (plainLineDue(d, 64, last)) {
        printed.push(d);
        last = d;
      }
    }
    // 10 % boundaries of 64 steps: 6.4, 12.8, ... -> steps 7, 13, 20, 26, 32, 39, 45, 52, 58, 64.
    expect(printed).to.deep.equal([1, 7, 13, 20, 26, 32, 39, 45, 52, 58, 64]);
  });

  it('redraws with \\r on a TTY and ends the line when a stage completes', () => {
    let out = '';
    const p = new Progress({ write: (s: string) => (out += s), isTTY: true });
    p.update('evaluate', 1, 2);
    p.update('evaluate', 2, 2);
    expect(out).to.equal(`\r${formatBar('evaluate', 1, 2)}\x1b[K\r${formatBar('evaluate', 2, 2)}\x1b[K\n`);
    let quiet = '';
    new Progress({ write: (s: string) => (quiet += s) }, false).update('x', 1, 1);
    expect(quiet).to.equal('');
  });
});

describe('cli: tables and options', () => {
  it('aligns columns', () => {
    expect(formatTable(['model', 'mAP50'], [['a', '0.5'], ['long-name', '0.25']])).to.equal(
      ['model      mAP50', '---------  -----', 'a            0.5', 'long-name   0.25'].join('\n'),
    );
    expect(formatBytes(999)).to.equal('999 B');
    expect(formatBytes(2_176_184)).to.equal('2.18 MB');
    expect(formatBytes(NaN)).to.equal('-');
  });

  it('parses numbers and choices strictly', () => {
    expect(parseIntOption('num', '64', 1)).to.equal(64);
    expect(parseIntOption('num', undefined, 1)).to.equal(undefined);
    expect(() => parseIntOption('num', '0', 1)).to.throw(UsageError, '--num expects an integer >= 1');
    expect(() => parseIntOption('num', '3.5', 1)).to.throw(UsageError);
    expect(() => parseIntOption('num', 'x', 1)).to.throw(UsageError);
    expect(parseFloatOption('conf', '0.4', 0, 1)).to.equal(0.4);
    expect(() => parseFloatOption('conf', '1.5', 0, 1)).to.throw(UsageError, '--conf expects a number in [0, 1]');
    expect(parseChoice('head', 'keep', ['split', 'keep'])).to.equal('keep');
    expect(() => parseChoice('head', 'cut', ['split', 'keep'])).to.throw(UsageError, "--head must be one of split, keep; got 'cut'");
  });

  it('reads class names from a yaml or a text file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-names-'));
    fs.writeFileSync(path.join(dir, 'd.yaml'), 'path: .\nnames:\n  0: cat\n  1: dog\n');
    fs.writeFileSync(path.join(dir, 'n.txt'), 'cat\n\ndog\n');
    expect(await readClassNames(path.join(dir, 'd.yaml'))).to.deep.equal(['cat', 'dog']);
    expect(await readClassNames(path.join(dir, 'n.txt'))).to.deep.equal(['cat', 'dog']);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('cli: usage', () => {
  it('--version prints the package.json version', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    const r = await runCli(['--version']);
    expect(r).to.deep.equal({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('--help for the program and for every command', async () => {
    const r = await runCli(['--help']);
    expect(r.code).to.equal(0);
    for (const c of ['quantize', 'eval', 'compare', 'inspect', 'detect', 'demo']) {
      expect(r.stdout).to.contain(`  ${c} `);
      const h = await runCli([c, '--help']);
      expect(h.code).to.equal(0);
      expect(h.stdout).to.match(new RegExp(`^usage: yolo-int8 ${c}`));
    }
  });

  const bad: [string[], RegExp, number][] = [
    [['frobnicate'], /^yolo-int8: unknown command 'frobnicate'/, 2],
    [['quantize', 'm', '--bogus'], /^yolo-int8: quantize: unknown option '--bogus'/, 2],
    [['quantize', 'm', '-o', 'x.tflite'], /^yolo-int8: quantize: --calib <images> is required/, 2],
    [['quantize', '--calib', 'd', '-o', 'x.tflite'], /^yolo-int8: quantize: missing <model>/, 2],
    [['quantize', 'm', '--calib', 'd', '-o', 'x', '--method', 'median'], /^yolo-int8: --method must be one of minmax, percentile, mse, entropy; got 'median'/, 2],
    [['quantize', 'm', '--calib', 'd', '-o', 'x', '--num', '-3'], /^yolo-int8: --num expects an integer >= 1, got '-3'$/m, 2],
    [['quantize', 'm', '--calib', 'd', '-o', 'x', '-n', '-3'], /^yolo-int8: --num expects an integer >= 1, got '-3'$/m, 2],
    [['detect', 'm.tflite', 'i.jpg', '--conf', '-0.5'], /^yolo-int8: --conf expects a number in \[0, 1\], got '-0.5'$/m, 2],
    [['quantize', 'm', '--calb', 'd'], /^yolo-int8: quantize: unknown option '--calb'; did you mean --calib\?/, 2],
    [['eval', 'm.tflite', '--dat', 'd'], /^yolo-int8: eval: unknown option '--dat'; did you mean --data\?/, 2],
    [['detect', 'm.tflite', 'i.jpg', '--nosave'], /^yolo-int8: detect: unknown option '--nosave'; did you mean --no-save\?/, 2],
    [['detect', 'm.tflite', 'i.jpg', '--no-save', '-o', 'x.png'], /^yolo-int8: detect: give one of -o <out.png> and --no-save$/m, 2],
    [['quantise', 'm'], /^yolo-int8: unknown command 'quantise'; did you mean 'quantize'\?/, 2],
    [['evl', 'm'], /^yolo-int8: unknown command 'evl'; did you mean 'eval'\?/, 2],
    [['frobnicate', 'm'], /^yolo-int8: unknown command 'frobnicate' \(commands:/, 2],
    [['quantize', 'm', '--calib', 'd', '-o', 'x', '--bias-correction', 'twice'], /^yolo-int8: --bias-correction must be one of off, sequential, one-shot, local; got 'twice'/, 2],
    [['quantize', 'm', '--calib', 'd', '-o', 'x', '--bias-samples', '4'], /^yolo-int8: --bias-samples needs --bias-correction sequential, one-shot or local/, 2],
    [['quantize', 'm', '--calib', 'd', '-o', 'x', '--rounding-samples', '8'], /^yolo-int8: --rounding-samples needs --learned-rounding/, 2],
    [['quantize', 'm', '--calib', 'd', '-o', 'x', '--learned-rounding', '--rounding-samples', '3'], /^yolo-int8: --rounding-samples expects an integer >= 4, got '3'/, 2],
    [['quantize', '/nonexistent/model.json', '--calib', 'd', '-o', 'x.tflite'], /^yolo-int8: \/nonexistent\/model.json: model not found/, 1],
    [['eval', 'm.tflite'], /^yolo-int8: eval: --data <dataset> is required/, 2],
    [['eval', '/nonexistent.tflite', '--data', 'd', '--limit', '0'], /^yolo-int8: --limit expects an integer >= 1, got '0'/, 2],
    [['compare', 'a.tflite', '--data', 'd'], /^yolo-int8: compare: missing <b.tflite>/, 2],
    [['inspect'], /^yolo-int8: inspect: missing <model.tflite>/, 2],
    [['inspect', 'a', 'b'], /^yolo-int8: inspect: unexpected argument 'b'/, 2],
    [['inspect', '/nonexistent.tflite'], /^yolo-int8: \/nonexistent.tflite: model not found/, 1],
    [['detect', 'm.tflite', 'i.jpg', '--conf', '2'], /^yolo-int8: --conf expects a number in \[0, 1\], got '2'/, 2],
    [['demo', 'extra'], /^yolo-int8: demo: unexpected argument 'extra'/, 2],
  ];
  for (const [argv, message, code] of bad) {
    it(`'${argv.join(' ')}' -> exit ${code} and one error line`, async () => {
      const r = await runCli(argv);
      expect(r.code).to.equal(code);
      expect(r.stdout).to.equal('');
      expect(r.stderr.split('\n').filter(Boolean)).to.have.length(1);
      expect(r.stderr).to.match(message);
    });
  }

  it('a corrupt .tflite fails with one line, and --verbose adds the stack', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cli-bad-')), 'bad.tflite');
    fs.writeFileSync(file, Buffer.from('this is not a flatbuffer at all'));
    const r = await runCli(['inspect', file]);
    expect(r.code).to.equal(1);
    expect(r.stderr.split('\n').filter(Boolean)).to.have.length(1);
    expect(r.stderr).to.match(/^yolo-int8: .*bad\.tflite/);
    const v = await runCli(['inspect', file, '--verbose']);
    expect(v.code).to.equal(1);
    expect(v.stderr).to.match(/\n\s+at /);
  });
});

describe('cli: bin/yolo-int8.js', () => {
  it('runs the compiled CLI, or explains how to build it when dist/ is missing', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/yolo-int8.js'), '--version'], { encoding: 'utf8' });
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    if (fs.existsSync(path.join(REPO_ROOT, 'dist/lib/cli/main.js'))) {
      expect(r.status).to.equal(0);
      expect(r.stdout).to.equal(`${pkg.version}\n`);
    } else {
      expect(r.status).to.equal(1);
      expect(r.stderr).to.match(/^yolo-int8: the compiled CLI is missing .*; run 'npm run build'/);
    }
  });
});
