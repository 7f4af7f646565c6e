// YOLOv5 letterbox: keep the aspect ratio, resize, pad with grey (114) to the network size.
// Mirrors ultralytics `letterbox()`: r = min(H/h, W/w), new size = round(w*r) x round(h*r),
// padding split in two with the odd pixel going right/bottom (round(d/2 - 0.1), round(d/2 + 0.1)).
import type { RgbImage } from './image.js';

/** Maps boxes between the original image and the letterboxed network input. */
export interface LetterboxTransform {
  /** Resize ratio applied to the original image (the same on both axes). */
  scale: number;
  /** Left / top padding in network-input pixels. */
  padX: number;
  padY: number;
  origW: number;
  origH: number;
  /** Size of the resized image inside the padded frame. */
  resizedW: number;
  resizedH: number;
  /** Size of the letterboxed frame (the network input). */
  outW: number;
  outH: number;
}

export interface LetterboxOptions {
  /** Target size: a square side or [height, width]. Default 640. */
  size?: number | [number, number];
  /** 'fixed' pads to exactly `size` (ultralytics auto=False); 'stride' pads only up to a multiple of `stride`. */
  mode?: 'fixed' | 'stride';
  stride?: number;
  /** Allow enlarging small images (default true; ultralytics val enlarges to the long side too). */
  scaleUp?: boolean;
  padValue?: number;
}

/** Python's round(): halves go to the even neighbour (ultralytics computes its padding with it). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The geometry of a letterbox, without touching pixels. */
export function letterboxTransform(origW: number, origH: number, options: LetterboxOptions = {}): LetterboxTransform {
  if (!(origW > 0 && origH > 0)) throw new Error(`letterbox: image size must be positive, got ${origW}x${origH}`);
  const size = options.size ?? 640;
  const [targetH, targetW] = typeof size === 'number' ? [size, size] : size;
  let r = Math.min(targetH / origH, targetW / origW);
  if (options.scaleUp === false) r = Math.min(r, 1);
  const resizedW = roundHalfEven(origW * r);
  const resizedH = roundHalfEven(origH * r);
  let dw = targetW - resizedW;
  let dh = targetH - resizedH;
  if (options.mode === 'stride') {
    const stride = options.stride ?? 32;
    dw = dw % stride;
    dh = dh % stride;
  }
  const left = roundHalfEven(dw / 2 - 0.1);
  const right = roundHalfEven(dw / 2 + 0.1);
  const top = roundHalfEven(dh / 2 - 0.1);
  const bottom = roundHalfEven(dh / 2 + 0.1);
  return {
    scale: r, padX: left, padY: top, origW, origH, resizedW, resizedH,
    outW: resizedW + left + right, outH: resizedH + top + bottom,
  };
}

/**
 * Bilinear resize of packed RGB with half-pixel centres (OpenCV INTER_LINEAR convention:
 * src = (dst + 0.5) * srcSize/dstSize - 0.5, clamped at the borders), rounded to the nearest byte.
 */
export function resizeBilinear(img: RgbImage, outW: number, outH: number): RgbImage {
  if (outW === img.width && outH === img.height) return { width: outW, height: outH, data: img.data.slice() };
  const { width: w, height: h, data } = img;
  const sx = w / outW;
  const sy = h / outH;
  // Precompute the two source columns and weight per output column.
  const x0 = new Int32Array(outW);
  const x1 = new Int32Array(outW);
  const wx = new Float64Array(outW);
  for (let x = 0; x < outW; x++) {
    let fx = (x + 0.5) * sx - 0.5;
    let ix = Math.floor(fx);
    fx -= ix;
    if (ix < 0) { ix = 0; fx = 0; }
    if (ix >= w - 1) { ix = w - 1; fx = 0; }
    x0[x] = ix;
    x1[x] = Math.min(ix + 1, w - 1);
    wx[x] = fx;
  }
  const out = new Uint8Array(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    let fy = (y + 0.5) * sy - 0.5;
    let iy = Math.floor(fy);
    fy -= iy;
    if (iy < 0) { iy = 0; fy = 0; }
    if (iy >= h - 1) { iy = h - 1; fy = 0; }
    const iy1 = Math.min(iy + 1, h - 1);
    const row0 = iy * w * 3;
    const row1 = iy1 * w * 3;
    for (let x = 0; x < outW; x++) {
      const a = x0[x] * 3;
      const b = x1[x] * 3;
      const fx = wx[x];
      const o = (y * outW + x) * 3;
      for (let c = 0; c < 3; c++) {
        const top = data[row0 + a + c] * (1 - fx) + data[row0 + b + c] * fx;
        const bot = data[row1 + a + c] * (1 - fx) + data[row1 + b + c] * fx;
        out[o + c] = Math.round(top * (1 - fy) + bot * fy);
      }
    }
  }
  return { width: outW, height: outH, data: out };
}

/** Letterboxes an RGB image; returns the padded image and the transform that maps boxes back. */
export function letterbox(img: RgbImage, options: LetterboxOptions = {}): { image: RgbImage; transform: LetterboxTransform } {
  const t = letterboxTransform(img.width, img.height, options);
  const resized = resizeBilinear(img, t.resizedW, t.resizedH);
  const pad = options.padValue ?? 114;
  const out = new Uint8Array(t.outW * t.outH * 3).fill(pad);
  const rowBytes = t.resizedW * 3;
  for (let y = 0; y < t.resizedH; y++) {
    out.set(resized.data.subarray(y * rowBytes, (y + 1) * rowBytes), ((y + t.padY) * t.outW + t.padX) * 3);
  }
  return { image: { width: t.outW, height: t.outH, data: out }, transform: t };
}

/** Maps an xyxy box from the network input back to original-image pixels, clipped to the image. */
export function boxToOriginal(box: readonly number[] | Float32Array, t: LetterboxTransform): [number, number, number, number] {
  const clip = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  return [
    clip((box[0] - t.padX) / t.scale, t.origW),
    clip((box[1] - t.padY) / t.scale, t.origH),
    clip((box[2] - t.padX) / t.scale, t.origW),
    clip((box[3] - t.padY) / t.scale, t.origH),
  ];
}

/** Maps an xyxy box in original-image pixels into the letterboxed network input. */
export function boxToLetterbox(box: readonly number[], t: LetterboxTransform): [number, number, number, number] {
  return [box[0] * t.scale + t.padX, box[1] * t.scale + t.padY, box[2] * t.scale + t.padX, box[3] * t.scale + t.padY];
}
