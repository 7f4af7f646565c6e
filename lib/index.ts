// yolo-int8: the public API. Float TF.js / TFLite model in, full-integer int8 TFLite out, plus the
// pieces around it: an image pipeline that feeds int8 models correctly, YOLO decoding and COCO-style
// evaluation through LiteRT, and TFLite inspection.

// Quantization
export { quantizeInt8, exportFloatTflite, type QuantizeInt8Options, type QuantizeInt8Result, type QuantizeReport } from './yolo/quantize.js';
export { formatPlan, planToJson, type QuantPlan } from './quantize/index.js';
export { formatPlanJson, planPrecisionSummary, type PlanJson, type PlannedTensor, type PlanStep, type Precision } from './quantize/plan.js';
export { resolveRecipe, formatRecipe, type QuantRecipe, type RecipeOverride, type ResolvedRecipe } from './quantize/recipe.js';
export {
  formatQuantizeReport, analyzeSensitivity, type SensitivityOptions, type SensitivityResult, type LayerSensitivity,
} from './yolo/quantize.js';
export { formatSensitivity, SENSITIVITY_METHODS, type SensitivityMethod } from './quantize/sensitivity.js';
export { formatAccuracyReport, type AccuracyTarget, type AccuracyReport, type AccuracyTrial } from './quantize/accuracy.js';
export type { CalibrationMethod } from './calibrate/calibrate.js';
export { CALIBRATION_METHODS } from './calibrate/calibrate.js';

// Graph import (for tools that want to look at the float graph)
export { importModel, type ImportOptions } from './graph/importers/index.js';
export { runDefaultPasses } from './graph/passes/index.js';
export type { Graph, IrNode, IrTensor } from './ir/graph.js';
export { initBackend, type BackendName } from './graph/backend.js';

// Running .tflite files (LiteRT, WebAssembly/XNNPACK)
export { TfliteRunner, loadTflite, setLiteRtVerbose, type TensorDescription, type RunnerOptions, type RuntimeArray } from './runtime/index.js';

// TFLite files
export { readTflite } from './tflite/reader.js';
export { writeTflite } from './tflite/writer.js';
export { inspectTflite, formatInspectReport, type InspectReport } from './tflite/inspect.js';
export { checkTflite, checkTfliteModel, formatCheckResult, type CheckResult, type CheckViolation, type CheckRule, type CheckOptions, CHECK_RULES } from './tflite/check.js';
export type { TfliteModel } from './tflite/model.js';

// Images in, tensors out
export {
  decodeImage, letterbox, letterboxTransform, boxToOriginal, quantizeInput, dequantize, dequantizeOutput, pixelsToInput,
  imageToInput, toModelInput,
  type RgbImage, type LetterboxTransform, type LetterboxOptions, type InputDescription, type PreparedInput,
} from './pipeline/index.js';

// YOLO: decode, NMS, evaluation, drawing
export {
  decodeYoloHead, readHeadSpec, decodeModelOutputs, nonMaxSuppression, detectionsToOriginal, boxIou, EVAL_NMS, DETECT_NMS,
  evaluate, compareModels, detect, loadYoloModel, YoloModel, drawDetections, loadDataset, resolveDataset, YOLO_HEAD_METADATA_NAME,
  type YoloHeadSpec, type Detection, type NmsOptions, type EvaluateOptions, type EvaluateResult, type CompareResult,
  type ResolvedDataset, type DatasetInfo,
} from './yolo/index.js';

// Output files
export { writeFileAtomic } from './util/fs.js';
