// Running YOLOv5 .tflite models through LiteRT on images: detection, COCO-style mAP evaluation,
// and a fidelity comparison of two models on the same images.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { TfliteRunner } from '../runtime/index.js';
import { decodeImage } from '../pipeline/image.js';
import { imageToInput, imageInputSize, toModelInput, type PreparedInput } from '../pipeline/input.js';
import { dequantizeOutput } from '../pipeline/quantize.js';
import { readHeadSpec, checkSpecOutputs, type HeadSpec } from './head.js';
import { readModelInfoFromTflite } from '../graph/importers/model-info.js';
import type { ModelInfo } from '../ir/graph.js';
import { decodeModelOutputs, type DecodedRows } from './decode.js';
import { nonMaxSuppression, detectionsToOriginal, boxIou, EVAL_NMS, DETECT_NMS, type Detection, type NmsOptions } from './nms.js';
import { matchImage, apPerClass, type ImageStats } from './metrics.js';
import { precisionRecallAtMaxF1, type ClassPrecisionRecall } from './precision-recall.js';
import { loadDataset, readYoloLabels, labelsToPixels, type DatasetInfo } from './dataset.js';
import { percentile } from '../util/stats.js';
import { READ_LIMITS, readRegularFile } from '../util/read-file.js';

export type ModelSource = string | Uint8Array | TfliteRunner;

async function openRunner(model: ModelSource): Promise<{ runner: TfliteRunner; owned: boolean; fileBytes: number; bytes?: Uint8Array }> {
  if (model instanceof TfliteRunner) return { runner: model, owned: false, fileBytes: NaN };
  const bytes = typeof model === 'string' ? readRegularFile(model, 'model file', READ_LIMITS.model) : model;
  return { runner: await TfliteRunner.load(bytes, { label: typeof model === 'string' ? model : undefined }), owned: true, fileBytes: bytes.byteLength, bytes };
}

/** A loaded YOLO model with everything needed to go from an image to detections. */
export class YoloModel {
  readonly runner: TfliteRunner;
  readonly head: HeadSpec | undefined;
  readonly inputSize: [number, number];
  /** What the file says about the model (ultralytics' embedded metadata): class names, keypoints. */
  readonly info: ModelInfo | undefined;

  constructor(runner: TfliteRunner, bytes?: Uint8Array) {
    if (runner.inputs.length !== 1) {
      throw new Error(`${runner.label}: a YOLO model has one image input, this one has ${runner.inputs.length}`);
    }
    this.runner = runner;
    this.inputSize = imageInputSize(runner.inputs[0]);
    this.head = readHeadSpec(runner.model, runner.label);
    if (this.head) checkSpecOutputs(this.head, runner.outputs, runner.label);
    this.info = bytes ? readModelInfoFromTflite(bytes, runner.label) : undefined;
  }

  /** Class names when the file carries them. */
  get classNames(): string[] | undefined {
    return this.head?.classNames ?? this.info?.names;
  }

  /** Letterboxes and converts an image for this model's input. */
  prepare(image: string | Uint8Array, maxPixels?: number): Promise<PreparedInput> {
    return imageToInput(image, this.runner.inputs[0], { maxPixels });
  }

  /**
   * Runs the model on caller data (a typed array or a tf.Tensor) after checking it against the input:
   * a float tensor for an int8/uint8 input (or any other mismatch) throws an error that names the fix.
   */
  async runChecked(data: unknown): Promise<Float32Array[]> {
    const arr = toModelInput(data, this.runner.inputs[0], this.runner.label);
    const raw = await this.runner.run(arr);
    return raw.map((r, i) => dequantizeOutput(r, this.runner.outputs[i]));
  }

  /** Runs the model on a prepared input; returns the dequantized outputs and the LiteRT run time. */
  async forward(input: PreparedInput): Promise<{ outputs: Float32Array[]; ms: number }> {
    const t0 = performance.now();
    const raw = await this.runner.run(input.data);
    const ms = performance.now() - t0;
    return { outputs: raw.map((r, i) => dequantizeOutput(r, this.runner.outputs[i])), ms };
  }

