// The op registry: every file in ./defs/ holds one IR op (lib/ops/types.ts OpDef) and is found here,
// so adding an op is adding one file. From the entries the registry derives what the importers, the
// TFLite writer and the checker look up: the import rule of each source op per format, and the facts
// of each TFLite builtin operator. Conflicts (two files claiming one IR op, source op or builtin)
// fail at load, naming both files.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BuiltinSpec, ImportEntry, OpDef, SourceFormat } from './types.js';
import { CONVERSION_BUILTINS } from './conversions.js';

const DEFS_DIR = fileURLToPath(new URL('./defs/', import.meta.url));
/** '.ts' when run from source (tsx), '.js' when compiled. */
const MODULE_EXT = path.extname(fileURLToPath(import.meta.url));

function isOpDef(x: unknown): x is OpDef {
  return typeof x === 'object' && x !== null && typeof (x as OpDef).op === 'string' && typeof (x as OpDef).inferShapes === 'function';
}

async function loadDefs(): Promise<{ file: string; def: OpDef }[]> {
  const files = fs.readdirSync(DEFS_DIR).filter((f) => f.endsWith(MODULE_EXT) && !f.endsWith(`.d${MODULE_EXT}`)).sort();
  const loaded = await Promise.all(files.map(async (file) => ({ file, module: (await import(pathToFileURL(path.join(DEFS_DIR, file)).href)) as Record<string, unknown> })));
  return loaded.map(({ file, module }) => {
    const defs = Object.values(module).filter(isOpDef);
    if (defs.length !== 1) throw new Error(`op registry: lib/ops/defs/${file} must export exactly one op definition, found ${defs.length}`);
    return { file, def: defs[0] };
  });
}

const LOADED = await loadDefs();

/** Every IR op, sorted by name. */
export const OP_DEFS: readonly OpDef[] = LOADED.map((l) => l.def).sort((a, b) => (a.op < b.op ? -1 : a.op > b.op ? 1 : 0));

/** A map from each key to its value and owner file; a key claimed twice throws naming both files. */
function uniqueTable<T>(what: string, rows: { key: string; value: T; file: string }[]): Map<string, { value: T; file: string }> {
  const m = new Map<string, { value: T; file: string }>();
  for (const r of rows) {
    const seen = m.get(r.key);
    if (seen) throw new Error(`op registry: ${what} '${r.key}' is claimed by lib/ops/defs/${seen.file} and lib/ops/defs/${r.file}`);
    m.set(r.key, { value: r.value, file: r.file });
  }
  return m;
}

type Owned<T> = Map<string, { value: T; file: string }>;

/** The registry's lookup tables, built from the loaded files (exported for the conflict tests). */
export function indexDefs(loaded: readonly { file: string; def: OpDef }[]): {
  byOp: Owned<OpDef>;
  imports: Map<SourceFormat, Owned<{ def: OpDef; entry: ImportEntry }>>;
  builtins: Owned<BuiltinSpec>;
} {
  const byOp = uniqueTable('IR op', loaded.map(({ file, def }) => ({ key: def.op, value: def, file })));
  const imports = new Map(
    (['tfjsGraph', 'tfjsLayers', 'tflite'] as const).map((format) => [
      format,
      uniqueTable(`${format} source op`, loaded.flatMap(({ file, def }) =>
        Object.entries(def.imports[format] ?? {}).map(([key, entry]) => ({ key, value: { def, entry }, file })))),
    ]),
  );
  const builtins = uniqueTable('TFLite builtin', [
    ...Object.entries(CONVERSION_BUILTINS).map(([key, value]) => ({ key, value, file: '../conversions.ts' })),
    ...loaded.flatMap(({ file, def }) => Object.entries(def.builtins ?? {}).map(([key, value]) => ({ key, value, file }))),
  ]);
  return { byOp, imports, builtins };
}

const { byOp: BY_OP, imports: IMPORTS, builtins: BUILTINS } = indexDefs(LOADED);

/** The registry entry of an IR op type; throws naming the op when there is none. */
export function getOpDef(op: string): OpDef {
  const d = BY_OP.get(op);
  if (!d) throw new Error(`no op registry entry for IR op '${op}' (known: ${[...BY_OP.keys()].join(', ')})`);
  return d.value;
}

/** The import rule for a source op of a format, with the IR op it belongs to. */
export function importEntry(format: SourceFormat, sourceOp: string): { def: OpDef; entry: ImportEntry } | undefined {
  return IMPORTS.get(format)!.get(sourceOp)?.value;
}

/** Every source op a format's importer converts. */
export function importableOps(format: SourceFormat): string[] {
  return [...IMPORTS.get(format)!.keys()].sort();
}

/** What the registry knows of a TFLite builtin operator (undefined: nothing). */
export function builtinSpec(name: string): BuiltinSpec | undefined {
  return BUILTINS.get(name)?.value;
}

/** Every builtin the registry knows. */
export function knownBuiltins(): string[] {
  return [...BUILTINS.keys()].sort();
}
