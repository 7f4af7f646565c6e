// The representative dataset: image files (a dataset path, resolved by the plug-in's resolver or the
// plain one below, or a list) or ready tensors, turned into the float inputs the model was trained on
// (letterboxed to its input size, pixel / 255).
import path from 'node:path';
import { imageLayoutOf } from '../pipeline/layout.js';
import { pixelValue } from './image-input.js';
import { prefetchImageInputs } from './prefetch.js';
import { hasWildcard } from '../util/glob.js';
import { globImages, imagesIn, isDir, isFile, isImageFile, readImageList, uniqueSorted } from '../util/image-files.js';
import type { DatasetInfo, ImageSourceResolver } from './plugin.js';

export type DatasetItem = Float32Array | Uint8Array | { dataSync(): ArrayLike<number>; shape: number[]; dtype: string };
export type RepresentativeDataset = string | string[] | Iterable<DatasetItem> | AsyncIterable<DatasetItem>;

const PLAIN_EXPECTED = 'expected a folder of images, a .txt list of images, a glob on the file name or one image file';

/**
 * The dataset paths any model's quantizer reads (no plug-in): a folder with the images directly in
 * it, a glob on the file name, a .txt list of image paths, one image file. Sorted, without repeats.
 */
export const plainImageSource: ImageSourceResolver = (source) => {
  if (typeof source !== 'string' || source === '') throw new Error(`dataset: expected a path (${PLAIN_EXPECTED})`);
  let layout: string;
  let images: string[];
  if (hasWildcard(path.basename(source)) || hasWildcard(source)) [layout, images] = ['glob', globImages(source)];
  else if (isDir(source)) {
    [layout, images] = ['images-folder', imagesIn(source)];
    if (images.length === 0) throw new Error(`'${source}': no image files (.jpg/.png/...) in the folder (${PLAIN_EXPECTED})`);
  } else if (!isFile(source)) throw new Error(`'${source}': no such file or folder (${PLAIN_EXPECTED})`);
  else if (/\.txt$/i.test(source)) [layout, images] = ['list-file', uniqueSorted(readImageList(source))];
  else if (isImageFile(source)) [layout, images] = ['image-file', [source]];
  else throw new Error(`'${source}': not an image or a .txt list (${PLAIN_EXPECTED})`);
  return { images, info: { source, layout, images: images.length } };
};

/**
 * The image files of a dataset source (read by `resolve`), or the list as given. Sorted, so runs are
 * reproducible.
 */
export function listImageFiles(source: string | string[], resolve: ImageSourceResolver = plainImageSource): string[] {
  if (Array.isArray(source)) return [...source];
  return resolveCalibrationSet(source, resolve).images;
}

function resolveCalibrationSet(source: string, resolve: ImageSourceResolver): ReturnType<ImageSourceResolver> {
  try {
    return resolve(source);
  } catch (e) {
    throw new Error(`representative dataset: ${(e as Error).message}`);
  }
}

export interface DatasetStats {
  used: number;
  skipped: { file: string; reason: string }[];
  /** Number of image files the source listed (image-file sources only). */
  files?: number;
  /** How a string source was resolved (layout, split used). */
  dataset?: DatasetInfo;
  /**
   * Time the reader of the inputs waited for image files to be read, decoded and letterboxed (s): they
   * are prepared ahead in a worker thread (prefetch.ts), so only what did not overlap counts.
   */
  decodeSeconds?: number;
}

/**
 * When a calibration run has too few usable samples to be trusted, throws; the rule:
 *   - no usable sample at all is an error (whatever the source);
 *   - from image files, fewer than half of min(requested samples, files listed) decoding is an
 *     error: a directory that is mostly unreadable is the wrong directory, not a few bad files.
 * Fewer skipped files only produce a warning (quantizeInt8 reports them).
 */
export function checkCalibrationCount(stats: DatasetStats, requested: number): void {
  const skippedNote = stats.skipped.length
    ? `; ${stats.skipped.length} file(s) skipped, e.g. ${stats.skipped.slice(0, 2).map((s) => s.reason).join('; ')}`
    : '';
  if (stats.used === 0) {
    throw new Error(
      stats.files !== undefined
        ? `representative dataset: none of the ${stats.files} image file(s) could be used for calibration${skippedNote}`
        : 'representative dataset: it yielded no samples (zero calibration samples)',
    );
  }
  if (stats.files !== undefined) {
    const expected = Math.min(requested, stats.files);
    const needed = Math.ceil(expected / 2);
    if (stats.used < needed) {
      throw new Error(
        `representative dataset: only ${stats.used} of ${stats.used + stats.skipped.length} image files could be read, ` +
          `fewer than half of the ${expected} samples expected (at least ${needed} needed)${skippedNote}`,
      );
    }
  }
}

/** Explains a wrong input length: which channel count or size the data would fit instead. */
function lengthMismatch(index: number, length: number, inputShape: number[]): string {
  const [, h, w, c] = inputShape;
  const expected = inputShape.reduce((a, b) => a * b, 1);
  let hint = '';
  if (inputShape.length === 4 && length % (h * w) === 0) {
    hint = ` (that is ${length / (h * w)} channel(s) at ${h}x${w}; the model takes ${c})`;
  } else if (inputShape.length === 4 && length % c === 0) {
    const side = Math.sqrt(length / c);
    if (Number.isInteger(side)) hint = ` (that is a ${side}x${side} input; the model takes ${h}x${w})`;
  }
  return `representative dataset item ${index}: ${length} values, but the model input [${inputShape.join(',')}] needs ${expected}${hint}`;
}

