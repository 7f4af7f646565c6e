// Deterministic synthetic detection dataset: coloured shapes on textured backgrounds.
// Everything is rendered in plain TypeScript from a seeded PRNG (no Math.random), so the same
// (seed, size) always gives the same bytes on every machine: the demo model is trained, calibrated
// and evaluated on these images without any external data.
import fs from 'node:fs/promises';
import path from 'node:path';
import { mulberry32 } from '../util/random.js';
import type { YoloLabel } from '../yolo/dataset.js';

export const DEMO_CLASS_NAMES = ['circle', 'square', 'triangle', 'cross'] as const;
export type DemoClassName = (typeof DEMO_CLASS_NAMES)[number];

/**
 * Dataset seeds of the demo (sample i of a set uses sampleSeed(set seed, i)): training draws
 * fresh images from `train`; calibration and test images come from seeds never used in training.
 */
export const DEMO_SEEDS = { train: 1, calibration: 2, test: 3 } as const;

export interface SyntheticSample {
  /** Interleaved RGB, row-major, width*height*3 bytes. */
  rgb: Uint8Array;
  width: number;
  height: number;
  labels: YoloLabel[];
}

export interface SampleOptions {
  /** Smallest / largest shape side as a fraction of the image side (defaults 0.08 / 0.6). */
  minScale?: number;
  maxScale?: number;
  /** Number of shapes drawn uniformly in [minObjects, maxObjects] (defaults 1 / 6). */
  minObjects?: number;
  maxObjects?: number;
}


/** Mixes a dataset seed and a sample index into one 32-bit seed (so neighbouring seeds decorrelate). */
export function sampleSeed(seed: number, index: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (index >>> 0) ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

type Rgb = [number, number, number];

function randomColour(rand: () => number): Rgb {
  return [Math.floor(rand() * 256), Math.floor(rand() * 256), Math.floor(rand() * 256)];
}

function colourDistance(a: Rgb, b: Rgb): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/** Inside test in the shape's own frame: u, v in [-1,1] span the bounding box. */
type InsideFn = (u: number, v: number) => boolean;

const INSIDE: Record<DemoClassName, InsideFn> = {
  circle: (u, v) => u * u + v * v <= 1,
  square: (u, v) => Math.abs(u) <= 1 && Math.abs(v) <= 1,
  // Upward triangle: apex at (0,-1), base from (-1,1) to (1,1).
  triangle: (u, v) => v <= 1 && v >= -1 && Math.abs(u) <= (v + 1) / 2,
  // Plus sign whose arms are a third of the side thick.
  cross: (u, v) => (Math.abs(u) <= 1 / 3 && Math.abs(v) <= 1) || (Math.abs(v) <= 1 / 3 && Math.abs(u) <= 1),
};

interface PlacedBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

function intersectionArea(a: PlacedBox, b: PlacedBox): number {
  const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  return w > 0 && h > 0 ? w * h : 0;
}

function boxArea(b: PlacedBox): number {
  return (b.x1 - b.x0) * (b.y1 - b.y0);
}

/** Gradient + per-pixel noise + a few soft blobs and straight lines as clutter. */
function paintBackground(rgb: Float32Array, size: number, rand: () => number): Rgb {
  const c0 = randomColour(rand);
  const c1 = randomColour(rand);
  const angle = rand() * Math.PI * 2;
  const dx = Math.cos(angle);
  const dy = Math.sin(angle);
  const noise = 4 + rand() * 18;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // t in [0,1] along the gradient direction.
      const t = Math.min(1, Math.max(0, 0.5 + ((x / size - 0.5) * dx + (y / size - 0.5) * dy)));
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) rgb[o + c] = c0[c] + (c1[c] - c0[c]) * t + (rand() - 0.5) * 2 * noise;
    }
  }
  // Soft low-contrast blobs: large elliptical tints with a smooth falloff, never crisp edges.
  const blobs = Math.floor(rand() * 4);
  for (let b = 0; b < blobs; b++) {
    const cx = rand() * size;
    const cy = rand() * size;
    const r = size * (0.15 + rand() * 0.35);
    const tint = randomColour(rand);
    const strength = 0.15 + rand() * 0.25;
    const y0 = Math.max(0, Math.floor(cy - r));
    const y1 = Math.min(size - 1, Math.ceil(cy + r));
    const x0 = Math.max(0, Math.floor(cx - r));
    const x1 = Math.min(size - 1, Math.ceil(cx + r));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const d2 = ((x - cx) ** 2 + (y - cy) ** 2) / (r * r);
        if (d2 >= 1) continue;
        const a = strength * (1 - d2) * (1 - d2);
        const o = (y * size + x) * 3;
        for (let c = 0; c < 3; c++) rgb[o + c] += (tint[c] - rgb[o + c]) * a;
      }
    }
  }
  // Thin straight lines (1-2 px) across the image: edges the detector must learn to ignore.
  const lines = Math.floor(rand() * 4);
  for (let l = 0; l < lines; l++) {
    const colour = randomColour(rand);
    const half = 0.5 + rand() * 0.7;
    const ax = rand() * size;
    const ay = rand() * size;
    const th = rand() * Math.PI;
    const nx = -Math.sin(th);
    const ny = Math.cos(th);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const dist = Math.abs((x + 0.5 - ax) * nx + (y + 0.5 - ay) * ny);
        if (dist > half + 0.5) continue;
        const a = Math.min(1, half + 0.5 - dist);
        const o = (y * size + x) * 3;
        for (let c = 0; c < 3; c++) rgb[o + c] += (colour[c] - rgb[o + c]) * a;
      }
    }
  }
  return [(c0[0] + c1[0]) / 2, (c0[1] + c1[1]) / 2, (c0[2] + c1[2]) / 2];
}

