// Annotated PNGs: boxes, class names and scores drawn with jimp (bundled bitmap font, works offline).
import { Jimp, ResizeStrategy, loadFont, measureText } from 'jimp';
import { writeFileAtomic } from '../util/fs.js';
import { SANS_16_WHITE } from 'jimp/fonts';
import type { Detection } from './nms.js';

/** A fixed, well-spread colour per class (golden-ratio hue steps), as 0xRRGGBB. */
export function classColor(classId: number): number {
  const h = (classId * 0.618033988749895) % 1;
  const [r, g, b] = hsvToRgb(h, 0.85, 0.95);
  return (r << 16) | (g << 8) | b;
}

function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  const [r, g, b] = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][i % 6];
  return [Math.round(r * 255), Math.round(g * 255), Math.round(b * 255)];
}

function fillRect(bmp: { width: number; height: number; data: Buffer | Uint8Array }, x0: number, y0: number, x1: number, y1: number, rgb: number): void {
  const xa = Math.max(0, Math.floor(x0));
  const ya = Math.max(0, Math.floor(y0));
  const xb = Math.min(bmp.width, Math.ceil(x1));
  const yb = Math.min(bmp.height, Math.ceil(y1));
  for (let y = ya; y < yb; y++) {
    for (let x = xa; x < xb; x++) {
      const o = (y * bmp.width + x) * 4;
      bmp.data[o] = (rgb >> 16) & 255;
      bmp.data[o + 1] = (rgb >> 8) & 255;
      bmp.data[o + 2] = rgb & 255;
      bmp.data[o + 3] = 255;
    }
  }
}

/**
 * Draws detections (original-image pixel boxes) on the image and writes a PNG.
 * Labels read "<class name> <score>" on a filled box in the class colour.
 */
export async function drawDetections(
  image: string | Uint8Array,
  detections: Detection[],
  outPng: string,
  classNames: string[] = [],
  options: { minSide?: number } = {},
): Promise<void> {
  let img;
  try {
    img = await Jimp.read(typeof image === 'string' ? image : Buffer.from(image));
  } catch (e) {
    throw new Error(`${typeof image === 'string' ? image : 'image bytes'}: cannot decode the image: ${(e as Error).message}`);
  }
  // Small images (e.g. the 128 px demo) are enlarged by a whole factor, nearest neighbour, so the
  // 16 px labels stay readable; boxes are scaled by the same factor.
  const minSide = options.minSide ?? 480;
  const k = Math.max(1, Math.ceil(minSide / Math.min(img.bitmap.width, img.bitmap.height)));
  if (k > 1) img.resize({ w: img.bitmap.width * k, h: img.bitmap.height * k, mode: ResizeStrategy.NEAREST_NEIGHBOR });
  const bmp = img.bitmap;
  const font = await loadFont(SANS_16_WHITE);
  const line = Math.max(2, Math.round(Math.min(bmp.width, bmp.height) / 300));
  for (const d of detections) {
    const [x1, y1, x2, y2] = d.box.map((v) => v * k);
    const color = classColor(d.classId);
    fillRect(bmp, x1, y1, x2, y1 + line, color);
    fillRect(bmp, x1, y2 - line, x2, y2, color);
    fillRect(bmp, x1, y1, x1 + line, y2, color);
    fillRect(bmp, x2 - line, y1, x2, y2, color);
    const text = `${classNames[d.classId] ?? `class ${d.classId}`} ${d.score.toFixed(2)}`;
    const textW = measureText(font, text) + 6;
    const labelY = y1 >= 20 ? y1 - 20 : y1;
    fillRect(bmp, x1, labelY, x1 + textW, labelY + 20, color);
    img.print({ font, x: Math.max(0, Math.round(x1) + 3), y: Math.max(0, Math.round(labelY) + 1), text });
  }
  const png = await img.getBuffer('image/png');
  await writeFileAtomic(outPng, png);
}