export { grayInput, pixelValue } from './image-input.js';

/**
 * Yields model inputs: Float32Array [1,H,W,C] with values in the model's float input range.
 * Image files that cannot be decoded are skipped and counted in `stats`; a string source is read by
 * `resolve` (a plug-in's dataset layouts, or the plain resolver).
 */
export async function* datasetInputs(
  dataset: RepresentativeDataset,
  inputShape: number[],
  stats: DatasetStats,
  resolve: ImageSourceResolver = plainImageSource,
  inputRange?: readonly [number, number],
  maxPixels?: number,
): AsyncGenerator<Float32Array> {
  const expected = inputShape.reduce((a, b) => a * b, 1);
  if (typeof dataset === 'string' || (Array.isArray(dataset) && dataset.every((d) => typeof d === 'string'))) {
    let files: string[];
    if (typeof dataset === 'string') {
      const resolved = resolveCalibrationSet(dataset, resolve);
      stats.dataset = resolved.info;
      files = resolved.images;
    } else files = [...(dataset as string[])];
    stats.files = files.length;
    if (files.length === 0) {
      throw new Error(Array.isArray(dataset)
        ? 'representative dataset: the list is empty (zero calibration samples)'
        : `representative dataset: no image files in '${String(dataset)}'`);
    }
    const layout = imageLayoutOf(inputShape);
    if (!layout) {
      throw new Error(`representative dataset: the model input [${inputShape.join(',')}] cannot be fed from images ([1,H,W,3], 1 channel as gray, or channels first [1,3,H,W]); ` +
        `pass tensors as the representative dataset: an iterable of Float32Array, ${expected} values each`);
    }
    const spec = { ...layout, ...(inputRange ? { inputRange } : {}), ...(maxPixels !== undefined ? { maxPixels } : {}) };
    const waited = (seconds: number) => (stats.decodeSeconds = (stats.decodeSeconds ?? 0) + seconds);
    for await (const read of prefetchImageInputs(files, spec, waited)) {
      if ('error' in read) {
        stats.skipped.push({ file: read.file, reason: read.error });
        continue;
      }
      stats.used++;
      yield read.input;
    }
    // Say why here, with the skipped files, rather than let calibration report "no samples".
    if (stats.used === 0) checkCalibrationCount(stats, files.length);
    return;
  }
  let index = 0;
  for await (const item of dataset as AsyncIterable<DatasetItem>) {
    let data: Float32Array;
    if (item instanceof Float32Array) data = item;
    else if (item instanceof Uint8Array) data = Float32Array.from(item, (v) => pixelValue(v, inputRange)); // raw pixels
    else if (item && typeof (item as { dataSync?: unknown }).dataSync === 'function') {
      const t = item as { dataSync(): ArrayLike<number>; shape: number[]; dtype: string };
      if (t.dtype !== 'float32') throw new Error(`representative dataset item ${index}: tensor dtype ${t.dtype}, expected float32`);
      // Check the shape before reading the data: [1,H,W,C] or [H,W,C] of the model input.
      const shape = Array.isArray(t.shape) ? t.shape : [];
      const want = shape.length === inputShape.length - 1 ? inputShape.slice(1) : inputShape;
      if (shape.length !== want.length || shape.some((d, i) => d !== want[i])) {
        throw new Error(`representative dataset item ${index}: tensor shape [${shape.join(',')}] does not match the model input [${inputShape.join(',')}]`);
      }
      data = Float32Array.from(t.dataSync());
    } else throw new Error(`representative dataset item ${index}: expected a Float32Array, a Uint8Array of pixels or a tf.Tensor`);
    if (data.length !== expected) throw new Error(lengthMismatch(index, data.length, inputShape));
    // One NaN would make every range it reaches NaN; say which sample carries it.
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        throw new Error(`representative dataset item ${index}: value ${data[i]} at element ${i}; calibration inputs must be finite`);
      }
    }
    index++;
    stats.used++;
    yield data;
  }
  if (index === 0) checkCalibrationCount(stats, 1);
}

/**
 * Whether a representative dataset can be read again from its start: a path or a list (of files or of
 * tensors) can; any other iterable is treated as one-shot (an iterator is consumed by calibration), so
 * the first samples must be kept while calibrating (calibrateGraph's keepInputs).
 */
export function isReiterable(dataset: RepresentativeDataset): boolean {
  return typeof dataset === 'string' || Array.isArray(dataset);
}

/** The inputs bias correction reads, from the start each time: the dataset again, or the kept inputs. */
export function correctionInputs(
  dataset: RepresentativeDataset,
  inputShape: number[],
  kept: Float32Array[] | undefined,
  resolve: ImageSourceResolver = plainImageSource,
  inputRange?: readonly [number, number],
  maxPixels?: number,
): (() => AsyncIterable<Float32Array>) | undefined {
  if (isReiterable(dataset)) return () => datasetInputs(dataset, inputShape, { used: 0, skipped: [] }, resolve, inputRange, maxPixels);
  if (!kept) return undefined;
  return async function* () {
    yield* kept;
  };
}