/** Draws one shape filling box b with 4x supersampled coverage (anti-aliased edges). */
function paintShape(rgb: Float32Array, size: number, b: PlacedBox, inside: InsideFn, colour: Rgb): void {
  const hw = (b.x1 - b.x0) / 2;
  const hh = (b.y1 - b.y0) / 2;
  const cx = b.x0 + hw;
  const cy = b.y0 + hh;
  const offsets = [0.25, 0.75];
  for (let y = Math.max(0, Math.floor(b.y0)); y < Math.min(size, Math.ceil(b.y1)); y++) {
    for (let x = Math.max(0, Math.floor(b.x0)); x < Math.min(size, Math.ceil(b.x1)); x++) {
      let hits = 0;
      for (const oy of offsets) {
        for (const ox of offsets) {
          if (inside((x + ox - cx) / hw, (y + oy - cy) / hh)) hits++;
        }
      }
      if (hits === 0) continue;
      const a = hits / 4;
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) rgb[o + c] += (colour[c] - rgb[o + c]) * a;
    }
  }
}

/**
 * Renders one square image of side `size` from `seed`: 1-6 shapes (circle, square, triangle,
 * cross) with sides 8%-60% of the image, aspect 0.75-1.33, overlapping each other by at most 25%
 * of the smaller box, fully inside the image. Labels are the exact geometric bounding boxes.
 */
export function generateSample(seed: number, size: number, options: SampleOptions = {}): SyntheticSample {
  if (!Number.isInteger(size) || size < 32) throw new Error(`generateSample: size must be an integer >= 32, got ${size}`);
  const minScale = options.minScale ?? 0.08;
  const maxScale = options.maxScale ?? 0.6;
  const minObjects = options.minObjects ?? 1;
  const maxObjects = options.maxObjects ?? 6;
  if (!(minScale > 0 && minScale <= maxScale && maxScale <= 0.9)) {
    throw new Error(`generateSample: expected 0 < minScale <= maxScale <= 0.9, got ${minScale}, ${maxScale}`);
  }
  if (!(Number.isInteger(minObjects) && Number.isInteger(maxObjects) && minObjects >= 0 && minObjects <= maxObjects)) {
    throw new Error(`generateSample: expected integers 0 <= minObjects <= maxObjects, got ${minObjects}, ${maxObjects}`);
  }
  const rand = mulberry32(seed);
  const work = new Float32Array(size * size * 3);
  const meanBackground = paintBackground(work, size, rand);

  const wanted = minObjects + Math.floor(rand() * (maxObjects - minObjects + 1));
  const placed: PlacedBox[] = [];
  const labels: YoloLabel[] = [];
  // Rejection sampling of positions; a bounded number of attempts keeps the run time fixed.
  for (let attempt = 0; attempt < wanted * 12 && placed.length < wanted; attempt++) {
    const classId = Math.floor(rand() * DEMO_CLASS_NAMES.length);
    // Log-uniform side so small objects are as common as large ones.
    const side = size * minScale * Math.pow(maxScale / minScale, rand());
    const aspect = Math.pow(4 / 3, rand() * 2 - 1);
    const w = Math.min(size * maxScale, side * Math.sqrt(aspect));
    const h = Math.min(size * maxScale, side / Math.sqrt(aspect));
    const x0 = rand() * (size - w);
    const y0 = rand() * (size - h);
    const box: PlacedBox = { x0, y0, x1: x0 + w, y1: y0 + h };
    let colour = randomColour(rand);
    for (let k = 0; k < 8 && colourDistance(colour, meanBackground) < 110; k++) colour = randomColour(rand);
    const overlapsTooMuch = placed.some((p) => intersectionArea(p, box) > 0.25 * Math.min(boxArea(p), boxArea(box)));
    if (overlapsTooMuch || colourDistance(colour, meanBackground) < 110) continue;
    paintShape(work, size, box, INSIDE[DEMO_CLASS_NAMES[classId]], colour);
    placed.push(box);
    labels.push({ classId, cx: (x0 + w / 2) / size, cy: (y0 + h / 2) / size, w: w / size, h: h / size });
  }

  const rgb = new Uint8Array(work.length);
  for (let i = 0; i < work.length; i++) rgb[i] = Math.min(255, Math.max(0, Math.round(work[i])));
  return { rgb, width: size, height: size, labels };
}

