// Datasets as users lay them out, resolved in one place for calibration (images) and evaluation
// (images + YOLO labels): an images folder; a dataset root with images/ and labels/ beside each other
// (optionally with split folders images/<split>/ or <split>/images/); an ultralytics dataset yaml
// (path / train / val / test / names; each split a folder, a list of folders or a .txt list of image
// paths); a .txt list; a glob on the file name; one image file. Labels are found ultralytics-style:
// the last /images/ of an image path becomes /labels/ and the extension .txt.
import fs from 'node:fs';
import path from 'node:path';
import { hasWildcard } from '../util/glob.js';
import { globImages, imagesIn, isDir, isFile, isImageFile, readImageList, uniqueSorted } from '../util/image-files.js';
import { readRegularTextFile } from '../util/read-file.js';

export { IMAGE_EXTENSIONS, isImageFile } from '../util/image-files.js';

export interface DatasetItem {
  image: string;
  /** The label file; may not exist (an image with no objects). */
  labels: string;
}

/** What a dataset source was read as. */
export type DatasetLayout = 'images-folder' | 'dataset-root' | 'yaml' | 'list-file' | 'glob' | 'image-file';

/** Calibration prefers the train split, evaluation the val split. */
export type DatasetPurpose = 'calibration' | 'evaluation';

/** A plain-data summary of a resolved dataset (for reports and --json output). */
export interface DatasetInfo {
  source: string;
  layout: DatasetLayout;
  /** The dataset root (a folder with images/, or the yaml's `path`). */
  root?: string;
  /** The split used: a split folder name (`val2017`) or a yaml key (`val`). */
  split?: string;
  /** Every split found, when there was a choice. */
  splits?: string[];
  images: number;
  /** Says which split or folder was used and why, when a choice was made; undefined otherwise. */
  note?: string;
}

export interface ResolvedDataset extends Omit<DatasetInfo, 'images'> {
  /** Image files, sorted by path (so slices and calibration sets are reproducible). */
  images: string[];
  /** The YOLO label file of an image (it may not exist: an image with no objects). */
  labelsFor(image: string): string;
  /** Class names, from the yaml (or the one yaml in a dataset root). */
  names?: string[];
}

export interface Dataset {
  items: DatasetItem[];
  /** Class names when a yaml gave them. */
  names?: string[];
  /** How the source was resolved (split used, layout). */
  info: DatasetInfo;
}

export interface YoloLabel {
  classId: number;
  /** Normalised centre x, centre y, width, height. */
  cx: number;
  cy: number;
  w: number;
  h: number;
}

/** The labels path YOLO uses for an image: the last `/images/` folder becomes `/labels/`, extension .txt. */
export function labelPathFor(imagePath: string, labelsDir?: string): string {
  const base = path.basename(imagePath, path.extname(imagePath)) + '.txt';
  if (labelsDir) return path.join(labelsDir, base);
  const dir = path.dirname(imagePath);
  const parts = dir.split(path.sep);
  const i = parts.lastIndexOf('images');
  if (i >= 0) parts[i] = 'labels';
  return path.join(parts.join(path.sep), base);
}

export interface DatasetYaml {
  path?: string;
  /** Each split: one entry or a list (folders, .txt lists of image paths, image files). */
  train?: string | string[];
  val?: string | string[];
  test?: string | string[];
  names?: string[];
}

const SPLIT_KEYS = ['train', 'val', 'test'] as const;

/**
 * Parses the small subset of YAML dataset files use: `key: value` lines, `[a, b]` flow lists,
 * `- item` block lists, and a `names` map (`0: person`) or list.
 */
