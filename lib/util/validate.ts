// Limits and checks for untrusted model files: shapes are validated before anything is allocated
// from them, weight files must stay inside the model's directory, and constants must be finite.
import fs from 'node:fs';
import path from 'node:path';

/** Largest accepted dimension. Real vision models stay far below it (YOLOv5 at 640: 25200 boxes). */
export const MAX_DIMENSION = 2 ** 20;
/** Largest accepted element count of one tensor (typed arrays and TFLite index int32 offsets). */
export const MAX_ELEMENTS = 2 ** 31 - 1;
/** Largest accepted rank (TFLite kernels handle at most 6; the margin is for intermediate shapes). */
export const MAX_RANK = 8;

/**
 * Checks that `shape` is a list of integer dimensions within the limits and returns it as numbers.
 * `what` names the tensor in the error ("model.json: weight 'conv/w'").
 */
export function checkShape(shape: unknown, what: string): number[] {
  if (!Array.isArray(shape)) throw new Error(`${what}: shape ${describe(shape)} is not a list of dimensions`);
  if (shape.length > MAX_RANK) throw new Error(`${what}: rank ${shape.length} is over the limit of ${MAX_RANK}`);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < shape.length; i++) {
    const raw = shape[i];
    const d = typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
    if (typeof d !== 'number' || !Number.isInteger(d)) {
      throw new Error(`${what}: dimension ${i} of shape ${describe(shape)} is ${describe(raw)}, expected a non-negative integer`);
    }
    if (d < 0) throw new Error(`${what}: dimension ${i} of shape [${shape.join(',')}] is negative (${d})`);
    if (d > MAX_DIMENSION) throw new Error(`${what}: dimension ${i} of shape [${shape.join(',')}] is ${d}, over the limit of ${MAX_DIMENSION} (2^20)`);
    count *= d;
    dims.push(d);
  }
  if (count > MAX_ELEMENTS) {
    throw new Error(`${what}: shape [${dims.join(',')}] has ${count} elements, over the limit of ${MAX_ELEMENTS} (2^31 - 1)`);
  }
  return dims;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 40 ? v.slice(0, 40) + '...' : v}'`;
  try {
    const s = JSON.stringify(v);
    if (s === undefined) return String(v);
    return s.length > 60 ? s.slice(0, 60) + '...' : s;
  } catch {
    return String(v);
  }
}

/** Index and value of the first NaN or +-Infinity in `data`, or undefined when all are finite. */
export function firstNonFinite(data: ArrayLike<number>): { index: number; value: number } | undefined {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) return { index: i, value: v };
  }
  return undefined;
}

function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * Resolves a weight-file path from a model manifest against the model's directory, refusing (before
 * anything is read) absolute paths, URLs, `..` escapes and symlinks that lead outside the directory.
 */
export function resolveInsideDir(dir: string, relPath: unknown, label: string): string {
  if (typeof relPath !== 'string' || relPath === '') {
    throw new Error(`${label}: weight file path ${describe(relPath)} is not a file name`);
  }
  if (relPath.includes('\0')) throw new Error(`${label}: weight file path ${describe(relPath)} contains a NUL character`);
  if (path.isAbsolute(relPath) || path.win32.isAbsolute(relPath) || /^[a-z][a-z0-9+.-]*:/i.test(relPath)) {
    throw new Error(`${label}: weight file path '${relPath}' is absolute or a URL; weight files must be relative to the model directory '${dir}'`);
  }
  const base = path.resolve(dir);
  const file = path.resolve(base, relPath);
  if (!isInside(base, file)) {
    throw new Error(`${label}: weight file path '${relPath}' escapes the model directory '${base}'`);
  }
  // A symlink inside the directory may still point elsewhere: compare the real locations.
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch {
    return file; // missing: the caller reports it
  }
  if (!isInside(fs.realpathSync(base), real)) {
    throw new Error(`${label}: weight file '${relPath}' is a link to '${real}', outside the model directory '${base}'`);
  }
  return file;
}
