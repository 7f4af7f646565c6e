// yolo-int8: the public API. Float TF.js / TFLite model in, full-integer int8 TFLite out, plus the
// pieces around it: an image pipeline that feeds int8 models correctly, YOLO decoding and COCO-style
// evaluation through LiteRT, and TFLite inspection. Every name exported here is listed in README.md's
// API section and every name listed there is exported (test/api/public-api.test.ts checks both ways);
// the CLI, the demo, the benches and the tests import internals from their own modules.

// Quantization
export {
  quantizeInt8, exportFloatTflite, formatQuantizeReport, analyzeSensitivity,
  type QuantizeInt8Options, type QuantizeInt8Result, type QuantizeReport, type SensitivityOptions, type SensitivityResult,
} from './yolo/quantize.js';
export type { QuantRecipe } from './quantize/recipe.js';
export { formatPlanJson } from './quantize/plan.js';

// Graph import (for tools that want to look at the float graph)
export { importModel, type ImportOptions } from './graph/importers/index.js';
export { runDefaultPasses } from './graph/passes/index.js';
export type { Graph } from './ir/graph.js';

// Running .tflite files (LiteRT, WebAssembly/XNNPACK)
export { TfliteRunner, setLiteRtVerbose, type TensorDescription, type RunnerOptions } from './runtime/index.js';

// TFLite files
export { readTflite } from './tflite/reader.js';
export { writeTflite } from './tflite/writer.js';
export type { TfliteModel } from './tflite/model.js';
export { inspectTflite, formatInspectReport, type InspectReport } from './tflite/inspect.js';
export { checkTflite, checkTfliteModel, formatCheckResult, CHECK_RULES, type CheckResult, type CheckViolation } from './tflite/check.js';

// Images in, tensors out
export {
  decodeImage, letterbox, boxToOriginal, imageToInput, quantizeInput, pixelsToInput, dequantize, dequantizeOutput, toModelInput,
  type RgbImage, type LetterboxTransform, type InputDescription, type PreparedInput,
} from './pipeline/index.js';

// YOLO: decode, NMS, evaluation, drawing
export { readHeadSpec, validateHeadSpec, decodeYoloHead, decodeYolov8, runFloatTail, YOLOV8_EVAL_NMS, type HeadSpec } from './yolo/head.js';
export {
  decodeModelOutputs, nonMaxSuppression, detectionsToOriginal, EVAL_NMS, DETECT_NMS, detect, evaluate, compareModels, drawDetections,
  type Detection, type NmsOptions, type EvaluateOptions, type EvaluateResult, type CompareResult,
} from './yolo/index.js';

// Output files
export { writeFileAtomic } from './util/fs.js';