  /** Decoded rows [cx, cy, w, h, obj, cls...] in input pixels (obj = 1 for anchor-free heads). */
  decode(outputs: Float32Array[]): DecodedRows {
    const kpt = this.info?.kptShape;
    const hints = { numClasses: this.info?.names?.length, extraPerAnchor: kpt ? kpt[0] * kpt[1] : undefined };
    return decodeModelOutputs(outputs, this.runner.outputs, this.inputSize, this.head, hints);
  }

  /**
   * Detections in original-image pixels, with the family's predict defaults (YOLOv5: conf 0.25,
   * IoU 0.45, 100 boxes; YOLOv8/11: conf 0.25, IoU 0.7, 300 boxes); `nms` overrides them.
   */
  async detect(image: string | Uint8Array, nms: NmsOptions = {}, maxPixels?: number): Promise<{ detections: Detection[]; ms: number; input: PreparedInput }> {
    const input = await this.prepare(image, maxPixels);
    const { outputs, ms } = await this.forward(input);
    const { rows, numClasses, detectNms } = this.decode(outputs);
    const dets = nonMaxSuppression(rows, numClasses, { ...(detectNms ?? DETECT_NMS), ...nms });
    return { detections: detectionsToOriginal(dets, input.transform), ms, input };
  }
}

/** Loads a .tflite (path or bytes) as a YoloModel. */
export async function loadYoloModel(model: string | Uint8Array): Promise<YoloModel> {
  const { runner, bytes } = await openRunner(model);
  return new YoloModel(runner, bytes);
}

/** One-shot detection: loads the model, detects, releases it. `maxPixels` as in EvaluateOptions. */
export async function detect(model: ModelSource, image: string | Uint8Array, nms: NmsOptions = {}, options: { maxPixels?: number } = {}): Promise<Detection[]> {
  const { runner, owned, bytes } = await openRunner(model);
  try {
    return (await new YoloModel(runner, bytes).detect(image, nms, options.maxPixels)).detections;
  } finally {
    if (owned) runner.dispose();
  }
}

export { percentile };

export interface EvaluateOptions {
  /**
   * The dataset: an images folder, a dataset root with images/ and labels/ (split folders: val is
   * used), an ultralytics dataset yaml (its `val`), a .txt list of images or a glob on the file name.
   * Labels are YOLO .txt files found by replacing the last /images/ of each image path with /labels/.
   */
  images: string;
  /** Labels folder, when not the YOLO sibling of the images folder. */
  labels?: string;
  /** Images are sorted by name; `offset` skips the first ones and `limit` caps the count. */
  offset?: number;
  limit?: number;
  /**
   * NMS settings; default: ultralytics val's for the model's family (YOLOv5: conf 0.001, IoU 0.6;
   * YOLOv8/11: conf 0.001, IoU 0.7; 300 boxes, multi-label).
   */
  nms?: NmsOptions;
  /**
   * Largest image (width x height) an image may declare in its header before it is decoded (default
   * 8192 x 8192 = 67,108,864 pixels); a larger one is an error naming the file.
   */
  maxPixels?: number;
  onProgress?: (done: number, total: number, image: string) => void;
}

export interface EvaluatedClass extends ClassPrecisionRecall {
  name?: string;
  mAP50: number;
  mAP50_95: number;
}

export interface EvaluateResult {
  images: number;
  labels: number;
  mAP50: number;
  mAP50_95: number;
  /** LiteRT run time per image (decode, letterbox, NMS excluded). */
  latencyMs: { median: number; p90: number; mean: number };
  /** Model file size (NaN when a TfliteRunner was passed). */
  fileBytes: number;
  /** AP per class present in the labels: classId -> [AP50, AP50-95]. */
  perClass: Record<number, [number, number]>;
  /**
   * Precision and recall as ultralytics val prints them: at the one confidence where the class-mean F1
   * (IoU 0.5) is highest (lib/yolo/precision-recall.ts), means over the classes present in the labels.
   */
  precision: number;
  recall: number;
  /** The confidence P and R were read at. */
  confidence: number;
  /** Per class present in the labels: its name (the file's, else the dataset yaml's), counts, P, R, AP. */
  classes: EvaluatedClass[];
  /** How `images` was read: layout, the split used, the number of images it holds. */
  dataset: DatasetInfo;
}

