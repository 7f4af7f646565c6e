#!/usr/bin/env node
// Regenerates schema/generated/ from schema/tflite.fbs:
//  1. `flatc --ts --gen-object-api` (flatc 2.0.8, npm flatbuffers 2.0.7) into schema/generated/;
//  2. rewrites relative imports to end in `.js`, as NodeNext ESM resolution requires;
//  3. writes schema/generated/layout.ts, a plain description of every enum, union and table
//     (field slots, types, defaults) that lib/tflite's bounds-checked reader and writer are driven by.
// Usage: npm run schema  (needs `flatc` on PATH or FLATC=/path/to/flatc).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fbsPath = path.join(root, 'schema', 'tflite.fbs');
const outDir = path.join(root, 'schema', 'generated');
const flatc = process.env.FLATC ?? 'flatc';

fs.rmSync(outDir, { recursive: true, force: true });
fs.mkdirSync(outDir, { recursive: true });
execFileSync(flatc, ['--ts', '--gen-object-api', '-o', outDir, fbsPath], { stdio: 'inherit' });

// --- 2. ESM import paths -------------------------------------------------------------------------
function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]);
}
let patched = 0;
for (const file of walk(outDir).filter((f) => f.endsWith('.ts'))) {
  const src = fs.readFileSync(file, 'utf8');
  const out = src.replace(/(from\s+')(\.{1,2}\/[^']+?)(')/g, (m, a, p, b) => (p.endsWith('.js') ? m : `${a}${p}.js${b}`));
  if (out !== src) { fs.writeFileSync(file, out); patched++; }
}

// --- 3. layout.ts ---------------------------------------------------------------------------------
const SCALAR_SIZE = {
  bool: 1, byte: 1, ubyte: 1, int8: 1, uint8: 1, short: 2, ushort: 2, int16: 2, uint16: 2,
  int: 4, uint: 4, int32: 4, uint32: 4, float: 4, float32: 4, long: 8, ulong: 8, int64: 8, uint64: 8, double: 8, float64: 8,
};
const CANON = { int8: 'byte', uint8: 'ubyte', int16: 'short', uint16: 'ushort', int32: 'int', uint32: 'uint', int64: 'long', uint64: 'ulong', float32: 'float', float64: 'double' };
const canon = (t) => CANON[t] ?? t;

const text = fs.readFileSync(fbsPath, 'utf8').replace(/\/\/[^\n]*/g, '');
const enums = {};
const unions = {};
const tables = {};
const blockRe = /\b(enum|union|table)\s+(\w+)\s*(?::\s*(\w+))?\s*(?:\([^)]*\))?\s*\{([^}]*)\}/g;
for (const m of text.matchAll(blockRe)) {
  const [, kind, name, underlying, body] = m;
  if (kind === 'enum') {
    let next = 0;
    const values = [];
    for (const item of body.split(',').map((s) => s.trim()).filter(Boolean)) {
      const mm = /^(\w+)\s*(?:=\s*(-?\d+))?/.exec(item);
      const v = mm[2] !== undefined ? Number(mm[2]) : next;
      values.push([mm[1], v]);
      next = v + 1;
    }
    enums[name] = { underlying: canon(underlying), values };
  } else if (kind === 'union') {
    unions[name] = body.split(',').map((s) => s.replace(/\([^)]*\)/g, '').trim()).filter(Boolean);
  } else {
    tables[name] = body.split(';').map((s) => s.trim()).filter(Boolean);
  }
}
const layoutTables = {};
for (const [name, items] of Object.entries(tables)) {
  const fields = [];
  let slot = 0;
  for (const item of items) {
    const mm = /^(\w+)\s*:\s*(\[?)\s*(\w+)\s*\]?\s*(?:=\s*([\w.-]+))?\s*(?:\(([^)]*)\))?$/.exec(item.replace(/\s+/g, ' '));
    if (!mm) throw new Error(`gen-schema: cannot parse field '${item}' in table ${name}`);
    const [, fname, isVec, rawType, rawDefault, attrs = ''] = mm;
    const type = canon(rawType);
    const deprecated = /\bdeprecated\b/.test(attrs);
    const align = /force_align\s*:\s*(\d+)/.exec(attrs)?.[1];
    const f = { name: fname, slot, deprecated };
    const describeType = (t) => {
      if (SCALAR_SIZE[t]) return { kind: 'scalar', type: t };
      if (t === 'string') return { kind: 'string' };
      if (enums[t]) return { kind: 'scalar', type: enums[t].underlying, enum: t };
      if (unions[t]) return { kind: 'union', union: t };
      if (tables[t]) return { kind: 'table', table: t };
      throw new Error(`gen-schema: unknown type ${t} in ${name}.${fname}`);
    };
    const d = describeType(type);
    if (isVec) {
      if (d.kind === 'union') throw new Error(`gen-schema: vectors of unions are not supported (${name}.${fname})`);
      f.kind = 'vector';
      f.elem = d;
      if (align) f.align = Number(align);
    } else if (d.kind === 'union') {
      // A union field takes two slots: the ubyte type tag first, then the table offset.
      f.kind = 'union';
      f.union = d.union;
      f.slot = slot + 1;
      slot++;
    } else {
      Object.assign(f, d);
      if (d.kind === 'scalar') {
        let def = 0;
        if (rawDefault !== undefined) {
          if (rawDefault === 'true' || rawDefault === 'false') def = rawDefault === 'true' ? 1 : 0;
          else if (/^-?[\d.]+$/.test(rawDefault)) def = Number(rawDefault);
          else {
            const ev = d.enum && enums[d.enum].values.find(([n]) => n === rawDefault);
            if (!ev) throw new Error(`gen-schema: unknown default ${rawDefault} for ${name}.${fname}`);
            def = ev[1];
          }
        }
        f.default = def;
      }
    }
    fields.push(f);
    slot++;
  }
  layoutTables[name] = fields;
}
const rootType = /root_type\s+(\w+)/.exec(text)[1];
const fileIdentifier = /file_identifier\s+"(\w+)"/.exec(text)[1];

