// The cases of scripts/hostile-table.ts, written into a temp folder: each is a CLI command line, what
// it may end with (an error, or either when a mutation can leave a valid file), the names its error
// must mention, and the folder where it must leave nothing behind.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeTflite } from '../lib/tflite/writer.js';
import { mulberry32 } from '../lib/util/random.js';
import { writeTinyGraphModel, SHARD } from '../test/support/tiny-model.js';
import { baseModel } from '../test/tflite/models.js';
import { handBuilt } from '../test/tflite/mutate.js';
import { buildCorpus } from '../test/tflite/litert-fuzz.js';
import { jpegBomb, pngBomb } from '../test/support/image-bombs.js';
import { readTflite } from '../lib/tflite/reader.js';
import { TensorType } from '../lib/tflite/model.js';
import { builtinOperatorName } from '../lib/tflite/operators.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/fixtures');
const YOLO = path.join(FIXTURES, 'yolov8n/yolov8n_full_integer_quant.tflite');
const COCO = path.join(FIXTURES, 'coco128/images');

export interface HostileCase {
  category: string;
  name: string;
  argv: string[];
  cwd: string;
  /** error: anything but a clean error is a finding; either: exit 0 is fine too (a harmless mutation). */
  expect: 'error' | 'either';
  /** The error line must contain one of these (the file or option at fault). */
  names?: string[];
  /** Folders that must hold nothing new afterwards (but `outputs` after a success): where the case writes, and the source's. */
  watchDirs?: string[];
  outputs?: string[];
}

/** A zip local header (deflate) holding `data` compressed, as ultralytics appends its metadata. */
function zipEntry(data: Uint8Array, claimedSize: number): Uint8Array {
  const deflated = zlib.deflateRawSync(data);
  const head = new Uint8Array(30 + 4);
  const v = new DataView(head.buffer);
  v.setUint32(0, 0x04034b50, true);
  v.setUint16(8, 8, true);
  v.setUint32(18, deflated.length, true);
  v.setUint32(22, claimedSize >>> 0, true);
  v.setUint16(26, 4, true);
  head.set([0x6d, 0x65, 0x74, 0x61], 30);
  return new Uint8Array([...head, ...deflated]);
}

class CaseWriter {
  readonly cases: HostileCase[] = [];
  private n = 0;
  constructor(readonly root: string) {}

  /** A fresh empty folder for one case's outputs. */
  outDir(): string {
    const d = path.join(this.root, 'out', String(this.n++));
    fs.mkdirSync(d, { recursive: true });
    return d;
  }

  file(rel: string, bytes: string | Uint8Array): string {
    const p = path.join(this.root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, bytes);
    return p;
  }

  add(c: Omit<HostileCase, 'cwd'> & { cwd?: string }): void {
    this.cases.push({ cwd: c.cwd ?? this.outDir(), ...c });
  }
}