function selectItems(options: EvaluateOptions, needLabels: boolean) {
  const ds = loadDataset(options.images, { labelsDir: options.labels });
  // A label file may be missing for an image without objects, but none at all means the labels are elsewhere.
  if (needLabels && !ds.items.some((it) => fs.existsSync(it.labels))) {
    throw new Error(
      `${options.images}: none of the ${ds.items.length} images has a YOLO label file (looked for ${ds.items[0].labels}); ` +
        'evaluation needs labels/ beside images/ with one <image name>.txt per image (or the labels option)',
    );
  }
  const offset = options.offset ?? 0;
  const items = ds.items.slice(offset, options.limit !== undefined ? offset + options.limit : undefined);
  if (items.length === 0) throw new Error(`${options.images}: no images in the selected slice (offset ${offset}, limit ${options.limit})`);
  return { items, info: ds.info, names: ds.names };
}

/** COCO-style mAP@0.5 and mAP@0.5:0.95 of a YOLOv5 .tflite on a YOLO-format dataset, run through LiteRT. */
export async function evaluate(model: ModelSource, options: EvaluateOptions): Promise<EvaluateResult> {
  const { items, info, names: datasetNames } = selectItems(options, true);
  const { runner, owned, fileBytes, bytes } = await openRunner(model);
  try {
    const yolo = new YoloModel(runner, bytes);
    const stats: ImageStats[] = [];
    const times: number[] = [];
    let labelCount = 0;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      const img = await decodeImage(item.image, undefined, options.maxPixels);
      const input = await imageToInput(img, runner.inputs[0]);
      const { outputs, ms } = await yolo.forward(input);
      times.push(ms);
      const { rows, numClasses, evalNms } = yolo.decode(outputs);
      const nms = { ...(evalNms ?? EVAL_NMS), ...options.nms };
      const dets = detectionsToOriginal(nonMaxSuppression(rows, numClasses, nms), input.transform);
      const labels = labelsToPixels(readYoloLabels(item.labels, numClasses), img.width, img.height);
      labelCount += labels.length;
      stats.push(matchImage(dets, labels));
      options.onProgress?.(i + 1, items.length, item.image);
    }
    const ap = apPerClass(stats);
    const perClass: Record<number, [number, number]> = {};
    ap.classes.forEach((c, k) => {
      perClass[c] = [ap.ap[k][0], ap.ap[k].reduce((a, b) => a + b, 0) / ap.ap[k].length];
    });
    const pr = precisionRecallAtMaxF1(stats);
    // The file's own names, else the dataset yaml's (as ultralytics val names its rows).
    const names = yolo.classNames ?? datasetNames;
    return {
      images: items.length,
      labels: labelCount,
      mAP50: ap.mAP50,
      mAP50_95: ap.mAP50_95,
      precision: pr.precision,
      recall: pr.recall,
      confidence: pr.confidence,
      classes: pr.classes.map((c) => ({ ...(names?.[c.classId] !== undefined ? { name: names[c.classId] } : {}), ...c, mAP50: perClass[c.classId][0], mAP50_95: perClass[c.classId][1] })),
      latencyMs: { median: percentile(times, 50), p90: percentile(times, 90), mean: times.reduce((a, b) => a + b, 0) / times.length },
      fileBytes,
      perClass,
      dataset: info,
    };
  } finally {
    if (owned) runner.dispose();
  }
}

export interface OutputFidelity {
  name: string;
  /** Max |a-b| / (max(a) - min(a)) over all images, a = the reference (first) model. */
  maxErrorOfRange: number;
  meanErrorOfRange: number;
}

export interface CompareResult {
  images: number;
  /** Per output tensor, when both models have the same outputs; otherwise per decoded rows ('decoded'). */
  outputs: OutputFidelity[];
  detections: {
    /** Detections of the reference model (DETECT_NMS) matched by the other (same class, IoU >= 0.5). */
    fractionMatched: number;
    matchedIouMean: number;
    scoreErrorMean: number;
    referenceCount: number;
    otherCount: number;
  };
}

