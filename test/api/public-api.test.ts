// The public API is what lib/index.ts exports, and README.md says what that is. The convention:
// README's `## API` section opens with the complete list as two code blocks' statements,
// `import { ... } from 'yolo-int8'` (values) and `import type { ... } from 'yolo-int8'` (types). This
// file fails both ways: an export the list lacks, a listed name the package does not export, a listed
// name the API section never describes in its text (a code span holding the name), and any
// `import ... from 'yolo-int8'` in the README's examples that names something not exported.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from '../support/fixtures.js';

const INDEX = path.join(REPO_ROOT, 'lib/index.ts');
const README = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

/** The names lib/index.ts exports, split into values and types, read from its syntax. */
function declaredExports(): { values: string[]; types: string[] } {
  const src = ts.createSourceFile(INDEX, fs.readFileSync(INDEX, 'utf8'), ts.ScriptTarget.Latest, true);
  const values: string[] = [];
  const types: string[] = [];
  for (const st of src.statements) {
    if (ts.isExportDeclaration(st)) {
      if (!st.exportClause || !ts.isNamedExports(st.exportClause)) throw new Error(`lib/index.ts: 'export *' hides what is public; name the exports`);
      for (const el of st.exportClause.elements) (st.isTypeOnly || el.isTypeOnly ? types : values).push(el.name.text);
    } else if (ts.canHaveModifiers(st) && ts.getModifiers(st)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) {
      throw new Error(`lib/index.ts: only re-exports belong here (line ${src.getLineAndCharacterOfPosition(st.getStart()).line + 1})`);
    }
  }
  return { values: values.sort(), types: types.sort() };
}

/** The `## API` section of the README: from its heading to the next `## ` heading. */
function apiSection(): string {
  const start = README.search(/^## API$/m);
  if (start < 0) throw new Error('README.md has no "## API" section');
  const rest = README.slice(start + 1);
  const end = rest.search(/^## /m);
  return end < 0 ? rest : rest.slice(0, end);
}

/** Every `import [type] { a, b, ... } from 'yolo-int8'` in `text` (comments inside the braces allowed). */
function importsFromPackage(text: string): { typeOnly: boolean; names: string[] }[] {
  const out: { typeOnly: boolean; names: string[] }[] = [];
  for (const m of text.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s*from\s*['"]yolo-int8['"]/g)) {
    const names = m[2]
      .replace(/\/\/[^\n]*/g, '')
      .split(',')
      .map((n) => n.trim().replace(/^type\s+/, ''))
      .filter((n) => n.length > 0);
    for (const n of names) if (!/^[A-Za-z_$][\w$]*$/.test(n)) throw new Error(`README.md: '${n}' in an import from 'yolo-int8' is not a plain name`);
    out.push({ typeOnly: m[1] !== undefined, names });
  }
  return out;
}

/** Code spans of `text` outside fenced code blocks. */
function proseCodeSpans(text: string): string[] {
  const prose = text.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '');
  return [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);
}

const sorted = (a: Iterable<string>) => [...new Set(a)].sort();
const missing = (want: string[], have: string[]) => want.filter((n) => !have.includes(n));

describe('public API (lib/index.ts <-> README.md)', () => {
  const declared = declaredExports();
  const listed = importsFromPackage(apiSection());
  const listedValues = sorted(listed.filter((i) => !i.typeOnly).flatMap((i) => i.names));
  const listedTypes = sorted(listed.filter((i) => i.typeOnly).flatMap((i) => i.names));

  it('lib/index.ts exports at runtime exactly the values it declares', async () => {
    const runtime = Object.keys(await import('../../lib/index.js')).sort();
    expect(runtime).to.deep.equal(declared.values);
  });

  it('the API section lists every exported value and nothing else', () => {
    expect(listedValues, 'no `import { ... } from \'yolo-int8\'` in the API section').to.not.be.empty;
    expect(missing(declared.values, listedValues), 'exported by lib/index.ts, not listed in README.md\'s API section').to.deep.equal([]);
    expect(missing(listedValues, declared.values), 'listed in README.md\'s API section, not exported by lib/index.ts').to.deep.equal([]);
  });

  it('the API section lists every exported type and nothing else', () => {
    expect(missing(declared.types, listedTypes), 'type exported by lib/index.ts, not in README.md\'s `import type` list').to.deep.equal([]);
    expect(missing(listedTypes, declared.types), 'type in README.md\'s `import type` list, not exported by lib/index.ts').to.deep.equal([]);
  });

  it('the API section describes every listed name in its text', () => {
    const spans = proseCodeSpans(apiSection());
    const described = (name: string) => spans.some((s) => new RegExp(`(^|[^\\w$.])${name.replace(/\$/g, '\\$')}\\b`).test(s));
    expect([...listedValues, ...listedTypes].filter((n) => !described(n)), 'listed but never named in a code span of the API section').to.deep.equal([]);
  });

  it('every import from \'yolo-int8\' in the README names exported things', () => {
    const all = importsFromPackage(README);
    expect(all.length).to.be.greaterThan(listed.length);
    const bad = all.flatMap((i) => i.names.filter((n) => !(i.typeOnly ? [...declared.types, ...declared.values] : declared.values).includes(n)));
    expect(bad, 'imported from \'yolo-int8\' in README.md, not exported').to.deep.equal([]);
  });

  it('stays small', () => {
    expect(declared.values.length + declared.types.length).to.be.at.most(80);
  });
});
