// The representative dataset: image files (a dataset path, resolved by the plug-in's resolver or the
// plain one below, or a list) or ready tensors, turned into the float inputs the model was trained on
// (letterboxed to its input size, pixel / 255).
import path from 'node:path';
import { imageLayoutOf, type ImageLayout } from '../pipeline/layout.js';
import { pixelValue } from './image-input.js';
import { floatToInput, type TensorQuantization } from '../pipeline/quantize.js';
import type { RuntimeArray } from '../runtime/index.js';
import { prefetchImageInputs } from './prefetch.js';
import { hasWildcard } from '../util/glob.js';
import { globImages, imagesIn, isDir, isFile, isImageFile, readImageList, uniqueSorted } from '../util/image-files.js';
import type { DatasetInfo, ImageSourceResolver } from './plugin.js';

export type DatasetItem = Float32Array | Uint8Array | { dataSync(): ArrayLike<number>; shape: number[]; dtype: string };
/** One sample: the input of a model with one input; for several, one item per input in order, or a record by input name. */
export type DatasetSample = DatasetItem | DatasetItem[] | Record<string, DatasetItem>;
export type RepresentativeDataset = string | string[] | Iterable<DatasetSample> | AsyncIterable<DatasetSample>;

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

/** How image files are read: the header's pixel limit and where they are decoded. */
export interface ImageReading {
  /** Image pixel limit checked in each header before decoding (decodeImage's default when omitted). */
  maxPixels?: number;
  /** Decode and letterbox in a worker thread ahead of their use (prefetch.ts; default true). */
  decodeInWorker?: boolean;
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
function lengthMismatch(where: string, length: number, inputShape: number[], inputWord: string): string {
  const [, h, w, c] = inputShape;
  const expected = inputShape.reduce((a, b) => a * b, 1);
  let hint = '';
  if (inputShape.length === 4 && length % (h * w) === 0) {
    hint = ` (that is ${length / (h * w)} channel(s) at ${h}x${w}; the model takes ${c})`;
  } else if (inputShape.length === 4 && length % c === 0) {
    const side = Math.sqrt(length / c);
    if (Number.isInteger(side)) hint = ` (that is a ${side}x${side} input; the model takes ${h}x${w})`;
  }
  return `${where}: ${length} values, but ${inputWord} [${inputShape.join(',')}] needs ${expected}${hint}`;
}

export { grayInput, pixelValue } from './image-input.js';

/** A graph input as the dataset reader sees it: its name and (fully known) shape. */
export interface ModelInputShape {
  name: string;
  shape: number[];
}

/** One set of model inputs: a Float32Array per graph input, in the graph's input order. */
export type ModelSample = Float32Array[];

/** A float sample as a LiteRT runner's inputs: each array in its input's dtype and parameters. */
export function runnerInputs(sample: ModelSample, descriptions: readonly TensorQuantization[]): RuntimeArray[] {
  return sample.map((x, k) => floatToInput(x, descriptions[k]));
}

/** The graph's inputs with their shapes, in order. */
export function modelInputShapes(graph: { inputs: string[]; tensors: ReadonlyMap<string, { shape: number[] }> }): ModelInputShape[] {
  return graph.inputs.map((name) => ({ name, shape: graph.tensors.get(name)!.shape }));
}

/** Whether a dataset is image files (a path or a list of paths) rather than tensors. */
export function isImageDataset(dataset: RepresentativeDataset): dataset is string | string[] {
  return typeof dataset === 'string' || (Array.isArray(dataset) && dataset.length > 0 && dataset.every((d) => typeof d === 'string'));
}

function isDatasetItem(x: unknown): x is DatasetItem {
  return x instanceof Float32Array || x instanceof Uint8Array || (typeof x === 'object' && x !== null && typeof (x as { dataSync?: unknown }).dataSync === 'function');
}

/** "'a' [1,32,32,3], 'b' [1,10]": the inputs as error messages name them. */
function describeInputs(inputs: readonly ModelInputShape[], marks?: (i: ModelInputShape) => string): string {
  return inputs.map((i) => `'${i.name}' [${i.shape.join(',')}]${marks ? marks(i) : ''}`).join(', ');
}

/** How a sample of a model with several inputs is given (the end of every count / name error). */
const PER_INPUT_HINT = 'pass one tensor per input, in this order (an array), or a record by input name';

/** The items of one sample, one per model input in order: a single item, an array, or a record by input name. */
function sampleItems(sample: unknown, inputs: readonly ModelInputShape[], index: number): unknown[] {
  const where = `representative dataset item ${index}`;
  if (isDatasetItem(sample)) {
    if (inputs.length === 1) return [sample];
    throw new Error(`${where}: one tensor, but the model has ${inputs.length} inputs (${describeInputs(inputs)}); ${PER_INPUT_HINT}`);
  }
  // A model with one input takes its item alone; anything else is not a tensor (a plain number array, say).
  const listed = Array.isArray(sample) && (inputs.length > 1 || (sample.length === 1 && isDatasetItem(sample[0])));
  const named = !Array.isArray(sample) && typeof sample === 'object' && sample !== null && (inputs.length > 1 || inputs[0].name in sample);
  if (!listed && !named) {
    throw new Error(`${where}: expected a Float32Array, a Uint8Array of pixels or a tf.Tensor${inputs.length > 1 ? ` per input (${PER_INPUT_HINT})` : ''}`);
  }
  if (Array.isArray(sample)) {
    if (sample.length === inputs.length) return sample;
    throw new Error(`${where}: ${sample.length} tensors, but the model has ${inputs.length} inputs (${describeInputs(inputs)}); ${PER_INPUT_HINT}`);
  }
  const record = sample as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!inputs.some((i) => i.name === key)) throw new Error(`${where}: '${key}' is not a model input (inputs: ${describeInputs(inputs)})`);
  }
  return inputs.map((i) => {
    if (!(i.name in record)) throw new Error(`${where}: no tensor for input ${describeInputs([i])} (${PER_INPUT_HINT})`);
    return record[i.name];
  });
}

