// Where the yolo-int8 package is: the folder of its package.json, for the files it ships beside the
// code (the demo model) and its version.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Folder that holds yolo-int8's package.json, found by walking up from this module (works from lib/ and dist/lib/). */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if (JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'yolo-int8') return dir;
      } catch {
        // Not a readable package.json: keep walking up.
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`yolo-int8: could not find the package root above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** The version in yolo-int8's package.json ('unknown' when the package root cannot be found). */
export function packageVersion(): string {
  let root: string;
  try {
    root = packageRoot();
  } catch {
    return 'unknown';
  }
  return String(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version);
}