/** YOLO label file text: one `class cx cy w h` line per object, 6 decimals. */
export function formatYoloLabels(labels: readonly YoloLabel[]): string {
  return labels.map((l) => `${l.classId} ${l.cx.toFixed(6)} ${l.cy.toFixed(6)} ${l.w.toFixed(6)} ${l.h.toFixed(6)}\n`).join('');
}

export interface WriteDatasetOptions {
  count: number;
  seed: number;
  size: number;
  /** Sub-folder name under images/ and labels/ (default 'val'). */
  split?: string;
}

export interface WrittenDataset {
  yamlPath: string;
  imagesDir: string;
  labelsDir: string;
  files: string[];
}

/**
 * Writes `count` samples as PNG images + YOLO label files + a dataset yaml in the ultralytics layout
 * (`<dir>/images/<split>/*.png`, `<dir>/labels/<split>/*.txt`, `<dir>/dataset.yaml` with path/train/val/names).
 * Sample i uses sampleSeed(seed, i).
 */
export async function writeDataset(dir: string, options: WriteDatasetOptions): Promise<WrittenDataset> {
  const { count, seed, size } = options;
  const split = options.split ?? 'val';
  if (!Number.isInteger(count) || count < 1) throw new Error(`writeDataset: count must be a positive integer, got ${count}`);
  if (!/^[A-Za-z0-9_-]+$/.test(split)) throw new Error(`writeDataset: split must be a plain folder name, got '${split}'`);
  const { Jimp } = await import('jimp');
  const imagesDir = path.join(dir, 'images', split);
  const labelsDir = path.join(dir, 'labels', split);
  await fs.mkdir(imagesDir, { recursive: true });
  await fs.mkdir(labelsDir, { recursive: true });
  const files: string[] = [];
  const digits = Math.max(6, String(count - 1).length);
  for (let i = 0; i < count; i++) {
    const sample = generateSample(sampleSeed(seed, i), size);
    const rgba = Buffer.alloc(size * size * 4);
    for (let p = 0; p < size * size; p++) {
      rgba[p * 4] = sample.rgb[p * 3];
      rgba[p * 4 + 1] = sample.rgb[p * 3 + 1];
      rgba[p * 4 + 2] = sample.rgb[p * 3 + 2];
      rgba[p * 4 + 3] = 255;
    }
    const image = new Jimp({ data: rgba, width: size, height: size });
    const stem = `shapes_${String(i).padStart(digits, '0')}`;
    const imagePath = path.join(imagesDir, `${stem}.png`);
    await fs.writeFile(imagePath, await image.getBuffer('image/png'));
    await fs.writeFile(path.join(labelsDir, `${stem}.txt`), formatYoloLabels(sample.labels));
    files.push(imagePath);
  }
  const yamlPath = path.join(dir, 'dataset.yaml');
  const names = DEMO_CLASS_NAMES.map((n, i) => `  ${i}: ${n}\n`).join('');
  await fs.writeFile(
    yamlPath,
    `# yolo-int8 synthetic shapes (seed ${seed}, ${count} images of ${size}x${size})\n` +
      `path: .\ntrain: images/${split}\nval: images/${split}\n\nnames:\n${names}`,
  );
  return { yamlPath, imagesDir, labelsDir, files };
}
