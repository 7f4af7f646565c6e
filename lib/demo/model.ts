// The embedded demo detector: a small YOLOv5-style TF.js layers model trained on lib/demo/synthetic.ts
// shapes (models/demo/README.md). Here: its head description, where it lives, and loading it with fs
// (no tfjs-node, so no file:// IO handler). How it is built and trained is not shipped:
// scripts/demo-training/.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readyQuietly } from '../graph/backend.js';
import { packageRoot } from '../util/package.js';
import type { YoloHeadSpec } from '../yolo/head.js';
import { DEMO_CLASS_NAMES } from './synthetic.js';

export { DEMO_CLASS_NAMES };

// 128 rather than 160: on the shared 2-core machine a 160 px training step (batch 16) took ~2.5 s,
// too few steps in the ~20 minute budget; 128 px costs ~0.64x and the smallest shapes (8% = 10 px)
// still span more than a stride-8 cell.
export const DEMO_INPUT_SIZE = 128;
export const DEMO_NUM_CLASSES = DEMO_CLASS_NAMES.length;

// Anchors: 9-means (1-IoU distance) of the 693 label sizes of 200 generated 128x128 training images
// (`npx tsx scripts/demo-training/train.ts --anchors` re-derives them), whole pixels, 3 per level small to large.
const DEMO_ANCHORS: [number, number][][] = [
  [[11, 12], [15, 14], [17, 18]],
  [[21, 21], [26, 26], [32, 32]],
  [[39, 39], [50, 49], [66, 65]],
];
export const DEMO_STRIDES = [8, 16, 32];
export const DEMO_OUTPUT_NAMES = ['detect_p3', 'detect_p4', 'detect_p5'];

export const DEMO_HEAD: YoloHeadSpec = {
  kind: 'yolov5-sigmoid-levels',
  inputSize: [DEMO_INPUT_SIZE, DEMO_INPUT_SIZE],
  numClasses: DEMO_NUM_CLASSES,
  normalized: false,
  levels: DEMO_STRIDES.map((stride, i) => ({
    output: DEMO_OUTPUT_NAMES[i],
    stride,
    gridH: DEMO_INPUT_SIZE / stride,
    gridW: DEMO_INPUT_SIZE / stride,
    anchors: DEMO_ANCHORS[i],
  })),
};

export function demoModelDir(): string {
  return path.join(packageRoot(), 'models', 'demo');
}

/** tf.io handler that reads a layers model.json and its weight shards from a folder with fs. */
export function fsLoadHandler(dir: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const jsonPath = path.join(dir, 'model.json');
      if (!fs.existsSync(jsonPath)) throw new Error(`${jsonPath}: not found (expected a TF.js layers model.json)`);
      const json = JSON.parse(fs.readFileSync(jsonPath, 'utf8')) as tf.io.ModelJSON;
      if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
        throw new Error(`${jsonPath}: expected modelTopology and weightsManifest (a TF.js layers model.json)`);
      }
      const weightSpecs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of json.weightsManifest) {
        weightSpecs.push(...group.weights);
        for (const p of group.paths) {
          const shard = path.join(dir, p);
          if (!fs.existsSync(shard)) throw new Error(`${jsonPath}: weight shard '${p}' not found at ${shard}`);
          buffers.push(fs.readFileSync(shard));
        }
      }
      const all = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        weightSpecs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
        userDefinedMetadata: json.userDefinedMetadata,
      };
    },
  };
}

/** Loads the committed trained demo detector (models/demo/model.json + weights.bin). */
export async function loadDemoModel(): Promise<tf.LayersModel> {
  await readyQuietly(); // weights become tensors: the current backend must have finished starting
  return tf.loadLayersModel(fsLoadHandler(demoModelDir()));
}
