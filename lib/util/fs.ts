// Output files are written atomically: a temporary file in the same directory, then a rename, so a
// failure (or a crash) never leaves a half-written model behind.
import { randomBytes } from 'node:crypto';
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
  // Random suffix: two writers of the same file (same pid in one process) never share a temp file.
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.FileHandle | undefined;
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
  }
}