/** One item as the float values of one model input, checked: type, dtype, shape, length, finite values. */
function itemValues(item: unknown, input: ModelInputShape, where: string, inputWord: string, inputRange?: readonly [number, number]): Float32Array {
  const inputShape = input.shape;
  let data: Float32Array;
  if (item instanceof Float32Array) data = item;
  else if (item instanceof Uint8Array) data = Float32Array.from(item, (v) => pixelValue(v, inputRange)); // raw pixels
  else if (item && typeof (item as { dataSync?: unknown }).dataSync === 'function') {
    const t = item as { dataSync(): ArrayLike<number>; shape: number[]; dtype: string };
    if (t.dtype !== 'float32') throw new Error(`${where}: tensor dtype ${t.dtype}, expected float32`);
    // Check the shape before reading the data: [1,H,W,C] or [H,W,C] of the model input.
    const shape = Array.isArray(t.shape) ? t.shape : [];
    const want = shape.length === inputShape.length - 1 ? inputShape.slice(1) : inputShape;
    if (shape.length !== want.length || shape.some((d, i) => d !== want[i])) {
      throw new Error(`${where}: tensor shape [${shape.join(',')}] does not match ${inputWord} [${inputShape.join(',')}]`);
    }
    data = Float32Array.from(t.dataSync());
  } else throw new Error(`${where}: expected a Float32Array, a Uint8Array of pixels or a tf.Tensor`);
  if (data.length !== inputShape.reduce((a, b) => a * b, 1)) throw new Error(lengthMismatch(where, data.length, inputShape, inputWord));
  // One NaN would make every range it reaches NaN; say which sample carries it.
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new Error(`${where}: value ${data[i]} at element ${i}; calibration inputs must be finite`);
    }
  }
  return data;
}

/**
 * Image files given for a model that images cannot feed (an input that is not image-like). A class, so
 * that a caller that only has images (the CLI) can say what to do instead; `inputs` names each input
 * with its shape and whether it is image-like.
 */
export class ImageFeedError extends Error {
  constructor(message: string, readonly inputs: string) {
    super(message);
    this.name = 'ImageFeedError';
  }
}

/** The image layout of every input, or the one-line error saying which inputs images cannot feed. */
function imageLayoutsOf(inputs: readonly ModelInputShape[]): ImageLayout[] {
  const layouts = inputs.map((i) => imageLayoutOf(i.shape));
  if (layouts.every((l) => l !== undefined)) return layouts as ImageLayout[];
  const marked = describeInputs(inputs, (i) => (imageLayoutOf(i.shape) ? ' (image-like)' : ' (not image-like)'));
  if (inputs.length === 1) {
    const shape = inputs[0].shape;
    throw new ImageFeedError(`representative dataset: the model input [${shape.join(',')}] cannot be fed from images ([1,H,W,3], 1 channel as gray, or channels first [1,3,H,W]); ` +
      `pass tensors as the representative dataset: an iterable of Float32Array, ${shape.reduce((a, b) => a * b, 1)} values each`, marked);
  }
  throw new ImageFeedError(`representative dataset: images cannot feed every input of the model (${marked}); ` +
    `pass tensors as the representative dataset: an iterable with one Float32Array per input (in this order), or records by input name`, marked);
}

