// The op registry (lib/ops/registry.ts): one file per op is found, every claim (IR op, source op of
// each format, TFLite builtin) has exactly one owner, and what the writer and checker look up for a
// builtin comes from the op file that writes it.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { OP_DEFS, builtinSpec, getOpDef, importEntry, importableOps, indexDefs, knownBuiltins } from '../../lib/ops/registry.js';
import type { OpDef, OpSignature, TensorDType } from '../../lib/ops/types.js';
import { opVersion } from '../../lib/tflite/operators.js';

const DEFS_DIR = path.resolve(import.meta.dirname, '../../lib/ops/defs');

/** A minimal op definition for the conflict tests (never run). */
function fakeDef(op: string, imports: OpDef['imports'], builtins?: OpDef['builtins']): OpDef {
  return { op, imports, inferShapes: (_n, shapes) => [shapes[0]], runFloat: (_tf, xs) => xs, ...(builtins ? { builtins } : {}) } as OpDef;
}

describe('op registry', () => {
  it('holds one op per file of lib/ops/defs', () => {
    const files = fs.readdirSync(DEFS_DIR).filter((f) => f.endsWith('.ts'));
    expect(OP_DEFS.length).to.equal(files.length);
    expect(new Set(OP_DEFS.map((d) => d.op)).size).to.equal(files.length);
  });

  it('maps source ops of each format to the op file that imports them', () => {
    expect(importEntry('tfjsGraph', '_FusedConv2D')!.def.op).to.equal('Conv2D');
    expect(importEntry('tfjsGraph', 'Relu')!.def.op).to.equal('Relu');
    expect(importEntry('tfjsLayers', 'ReLU')!.def.op).to.equal('Relu');
    expect(importEntry('tflite', 'CONV_2D')!.def.op).to.equal('Conv2D');
    expect(importEntry('tflite', 'NOT_AN_OP')).to.equal(undefined);
    expect(importableOps('tflite')).to.include.members(['CONV_2D', 'DEPTHWISE_CONV_2D', 'RELU']);
    expect(() => getOpDef('NoSuchOp')).to.throw(/no op registry entry for IR op 'NoSuchOp'/);
  });

  it('knows every builtin it writes, with version rules that read the signature', () => {
    expect(knownBuiltins()).to.include.members(['QUANTIZE', 'DEQUANTIZE', 'CONV_2D', 'RELU']);
    // RELU's int16 kernel is version 3, int8 version 2, float version 1 (op_version.cc).
    const sig = (t: TensorDType): OpSignature => ({ inputs: [t], outputs: [t], inputRanks: [4], options: {}, inputScales: [], outputScales: [] });
    expect(opVersion('RELU', sig('int16'))).to.equal(3);
    expect(opVersion('RELU', sig('int8'))).to.equal(2);
    expect(opVersion('RELU', sig('float32'))).to.equal(1);
    expect(builtinSpec('RELU')!.runtime).to.deep.equal(['1.5.0', '2.1.0', '2.5.0']);
  });

  it('refuses two files claiming one IR op, source op or builtin, naming both', () => {
    const a = { file: 'a.ts', def: fakeDef('A', { tflite: { SAME: {} } }) };
    expect(() => indexDefs([a, { file: 'b.ts', def: fakeDef('A', {}) }])).to.throw(/IR op 'A' is claimed by lib\/ops\/defs\/a\.ts and lib\/ops\/defs\/b\.ts/);
    expect(() => indexDefs([a, { file: 'b.ts', def: fakeDef('B', { tflite: { SAME: {} } }) }])).to.throw(/tflite source op 'SAME' is claimed by .*a\.ts and .*b\.ts/);
    const spec = { version: () => 1, runtime: ['1.5.0'] };
    expect(() => indexDefs([{ file: 'c.ts', def: fakeDef('C', {}, { QUANTIZE: spec } as never) }])).to.throw(/TFLite builtin 'QUANTIZE' is claimed by .*conversions\.ts and .*c\.ts/);
    expect(indexDefs([a, { file: 'b.ts', def: fakeDef('B', { tfjsGraph: { SAME: {} } }) }]).imports.get('tfjsGraph')!.get('SAME')!.file).to.equal('b.ts');
  });
});
