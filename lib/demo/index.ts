// The offline demo: synthetic shapes data, the embedded trained detector and its helpers.
import { DEMO_HEAD } from './model.js';
import { DEMO_SEEDS, generateSample, sampleSeed, type SyntheticSample } from './synthetic.js';

export {
  DEMO_CLASS_NAMES,
  DEMO_SEEDS,
  generateSample,
  sampleSeed,
  mulberry32,
  rgbToFloat01,
  formatYoloLabels,
  writeDataset,
  type YoloLabel,
  type SyntheticSample,
  type SampleOptions,
  type WriteDatasetOptions,
  type WrittenDataset,
} from './synthetic.js';
export {
  DEMO_HEAD,
  DEMO_INPUT_SIZE,
  DEMO_ANCHORS,
  DEMO_STRIDES,
  DEMO_OUTPUT_NAMES,
  buildDemoModels,
  loadDemoModel,
  demoModelDir,
  packageRoot,
  fsLoadHandler,
  fsSaveHandler,
  type DemoModels,
} from './model.js';
export { decodeYoloLevels, nonMaxSuppression, boxIoU, matchDetections, type Detection, type MatchCounts } from './decode.js';
export { evaluateDemoFloat, detectBatch, labelsToPixelBoxes, type DemoEvalOptions, type DemoEvalResult } from './evaluate.js';

/**
 * The `count` images of one demo set (calibration or test images are never seen in training),
 * at the demo model's input size: sample i = generateSample(sampleSeed(DEMO_SEEDS[set], i), size).
 */
export function demoSamples(set: keyof typeof DEMO_SEEDS, count: number, size = DEMO_HEAD.inputSize[0]): SyntheticSample[] {
  if (!(set in DEMO_SEEDS)) throw new Error(`demoSamples: unknown set '${String(set)}', expected one of ${Object.keys(DEMO_SEEDS).join(', ')}`);
  return Array.from({ length: count }, (_, i) => generateSample(sampleSeed(DEMO_SEEDS[set], i), size));
}
