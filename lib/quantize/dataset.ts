// The representative dataset: image files (a directory or a list) or ready tensors, turned into the
// float inputs the model was trained on (letterboxed to its input size, pixel / 255).
import fs from 'node:fs';
import path from 'node:path';
import { decodeImage } from '../pipeline/image.js';
import { letterbox } from '../pipeline/letterbox.js';

export type DatasetItem = Float32Array | Uint8Array | { dataSync(): ArrayLike<number>; shape: number[]; dtype: string };
export type RepresentativeDataset = string | string[] | Iterable<DatasetItem> | AsyncIterable<DatasetItem>;

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.gif', '.tif', '.tiff', '.webp']);

/** Image files of a directory (sorted by name, so runs are reproducible), or the list as given. */
export function listImageFiles(source: string | string[]): string[] {
  if (Array.isArray(source)) return [...source];
  let st: fs.Stats;
  try {
    st = fs.statSync(source);
  } catch {
    throw new Error(`representative dataset: '${source}' does not exist (expected an image directory)`);
  }
  if (!st.isDirectory()) return [source];
  return fs
    .readdirSync(source)
    .filter((f) => IMAGE_EXT.has(path.extname(f).toLowerCase()))
    .sort()
    .map((f) => path.join(source, f));
}

export interface DatasetStats {
  used: number;
  skipped: { file: string; reason: string }[];
}

/**
 * Yields model inputs: Float32Array [1,H,W,C] with values in the model's float input range.
 * Image files that cannot be decoded are skipped and counted in `stats`.
 */
export async function* datasetInputs(
  dataset: RepresentativeDataset,
  inputShape: number[],
  stats: DatasetStats,
): AsyncGenerator<Float32Array> {
  const [, h, w, c] = inputShape;
  const expected = inputShape.reduce((a, b) => a * b, 1);
  if (typeof dataset === 'string' || (Array.isArray(dataset) && dataset.every((d) => typeof d === 'string'))) {
    const files = listImageFiles(dataset as string | string[]);
    if (files.length === 0) throw new Error(`representative dataset: no image files in '${String(dataset)}'`);
    if (c !== 3) throw new Error(`representative dataset: images give 3 channels but the model input has shape [${inputShape.join(',')}]`);
    for (const file of files) {
      let input: Float32Array;
      try {
        const img = await decodeImage(file);
        const { image } = letterbox(img, { size: [h, w], mode: 'fixed' });
        input = new Float32Array(image.data.length);
        for (let i = 0; i < input.length; i++) input[i] = image.data[i] / 255;
      } catch (e) {
        stats.skipped.push({ file, reason: (e as Error).message });
        continue;
      }
      stats.used++;
      yield input;
    }
    return;
  }
  let index = 0;
  for await (const item of dataset as AsyncIterable<DatasetItem>) {
    let data: Float32Array;
    if (item instanceof Float32Array) data = item;
    else if (item instanceof Uint8Array) data = Float32Array.from(item, (v) => v / 255); // raw pixels
    else if (item && typeof (item as { dataSync?: unknown }).dataSync === 'function') {
      const t = item as { dataSync(): ArrayLike<number>; shape: number[]; dtype: string };
      if (t.dtype !== 'float32') throw new Error(`representative dataset item ${index}: tensor dtype ${t.dtype}, expected float32`);
      data = Float32Array.from(t.dataSync());
    } else throw new Error(`representative dataset item ${index}: expected a Float32Array, a Uint8Array of pixels or a tf.Tensor`);
    if (data.length !== expected) {
      throw new Error(
        `representative dataset item ${index}: ${data.length} values, but the model input [${inputShape.join(',')}] needs ${expected}`,
      );
    }
    index++;
    stats.used++;
    yield data;
  }
}