/** Special files: what /dev/zero, a FIFO, a directory, a symlink loop and a sparse 3 GB file do in every role. */
function specialFiles(w: CaseWriter, calib: string): void {
  const d = path.join(w.root, 'special');
  fs.mkdirSync(d);
  let made = 0;
  const kinds: Record<string, (ext: string) => string> = {
    'dev-zero': (ext) => linkTo('/dev/zero', ext),
    fifo: (ext) => { const p = path.join(d, `fifo-${made++}.${ext}`); execFileSync('mkfifo', [p]); return p; },
    directory: (ext) => { const p = path.join(d, `dir-${made++}.${ext}`); fs.mkdirSync(p); return p; },
    'symlink-loop': (ext) => { const p = path.join(d, `loop-${made++}.${ext}`); fs.symlinkSync(p, p); return p; },
    'sparse-3GB': (ext) => { const p = path.join(d, `sparse-${made++}.${ext}`); fs.closeSync(fs.openSync(p, 'w')); fs.truncateSync(p, 3 * 2 ** 30); return p; },
  };
  function linkTo(target: string, ext: string): string {
    const p = path.join(d, `zero-${made++}.${ext}`);
    fs.symlinkSync(target, p);
    return p;
  }
  const tiny = writeTinyGraphModel(fs.mkdtempSync(path.join(w.root, 'tiny-special-')));
  for (const [kind, make] of Object.entries(kinds)) {
    const model = make('tflite');
    const image = make('jpg');
    for (const cmd of [['check', model], ['inspect', model], ['detect', model, path.join(calib, fs.readdirSync(calib)[0]), '--no-save']]) {
      w.add({ category: 'special files', name: `${kind} as model (${cmd[0]})`, argv: cmd, expect: 'error', names: [model] });
    }
    const o = w.outDir();
    w.add({ category: 'special files', name: `${kind} as model (quantize)`, argv: ['quantize', model, '--calib', calib, '-o', path.join(o, 'm.tflite')], expect: 'error', names: [model], watchDirs: [o] });
    w.add({ category: 'special files', name: `${kind} as image (detect)`, argv: ['detect', YOLO, image, '--no-save'], expect: 'error', names: [image] });
    // In a calibration folder: the image beside real ones.
    const folder = path.join(d, `calib-${kind}`);
    fs.mkdirSync(folder);
    for (const f of fs.readdirSync(calib)) fs.copyFileSync(path.join(calib, f), path.join(folder, f));
    fs.renameSync(image, path.join(folder, path.basename(image)));
    const inFolder = path.join(folder, path.basename(image));
    const o2 = w.outDir();
    w.add({ category: 'special files', name: `${kind} as image in the calibration folder`, argv: ['quantize', tiny.dir, '--calib', folder, '-n', '3', '-o', path.join(o2, 'm.tflite')], expect: 'either', names: [inFolder], watchDirs: [o2], outputs: ['m.tflite'] });
    for (const [role, ext, argv] of [
      ['yaml', 'yaml', (f: string, o: string) => ['quantize', tiny.dir, '--calib', f, '-o', path.join(o, 'm.tflite')]],
      ['list', 'txt', (f: string, o: string) => ['quantize', tiny.dir, '--calib', f, '-o', path.join(o, 'm.tflite')]],
      ['recipe', 'json', (f: string, o: string) => ['quantize', tiny.dir, '--calib', calib, '--recipe', f, '-o', path.join(o, 'm.tflite')]],
      ['names', 'names', (f: string) => ['detect', YOLO, path.join(calib, fs.readdirSync(calib)[0]), '--names', f, '--no-save']],
    ] as const) {
      const f = make(ext);
      const o3 = w.outDir();
      w.add({ category: 'special files', name: `${kind} as ${role}`, argv: argv(f, o3), expect: 'error', names: [f], watchDirs: [o3] });
    }
    // As a label file of an eval dataset.
    const ds = path.join(d, `ds-${kind}`);
    fs.mkdirSync(path.join(ds, 'images'), { recursive: true });
    fs.mkdirSync(path.join(ds, 'labels'));
    const img = fs.readdirSync(calib)[0];
    fs.copyFileSync(path.join(calib, img), path.join(ds, 'images', img));
    const label = path.join(ds, 'labels', img.replace(/\.\w+$/, '.txt'));
    fs.renameSync(make('txt'), label);
    w.add({ category: 'special files', name: `${kind} as label file`, argv: ['eval', YOLO, '--data', ds], expect: 'error', names: [label] });
  }
}

