// Helpers of the checker-vs-LiteRT fuzz (check-vs-litert.test.ts), kept apart so a failing file can be
// regenerated and rerun by hand. The checker agrees with LiteRT: a seeded corpus of mutated .tflite files (structured edits of tensor
// types, shapes, quantization, operator options, operand indices, operator codes and buffers, plus byte
// mutations) goes through `checkTflite` (lenient, as TfliteRunner.load runs it), and every file the
// checker accepts is loaded into LiteRT and run once on zero inputs in a child process
// (litert-worker.ts). Any file the checker accepts and LiteRT refuses, aborts or hangs on fails the test.
// Children: a refusal may leave the wasm runtime unusable, so a worker exits after one and a fresh
// worker takes the files that follow.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { writeTflite } from '../../lib/tflite/writer.js';
import { readTflite } from '../../lib/tflite/reader.js';
import type { TfliteModel, TfliteOperator, TfliteTensor } from '../../lib/tflite/model.js';
import { mulberry32 } from '../../lib/util/random.js';
import { REPO_ROOT } from '../support/fixtures.js';
import { handBuilt, mutate } from './mutate.js';
import { baseModel, int16Model } from './models.js';

type Rnd = () => number;
const pick = <T>(rnd: Rnd, a: readonly T[]): T => a[Math.floor(rnd() * a.length)];

const TYPES = [-1, 0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 16, 17, 18, 19, 40];
const DIMS = [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 16, 96, 65536, 2 ** 30];
const SCALES = [0, -0.1, 1e-45, 1e-30, 1e-9, 1 / 256, 1 / 128, 0.05, 0.1, 3, 1e30, 3.4e38];
const ZERO_POINTS = [-129, -128, -3, 0, 2, 127, 128, 255, 256, 40000];
const OPTION_VALUES = [-(2 ** 31), -7, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 100, 2 ** 31 - 1];
// Operator codes are damaged into values no builtin has; swapping in another real builtin gives an op
// whose every kernel rule the checker would have to restate (not a mutation a writer makes).
const UNKNOWN_BUILTINS = [250, 4096, -5];
const EDIT_KINDS = 17;
/** Scales of every magnitude a converter can write (all valid by themselves). */
const WIDE_SCALES = [1e-30, 1e-12, 1e-6, 1e-3, 1 / 255, 0.02, 0.5, 1, 7, 1e3, 1e6, 1e12, 1e30];

/** What an edit touches, as JSON per part (to describe the edit by the parts that changed). */
function snapshot(m: TfliteModel, t: TfliteTensor, op: TfliteOperator): Record<string, string> {
  const sg = m.subgraphs[0];
  const json = (x: unknown) => JSON.stringify(x, (_k, v) => (v instanceof Uint8Array ? `${v.length} bytes` : v));
  const buffer = m.buffers[t.buffer];
  return { tensor: json(t), operator: json(op), codes: json(m.operatorCodes), io: json([sg.inputs, sg.outputs]), buffer: buffer ? json(Array.from(buffer.data.subarray(0, 16))) : '' };
}

/** One structured edit of the model object (what a careless writer or a damaged converter produces). */
function editModel(m: TfliteModel, rnd: Rnd): string {
  const sg = m.subgraphs[0];
  const t = pick(rnd, sg.tensors);
  const op = pick(rnd, sg.operators);
  const kind = Math.floor(rnd() * EDIT_KINDS);
  const before = snapshot(m, t, op);
  applyEdit(m, rnd, kind, t, op);
  const after = snapshot(m, t, op);
  const changed = Object.keys(before).filter((k) => before[k] !== after[k]).map((k) => `${k} ${before[k]} -> ${after[k]}`);
  return `edit ${kind} (tensor '${t.name}', operator ${sg.operators.indexOf(op)}): ${changed.join('; ') || 'no change'}`;
}

