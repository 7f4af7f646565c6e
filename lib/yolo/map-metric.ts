// mAP as the quantizer's task metric (Metric, lib/quantize/plugin.ts): what accuracy.maxDrop targets
// and what sensitivity's `data` reports. A labelled set is decoded and letterboxed once; each model is
// then only run in LiteRT, decoded and matched - the same computation as `evaluate`, with
// ultralytics-val NMS for the model's family.
import fs from 'node:fs';
import { TfliteRunner, type RuntimeArray } from '../runtime/index.js';
import { dequantizeOutput, pixelsToInput } from '../pipeline/quantize.js';
import { decodeImage } from '../pipeline/image.js';
import { letterbox, type LetterboxTransform } from '../pipeline/letterbox.js';
import type { Metric, ScoredSet, ValidationSetSpec } from '../quantize/plugin.js';
import { loadDataset, readYoloLabels, labelsToPixels } from './dataset.js';
import { YoloModel } from './evaluate.js';
import { nonMaxSuppression, detectionsToOriginal, EVAL_NMS } from './nms.js';
import { matchImage, apPerClass, type ImageStats, type LabelBox } from './metrics.js';

/** The mAP of one model on a labelled set. */
export type MapScore = { mAP50: number; mAP50_95: number };

interface LabelledImage {
  pixels: Uint8Array;
  transform: LetterboxTransform;
  labels: LabelBox[];
  /** The label file (re-read for its line when a class id is beyond the scored model's class count). */
  labelFile: string;
}

/** The images of a spec's slice, each with its label file; throws when none has labels (no mAP without them). */
function labelledSlice(spec: ValidationSetSpec): { image: string; labels: string }[] {
  const ds = loadDataset(spec.images, { labelsDir: spec.labels, purpose: 'evaluation' });
  const offset = spec.offset ?? 0;
  const list = ds.items.slice(offset, spec.limit !== undefined ? offset + spec.limit : undefined);
  if (list.length === 0) throw new Error(`${spec.images}: no images in the selected slice (offset ${offset}, limit ${spec.limit})`);
  if (!list.some((it) => fs.existsSync(it.labels))) {
    throw new Error(`${spec.images}: none of the ${list.length} images has a YOLO label file (looked for ${list[0].labels}); the mAP needs labels`);
  }
  return list;
}

/** Throws, naming the label file and line, when an image's labels name a class beyond the model's count. */
function checkLabelClasses(item: LabelledImage, numClasses: number): void {
  if (item.labels.some((l) => l.classId >= numClasses)) readYoloLabels(item.labelFile, numClasses);
}

/** A labelled YOLO set read once (decoded, letterboxed to the model input), scoring models by mAP. */
export class LabelledSet implements ScoredSet<MapScore> {
  private constructor(
    readonly spec: ValidationSetSpec,
    private items: LabelledImage[],
    readonly size: [number, number],
  ) {}

  get count(): number {
    return this.items.length;
  }

  static async load(spec: ValidationSetSpec, size: [number, number]): Promise<LabelledSet> {
    const items: LabelledImage[] = [];
    for (const it of labelledSlice(spec)) {
      const img = await decodeImage(it.image);
      const { image, transform } = letterbox(img, { size, mode: 'fixed' });
      items.push({ pixels: image.data, transform, labels: labelsToPixels(readYoloLabels(it.labels), img.width, img.height), labelFile: it.labels });
    }
    return new LabelledSet(spec, items, size);
  }

  /** mAP of a .tflite (bytes) on the set. */
  async score(tflite: Uint8Array, label = 'model'): Promise<MapScore> {
    const runner = await TfliteRunner.load(tflite, { label });
    try {
      const yolo = new YoloModel(runner);
      if (yolo.inputSize[0] !== this.size[0] || yolo.inputSize[1] !== this.size[1]) {
        throw new Error(`${label}: input ${yolo.inputSize.join('x')}, the evaluation set was prepared for ${this.size.join('x')}`);
      }
      const stats: ImageStats[] = [];
      for (const it of this.items) {
        const raw = await runner.run([pixelsToInput(it.pixels, runner.inputs[0]) as RuntimeArray]);
        const outputs = raw.map((r, i) => dequantizeOutput(r, runner.outputs[i]));
        const { rows, numClasses, evalNms } = yolo.decode(outputs);
        checkLabelClasses(it, numClasses);
        const dets = detectionsToOriginal(nonMaxSuppression(rows, numClasses, evalNms ?? EVAL_NMS), it.transform);
        stats.push(matchImage(dets, it.labels));
      }
      const ap = apPerClass(stats);
      return { mAP50: ap.mAP50, mAP50_95: ap.mAP50_95 };
    } finally {
      runner.dispose();
    }
  }

  /** Cached inputs of the set as float [0,1] tensors (for SQNR and latency on the same images). */
  floatInputs(n = this.items.length): Float32Array[] {
    return this.items.slice(0, n).map((it) => Float32Array.from(it.pixels, (v) => v / 255));
  }
}

/** mAP50-95 on a labelled YOLO set (any layout `loadDataset` reads; several splits: val). */
export const MAP_METRIC: Metric<MapScore> = {
  name: 'mAP50-95',
  shortName: 'mAP',
  primary: 'mAP50_95',
  check(spec) {
    loadDataset(spec.images, { labelsDir: spec.labels, purpose: 'evaluation' });
  },
  load: (spec, inputSize) => LabelledSet.load(spec, inputSize),
};
