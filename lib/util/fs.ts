// Output files are written atomically: a temporary file in the same directory, then a rename, so a
// failure (or a crash) never leaves a half-written model behind.
import { randomBytes } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ENAMETOOLONG: 'the name is too long',
};

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code ? `${REASONS[code] ?? (e as Error).message} (${code})` : (e as Error).message;
}

/**
 * Writes `data` to `file` through a temporary file in the same directory and a rename (atomic on
 * POSIX file systems): readers see the old file or the complete new one, and after an error
 * neither the temporary file nor a partial `file` is left.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const target = path.resolve(file);
  const dir = path.dirname(target);
  try {
    const st = await fs.stat(dir);
    if (!st.isDirectory()) throw new Error(`'${dir}' is not a directory`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`cannot write '${file}': ${code === 'ENOENT' ? `the directory '${dir}' does not exist` : code ? reason(e) : (e as Error).message}`);
  }
  const existing = await fs.stat(target).catch(() => undefined);
  if (existing?.isDirectory()) throw new Error(`cannot write '${file}': it is a directory (give a file name)`);
  // A rename over a device node or a FIFO would replace it with a regular file (as root, /dev/null).
  if (existing && !existing.isFile()) throw new Error(`cannot write '${file}': it is ${specialKind(existing)}, not a regular file`);
  // Random suffix: two writers of the same file (same pid in one process) never share a temp file.
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.FileHandle | undefined;
  const release = removeOnSignal(tmp);
  try {
    handle = await fs.open(tmp, 'wx');
    await handle.writeFile(data);
    await handle.sync(); // the bytes reach the disk before the name points at them
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, target);
  } catch (e) {
    await handle?.close().catch(() => {});
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw new Error(`cannot write '${file}': ${reason(e)}`);
  } finally {
    release();
  }
}

function specialKind(st: { isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'a special file';
}

/** Temporary files to remove if the process is interrupted while they exist. */
const pendingTemps = new Set<string>();

function removePendingAndExit(signal: NodeJS.Signals): void {
  for (const f of pendingTemps) {
    try {
      fsSync.rmSync(f, { force: true });
    } catch {
      // nothing more can be done on the way out
    }
  }
  pendingTemps.clear();
  process.off('SIGINT', removePendingAndExit);
  process.off('SIGTERM', removePendingAndExit);
  // Exit as the signal would have (128 + its number), so callers see an interrupted run.
  process.kill(process.pid, signal);
}

/**
 * While `tmp` exists, SIGINT / SIGTERM remove it before the process ends (a signal would otherwise
 * leave a full-size temporary file). Returns the function that stops watching it.
 */
function removeOnSignal(tmp: string): () => void {
  if (pendingTemps.size === 0) {
    process.on('SIGINT', removePendingAndExit);
    process.on('SIGTERM', removePendingAndExit);
  }
  pendingTemps.add(tmp);
  return () => {
    pendingTemps.delete(tmp);
    if (pendingTemps.size === 0) {
      process.off('SIGINT', removePendingAndExit);
      process.off('SIGTERM', removePendingAndExit);
    }
  };
}

/**
 * Checks, before any work starts, that `file` can be an output: not one of `sources` (nor inside a
 * source model folder), not a directory or special file, in an existing directory. Throws one line
 * naming the path and what is wrong.
 */
export function checkOutputPath(file: string, sources: readonly string[] = [], what = 'output'): void {
  const target = path.resolve(file);
  const real = (p: string) => {
    try {
      return fsSync.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  const targetReal = fsSync.existsSync(target) ? real(target) : path.join(real(path.dirname(target)), path.basename(target));
  for (const s of sources) {
    const src = real(s);
    if (targetReal === src) throw new Error(`cannot write the ${what} '${file}': it is the source model (give another file name)`);
    // A TF.js model is its folder (model.json and the weight shards), however the source was named.
    const folder = fsSync.statSync(src, { throwIfNoEntry: false })?.isDirectory() ? src : path.basename(src) === 'model.json' ? path.dirname(src) : undefined;
    if (folder && targetReal.startsWith(folder + path.sep)) throw new Error(`cannot write the ${what} '${file}': it is inside the source model folder '${folder}'`);
  }
  const st = fsSync.statSync(target, { throwIfNoEntry: false });
  if (st?.isDirectory()) throw new Error(`cannot write the ${what} '${file}': it is a directory (give a file name)`);
  if (st && !st.isFile()) throw new Error(`cannot write the ${what} '${file}': it is ${specialKind(st)}, not a regular file`);
  const dir = path.dirname(target);
  const dst = fsSync.statSync(dir, { throwIfNoEntry: false });
  if (!dst) throw new Error(`cannot write the ${what} '${file}': the directory '${dir}' does not exist`);
  if (!dst.isDirectory()) throw new Error(`cannot write the ${what} '${file}': '${dir}' is not a directory`);
  try {
    fsSync.accessSync(dir, fsSync.constants.W_OK);
  } catch {
    throw new Error(`cannot write the ${what} '${file}': the directory '${dir}' is not writable`);
  }
}