/** The files of an image dataset (read by `resolve`), recorded in `stats`. */
function datasetFiles(dataset: string | string[], stats: DatasetStats, resolve: ImageSourceResolver): string[] {
  let files: string[];
  if (typeof dataset === 'string') {
    const resolved = resolveCalibrationSet(dataset, resolve);
    stats.dataset = resolved.info;
    files = resolved.images;
  } else files = [...dataset];
  stats.files = files.length;
  if (files.length === 0) {
    throw new Error(Array.isArray(dataset)
      ? 'representative dataset: the list is empty (zero calibration samples)'
      : `representative dataset: no image files in '${String(dataset)}'`);
  }
  return files;
}

/**
 * Image files as model samples: each file letterboxed to every input's own size and layout (all
 * inputs must be image-like). Files that cannot be decoded are skipped and counted in `stats`.
 */
async function* imageSamples(
  files: string[],
  inputs: readonly ModelInputShape[],
  stats: DatasetStats,
  inputRange?: readonly [number, number],
  reading: ImageReading = {},
): AsyncGenerator<ModelSample> {
  const layouts = imageLayoutsOf(inputs);
  const waited = (seconds: number) => (stats.decodeSeconds = (stats.decodeSeconds ?? 0) + seconds);
  // One reader per input (each its own size and layout), read in step: a file is skipped by all or none.
  const readers = layouts.map((layout) => {
    const spec = { ...layout, ...(inputRange ? { inputRange } : {}), ...(reading.maxPixels !== undefined ? { maxPixels: reading.maxPixels } : {}) };
    return prefetchImageInputs(files, spec, waited, { worker: reading.decodeInWorker })[Symbol.asyncIterator]();
  });
  try {
    for (;;) {
      const reads = [];
      for (const r of readers) reads.push(await r.next());
      if (reads.some((r) => r.done)) break;
      const failed = reads.find((r) => 'error' in r.value);
      if (failed) {
        const read = failed.value as { file: string; error: string };
        stats.skipped.push({ file: read.file, reason: read.error });
        continue;
      }
      stats.used++;
      yield reads.map((r) => (r.value as { input: Float32Array }).input);
    }
  } finally {
    for (const r of readers) await r.return?.(undefined);
  }
  // Say why here, with the skipped files, rather than let calibration report "no samples".
  if (stats.used === 0) checkCalibrationCount(stats, files.length);
}

/**
 * Yields model samples, one Float32Array per graph input (in `inputs` order) with values in the
 * model's float input range. Image files feed image-like inputs only (each letterboxed to its input);
 * tensors come one per input: a single item for a model with one input, else an array in input order
 * or a record by input name. A string source is read by `resolve` (a plug-in's layouts, or the plain
 * resolver).
 */
export async function* modelSamples(
  dataset: RepresentativeDataset,
  inputs: readonly ModelInputShape[],
  stats: DatasetStats,
  resolve: ImageSourceResolver = plainImageSource,
  inputRange?: readonly [number, number],
  reading: ImageReading = {},
): AsyncGenerator<ModelSample> {
  if (isImageDataset(dataset) || (Array.isArray(dataset) && dataset.length === 0)) {
    yield* imageSamples(datasetFiles(dataset as string | string[], stats, resolve), inputs, stats, inputRange, reading);
    return;
  }
  let index = 0;
  for await (const sample of dataset as AsyncIterable<unknown>) {
    const items = sampleItems(sample, inputs, index);
    const several = inputs.length > 1;
    yield inputs.map((input, k) => itemValues(
      items[k], input,
      several ? `representative dataset item ${index}, input '${input.name}'` : `representative dataset item ${index}`,
      several ? 'the input' : 'the model input',
      inputRange,
    ));
    index++;
    stats.used++;
  }
  if (index === 0) checkCalibrationCount(stats, 1);
}

/**
 * Yields the inputs of a model with one input, [1,H,W,C] Float32Arrays (modelSamples for one shape).
 */
export async function* datasetInputs(
  dataset: RepresentativeDataset,
  inputShape: number[],
  stats: DatasetStats,
  resolve: ImageSourceResolver = plainImageSource,
  inputRange?: readonly [number, number],
  reading: ImageReading = {},
): AsyncGenerator<Float32Array> {
  for await (const [x] of modelSamples(dataset, [{ name: 'input', shape: inputShape }], stats, resolve, inputRange, reading)) yield x;
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
  inputs: readonly ModelInputShape[],
  kept: ModelSample[] | undefined,
  resolve: ImageSourceResolver = plainImageSource,
  inputRange?: readonly [number, number],
  reading: ImageReading = {},
): (() => AsyncIterable<ModelSample>) | undefined {
  if (isReiterable(dataset)) return () => modelSamples(dataset, inputs, { used: 0, skipped: [] }, resolve, inputRange, reading);
  if (!kept) return undefined;
  return async function* () {
    yield* kept;
  };
}
