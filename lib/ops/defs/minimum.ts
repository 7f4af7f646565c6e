// Minimum (element-wise, numpy broadcasting): see maximum.ts (same kernel file, same shared-parameter
// rule). TF.js ClipByValue(x, lo, hi) imports as Minimum(x, hi) then Maximum(., lo), as TF writes
// clip_by_value itself.
import type { ImportContext, OpDef } from '../types.js';
import { maxMinDef } from './maximum.js';

function importClipByValue(c: ImportContext): void {
  const inner = `${c.name}/minimum`;
  const bound = (i: number) => {
    const v = c.constValues(i);
    if (v.length !== 1) throw c.error(`clip bound input ${i} must be a scalar constant`);
    return v[0];
  };
  c.emit('Minimum', [c.input(0)], { scalar: bound(2) }, { name: inner, outputs: [inner] });
  c.emit('Maximum', [inner], { scalar: bound(1) });
}

const def = maxMinDef('Minimum', 'MINIMUM', 'minimum');

export const Minimum: OpDef = { ...def, imports: { ...def.imports, tfjsGraph: { ...def.imports.tfjsGraph, ClipByValue: importClipByValue } } };
