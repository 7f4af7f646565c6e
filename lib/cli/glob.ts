// Calibration file lists from a folder or a simple glob (`*` and `?` in the last path component only),
// so `--calib 'images/*.jpg'` works the same on every shell and platform without a glob dependency.
import fs from 'node:fs';
import path from 'node:path';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.gif', '.tif', '.tiff', '.webp']);

/** True when the string has a wildcard the matcher understands. */
export function hasWildcard(s: string): boolean {
  return /[*?]/.test(s);
}

/**
 * Converts a file-name pattern (`*` = any run of characters, `?` = one character, everything else
 * literal) into an anchored RegExp. Case-sensitive, like POSIX shells.
 */
export function patternToRegExp(pattern: string): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Names of `names` that match `pattern`, sorted (so a calibration set is reproducible). */
export function matchNames(names: readonly string[], pattern: string): string[] {
  const re = patternToRegExp(pattern);
  return names.filter((n) => re.test(n)).sort();
}

/**
 * Resolves `--calib`: an image folder (its image files, sorted), a glob on the final path component
 * (`dir/*.jpg`), or a single image file. Throws a clear error when nothing matches.
 */
export function resolveImageList(spec: string): string[] {
  if (hasWildcard(spec)) {
    const dir = path.dirname(spec);
    const pattern = path.basename(spec);
    if (hasWildcard(dir)) throw new Error(`--calib '${spec}': wildcards are only supported in the last path component`);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`--calib '${spec}': the folder '${dir}' does not exist`);
    const files = matchNames(fs.readdirSync(dir), pattern)
      .map((n) => path.join(dir, n))
      .filter((f) => fs.statSync(f).isFile());
    if (files.length === 0) throw new Error(`--calib '${spec}': no file in '${dir}' matches '${pattern}'`);
    return files;
  }
  if (!fs.existsSync(spec)) throw new Error(`--calib '${spec}': no such file or folder`);
  if (fs.statSync(spec).isDirectory()) {
    const files = fs.readdirSync(spec).filter((n) => IMAGE_EXTENSIONS.has(path.extname(n).toLowerCase())).sort().map((n) => path.join(spec, n));
    if (files.length === 0) throw new Error(`--calib '${spec}': the folder has no images (.jpg/.png/...)`);
    return files;
  }
  return [spec];
}
