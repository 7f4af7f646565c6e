// The model zoo (../shared/fixtures/zoo, 23 float models from npm packages) and YOLO11n as the zoo
// test (test/zoo) and `npm run bench:zoo` (bench/zoo.ts) see them: where each file is, the input range
// its own package feeds it, what kind of model it is, and the models known not to quantize yet; plus
// the measurement both share: run a .tflite in LiteRT on image inputs, and compare its outputs with
// the float export's (SQNR per output, top-1 agreement for class outputs).
import fs from 'node:fs';
import path from 'node:path';
import { datasetInputs, listImageFiles, type DatasetStats } from '../../lib/quantize/dataset.js';
import { TfliteRunner, type RuntimeArray, type TensorDescription } from '../../lib/runtime/index.js';
import { dequantizeOutput, quantizeInput } from '../../lib/pipeline/quantize.js';
import { percentile } from '../../lib/util/stats.js';
import { runFloatTail } from '../../lib/yolo/head.js';
import type { FloatTailSpec } from '../../lib/yolo/families/float-tail.js';
import { FIXTURES } from './fixtures.js';

export const ZOO_DIR = path.join(FIXTURES, 'zoo');
export const YOLO11N_SOURCE = path.join(FIXTURES, 'yolo11n/yolo11n_full_integer_quant.tflite');

/** detector / landmarks (keypoints, heatmaps) / segmenter / classifier (top-1 is meaningful) / regressor. */
export type ZooKind = 'detector' | 'landmarks' | 'segmenter' | 'classifier' | 'regressor' | 'embedding';

export interface ZooModel {
  name: string;
  /** What quantizeInt8 and exportFloatTflite are given: a .tflite file or a TF.js model folder. */
  source: string;
  /** The float range the model's own package feeds (pixel / 255 mapped onto it). */
  inputRange: [number, number];
  kind: ZooKind;
  /** Outputs (name substrings) whose argmax is a class: top-1 agreement is reported for them. */
  classOutputs?: string[];
}

/**
 * Per zoo folder: input range and kind. The ranges are what each package's own code feeds the model
 * (MediaPipe's graphs: face detection [-1, 1], hands / pose / selfie [0, 1]; @vladmandic/human 3.3:
 * blazeface and facemesh detector (x / 127.5 - 1), PoseNet (x / 127.5 - 1), EfficientPose (2x - 1),
 * emotion (gray - 0.5) x 2, faceres and the age model x 255 of a [0, 1] face crop, CenterNet the
 * resized 0..255 image, the rest / 255; MoveNet and handtrack take integer pixels; nsfwjs / 255).
 */
const ZOO_TABLE: Record<string, Omit<ZooModel, 'name' | 'source'>> = {
  'face_detection-face_detection_short_range': { inputRange: [-1, 1], kind: 'detector' },
  'face_detection-face_detection_full_range_sparse': { inputRange: [-1, 1], kind: 'detector' },
  'hands-hand_landmark_lite': { inputRange: [0, 1], kind: 'landmarks' },
  'pose-pose_landmark_lite': { inputRange: [0, 1], kind: 'landmarks' },
  'selfie_segmentation-selfie_segmentation': { inputRange: [0, 1], kind: 'segmenter' },
  'hands-palm_detection_lite': { inputRange: [0, 1], kind: 'detector' },
  'human-models-blazeface': { inputRange: [-1, 1], kind: 'detector' },
  'human-models-movenet-lightning': { inputRange: [0, 255], kind: 'landmarks' },
  'human-models-handlandmark-lite': { inputRange: [0, 1], kind: 'landmarks' },
  'human-models-faceres': { inputRange: [0, 255], kind: 'classifier', classOutputs: ['age_pred'] },
  'human-models-age': { inputRange: [0, 255], kind: 'regressor' },
  'human-models-efficientpose': { inputRange: [-1, 1], kind: 'landmarks' },
  'human-models-nanodet': { inputRange: [0, 1], kind: 'detector' },
  'human-models-centernet': { inputRange: [0, 255], kind: 'detector' },
  'human-models-emotion': { inputRange: [-1, 1], kind: 'classifier', classOutputs: [''] },
  'human-models-iris': { inputRange: [0, 1], kind: 'landmarks' },
  'human-models-selfie': { inputRange: [0, 1], kind: 'segmenter' },
  'human-models-handtrack': { inputRange: [0, 255], kind: 'detector' },
  'human-models-posenet': { inputRange: [-1, 1], kind: 'landmarks' },
  'human-models-antispoof': { inputRange: [0, 1], kind: 'regressor' },
  'human-models-gear': { inputRange: [0, 1], kind: 'classifier', classOutputs: [''] },
  'human-models-facemesh-detection-short': { inputRange: [-1, 1], kind: 'detector' },
  'nsfwjs-mobilenet_v2': { inputRange: [0, 1], kind: 'classifier', classOutputs: [''] },
};

/** Every model of the zoo manifest (in its order) and YOLO11n last. Throws if the manifest names a folder the table lacks. */
export function zooModels(): ZooModel[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(ZOO_DIR, 'manifest.json'), 'utf8')) as { folder: string; file: string }[];
  const models = manifest.map((m) => {
    const known = ZOO_TABLE[m.folder];
    if (!known) throw new Error(`test/support/zoo.ts: zoo folder '${m.folder}' is not in ZOO_TABLE (add its input range and kind)`);
    const file = path.join(ZOO_DIR, m.folder, m.file);
    return { name: m.folder, source: file.endsWith('model.json') ? path.dirname(file) : file, ...known };
  });
  models.push({ name: 'yolo11n', source: YOLO11N_SOURCE, inputRange: [0, 1], kind: 'detector' });
  return models;
}

