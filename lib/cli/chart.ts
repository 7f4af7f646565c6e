// A small horizontal bar chart rendered into an RGBA bitmap and encoded as PNG with jimp (the PNG
// encoder the detection drawings use): one row per bar, the label on the left, the bar, its value
// text on the right. Used by `yolo-int8 analyze --chart`.
import { Jimp, loadFont, measureText } from 'jimp';
import { SANS_12_BLACK, SANS_16_BLACK } from 'jimp/fonts';

export interface Bar {
  label: string;
  /** Bar length relative to the largest value (>= 0; non-finite values draw no bar). */
  value: number;
  /** Text printed right of the bar. */
  text: string;
}

export interface ChartLayout {
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
export function chartLayout(bars: Bar[], labelWidth: number, options: { width?: number } = {}): ChartLayout {
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
  const font = await loadFont(SANS_12_BLACK);
  const titleFont = await loadFont(SANS_16_BLACK);
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
    img.print({ font, x: PAD, y: y0 - 1, text: labels[i] });
    img.print({ font, x: x1 + 6, y: y0 - 1, text: b.text });
  });
  img.print({ font: titleFont, x: PAD, y: PAD - 2, text: options.title });
  return { png: await img.getBuffer('image/png'), layout };
}
