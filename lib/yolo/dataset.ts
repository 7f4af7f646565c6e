// YOLO-format datasets: an images folder with a sibling labels folder of `cls cx cy w h` (normalised)
// text files, or a dataset yaml (ultralytics style: path / train / val / names).
import fs from 'node:fs';
import path from 'node:path';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff']);

export interface DatasetItem {
  image: string;
  /** The label file; may not exist (an image with no objects). */
  labels: string;
}

export interface Dataset {
  items: DatasetItem[];
  /** Class names when a yaml gave them. */
  names?: string[];
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

/** Parses the small subset of YAML dataset files use: `key: value` lines and a `names` map or list. */
export function parseDatasetYaml(text: string, where = 'dataset yaml'): { path?: string; train?: string; val?: string; names?: string[] } {
  const out: { path?: string; train?: string; val?: string; names?: string[] } = {};
  const lines = text.split(/\r?\n/);
  const unquote = (s: string) => s.trim().replace(/^['"]|['"]$/g, '');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\s+#.*$/, '');
    if (/^\s*#/.test(line) || !line.trim()) continue;
    const m = /^(\w+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, key, value] = m;
    if (key === 'names') {
      if (value.trim().startsWith('[')) {
        out.names = value.trim().slice(1, -1).split(',').map(unquote).filter((s) => s.length > 0);
      } else {
        const names: string[] = [];
        for (i = i + 1; i < lines.length && /^\s+/.test(lines[i]); i++) {
          const e = /^\s+(\d+):\s*(.*)$/.exec(lines[i]) ?? /^\s+-\s*(.*)$/.exec(lines[i]);
          if (!e) continue;
          if (e.length === 3) names[Number(e[1])] = unquote(e[2]);
          else names.push(unquote(e[1]));
        }
        i--;
        out.names = names;
      }
    } else if (key === 'path' || key === 'train' || key === 'val') {
      out[key] = unquote(value);
    }
  }
  if (out.names && Array.from(out.names).some((n) => n === undefined)) throw new Error(`${where}: 'names' has gaps in its class ids`);
  return out;
}

/**
 * Lists a dataset: `source` is an images folder (labels in the sibling `labels` folder) or a yaml file.
 * For a yaml, `val` (or `train`) relative to `path` is used; when that folder does not exist but
 * `<yaml dir>/images` does (coco128 as shipped in our fixtures), that folder is used.
 * Images are sorted by file name.
 */
export function loadDataset(source: string, options: { labelsDir?: string } = {}): Dataset {
  let imagesDir = source;
  let names: string[] | undefined;
  if (!fs.existsSync(source)) throw new Error(`${source}: dataset not found (expected an images folder or a dataset yaml)`);
  if (/\.ya?ml$/i.test(source)) {
    const cfg = parseDatasetYaml(fs.readFileSync(source, 'utf8'), source);
    names = cfg.names;
    const root = path.resolve(path.dirname(source), cfg.path ?? '.');
    const candidates = [cfg.val, cfg.train].filter((x): x is string => !!x).map((p) => path.resolve(root, p));
    candidates.push(path.join(path.dirname(source), 'images'));
    const found = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isDirectory());
    if (!found) throw new Error(`${source}: none of the image folders exist: ${candidates.join(', ')}`);
    imagesDir = found;
  }
  if (!fs.statSync(imagesDir).isDirectory()) throw new Error(`${imagesDir}: not a folder of images`);
  const files = fs.readdirSync(imagesDir).filter((f) => IMAGE_EXTENSIONS.has(path.extname(f).toLowerCase())).sort();
  if (files.length === 0) throw new Error(`${imagesDir}: no images (.jpg/.png/...) found`);
  const items = files.map((f) => {
    const image = path.join(imagesDir, f);
    return { image, labels: labelPathFor(image, options.labelsDir) };
  });
  return { items, names };
}

/** Reads a YOLO label file (missing file = no objects). Errors name the file and line. */
export function readYoloLabels(file: string): YoloLabel[] {
  if (!fs.existsSync(file)) return [];
  const out: YoloLabel[] = [];
  fs.readFileSync(file, 'utf8').split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (!t) return;
    const v = t.split(/\s+/).map(Number);
    if (v.length < 5 || v.some((x) => !Number.isFinite(x)) || !Number.isInteger(v[0]) || v[0] < 0) {
      throw new Error(`${file}:${i + 1}: expected 'class cx cy w h' (class a non-negative integer, the rest numbers), got '${t}'`);
    }
    if (v.length > 5) {
      throw new Error(`${file}:${i + 1}: segment (polygon) labels are not supported; expected 'class cx cy w h'`);
    }
    out.push({ classId: v[0], cx: v[1], cy: v[2], w: v[3], h: v[4] });
  });
  return out;
}

/** Normalised YOLO labels to xyxy pixel boxes of an image of the given size. */
export function labelsToPixels(labels: YoloLabel[], width: number, height: number): { classId: number; box: [number, number, number, number] }[] {
  return labels.map((l) => ({
    classId: l.classId,
    box: [(l.cx - l.w / 2) * width, (l.cy - l.h / 2) * height, (l.cx + l.w / 2) * width, (l.cy + l.h / 2) * height],
  }));
}
