// The layout's one rule: every import in lib/ runs down a floor (or stays in its own folder). The
// generic core (quantize and everything below it) never imports the task layer (yolo) above it:
// what YOLO knows reaches the core as data through the plug-in hooks (lib/quantize/plugin.ts).
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';

const LIB = path.resolve(import.meta.dirname, '../../lib');

/** Floors from the top; a file may import its own folder and any floor below its own. */
export const FLOORS: readonly (readonly string[])[] = [
  ['index.ts'],
  ['cli'],
  ['demo'],
  ['yolo'],
  ['quantize'],
  ['graph'],
  ['runtime'],
  ['tflite'],
  ['ops'],
  ['calibrate', 'pipeline'],
  ['int8', 'ir', 'util'],
];

function floorOf(rel: string): number {
  const top = rel.split('/')[0];
  const i = FLOORS.findIndex((f) => f.includes(top));
  if (i < 0) throw new Error(`lib/${rel} is in no floor: add its folder to FLOORS`);
  return i;
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

/** Every relative module a file names: static and dynamic imports, `export ... from`, `import type`. */
export function importsOf(source: string): string[] {
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (let m = re.exec(source); m; m = re.exec(source)) out.push(m[1]);
  return out;
}

describe('architecture: floors import only downward', () => {
  it('parses the import forms used in lib/', () => {
    const src = "import a from './a.js';\nimport type { B } from '../b/b.js';\nexport { c } from './c.js';\nconst d = await import('../d.js');\nimport './side.js';";
    expect(importsOf(src)).to.deep.equal(['./a.js', '../b/b.js', './c.js', '../d.js', './side.js']);
  });

  it('every import in lib/ stays in its folder or goes down a floor', () => {
    const violations: string[] = [];
    for (const file of filesUnder(LIB)) {
      const rel = path.relative(LIB, file).split(path.sep).join('/');
      const from = floorOf(rel);
      for (const spec of importsOf(fs.readFileSync(file, 'utf8'))) {
        const target = path.relative(LIB, path.resolve(path.dirname(file), spec)).split(path.sep).join('/');
        if (target.startsWith('..')) continue; // schema/generated: below everything
        const sameFolder = target.split('/')[0] === rel.split('/')[0];
        if (!sameFolder && floorOf(target) <= from) violations.push(`lib/${rel} imports lib/${target.replace(/\.js$/, '.ts')} (floor ${FLOORS[floorOf(target)].join('/')} is not below ${FLOORS[from].join('/')})`);
      }
    }
    expect(violations, violations.join('\n')).to.deep.equal([]);
  });

  it('the generic core names no model family', () => {
    const core = ['quantize', 'graph', 'runtime', 'ops', 'calibrate', 'pipeline', 'tflite', 'int8', 'ir', 'util'];
    const hits: string[] = [];
    for (const dir of core) {
      for (const file of filesUnder(path.join(LIB, dir))) {
        // Code only: comments may say what a rule was measured on.
        const text = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
        for (const word of ['yolov5', 'yolov8', 'yolo11', 'YoloHead', '5+classes', '5 + classes']) {
          if (text.toLowerCase().includes(word.toLowerCase())) hits.push(`${path.relative(LIB, file)}: '${word}'`);
        }
      }
    }
    expect(hits, hits.join('\n')).to.deep.equal([]);
  });
});
