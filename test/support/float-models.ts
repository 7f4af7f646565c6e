// Float references from TF.js itself: the bus.jpg input letterboxed by tf.image, and graph models
// loaded with tfjs' own loader (what our importers and float executor are compared against).
import fs from 'node:fs';
import path from 'node:path';
import { Jimp } from 'jimp';
import * as tf from '@tensorflow/tfjs';
import { BUS_JPG } from './fixtures.js';

/** bus.jpg (810x1080) bilinear-resized to 480x640, padded 80 px left/right with 114, scaled to [0,1]. */
export async function letterboxedBus(): Promise<Float32Array> {
  const img = await Jimp.read(BUS_JPG);
  const { width, height, data } = img.bitmap;
  const rgb = new Float32Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height; i++) {
    rgb[j++] = data[4 * i]; rgb[j++] = data[4 * i + 1]; rgb[j++] = data[4 * i + 2];
  }
  return tf.tidy(() => {
    const x = tf.tensor4d(rgb, [1, height, width, 3]);
    const resized = tf.image.resizeBilinear(x, [640, 480], false, true);
    const padded = tf.pad(resized, [[0, 0], [0, 0], [80, 80], [0, 0]], 114);
    return tf.div(padded, 255).dataSync() as Float32Array;
  });
}

/** Loads a graph model with tfjs' own loader from memory (tfjs in Node has no file:// handler). */
export async function loadGraphModelFromDir(dir: string): Promise<tf.GraphModel> {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const weightSpecs = json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights);
  const shards = json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => fs.readFileSync(path.join(dir, p))));
  const buf = Buffer.concat(shards);
  const weightData = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return tf.loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData, signature: json.signature, format: json.format }));
}