function applyEdit(m: TfliteModel, rnd: Rnd, kind: number, t: TfliteTensor, op: TfliteOperator): void {
  const sg = m.subgraphs[0];
  const tensorRef = () => pick(rnd, [-1, sg.tensors.length, 2 ** 31 - 1, Math.floor(rnd() * sg.tensors.length)]);
  switch (kind) {
    case 0: t.type = pick(rnd, TYPES); break;
    case 1: { const k = Math.floor(rnd() * Math.max(t.shape.length, 1)); t.shape = t.shape.slice(); t.shape[k] = pick(rnd, DIMS); break; }
    case 2: t.shape = rnd() < 0.5 ? t.shape.slice(1) : [...t.shape, pick(rnd, [1, 2, 3])]; break;
    case 3: if (t.quantization) t.quantization.scale = t.quantization.scale.map(() => pick(rnd, SCALES)); break;
    case 4: if (t.quantization) t.quantization.zeroPoint = t.quantization.zeroPoint.map(() => pick(rnd, ZERO_POINTS)); break;
    case 5: if (rnd() < 0.5) delete t.quantization; else t.quantization = { scale: [0.1, 0.2, 0.3], zeroPoint: [0, 0, 0], quantizedDimension: pick(rnd, [0, 1, 3, 5]) }; break;
    case 6: {
      const o = (op.builtinOptions ??= {});
      const keys = [...Object.keys(o), 'padding', 'strideW', 'strideH', 'axis', 'fusedActivationFunction', 'dilationWFactor', 'filterWidth', 'numSplits', 'beta'];
      o[pick(rnd, keys)] = pick(rnd, OPTION_VALUES);
      break;
    }
    case 7: op.inputs = op.inputs.slice(); op.inputs[Math.floor(rnd() * op.inputs.length)] = tensorRef(); break;
    case 8: op.outputs = op.outputs.slice(); op.outputs[Math.floor(rnd() * op.outputs.length)] = tensorRef(); break;
    case 9: op.inputs = rnd() < 0.5 ? op.inputs.slice(0, -1) : [...op.inputs, tensorRef()]; break;
    case 10: { const c = pick(rnd, m.operatorCodes); if (rnd() < 0.2) c.builtinCode = pick(rnd, UNKNOWN_BUILTINS); else c.version = pick(rnd, [0, 1, 2, 3, 4, 7, 99]); break; }
    case 11: t.buffer = pick(rnd, [0, m.buffers.length, Math.floor(rnd() * m.buffers.length)]); break;
    case 12: {
      const b = pick(rnd, m.buffers);
      if (b.data.length === 0) break;
      const data = rnd() < 0.3 ? b.data.subarray(0, Math.floor(rnd() * b.data.length)) : Uint8Array.from(b.data, (x) => (rnd() < 0.3 ? Math.floor(rnd() * 256) : x));
      b.data = data;
      break;
    }
    case 13: if (rnd() < 0.5) sg.inputs = [tensorRef()]; else sg.outputs = [...sg.outputs.slice(1), tensorRef()]; break;
    // Values that keep the file well-formed: activation parameters of any magnitude, new weights, new biases.
    case 14: if (t.quantization && t.quantization.scale.length === 1) t.quantization = { ...t.quantization, scale: [pick(rnd, WIDE_SCALES)], zeroPoint: [t.type === 9 ? Math.floor(rnd() * 256) - 128 : 0] }; break;
    case 15: { const b = m.buffers[t.buffer]; if (t.type === 9 && b && b.data.length) b.data = Uint8Array.from(b.data, () => (Math.floor(rnd() * 255) - 127) & 0xff); break; }
    case 16: { const b = m.buffers[t.buffer]; if ((t.type === 2 || t.type === 4) && b && b.data.length) b.data = Uint8Array.from(b.data, () => Math.floor(rnd() * 256)); break; }
  }
}

export interface Corpus {
  files: string[];
  structured: number;
  byte: number;
  unwritable: number;
}

/** Writes the seeded corpus into `dir`: structured edits of three models, then byte mutations of them. */
export function buildCorpus(dir: string, structuredCount: number, byteCount: number, seed: number): Corpus {
  const rnd = mulberry32(seed);
  const sources: (() => TfliteModel)[] = [baseModel, int16Model, () => readTflite(handBuilt())];
  const files: string[] = [];
  let unwritable = 0;
  const save = (bytes: Uint8Array) => {
    const file = path.join(dir, `${String(files.length).padStart(5, '0')}.tflite`);
    fs.writeFileSync(file, bytes);
    files.push(file);
  };
  for (let i = 0; i < structuredCount; i++) {
    const m = structuredClone(sources[i % sources.length]());
    const edits: string[] = [];
    for (let k = 1 + Math.floor(rnd() * 2); k > 0; k--) edits.push(editModel(m, rnd));
    try {
      save(writeTflite(m));
      fs.writeFileSync(files[files.length - 1].replace(/\.tflite$/, '.txt'), edits.join('\n'));
    } catch {
      unwritable++; // values no file can hold (e.g. a shape entry past int32): nothing to check
    }
  }
  const written = sources.map((s) => writeTflite(s()));
  for (let i = 0; i < byteCount; i++) save(mutate(written[i % written.length], rnd, 2048));
  return { files, structured: structuredCount - unwritable, byte: byteCount, unwritable };
}

export interface LiteRtResult {
  ran: number[];
  refused: Map<number, string>;
  workers: number;
}

/** Runs the files through LiteRT in worker processes; a worker that dies or stalls marks its file refused. */
export async function runInLiteRt(files: string[], listFile: string, stallSeconds: number): Promise<LiteRtResult> {
  fs.writeFileSync(listFile, JSON.stringify(files));
  const result: LiteRtResult = { ran: [], refused: new Map(), workers: 0 };
  let next = 0;
  while (next < files.length) {
    result.workers++;
    next = await runWorker(listFile, next, stallSeconds, result);
  }
  return result;
}

/** One worker from `first`; returns the index the next worker starts at. */
function runWorker(listFile: string, first: number, stallSeconds: number, result: LiteRtResult): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test/tflite/litert-worker.ts'), listFile, String(first)], { cwd: REPO_ROOT });
    let started = -1;
    let finished = first - 1;
    let pending = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    let stalled = false;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => { stalled = true; child.kill('SIGKILL'); }, stallSeconds * 1000);
    };
    arm();
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
    child.stdout.on('data', (d) => {
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const [word, idx, ...rest] = line.split(' ');
        const i = Number(idx);
        if (word === 'start') { started = i; arm(); }
        if (word === 'ran') { result.ran.push(i); finished = i; }
        if (word === 'refused') { result.refused.set(i, rest.join(' ')); finished = i; }
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (started > finished) {
        // It died or stalled inside LiteRT on this file: an abort or a hang is a refusal.
        result.refused.set(started, stalled ? `hang: no answer within ${stallSeconds} s` : `abort: worker exited (code ${code}, signal ${signal}) ${stderr.replace(/\s+/g, ' ').slice(-300)}`);
        resolve(started + 1);
      } else if (code !== 0 && started < first) {
        reject(new Error(`the LiteRT worker failed before its first file (code ${code}): ${stderr}`));
      } else {
        resolve(finished + 1);
      }
    });
  });
}

