// Output files are written atomically: a temporary file in the same directory, then a rename, so a
// failure (or a crash) never leaves a half-written model behind.
import fs from 'node:fs/promises';
import path from 'node:path';

export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  try {
    const st = await fs.stat(dir);
    if (!st.isDirectory()) throw new Error(`'${dir}' is not a directory`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`cannot write '${file}': ${code === 'ENOENT' ? `the directory '${dir}' does not exist` : (e as Error).message}`);
  }
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`cannot write '${file}': ${code ?? (e as Error).message}`);
  }
}