/** Bombs: zips appended to a .tflite, image dimension bombs, truncated images. */
function bombs(w: CaseWriter, calib: string): void {
  const model = writeTflite(baseModel());
  const zeros = new Uint8Array(64 * 2 ** 20);
  const zips: [string, Uint8Array][] = [
    ['zip claiming 4 GB', zipEntry(new Uint8Array(16), 0xffffffff)],
    ['zip inflating to 64 MB', zipEntry(zeros, 16)],
    ['zip inflating to 64 MB (honest size)', zipEntry(zeros, zeros.length)],
    ['zip with damaged deflate data', Uint8Array.from(zipEntry(zeros, 100), (b, i) => (i > 40 && i % 7 === 0 ? b ^ 0x55 : b))],
  ];
  const jpg = path.join(calib, fs.readdirSync(calib)[0]);
  for (const [name, zip] of zips) {
    for (const [src, bytes] of [['hand-built', handBuilt()], ['base', model], ['yolov8n', fs.readFileSync(YOLO)]] as const) {
      const f = w.file(`bombs/${src}-${name.replace(/\W+/g, '-')}.tflite`, new Uint8Array([...bytes, ...zip]));
      for (const cmd of src === 'yolov8n' ? [['detect', f, jpg, '--no-save'], ['inspect', f]] : [['check', f], ['inspect', f]]) {
        w.add({ category: 'bombs', name: `${src} + ${name} (${cmd[0]})`, argv: cmd, expect: 'either', names: [f] });
      }
    }
  }
  const real = fs.readFileSync(jpg);
  const images: [string, Uint8Array][] = [
    ['png 30000x30000', pngBomb(30000, 30000)], ['png 65535x65535', pngBomb(65535, 65535)], ['png 2^31x1', pngBomb(2 ** 31 - 1, 1)],
    ['png 1x100000000', pngBomb(1, 100_000_000)], ['png 0x0', pngBomb(0, 0)], ['jpeg 65535x65535', jpegBomb(65535, 65535)],
    ['jpeg 30000x30000', jpegBomb(30000, 30000)], ['jpeg 0x0', jpegBomb(0, 0)],
    ['jpeg cut at 10%', real.subarray(0, real.length / 10)], ['jpeg cut at 50%', real.subarray(0, real.length / 2)],
    ['jpeg cut at 95%', real.subarray(0, Math.floor(real.length * 0.95))], ['jpeg cut at 200 bytes', real.subarray(0, 200)],
    ['png with only a signature', pngBomb(8, 8).subarray(0, 8)], ['empty file', new Uint8Array(0)],
  ];
  const tiny = writeTinyGraphModel(fs.mkdtempSync(path.join(w.root, 'tiny-bombs-')));
  images.forEach(([name, bytes], i) => {
    const ext = name.startsWith('png') ? 'png' : 'jpg';
    const f = w.file(`bombs/img-${i}.${ext}`, bytes);
    w.add({ category: 'bombs', name: `${name} (detect)`, argv: ['detect', YOLO, f, '--no-save'], expect: 'error', names: [f] });
    const folder = path.join(w.root, `bombs/calib-${i}`);
    fs.mkdirSync(folder);
    fs.copyFileSync(f, path.join(folder, path.basename(f)));
    const o = w.outDir();
    w.add({ category: 'bombs', name: `${name} (calibration folder)`, argv: ['quantize', tiny.dir, '--calib', folder, '-o', path.join(o, 'm.tflite')], expect: 'error', names: [path.join(folder, path.basename(f))], watchDirs: [o] });
  });
}

