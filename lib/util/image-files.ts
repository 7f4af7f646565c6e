// Image files on disk: which names are images, the images of a folder, of a .txt list and of a glob
// on the file name. Every dataset resolver (the quantizer's plain one, lib/yolo's layouts) reads
// files through these, so an image means the same thing everywhere.
import fs from 'node:fs';
import path from 'node:path';
import { hasWildcard, matchNames } from './glob.js';
import { readRegularTextFile } from './read-file.js';

export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.gif', '.tif', '.tiff', '.webp']);

export function isImageFile(file: string): boolean {
  return IMAGE_EXTENSIONS.has(path.extname(file).toLowerCase());
}

export function isDir(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

export function isFile(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
}

/** Image files directly in `dir` (or below it, `recursive`), sorted by path. */
export function imagesIn(dir: string, recursive = false): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() || (e.isSymbolicLink() && isDir(p))) {
      if (recursive) out.push(...imagesIn(p, true));
    } else if (isImageFile(e.name)) out.push(p);
  }
  return out.sort();
}

/** Image paths of a .txt list: one per line, relative paths relative to the list's folder (like './x.jpg' in ultralytics). */
export function readImageList(file: string): string[] {
  const base = path.dirname(file);
  const out: string[] = [];
  // Bounded and regular-file-only: a list that is a huge (sparse) file or a device is refused by name.
  readRegularTextFile(file, 'image list').split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (!t || t.startsWith('#')) return;
    const p = path.resolve(base, t);
    if (!isFile(p)) throw new Error(`${file}:${i + 1}: '${t}' does not exist (resolved to ${p})`);
    if (isImageFile(p)) out.push(p);
  });
  if (out.length === 0) throw new Error(`${file}: lists no image files (.jpg/.png/...)`);
  return out;
}

/** The image files a glob on the last path component matches, sorted; errors say what did not match. */
export function globImages(source: string): string[] {
  const dir = path.dirname(source);
  const pattern = path.basename(source);
  if (hasWildcard(dir)) throw new Error(`'${source}': wildcards are only supported in the last path component`);
  if (!isDir(dir)) throw new Error(`'${source}': the folder '${dir}' does not exist`);
  const files = matchNames(fs.readdirSync(dir), pattern).map((n) => path.join(dir, n)).filter(isFile);
  if (files.length === 0) throw new Error(`'${source}': no file in '${dir}' matches '${pattern}'`);
  const images = files.filter(isImageFile);
  if (images.length === 0) throw new Error(`'${source}': ${files.length} file${files.length === 1 ? '' : 's'} match but none is an image (.jpg/.png/...)`);
  return images;
}

/** Sorted without repeats (so slices and calibration sets are reproducible). */
export function uniqueSorted(files: string[]): string[] {
  return [...new Set(files)].sort();
}
