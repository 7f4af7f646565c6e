// Error messages (issue 21, item 7): every CLI error is one line that names the file and what was
// expected - no raw errno codes, no emscripten abort text, no empty or page-long messages. First the
// normaliser (lib/cli/error-line.ts) on the raw messages that used to slip through, then a table of bad
// inputs through the CLI, each asserting one clean line.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { errorLine, MAX_ERROR_CHARS } from '../../lib/cli/error-line.js';
import { runCli } from '../support/cli.js';
import { tempDir, writeTinyGraphModel } from '../support/tiny-model.js';
import { handBuilt } from '../tflite/mutate.js';
import { COCO128_IMAGES, YOLOV5N_INT8 } from '../support/fixtures.js';

/** What no printed error may contain. */
const UNCLEAN = [/\bE[A-Z]{3,}\b:/, /Aborted\(\)/, /-sASSERTIONS/, /^yolo-int8: *$/m, /\bat .*\(.*:\d+:\d+\)/];

function errnoError(code: string, syscall: string, file: string, text: string): Error {
  return Object.assign(new Error(`${code}: ${text}, ${syscall} '${file}'`), { code, path: file, syscall });
}

describe('robustness: one clean line per error', function () {
  this.timeout(120_000);

  it('the normaliser: errno codes in words with the path, emscripten aborts, empty, multi-line and huge messages', () => {
    expect(errorLine(errnoError('EISDIR', 'read', '/tmp/x', 'illegal operation on a directory'), [])).to.equal('/tmp/x: is a directory, expected a file');
    expect(errorLine(errnoError('ELOOP', 'open', 'a/loop.jpg', 'too many symbolic links encountered'), [])).to.equal('a/loop.jpg: too many levels of symbolic links (a symlink loop)');
    expect(errorLine(errnoError('ENOENT', 'open', 'm.tflite', 'no such file or directory'), [])).to.equal('m.tflite: no such file or directory');
    expect(errorLine(new Error('m.tflite: LiteRT could not load the model: Aborted(). Build with -sASSERTIONS for more info.'), ['m.tflite']))
      .to.equal('m.tflite: LiteRT could not load the model: LiteRT aborted; the file is not a model it can run');
    expect(errorLine(new Error(''), ['model.json'])).to.equal('model.json: failed with Error and no message');
    expect(errorLine('thrown text', [])).to.equal('thrown text');
    // A message that names no input gets the first file argument in front.
    expect(errorLine(new Error('Invalid typed array length: 480000000000'), ['dir/model.json'])).to.equal('dir/model.json: Invalid typed array length: 480000000000');
    expect(errorLine(new Error('first line\n    at stack (x.ts:1:2)'), [])).to.equal('first line');
    const long = errorLine(new Error(`m.tflite: ${'x'.repeat(178_000)}`), []);
    expect(long.length).to.be.at.most(MAX_ERROR_CHARS);
    expect(long).to.match(/^m\.tflite: x+ \.\.\. \(178010 characters; --verbose shows all\)$/);
  });

  it('a table of bad inputs through the CLI: exit 1 or 2 and one clean line naming the file', async () => {
    const dir = tempDir('messages-');
    fs.mkdirSync(path.join(dir, 'tiny'));
    const tiny = writeTinyGraphModel(path.join(dir, 'tiny'));
    const file = (name: string, bytes: string | Uint8Array) => {
      const p = path.join(dir, name);
      fs.writeFileSync(p, bytes);
      return p;
    };
    const empty = file('empty.tflite', '');
    const text = file('text.tflite', 'not a flatbuffer at all, just some text that is long enough');
    const truncated = file('truncated.tflite', handBuilt().subarray(0, 200));
    const notJson = file('bad.json', '{ "modelTopology": ');
    const png = file('fake.png', '\x89PNG\r\n\x1a\n this is not a png');
    const folder = path.join(dir, 'folder.tflite');
    fs.mkdirSync(folder);
    const missing = path.join(dir, 'missing.tflite');
    fs.mkdirSync(path.join(dir, 'loops'));
    const loop = path.join(dir, 'loops', 'loop.tflite');
    fs.symlinkSync(loop, loop);
    const model = file('model.tflite', handBuilt());
    // Recipes whose content is wrong: the error names the recipe file, not the model.
    const backtracking = file('backtracking.json', JSON.stringify({ overrides: [{ match: '/^(.*)*X$/', precision: 'int16' }] }));
    const int3 = file('int3.json', JSON.stringify({ precision: 'int3' }));
    // A match that only the model shows to name nothing: found after import, still named by its file.
    const noMatch = file('no-match.json', JSON.stringify({ overrides: [{ match: '/(a|aa)+b/', precision: 'int16' }] }));
    const cases: [string[], string][] = [
      ...(fs.existsSync(COCO128_IMAGES) ? [[['quantize', tiny.dir, '--calib', COCO128_IMAGES, '-n', '1', '--quiet', '--recipe', noMatch, '-o', path.join(dir, 'r0.tflite')], noMatch]] as [string[], string][] : []),
      [['quantize', tiny.dir, '--calib', dir, '--recipe', backtracking, '-o', path.join(dir, 'r1.tflite')], backtracking],
      [['quantize', tiny.dir, '--calib', dir, '--recipe', int3, '-o', path.join(dir, 'r2.tflite')], int3],
      [['check', missing], missing],
      [['check', folder], folder],
      [['check', empty], empty],
      [['check', loop], loop],
      [['inspect', text], text],
      [['inspect', truncated], truncated],
      [['detect', folder, png], folder],
      [['eval', truncated, '--data', dir], dir], // its header is TFLite's, so the dataset is read next: it has no images
      [['eval', png, '--data', dir], png], // an image given as the model
      [['compare', model, png, '--data', dir], png],
      [['check', notJson], notJson],
      [['eval', model, '--data', path.join(dir, 'loops')], path.join(dir, 'loops')],
      [['quantize', tiny.dir, '--calib', path.join(dir, 'nothing-here'), '-o', path.join(dir, 'o2.tflite')], 'nothing-here'],
      [['quantize', tiny.dir, '--calib', dir, '-o', path.join(dir, 'no', 'such', 'dir', 'o.tflite')], path.join(dir, 'no')],
      [['detect', model, png, '--max-pixels', '0'], '--max-pixels'],
      // A real detector, for the image errors (when the fixtures are beside the project).
      ...(fs.existsSync(YOLOV5N_INT8) ? [[['detect', YOLOV5N_INT8, png], png], [['detect', YOLOV5N_INT8, folder], folder]] as [string[], string][] : []),
      [['inspect'], 'inspect'],
      [['frobnicate'], 'frobnicate'],
    ];
    for (const [argv, named] of cases) {
      const r = await runCli(argv);
      const what = `yolo-int8 ${argv.join(' ')}`;
      expect(r.code, `${what}: exit code\n${r.stderr}`).to.be.oneOf([1, 2]);
      const lines = r.stderr.split('\n').filter((l) => l.length > 0);
      expect(lines, `${what}: one line\n${r.stderr}`).to.have.length(1);
      expect(lines[0]).to.match(/^yolo-int8: \S/);
      expect(lines[0].length, `${what}: short`).to.be.at.most(MAX_ERROR_CHARS + 20);
      expect(lines[0], `${what}: names the file`).to.include(named);
      for (const bad of UNCLEAN) expect(lines[0], `${what}: clean`).to.not.match(bad);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
