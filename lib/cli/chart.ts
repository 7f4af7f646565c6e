// A small horizontal bar chart rendered into an RGBA bitmap and encoded as PNG with jimp (the PNG
// encoder the detection drawings use): one row per bar, the label on the left, the bar, its value
// text on the right. Used by `yolo-int8 analyze --chart`.
//
// Text is drawn from jimp's bundled bitmap fonts (BMFont XML + PNG page) by this file itself: jimp's
// loadFont takes the fetch() path when `self` was defined before jimp loaded (LiteRT's loader
// defines it), and fetch cannot read local files.
import fs from 'node:fs';
import path from 'node:path';
import { Jimp } from 'jimp';
import { SANS_12_BLACK, SANS_16_BLACK } from 'jimp/fonts';

interface Glyph { x: number; y: number; width: number; height: number; xoffset: number; yoffset: number; xadvance: number }
interface BitmapFont { glyphs: Map<number, Glyph>; page: { width: number; height: number; data: Buffer | Uint8Array } }

const fonts = new Map<string, Promise<BitmapFont>>();

async function readFont(file: string): Promise<BitmapFont> {
  const xml = fs.readFileSync(file, 'utf8');
  const num = (tag: string, key: string) => Number(new RegExp(`\\b${key}="(-?\\d+)"`).exec(tag)?.[1] ?? 0);
  const glyphs = new Map<number, Glyph>();
  for (const m of xml.matchAll(/<char\s[^>]*>/g)) {
    const t = m[0];
    glyphs.set(num(t, 'id'), { x: num(t, 'x'), y: num(t, 'y'), width: num(t, 'width'), height: num(t, 'height'), xoffset: num(t, 'xoffset'), yoffset: num(t, 'yoffset'), xadvance: num(t, 'xadvance') });
  }
  const pageFile = /<page\s[^>]*file="([^"]+)"/.exec(xml)?.[1];
  if (!pageFile || glyphs.size === 0) throw new Error(`chart: ${file} is not a BMFont XML file`);
  const page = await Jimp.read(fs.readFileSync(path.join(path.dirname(file), pageFile)));
  return { glyphs, page: page.bitmap };
}

function loadBitmapFont(file: string): Promise<BitmapFont> {
  let f = fonts.get(file);
  if (!f) fonts.set(file, (f = readFont(file)));
  return f;
}

function measureText(font: BitmapFont, text: string): number {
  let w = 0;
  for (const ch of text) w += font.glyphs.get(ch.codePointAt(0)!)?.xadvance ?? 0;
  return w;
}

/** Alpha-blends the glyphs of `text` (the page's colour and alpha) onto an RGBA bitmap. */
function drawText(bmp: { width: number; height: number; data: Buffer | Uint8Array }, font: BitmapFont, x: number, y: number, text: string): void {
  const p = font.page;
  for (const ch of text) {
    const g = font.glyphs.get(ch.codePointAt(0)!) ?? font.glyphs.get(63);
    if (!g) continue;
    for (let j = 0; j < g.height; j++) {
      for (let i = 0; i < g.width; i++) {
        const tx = x + g.xoffset + i;
        const ty = y + g.yoffset + j;
        if (tx < 0 || ty < 0 || tx >= bmp.width || ty >= bmp.height) continue;
        const s = ((g.y + j) * p.width + g.x + i) * 4;
        const a = p.data[s + 3] / 255;
        if (a === 0) continue;
        const d = (ty * bmp.width + tx) * 4;
        for (let c = 0; c < 3; c++) bmp.data[d + c] = Math.round(p.data[s + c] * a + bmp.data[d + c] * (1 - a));
      }
    }
    x += g.xadvance;
  }
}

export interface Bar {
  label: string;
  /** Bar length relative to the largest value (>= 0; non-finite values draw no bar). */
  value: number;
  /** Text printed right of the bar. */
  text: string;
}

interface ChartLayout {
  width: number;
  height: number;
  /** Pixel box of each bar's full-scale track: [x0, y0, x1, y1) (x1 is where the largest value ends). */
  tracks: [number, number, number, number][];
  /** Pixel width of each drawn bar. */
  barWidths: number[];
}

export const BAR_COLOR = 0xd9482b;
const ROW = 22;
const BAR_H = 14;
const PAD = 10;
const TITLE_H = 30;

function fillRect(data: Buffer | Uint8Array, width: number, height: number, x0: number, y0: number, x1: number, y1: number, rgb: number): void {
  for (let y = Math.max(0, y0); y < Math.min(height, y1); y++) {
    for (let x = Math.max(0, x0); x < Math.min(width, x1); x++) {
      const o = (y * width + x) * 4;
      data[o] = (rgb >> 16) & 255;
      data[o + 1] = (rgb >> 8) & 255;
      data[o + 2] = rgb & 255;
      data[o + 3] = 255;
    }
  }
}

/** Geometry of the chart (also what a test checks the PNG against). */
function chartLayout(bars: Bar[], labelWidth: number, options: { width?: number } = {}): ChartLayout {
  const width = options.width ?? 900;
  const textW = 110;
  const x0 = PAD + labelWidth + 8;
  const x1 = width - PAD - textW;
  if (x1 - x0 < 50) throw new Error(`chart: width ${width} leaves no room for the bars (labels ${labelWidth} px)`);
  const max = Math.max(0, ...bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)));
  const tracks: ChartLayout['tracks'] = [];
  const barWidths: number[] = [];
  bars.forEach((b, i) => {
    const y = TITLE_H + PAD + i * ROW + (ROW - BAR_H) / 2;
    tracks.push([x0, y, x1, y + BAR_H]);
    const v = Number.isFinite(b.value) && b.value > 0 && max > 0 ? b.value / max : 0;
    barWidths.push(v > 0 ? Math.max(1, Math.round(v * (x1 - x0))) : 0);
  });
  return { width, height: TITLE_H + 2 * PAD + bars.length * ROW, tracks, barWidths };
}

/** Labels longer than this many pixels are shortened from the left ("...suffix"). */
const MAX_LABEL = 360;

/** Renders the chart; returns the PNG bytes and the layout it drew. */
export async function barChartPng(bars: Bar[], options: { title: string; width?: number }): Promise<{ png: Buffer; layout: ChartLayout }> {
  if (bars.length === 0) throw new Error('chart: no bars to draw');
  const font = await loadBitmapFont(SANS_12_BLACK);
  const titleFont = await loadBitmapFont(SANS_16_BLACK);
  const labels = bars.map((b) => {
    let s = b.label;
    while (s.length > 4 && measureText(font, s) > MAX_LABEL) s = '...' + s.slice(4);
    return s;
  });
  const labelWidth = Math.max(...labels.map((s) => measureText(font, s)));
  const layout = chartLayout(bars, labelWidth, options);
  const img = new Jimp({ width: layout.width, height: layout.height, color: 0xffffffff });
  const data = img.bitmap.data;
  bars.forEach((b, i) => {
    const [x0, y0, x1, y1] = layout.tracks[i];
    // A light track, then the bar.
    fillRect(data, layout.width, layout.height, x0, y0, x1, y1, 0xeeeeee);
    fillRect(data, layout.width, layout.height, x0, y0, x0 + layout.barWidths[i], y1, BAR_COLOR);
    drawText(img.bitmap, font, PAD, y0 - 1, labels[i]);
    drawText(img.bitmap, font, x1 + 6, y0 - 1, b.text);
  });
  drawText(img.bitmap, titleFont, PAD, PAD - 2, options.title);
  return { png: await img.getBuffer('image/png'), layout };
}
