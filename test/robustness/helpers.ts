// The assertions the robustness tests share (the model they corrupt is test/support/tiny-model.ts).
import fs from 'node:fs';
import { expect } from 'chai';
import { quantizeInt8, type QuantizeInt8Options } from '../../lib/yolo/quantize.js';
import { writeFileAtomic } from '../../lib/util/fs.js';

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
    if (typeof p === 'string') expect(msg, msg).to.include(p);
    else expect(msg).to.match(p);
  }
  return err as Error;
}

/** Files in `dir` besides the given names (a leftover output or temporary file shows up here). */
export function extraFiles(dir: string, expected: string[]): string[] {
  return fs.readdirSync(dir).filter((f) => !expected.includes(f));
}