const banner = '// automatically generated by scripts/gen-schema.mjs from schema/tflite.fbs, do not modify\n';
const lines = [
  banner,
  '/** Scalar field types (flatbuffers base type names). */',
  "export type ScalarType = 'bool' | 'byte' | 'ubyte' | 'short' | 'ushort' | 'int' | 'uint' | 'float' | 'long' | 'ulong' | 'double';",
  'export type ElemLayout = { kind: \'scalar\'; type: ScalarType; enum?: string } | { kind: \'string\' } | { kind: \'table\'; table: string };',
  'export type FieldLayout =',
  "  | { name: string; slot: number; deprecated: boolean; kind: 'scalar'; type: ScalarType; enum?: string; default: number }",
  "  | { name: string; slot: number; deprecated: boolean; kind: 'string' }",
  "  | { name: string; slot: number; deprecated: boolean; kind: 'table'; table: string }",
  "  | { name: string; slot: number; deprecated: boolean; kind: 'union'; union: string }",
  "  | { name: string; slot: number; deprecated: boolean; kind: 'vector'; elem: ElemLayout; align?: number };",
  '',
  `export const ROOT_TYPE = ${JSON.stringify(rootType)};`,
  `export const FILE_IDENTIFIER = ${JSON.stringify(fileIdentifier)};`,
  '',
  '/** Enums: underlying scalar type and [name, value] pairs in schema order. */',
  `export const ENUMS: Record<string, { underlying: ScalarType; values: [string, number][] }> = ${JSON.stringify(enums, null, 1)};`,
  '',
  '/** Unions: member table names; the type id of members[i] is i + 1 (0 = NONE). */',
  `export const UNIONS: Record<string, string[]> = ${JSON.stringify(unions, null, 1)};`,
  '',
  '/** Tables: fields in declaration order; `slot` is the vtable slot (the vtable entry is at 4 + 2*slot). */',
  `export const TABLES: Record<string, FieldLayout[]> = ${JSON.stringify(layoutTables)};`,
  '',
];
fs.writeFileSync(path.join(outDir, 'layout.ts'), lines.join('\n').replace(/\n +/g, (s) => s));
console.log(`gen-schema: flatc output in ${path.relative(root, outDir)} (${patched} files patched for ESM), layout.ts: ${Object.keys(enums).length} enums, ${Object.keys(unions).length} unions, ${Object.keys(layoutTables).length} tables`);
