// Small hand-written TF.js graph models to corrupt, and the assertions the robustness tests share.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { quantizeInt8, type QuantizeInt8Options } from '../../lib/yolo/quantize.js';
import { writeFileAtomic } from '../../lib/util/fs.js';
import { mulberry32 } from '../../lib/util/random.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = path.resolve(REPO_ROOT, '../shared/fixtures');

/** Deterministic uniform [0, 1) generator (mulberry32), so every failure is reproducible. */
export const prng = mulberry32;

export const TINY = { h: 8, w: 8, c: 3, outC: 4 };
export const SHARD = 'group1-shard1of1.bin';

export interface TinyModel {
  dir: string;
  json: Record<string, any>;
  weights: Float32Array;
  jsonPath: string;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

export function tempDir(prefix = 'robust-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * x [1,8,8,3] -> _FusedConv2D(3x3x3x4, SAME, BiasAdd) -> Sigmoid, as the TF.js converter writes it:
 * model.json (graph-model) + one float32 shard holding the filter then the bias.
 */
export function writeTinyGraphModel(dir = tempDir(), seed = 1): TinyModel {
  const rnd = prng(seed);
  const filter = Float32Array.from({ length: 3 * 3 * TINY.c * TINY.outC }, () => (rnd() - 0.5) * 0.8);
  const bias = Float32Array.from({ length: TINY.outC }, () => (rnd() - 0.5) * 0.2);
  const weights = new Float32Array(filter.length + bias.length);
  weights.set(filter);
  weights.set(bias, filter.length);
  const json = {
    format: 'graph-model',
    generatedBy: 'hand',
    convertedBy: 'test/robustness',
    modelTopology: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: String(TINY.h) }, { size: String(TINY.w) }, { size: String(TINY.c) }] } } } },
        { name: 'conv/filter', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' } } },
        { name: 'conv/bias', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' } } },
        {
          name: 'conv', op: '_FusedConv2D', input: ['x', 'conv/filter', 'conv/bias'],
          attr: {
            T: { type: 'DT_FLOAT' }, data_format: { s: b64('NHWC') }, padding: { s: b64('SAME') },
            strides: { list: { i: ['1', '1', '1', '1'] } }, dilations: { list: { i: ['1', '1', '1', '1'] } },
            fused_ops: { list: { s: [b64('BiasAdd')] } }, num_args: { i: '1' }, epsilon: { f: 0 },
          },
        },
        { name: 'Identity', op: 'Sigmoid', input: ['conv'], attr: { T: { type: 'DT_FLOAT' } } },
      ],
      library: {},
      versions: { producer: 1 },
    },
    signature: { inputs: { x: { name: 'x:0' } }, outputs: { Identity: { name: 'Identity:0' } } },
    weightsManifest: [
      {
        paths: [SHARD],
        weights: [
          { name: 'conv/filter', shape: [3, 3, TINY.c, TINY.outC], dtype: 'float32' },
          { name: 'conv/bias', shape: [TINY.outC], dtype: 'float32' },
        ],
      },
    ],
  };
  const jsonPath = path.join(dir, 'model.json');
  fs.writeFileSync(jsonPath, JSON.stringify(json));
  fs.writeFileSync(path.join(dir, SHARD), new Uint8Array(weights.buffer));
  return { dir, json, weights, jsonPath };
}

export function rewriteJson(m: TinyModel, edit: (json: Record<string, any>) => void): void {
  const json = structuredClone(m.json);
  edit(json);
  fs.writeFileSync(m.jsonPath, JSON.stringify(json));
}

/** Calibration inputs for the tiny model: `n` deterministic [1,8,8,3] arrays in [0, 1). */
export function tinyInputs(n: number, seed = 7): Float32Array[] {
  const rnd = prng(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: TINY.h * TINY.w * TINY.c }, rnd));
}

/**
 * The library's quantize-to-file path: quantizeInt8, then writeFileAtomic (what the CLI does).
 * Returns the bytes written.
 */
export async function quantizeToFile(model: Parameters<typeof quantizeInt8>[0], out: string, options: QuantizeInt8Options): Promise<Uint8Array> {
  const { tflite } = await quantizeInt8(model, options);
  await writeFileAtomic(out, tflite);
  return tflite;
}

/** Awaits `fn`, which must reject with an Error whose message matches every pattern. */
export async function expectError(fn: () => Promise<unknown> | unknown, ...patterns: (RegExp | string)[]): Promise<Error> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected an error').to.be.instanceOf(Error);
  const msg = (err as Error).message;
  for (const p of patterns) {
    if (typeof p === 'string') expect(msg).to.include(p);
    else expect(msg).to.match(p);
  }
  return err as Error;
}

/** Files in `dir` besides the given names (a leftover output or temporary file shows up here). */
export function extraFiles(dir: string, expected: string[]): string[] {
  return fs.readdirSync(dir).filter((f) => !expected.includes(f));
}