/** Busy loops: exponential globs, layers models whose graph is a cycle or names missing/duplicate layers, backtracking regexes. */
function busyLoops(w: CaseWriter, calib: string): void {
  const tiny = writeTinyGraphModel(fs.mkdtempSync(path.join(w.root, 'tiny-busy-')));
  const globDir = path.join(w.root, 'globs');
  fs.mkdirSync(globDir);
  fs.writeFileSync(path.join(globDir, `${'a'.repeat(80)}.jpg`), 'x');
  for (let k = 8; k <= 20; k += 4) {
    for (const pat of [`${'*a'.repeat(k)}*b.jpg`, `${'a*'.repeat(k)}b.jpg`, `**/${'*a'.repeat(k)}b*.jpg`]) {
      const o = w.outDir();
      w.add({ category: 'busy loops', name: `glob ${pat.slice(0, 24)}... (${k})`, argv: ['quantize', tiny.dir, '--calib', path.join(globDir, pat), '-o', path.join(o, 'm.tflite')], expect: 'error', names: [pat.slice(0, 12)], watchDirs: [o] });
    }
  }
  const layer = (name: string, from: string[]) => ({ class_name: 'ReLU', name, config: { name }, inbound_nodes: from.length ? [from.map((f) => [f, 0, 0, {}])] : [] });
  const input = { class_name: 'InputLayer', name: 'in', config: { name: 'in', batch_input_shape: [null, 8, 8, 3], dtype: 'float32' }, inbound_nodes: [] };
  const topologies: [string, unknown[], string][] = [
    ['two-layer cycle', [input, layer('a', ['b']), layer('b', ['a'])], 'b'],
    ['self loop', [input, layer('a', ['a'])], 'a'],
    ['long cycle', [input, ...Array.from({ length: 200 }, (_, i) => layer(`l${i}`, [`l${(i + 1) % 200}`]))], 'l0'],
    ['missing inbound layer', [input, layer('a', ['nowhere'])], 'a'],
    ['duplicate layer names', [input, layer('a', ['in']), layer('a', ['in'])], 'a'],
    ['no layers', [], 'a'],
    ['diamond fan 2^30 paths', [input, ...Array.from({ length: 30 }, (_, i) => [layer(`x${i}`, [i ? `m${i - 1}` : 'in']), layer(`y${i}`, [i ? `m${i - 1}` : 'in']), { class_name: 'Add', name: `m${i}`, config: { name: `m${i}` }, inbound_nodes: [[[`x${i}`, 0, 0, {}], [`y${i}`, 0, 0, {}]]] }]).flat()], 'm29'],
  ];
  for (const [name, layers, out] of topologies) {
    const dir = path.join(w.root, `layers-${name.replace(/\W+/g, '-')}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({
      format: 'layers-model',
      modelTopology: { class_name: 'Model', config: { name: 'm', layers, input_layers: [['in', 0, 0]], output_layers: [[out, 0, 0]] } },
      weightsManifest: [],
    }));
    const o = w.outDir();
    w.add({ category: 'busy loops', name: `layers: ${name}`, argv: ['quantize', dir, '--calib', calib, '-o', path.join(o, 'm.tflite')], expect: name.startsWith('diamond') ? 'either' : 'error', names: [dir], watchDirs: [o], outputs: ['m.tflite'] });
  }
  for (const re of ['/^(.*)*X$/', '/(a+)+$/', '/^(\\w+\\s?)*$/', '/(a|aa)+b/', '/(.*a){12}/', '/(x+x+)+y/', '/([a-z]*)*\\d/', '/(\\1)/', '/[/', '/(?<=a)b/']) {
    const recipe = w.file(`recipes/${w.cases.length}.json`, JSON.stringify({ overrides: [{ match: re, precision: 'int16' }] }));
    const o = w.outDir();
    w.add({ category: 'busy loops', name: `recipe regex ${re}`, argv: ['quantize', tiny.dir, '--calib', calib, '--recipe', recipe, '-o', path.join(o, 'm.tflite')], expect: 'either', names: [recipe], watchDirs: [o], outputs: ['m.tflite'] });
  }
}

/** Mutated models: the checker fuzz corpus through check / inspect / detect, and model.json / weights edits through quantize. */
function mutatedModels(w: CaseWriter, calib: string, scale: number): void {
  const dir = path.join(w.root, 'corpus');
  fs.mkdirSync(dir);
  const corpus = buildCorpus(dir, Math.round(450 * scale), Math.round(300 * scale), 21);
  const jpg = path.join(calib, fs.readdirSync(calib)[0]);
  corpus.files.forEach((f, i) => {
    const cmd = i % 5 === 3 ? ['inspect', f] : i % 5 === 4 ? ['detect', f, jpg, '--no-save'] : ['check', f];
    w.add({ category: 'mutated models', name: `${path.basename(f)} (${cmd[0]})`, argv: cmd, expect: 'either', names: [f] });
  });
  const rnd = mulberry32(5);
  const edits: [string, (j: any, dir: string) => void][] = [
    ['shape of the filter', (j) => { j.weightsManifest[0].weights[0].shape = [3, 3, 3, 5]; }],
    ['dtype int8 without quantization', (j) => { j.weightsManifest[0].weights[0].dtype = 'int8'; }],
    ['dtype string', (j) => { j.weightsManifest[0].weights[0].dtype = 'string'; }],
    ['huge shape', (j) => { j.weightsManifest[0].weights[0].shape = [65536, 65536, 3, 4]; }],
    ['negative shape', (j) => { j.weightsManifest[0].weights[0].shape = [-3, 3, 3, 4]; }],
    ['missing shard', (j) => { j.weightsManifest[0].paths = ['nope.bin']; }],
    ['shard path escapes', (j) => { j.weightsManifest[0].paths = ['../../../../etc/passwd']; }],
    ['unknown op', (j) => { j.modelTopology.node[3].op = 'FancyConv'; }],
    ['input names a missing node', (j) => { j.modelTopology.node[4].input = ['nowhere']; }],
    ['node cycle', (j) => { j.modelTopology.node[3].input[0] = 'Identity'; }],
    ['bad padding', (j) => { j.modelTopology.node[3].attr.padding.s = Buffer.from('WEIRD').toString('base64'); }],
    ['zero strides', (j) => { j.modelTopology.node[3].attr.strides.list.i = ['1', '0', '0', '1']; }],
    ['no nodes', (j) => { j.modelTopology.node = []; }],
    ['no modelTopology', (j) => { delete j.modelTopology; }],
    ['format layers-model', (j) => { j.format = 'layers-model'; }],
    ['placeholder of rank 9', (j) => { j.modelTopology.node[0].attr.shape.shape.dim = Array(9).fill({ size: '2' }); }],
    ['placeholder 1e9 wide', (j) => { j.modelTopology.node[0].attr.shape.shape.dim[2] = { size: '1000000000' }; }],
    ['duplicate node names', (j) => { j.modelTopology.node[2].name = 'conv/filter'; }],
    ['weights listed twice', (j) => { j.weightsManifest[0].weights.push(j.weightsManifest[0].weights[0]); }],
    ['shard truncated', (_j, d) => { fs.truncateSync(path.join(d, SHARD), 100); }],
    ['shard empty', (_j, d) => { fs.truncateSync(path.join(d, SHARD), 0); }],
    ['shard extended', (_j, d) => { fs.appendFileSync(path.join(d, SHARD), new Uint8Array(1000)); }],
    ['NaN weights', (_j, d) => { fs.writeFileSync(path.join(d, SHARD), new Uint8Array(new Float32Array(112).fill(NaN).buffer)); }],
    ['json truncated', (_j, d) => { const p = path.join(d, 'model.json'); fs.truncateSync(p, 300); }],
    ['json is an array', (_j, d) => { fs.writeFileSync(path.join(d, 'model.json'), '[]'); }],
    ['json 5 MB of spaces', (_j, d) => { fs.writeFileSync(path.join(d, 'model.json'), ' '.repeat(5e6)); }],
    ['json nested 100000 deep', (_j, d) => { fs.writeFileSync(path.join(d, 'model.json'), '['.repeat(100000)); }],
  ];
  const randomEdits = Math.round(20 * scale);
  for (let i = 0; i < edits.length + randomEdits; i++) {
    const tiny = writeTinyGraphModel(fs.mkdtempSync(path.join(w.root, 'tiny-mut-')));
    const json = structuredClone(tiny.json);
    let name: string;
    if (i < edits.length) {
      name = edits[i][0];
      edits[i][1](json, tiny.dir);
      if (!/^(json|shard)/.test(name) && name !== 'NaN weights') fs.writeFileSync(tiny.jsonPath, JSON.stringify(json));
    } else {
      // A random JSON value swapped in for a random leaf.
      name = `random leaf edit ${i - edits.length}`;
      const text = JSON.stringify(json);
      const leaves = [...text.matchAll(/:("[^"]*"|-?\d+(\.\d+)?|true|false|null)/g)];
      const m = leaves[Math.floor(rnd() * leaves.length)];
      const value = ['null', '"x"', '-1', '1e308', '[]', '{}', '0', '"DT_INT64"'][Math.floor(rnd() * 8)];
      fs.writeFileSync(tiny.jsonPath, text.slice(0, m.index! + 1) + value + text.slice(m.index! + m[0].length));
    }
    const o = w.outDir();
    w.add({ category: 'mutated models', name: `model.json: ${name}`, argv: ['quantize', tiny.dir, '--calib', calib, '-n', '2', '-o', path.join(o, 'm.tflite')], expect: 'either', names: [tiny.dir], watchDirs: [o], outputs: ['m.tflite'] });
  }
}

/** Careless input: wrong option values, negative numbers, missing files, wrong extensions. */
function careless(w: CaseWriter, calib: string): void {
  const tiny = writeTinyGraphModel(fs.mkdtempSync(path.join(w.root, 'tiny-careless-')));
  const jpg = path.join(calib, fs.readdirSync(calib)[0]);
  const q = (...extra: string[]) => {
    const o = w.outDir();
    return { argv: ['quantize', tiny.dir, '--calib', calib, '-o', path.join(o, 'm.tflite'), ...extra], watchDirs: [o] };
  };
  const options: [string, string][] = [
    ['--method', 'mean'], ['--method', ''], ['--num', '-3'], ['--num', '0'], ['--num', 'abc'], ['--num', '1e400'], ['--num', '2.5'],
    ['--input-type', 'int4'], ['--output-type', 'float64'], ['--precision', 'int32'], ['--input-range', '1,0'], ['--input-range', 'a,b'],
    ['--input-range', '0'], ['--input-shape', '1,-8,8,3'], ['--input-shape', '1,8,8'], ['--input-shape', '1,99999999,99999999,3'],
    ['--head', 'drop'], ['--head-cut', 'nonsense'], ['--bias-correction', 'always'], ['--bias-samples', '-1'], ['--rounding-samples', '-4'],
    ['--backend', 'cuda'], ['--max-drop', '-5'], ['--max-drop', 'NaN'], ['--min-sqnr', 'x'], ['--outputs', 'not_a_tensor'], ['--outputs', ','],
    ['--names', 'klingon'], ['--frobnicate', '1'],
  ];
  for (const [opt, value] of options) {
    w.add({ category: 'careless input', name: `quantize ${opt} ${JSON.stringify(value)}`, ...q(opt, value), expect: 'error', names: [opt, value || opt] });
  }
  for (const [opt, value] of [['--conf', '-1'], ['--conf', '2'], ['--iou', 'x'], ['--iou', '-0.5'], ['--conf', '']] as const) {
    w.add({ category: 'careless input', name: `detect ${opt} ${JSON.stringify(value)}`, argv: ['detect', YOLO, jpg, '--no-save', opt, value], expect: 'error', names: [opt] });
  }
  for (const [opt, value] of [['--offset', '-2'], ['--limit', '-1'], ['--limit', 'all'], ['--offset', '1e12']] as const) {
    w.add({ category: 'careless input', name: `eval ${opt} ${value}`, argv: ['eval', YOLO, '--data', calib, opt, value], expect: 'error', names: [opt] });
  }
  const missing = path.join(w.root, 'missing', 'nothing.tflite');
  const txt = w.file('careless/notes.txt', 'hello\n');
  const asJson = w.file('careless/model.json', '{"hello": 1}');
  const emptyDir = path.join(w.root, 'careless/empty');
  fs.mkdirSync(emptyDir);
  const wrong: [string, string[], string][] = [
    ['check a missing file', ['check', missing], missing],
    ['inspect a missing file', ['inspect', missing], missing],
    ['detect a missing image', ['detect', YOLO, path.join(calib, 'nope.jpg'), '--no-save'], 'nope.jpg'],
    ['check a jpeg', ['check', jpg], jpg],
    ['inspect a text file', ['inspect', txt], txt],
    ['detect with a text file as image', ['detect', YOLO, txt, '--no-save'], txt],
    ['detect with the model as image', ['detect', YOLO, YOLO, '--no-save'], YOLO],
    ['detect with a jpeg as model', ['detect', jpg, jpg, '--no-save'], jpg],
    ['eval a jpeg', ['eval', jpg, '--data', calib], jpg],
    ['eval an empty dataset', ['eval', YOLO, '--data', emptyDir], emptyDir],
    ['eval a missing dataset', ['eval', YOLO, '--data', missing], missing],
    ['check a directory', ['check', emptyDir], emptyDir],
    ['check with no file', ['check'], 'check'],
    ['unknown command', ['quantise', tiny.dir], 'quantise'],
  ];
  for (const [name, argv, named] of wrong) w.add({ category: 'careless input', name, argv, expect: 'error', names: [named] });
  const qWrong: [string, string, string[]][] = [
    ['quantize a missing model', missing, ['--calib', calib]],
    ['quantize a jpeg', jpg, ['--calib', calib]],
    ['quantize a json that is no model', asJson, ['--calib', calib]],
    ['quantize an empty folder', emptyDir, ['--calib', calib]],
    ['calib a missing folder', tiny.dir, ['--calib', path.join(w.root, 'no-images')]],
    ['calib an empty folder', tiny.dir, ['--calib', emptyDir]],
    ['calib a .tflite', tiny.dir, ['--calib', YOLO]],
    ['calib a text file of missing images', tiny.dir, ['--calib', w.file('careless/list.txt', 'a.jpg\nb.jpg\n')]],
    ['calib a glob matching nothing', tiny.dir, ['--calib', path.join(calib, '*.png')]],
    ['calib a yaml with no path', tiny.dir, ['--calib', w.file('careless/data.yaml', 'names: [a, b]\n')]],
    ['calib a yaml with path: /', tiny.dir, ['--calib', w.file('careless/root.yaml', 'path: /\ntrain: .\nval: .\n')]],
    ['recipe missing', tiny.dir, ['--calib', calib, '--recipe', missing]],
    ['recipe not json', tiny.dir, ['--calib', calib, '--recipe', txt]],
    ['recipe with an unknown precision', tiny.dir, ['--calib', calib, '--recipe', w.file('careless/recipe.json', '{"precision":"int3"}')]],
    ['no --calib', tiny.dir, []],
  ];
  for (const [name, model, extra] of qWrong) {
    const o = w.outDir();
    const named = extra.at(-1) === calib || !extra.length ? model : extra.at(-1)!;
    w.add({ category: 'careless input', name, argv: ['quantize', model, ...extra, '-o', path.join(o, 'm.tflite')], expect: 'error', names: [named, '--calib'], watchDirs: [o] });
  }
}

/** Output clobbering: -o onto the source, into the source folder, onto a directory, a FIFO, /dev/null. */
function clobbering(w: CaseWriter, calib: string): void {
  const jpg = path.join(calib, fs.readdirSync(calib)[0]);
  const fresh = () => writeTinyGraphModel(fs.mkdtempSync(path.join(w.root, 'tiny-clobber-')));
  const add = (name: string, out: (t: ReturnType<typeof fresh>) => string, extra: (t: ReturnType<typeof fresh>) => string[] = () => [], expect: 'error' | 'either' = 'error') => {
    const t = fresh();
    const o = out(t);
    const more = extra(t);
    const named = more.length ? [more.at(-1)!] : [o, path.basename(o)];
    w.add({ category: 'output clobbering', name, argv: ['quantize', t.dir, '--calib', calib, '-n', '2', '-o', o, ...more], expect, names: named, watchDirs: [t.dir], outputs: [path.basename(o)] });
  };
  add('-o the source model.json', (t) => t.jsonPath);
  add('-o the source weights shard', (t) => path.join(t.dir, SHARD));
  add('-o the source folder', (t) => t.dir);
  add('-o a new file inside the source folder', (t) => path.join(t.dir, 'int8.tflite'), () => [], 'either');
  add('-o an existing directory', () => { const d = path.join(w.outDir(), 'dir.tflite'); fs.mkdirSync(d); return d; });
  add('-o a FIFO', () => { const p = path.join(w.outDir(), 'fifo.tflite'); execFileSync('mkfifo', [p]); return p; });
  add('-o /dev/null', () => '/dev/null');
  add('-o a symlink to /dev/zero', () => { const p = path.join(w.outDir(), 'zero.tflite'); fs.symlinkSync('/dev/zero', p); return p; });
  add('-o into a missing folder', () => path.join(w.root, 'no', 'such', 'dir', 'm.tflite'));
  add('-o into a file used as folder', () => path.join(w.file('clobber/file', 'x'), 'm.tflite'));
  add('--report into a missing folder', () => path.join(w.outDir(), 'm.tflite'), () => ['--report', path.join(w.root, 'none', 'r.json')]);
  add('--report onto the source model.json', () => path.join(w.outDir(), 'm.tflite'), (t) => ['--report', t.jsonPath]);
  add('--report onto a directory', () => path.join(w.outDir(), 'm.tflite'), () => ['--report', w.outDir()]);
  const same = path.join(w.outDir(), 'same.tflite');
  add('--report equal to -o', () => same, () => ['--report', same]);
  const tflite = w.file('clobber/src.tflite', fs.readFileSync(YOLO));
  const dOut = w.outDir();
  w.add({ category: 'output clobbering', name: 'detect -o onto its own image', argv: ['detect', YOLO, w.file('clobber/own.jpg', fs.readFileSync(jpg)), '-o', path.join(w.root, 'clobber/own.jpg')], expect: 'error', names: ['own.jpg'], watchDirs: [dOut, path.join(w.root, 'clobber')] });
  w.add({ category: 'output clobbering', name: 'detect -o onto the model', argv: ['detect', tflite, jpg, '-o', tflite], expect: 'error', names: ['src.tflite'], watchDirs: [dOut, path.dirname(tflite)] });
  w.add({ category: 'output clobbering', name: 'detect -o a directory', argv: ['detect', YOLO, jpg, '-o', dOut], expect: 'error', names: [dOut], watchDirs: [dOut] });
  w.add({ category: 'output clobbering', name: 'detect -o /dev/null', argv: ['detect', YOLO, jpg, '-o', '/dev/null'], expect: 'error', names: ['/dev/null'] });
  const ro = w.outDir();
  fs.chmodSync(ro, 0o555);
  const t = fresh();
  w.add({ category: 'output clobbering', name: 'analyze --chart into a read-only folder', argv: ['analyze', t.dir, '--calib', calib, '-n', '2', '--chart', path.join(ro, 'c.png')], expect: process.getuid?.() === 0 ? 'either' : 'error', names: ['c.png'], watchDirs: [ro], outputs: ['c.png'] });
}

/**
 * Values a model or dataset cannot have, which once gave a silently wrong result: conv weights retyped
 * to uint8 in a full-integer source (mAP 0), label class ids beyond the model's 80 classes.
 */
function impossibleValues(w: CaseWriter, calib: string): void {
  const model = readTflite(new Uint8Array(fs.readFileSync(YOLO)), { label: YOLO });
  const sg = model.subgraphs[0];
  const convs = sg.operators.filter((op) => builtinOperatorName(model.operatorCodes[op.opcodeIndex].builtinCode) === 'CONV_2D');
  for (const k of [0, convs.length - 1]) {
    const weights = sg.tensors[convs[k].inputs[1]];
    const type = weights.type;
    weights.type = TensorType.UINT8;
    const f = w.file(`impossible/uint8-conv-${k}.tflite`, writeTflite(model, { addMinRuntimeVersion: false }));
    weights.type = type;
    const o = w.outDir();
    w.add({ category: 'impossible values', name: `uint8 weights of conv ${k} (quantize)`, argv: ['quantize', f, '--calib', calib, '-o', path.join(o, 'm.tflite')], expect: 'error', names: [f], watchDirs: [o] });
  }
  for (const classId of [80, 1000, 4000000000]) {
    const ds = path.join(w.root, 'impossible', `labels-${classId}`);
    fs.mkdirSync(path.join(ds, 'images'), { recursive: true });
    fs.mkdirSync(path.join(ds, 'labels'));
    const img = fs.readdirSync(calib).sort()[0];
    fs.copyFileSync(path.join(calib, img), path.join(ds, 'images', img));
    const label = w.file(path.relative(w.root, path.join(ds, 'labels', img.replace(/\.\w+$/, '.txt'))), `0 0.5 0.5 0.2 0.2\n${classId} 0.5 0.5 0.1 0.1\n`);
    w.add({ category: 'impossible values', name: `label class id ${classId} of 80 (eval)`, argv: ['eval', YOLO, '--data', ds], expect: 'error', names: [`${label}:2`] });
  }
}

/** Every case, its files written under `root`; `scale` sizes the random (mutated) part. */
export function buildHostileCases(root: string, scale: number): HostileCase[] {
  const w = new CaseWriter(root);
  const calib = path.join(root, 'calib');
  fs.mkdirSync(calib);
  for (const f of fs.readdirSync(COCO).sort().slice(0, 3)) fs.copyFileSync(path.join(COCO, f), path.join(calib, f));
  specialFiles(w, calib);
  bombs(w, calib);
  busyLoops(w, calib);
  careless(w, calib);
  clobbering(w, calib);
  mutatedModels(w, calib, scale);
  impossibleValues(w, calib);
  return w.cases;
}