/** Greedy same-class matching of reference detections (best score first) to the other model's. */
export function matchDetectionSets(ref: Detection[], other: Detection[], minIou = 0.5): { pairs: [Detection, Detection, number][] } {
  const used = new Set<number>();
  const pairs: [Detection, Detection, number][] = [];
  for (const r of ref) {
    let best = -1;
    let bestIou = minIou;
    other.forEach((o, j) => {
      if (used.has(j) || o.classId !== r.classId) return;
      const v = boxIou(r.box, o.box);
      if (v >= bestIou) {
        bestIou = v;
        best = j;
      }
    });
    if (best >= 0) {
      used.add(best);
      pairs.push([r, other[best], bestIou]);
    }
  }
  return { pairs };
}

/**
 * Fidelity of model `b` to reference model `a` on the same images: output error relative to the
 * reference's float range, and agreement of the final detections.
 */
export async function compareModels(a: ModelSource, b: ModelSource, options: EvaluateOptions): Promise<CompareResult> {
  const { items } = selectItems(options, false);
  const ra = await openRunner(a);
  const rb = await openRunner(b);
  try {
    const ya = new YoloModel(ra.runner, ra.bytes);
    const yb = new YoloModel(rb.runner, rb.bytes);
    const sameOutputs =
      ra.runner.outputs.length === rb.runner.outputs.length &&
      ra.runner.outputs.every((o, i) => o.shape.join(',') === rb.runner.outputs[i].shape.join(','));
    const names = sameOutputs ? ra.runner.outputs.map((o) => o.name) : ['decoded'];
    const acc = names.map(() => ({ min: Infinity, max: -Infinity, maxErr: 0, sumErr: 0, n: 0 }));
    let matched = 0;
    let iouSum = 0;
    let scoreErrSum = 0;
    let refCount = 0;
    let otherCount = 0;
    for (let i = 0; i < items.length; i++) {
      const img = await decodeImage(items[i].image, undefined, options.maxPixels);
      const ia = await imageToInput(img, ra.runner.inputs[0]);
      const ib = await imageToInput(img, rb.runner.inputs[0]);
      const oa = (await ya.forward(ia)).outputs;
      const ob = (await yb.forward(ib)).outputs;
      const da = ya.decode(oa);
      const db = yb.decode(ob);
      const pa = sameOutputs ? oa : [da.rows];
      const pb = sameOutputs ? ob : [db.rows];
      pa.forEach((x, k) => {
        const y = pb[k];
        if (x.length !== y.length) throw new Error(`compareModels: '${names[k]}' has ${x.length} values in model a and ${y.length} in model b`);
        const s = acc[k];
        for (let j = 0; j < x.length; j++) {
          if (x[j] < s.min) s.min = x[j];
          if (x[j] > s.max) s.max = x[j];
          const e = Math.abs(x[j] - y[j]);
          if (e > s.maxErr) s.maxErr = e;
          s.sumErr += e;
        }
        s.n += x.length;
      });
      const dA = nonMaxSuppression(da.rows, da.numClasses, da.detectNms ?? DETECT_NMS);
      const dB = nonMaxSuppression(db.rows, db.numClasses, da.detectNms ?? DETECT_NMS);
      refCount += dA.length;
      otherCount += dB.length;
      for (const [r, o, iou] of matchDetectionSets(dA, dB).pairs) {
        matched++;
        iouSum += iou;
        scoreErrSum += Math.abs(r.score - o.score);
      }
      options.onProgress?.(i + 1, items.length, items[i].image);
    }
    return {
      images: items.length,
      outputs: names.map((name, k) => {
        const range = acc[k].max - acc[k].min || 1;
        return { name, maxErrorOfRange: acc[k].maxErr / range, meanErrorOfRange: acc[k].sumErr / acc[k].n / range };
      }),
      detections: {
        fractionMatched: refCount ? matched / refCount : otherCount === 0 ? 1 : 0,
        matchedIouMean: matched ? iouSum / matched : NaN,
        scoreErrorMean: matched ? scoreErrSum / matched : NaN,
        referenceCount: refCount,
        otherCount,
      },
    };
  } finally {
    if (ra.owned) ra.runner.dispose();
    if (rb.owned) rb.runner.dispose();
  }
}