/** coco128 images, sorted by name: `first`..`last` counted from 1 (the bench's 1-64 / 65-128 splits). */
export function cocoImages(first: number, last: number): string[] {
  return listImageFiles(path.join(FIXTURES, 'coco128/images')).slice(first - 1, last);
}

/** Images as the model's input tensors (letterboxed to `shape`, pixel / 255 mapped onto `range`). */
export async function imageInputs(files: string[], shape: number[], range: [number, number]): Promise<Float32Array[]> {
  const stats: DatasetStats = { files: 0, used: 0, skipped: [] };
  const out: Float32Array[] = [];
  for await (const x of datasetInputs(files, shape, stats, undefined, range)) out.push(x);
  if (stats.skipped.length) throw new Error(`imageInputs: ${stats.skipped.map((s) => `${s.file}: ${s.reason}`).join('; ')}`);
  return out;
}

/** One float input as the runtime input `d` takes it: as is (float32), rounded (integer pixels) or quantized. */
export function feedInput(x: Float32Array, d: TensorDescription): RuntimeArray {
  if (d.dtype === 'float32') return x;
  if (d.dtype === 'int32') return Int32Array.from(x, Math.round);
  if (d.scale === undefined) return Uint8Array.from(x, Math.round); // a uint8 pixel input without quantization
  return quantizeInput(x, { dtype: d.dtype, scale: d.scale, zeroPoint: d.zeroPoint ?? 0 } as Parameters<typeof quantizeInput>[1]);
}

export interface TfliteOutputs {
  names: string[];
  /** Per input, per output: the dequantized values. */
  values: Float32Array[][];
  /** Median LiteRT run time per input (ms). */
  medianMs: number;
}

/**
 * A .tflite in LiteRT on every input: dequantized outputs and the median run time. `head` is what
 * quantizeInt8 returned: when the quantizer moved a tail of layout ops to float ('float-tail'), that
 * tail is run here so that the outputs are the float model's.
 */
export async function runOnInputs(tflite: Uint8Array, inputs: Float32Array[], label = 'model', head?: unknown): Promise<TfliteOutputs> {
  const tail = (head as { kind?: string } | undefined)?.kind === 'float-tail' ? (head as FloatTailSpec) : undefined;
  const runner = await TfliteRunner.load(tflite, { label });
  try {
    const values: Float32Array[][] = [];
    const times: number[] = [];
    for (const x of inputs) {
      const fed = feedInput(x, runner.inputs[0]);
      const t0 = performance.now();
      const outs = await runner.run([fed]);
      times.push(performance.now() - t0);
      const floats = outs.map((o, k) => Float32Array.from(dequantizeOutput(o, runner.outputs[k])));
      values.push(tail ? [runFloatTail(tail, new Map(runner.outputs.map((o, k) => [o.name, floats[k]])))] : floats);
    }
    const names = tail ? [tail.result.name] : runner.outputs.map((o) => o.name);
    return { names, values, medianMs: percentile(times, 50) };
  } finally {
    runner.dispose();
  }
}

/** The float export's input shape, the one every variant of the model is fed. */
export async function inputShapeOf(tflite: Uint8Array): Promise<number[]> {
  const runner = await TfliteRunner.load(tflite);
  try {
    return [...runner.inputs[0].shape];
  } finally {
    runner.dispose();
  }
}

export interface OutputComparison {
  name: string;
  /** 10 log10(sum ref^2 / sum (ref - got)^2) over all inputs; Infinity when identical. */
  sqnrDb: number;
  /** Share of inputs whose argmax agrees, for class outputs. */
  top1?: number;
}

function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

/**
 * Each reference output against the output of the same name in `got` (by position when the names
 * differ): SQNR over all inputs, and top-1 agreement for outputs named by `classOutputs` ('' = every
 * output with more than one element).
 */
export function compareOutputs(ref: TfliteOutputs, got: TfliteOutputs, classOutputs?: string[]): OutputComparison[] {
  return ref.names.map((name, k) => {
    const j = got.names.includes(name) ? got.names.indexOf(name) : k;
    let signal = 0;
    let noise = 0;
    ref.values.forEach((r, i) => {
      const a = r[k];
      const b = got.values[i][j];
      if (!b || b.length !== a.length) throw new Error(`output '${name}': ${a.length} values in the float model, ${b?.length ?? 0} in the other`);
      for (let e = 0; e < a.length; e++) {
        signal += a[e] * a[e];
        noise += (a[e] - b[e]) ** 2;
      }
    });
    const sqnrDb = noise > 0 ? 10 * Math.log10(signal / noise) : Infinity;
    const isClass = classOutputs?.some((c) => name.includes(c)) && ref.values[0][k].length > 1;
    if (!isClass) return { name, sqnrDb };
    const agree = ref.values.filter((r, i) => argmax(r[k]) === argmax(got.values[i][j])).length;
    return { name, sqnrDb, top1: agree / ref.values.length };
  });
}