export function parseDatasetYaml(text: string, where = 'dataset yaml'): DatasetYaml {
  const out: DatasetYaml = {};
  const lines = text.split(/\r?\n/);
  const unquote = (s: string) => s.trim().replace(/^['"]|['"]$/g, '');
  const flowList = (v: string) => v.trim().slice(1, -1).split(',').map(unquote).filter((s) => s.length > 0);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\s+#.*$/, '');
    if (/^\s*#/.test(line) || !line.trim()) continue;
    const m = /^(\w+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, key, rawValue] = m;
    const value = rawValue.trim();
    // The indented lines that follow a key with no inline value (a block list or map).
    const block: string[] = [];
    if (!value) {
      for (i = i + 1; i < lines.length && (/^\s+/.test(lines[i]) || /^-\s/.test(lines[i]) || !lines[i].trim()); i++) {
        const b = lines[i].replace(/\s+#.*$/, '');
        if (b.trim() && !/^\s*#/.test(b)) block.push(b);
      }
      i--;
    }
    if (key === 'names') {
      if (value.startsWith('[')) {
        out.names = flowList(value);
      } else {
        const names: string[] = [];
        for (const b of block) {
          const e = /^\s+(\d+):\s*(.*)$/.exec(b) ?? /^\s*-\s*(.*)$/.exec(b);
          if (!e) continue;
          if (e.length === 3) names[Number(e[1])] = unquote(e[2]);
          else names.push(unquote(e[1]));
        }
        out.names = names;
      }
    } else if (key === 'path') {
      if (value) out.path = unquote(value);
    } else if ((SPLIT_KEYS as readonly string[]).includes(key)) {
      const k = key as (typeof SPLIT_KEYS)[number];
      if (value.startsWith('[')) out[k] = flowList(value);
      else if (value) out[k] = unquote(value);
      else {
        const items = block.map((b) => /^\s*-\s*(.*)$/.exec(b)?.[1]).filter((x): x is string => !!x).map(unquote);
        if (items.length) out[k] = items;
      }
    }
  }
  if (out.names && Array.from(out.names).some((n) => n === undefined)) throw new Error(`${where}: 'names' has gaps in its class ids`);
  return out;
}

function subdirs(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => isDir(path.join(dir, n))).sort();
}

interface SplitFolder {
  /** undefined: the images are not split. */
  split?: string;
  dir: string;
  images: string[];
}

/**
 * The image folders of a dataset root: `root/images/*` (no split), `root/images/<split>/*`
 * (ultralytics, COCO), or `root/<split>/images/*` (Roboflow); for a folder that itself holds split
 * folders of images (`images/` given directly), `<dir>/<split>/*`.
 */
function splitFolders(dir: string): SplitFolder[] {
  const images = path.join(dir, 'images');
  if (isDir(images)) {
    const direct = imagesIn(images);
    if (direct.length) return [{ dir: images, images: direct }];
    return subdirs(images)
      .map((s) => ({ split: s, dir: path.join(images, s), images: imagesIn(path.join(images, s)) }))
      .filter((f) => f.images.length > 0);
  }
  const out: SplitFolder[] = [];
  for (const s of subdirs(dir)) {
    const direct = imagesIn(path.join(dir, s));
    if (direct.length) out.push({ split: s, dir: path.join(dir, s), images: direct });
    else if (isDir(path.join(dir, s, 'images'))) {
      const nested = imagesIn(path.join(dir, s, 'images'));
      if (nested.length) out.push({ split: s, dir: path.join(dir, s, 'images'), images: nested });
    }
  }
  return out;
}

/** Split names each purpose looks for, in order: val / valid / validation / val2017 ..., train..., test... */
const SPLIT_PREFERENCE: Record<DatasetPurpose, RegExp[]> = {
  evaluation: [/^val/i, /^test/i],
  calibration: [/^train/i, /^val/i],
};

/** The split a purpose uses among several; an error naming them when none fits. */
function chooseSplit<T extends { split?: string }>(found: T[], purpose: DatasetPurpose, where: string): T {
  if (found.length === 1) return found[0];
  for (const re of SPLIT_PREFERENCE[purpose]) {
    const hit = found.find((f) => f.split !== undefined && re.test(f.split));
    if (hit) return hit;
  }
  throw new Error(
    `'${where}': several splits (${found.map((f) => f.split).join(', ')}) and none is a ` +
      `${purpose === 'evaluation' ? 'val or test' : 'train or val'} split; pass the folder of the one to use`,
  );
}

function yamlInFolder(dir: string): string | undefined {
  const yamls = fs.readdirSync(dir).filter((n) => /\.ya?ml$/i.test(n) && isFile(path.join(dir, n)));
  return yamls.length === 1 ? path.join(dir, yamls[0]) : undefined;
}

/** Names of the one yaml in a dataset root, if it has any (a root may hold other yaml files: then none). */
function namesBeside(dir: string): string[] | undefined {
  const y = yamlInFolder(dir);
  if (!y) return undefined;
  try {
    const names = parseDatasetYaml(readRegularTextFile(y, 'dataset yaml'), y).names;
    return names?.length ? names : undefined;
  } catch {
    return undefined; // not a dataset yaml: its names are not ours to report
  }
}

/** The images of one yaml split entry (a folder, searched recursively like ultralytics; a .txt list; an image). */
function imagesOfEntry(entry: string): string[] | undefined {
  if (isDir(entry)) return imagesIn(entry, true);
  if (isFile(entry)) return /\.txt$/i.test(entry) ? readImageList(entry) : [entry];
  return undefined;
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

const EXPECTED =
  'expected an images folder, a dataset root with images/ and labels/, a dataset .yaml, a .txt list of images or a glob on the file name';

function resolveYaml(source: string, purpose: DatasetPurpose): Omit<ResolvedDataset, 'labelsFor'> {
  const cfg = parseDatasetYaml(readRegularTextFile(source, 'dataset yaml'), source);
  const yamlDir = path.dirname(source);
  const root = path.resolve(yamlDir, cfg.path ?? '.');
  const order = purpose === 'evaluation' ? (['val', 'test', 'train'] as const) : (['train', 'val', 'test'] as const);
  const present = order.filter((k) => cfg[k] !== undefined);
  const missing: string[] = [];
  for (const key of present) {
    const entries = ([] as string[]).concat(cfg[key]!).map((e) => path.resolve(root, e));
    const lists = entries.map(imagesOfEntry);
    const absent = entries.filter((_, i) => lists[i] === undefined);
    if (absent.length) {
      missing.push(...absent.map((a) => `${key}: ${a}`));
      continue;
    }
    const images = uniqueSorted(lists.flat() as string[]);
    if (images.length === 0) throw new Error(`${source}: '${key}' (${entries.join(', ')}) has no image files (.jpg/.png/...)`);
    // Say which split was used whenever there was a choice or the preferred one was not there.
    const why = missing.length ? `; not found: ${missing.join('; ')}` : key !== order[0] ? `; the yaml has no '${order[0]}'` : '';
    const note = present.length > 1 || why
      ? `${source}: using '${key}' (${plural(images.length, 'image')}) for ${purpose}${why}`
      : undefined;
    return { source, layout: 'yaml', root, split: key, splits: present.length > 1 ? [...present] : undefined, images, names: cfg.names, note };
  }
  // The folders the yaml names do not exist: a dataset shipped without its split folders (coco128 as
  // in our fixtures: images/ and labels/ beside the yaml) is read as the dataset root it is.
  // Only an images/ folder right beside the yaml counts: anything else would be a guess.
  const folders = isDir(path.join(yamlDir, 'images')) ? splitFolders(yamlDir) : [];
  if (folders.length) {
    const f = chooseSplit(folders, purpose, yamlDir);
    const what = missing.length ? `its folders do not exist (${missing.join('; ')})` : 'it names no train/val/test folder';
    return {
      source, layout: 'yaml', root: yamlDir, split: f.split, splits: folders.length > 1 ? folders.map((x) => x.split!) : undefined,
      images: f.images, names: cfg.names, note: `${source}: ${what}; using ${f.dir} (${plural(f.images.length, 'image')})`,
    };
  }
  if (missing.length) throw new Error(`${source}: none of its image folders exist: ${missing.join('; ')}`);
  throw new Error(`${source}: the yaml names no train/val/test images`);
}

function resolveFolder(source: string, purpose: DatasetPurpose): Omit<ResolvedDataset, 'labelsFor'> {
  const direct = imagesIn(source);
  if (direct.length) return { source, layout: 'images-folder', images: direct };
  const folders = splitFolders(source);
  if (folders.length === 0) {
    const y = yamlInFolder(source);
    throw new Error(`'${source}': no images found (${EXPECTED}: image files in it, images/ beside labels/, images/<split>/ or <split>/images/)` +
      (y ? `; to use its dataset yaml pass ${y}` : ''));
  }
  const f = chooseSplit(folders, purpose, source);
  const splits = folders.length > 1 ? folders.map((x) => x.split!) : undefined;
  const note = f.split === undefined ? undefined
    : `${source}: using split '${f.split}' (${path.relative(source, f.dir) || '.'}, ${plural(f.images.length, 'image')}) for ${purpose}` +
      (splits ? `; splits found: ${splits.join(', ')}` : '');
  return { source, layout: 'dataset-root', root: source, split: f.split, splits, images: f.images, names: namesBeside(source), note };
}

function resolveGlob(source: string): Omit<ResolvedDataset, 'labelsFor'> {
  return { source, layout: 'glob', images: globImages(source) };
}

/**
 * Resolves a dataset source, as users lay datasets out, to its image files and their label files.
 * Where the source has several splits, evaluation uses val (else test) and calibration train (else
 * val); `note` says which was used. Throws an error naming the source and what was expected.
 */
export function resolveDataset(source: string, options: { purpose: DatasetPurpose; labelsDir?: string }): ResolvedDataset {
  if (typeof source !== 'string' || source === '') throw new Error(`dataset: expected a path (${EXPECTED})`);
  let resolved: Omit<ResolvedDataset, 'labelsFor'>;
  if (hasWildcard(path.basename(source)) || hasWildcard(source)) resolved = resolveGlob(source);
  else if (isDir(source)) resolved = resolveFolder(source, options.purpose);
  else if (!isFile(source)) throw new Error(`'${source}': no such file or folder (${EXPECTED})`);
  else if (/\.ya?ml$/i.test(source)) resolved = resolveYaml(source, options.purpose);
  else if (/\.txt$/i.test(source)) resolved = { source, layout: 'list-file', images: uniqueSorted(readImageList(source)) };
  else if (isImageFile(source)) resolved = { source, layout: 'image-file', images: [source] };
  else throw new Error(`'${source}': not an image, a dataset .yaml or a .txt list (${EXPECTED})`);
  const labelsDir = options.labelsDir;
  return { ...resolved, labelsFor: (image: string) => labelPathFor(image, labelsDir) };
}

/** The JSON-able summary of a resolved dataset. */
export function datasetInfo(ds: ResolvedDataset): DatasetInfo {
  const info: DatasetInfo = { source: ds.source, layout: ds.layout, images: ds.images.length };
  if (ds.root !== undefined) info.root = ds.root;
  if (ds.split !== undefined) info.split = ds.split;
  if (ds.splits !== undefined) info.splits = ds.splits;
  if (ds.note !== undefined) info.note = ds.note;
  return info;
}

/**
 * Lists an evaluation dataset (any layout `resolveDataset` accepts; several splits: val): images
 * sorted by path, each with its YOLO label file. `labelsDir` overrides where the labels are.
 */
export function loadDataset(source: string, options: { labelsDir?: string; purpose?: DatasetPurpose } = {}): Dataset {
  const ds = resolveDataset(source, { purpose: options.purpose ?? 'evaluation', labelsDir: options.labelsDir });
  return { items: ds.images.map((image) => ({ image, labels: ds.labelsFor(image) })), names: ds.names, info: datasetInfo(ds) };
}

/**
 * Reads a YOLO label file (missing file = no objects). Errors name the file and line. `numClasses`,
 * the class count of the model the labels are scored against, bounds the class ids (a label of a
 * class the model cannot predict would only pull the mAP down without a word).
 */
export function readYoloLabels(file: string, numClasses?: number): YoloLabel[] {
  if (!fs.existsSync(file)) return [];
  const out: YoloLabel[] = [];
  readRegularTextFile(file, 'label file').split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (!t) return;
    const v = t.split(/\s+/).map(Number);
    if (v.length < 5 || v.some((x) => !Number.isFinite(x)) || !Number.isInteger(v[0]) || v[0] < 0) {
      throw new Error(`${file}:${i + 1}: expected 'class cx cy w h' (class a non-negative integer, the rest numbers), got '${t}'`);
    }
    if (v.length > 5) {
      throw new Error(`${file}:${i + 1}: segment (polygon) labels are not supported; expected 'class cx cy w h'`);
    }
    const bad = labelValueProblem(v, numClasses);
    if (bad) throw new Error(`${file}:${i + 1}: ${bad}, got '${t.slice(0, 80)}'`);
    out.push({ classId: v[0], cx: v[1], cy: v[2], w: v[3], h: v[4] });
  });
  return out;
}

/** Largest class id a label may name when the model's class count is not known (COCO has 80, Objects365 365, LVIS 1203). */
const MAX_CLASS_ID = 65535;

/** Why a 'class cx cy w h' row is impossible (a class beyond the count, normalised coordinates, positive sizes), or undefined. */
function labelValueProblem([classId, cx, cy, w, h]: number[], numClasses: number | undefined): string | undefined {
  if (numClasses !== undefined && classId >= numClasses) return `class id ${classId}, but the model has ${numClasses} classes (ids 0 to ${numClasses - 1})`;
  if (classId > MAX_CLASS_ID) return `class id ${classId} is beyond any class count (at most ${MAX_CLASS_ID})`;
  if (!(w > 0 && h > 0)) return `box size ${w} x ${h}; width and height must be > 0`;
  if ([cx, cy, w, h].some((x) => x < 0 || x > 1)) return 'cx cy w h are normalised to the image and must lie in [0, 1]';
  return undefined;
}

/** Normalised YOLO labels to xyxy pixel boxes of an image of the given size. */
export function labelsToPixels(labels: YoloLabel[], width: number, height: number): { classId: number; box: [number, number, number, number] }[] {
  return labels.map((l) => ({
    classId: l.classId,
    box: [(l.cx - l.w / 2) * width, (l.cy - l.h / 2) * height, (l.cx + l.w / 2) * width, (l.cy + l.h / 2) * height],
  }));
}

/**
 * The quantizer's dataset resolver (ImageSourceResolver, lib/quantize/plugin.ts): any layout
 * `resolveDataset` accepts; where there are several splits, calibration uses train (else val).
 */
export function calibrationImages(source: string): { images: string[]; info: DatasetInfo } {
  const ds = resolveDataset(source, { purpose: 'calibration' });
  return { images: ds.images, info: datasetInfo(ds) };
}
