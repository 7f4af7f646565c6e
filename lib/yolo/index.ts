export {
  decodeYoloHead, yolov5HeadSpec, validateHeadSpec, readHeadSpec, headRowCount, YOLO_HEAD_METADATA_NAME, YOLOV5_ANCHORS,
  type YoloHeadSpec, type YoloHeadLevel,
} from './head.js';
export { decodeSingleOutput, decodeBoxesAndScores, decodeModelOutputs, boxesLookNormalized, type DecodedRows, type OutputInfo } from './decode.js';
export { nonMaxSuppression, detectionsToOriginal, boxIou, EVAL_NMS, DETECT_NMS, type Detection, type NmsOptions } from './nms.js';
export { matchImage, apPerClass, computeAp, interp, IOU_THRESHOLDS, type LabelBox, type ImageStats, type ApResult } from './metrics.js';
export {
  loadDataset, resolveDataset, datasetInfo, readYoloLabels, labelsToPixels, labelPathFor, parseDatasetYaml,
  type Dataset, type DatasetItem, type DatasetInfo, type DatasetLayout, type DatasetPurpose, type ResolvedDataset, type YoloLabel,
} from './dataset.js';
export {
  evaluate, compareModels, detect, loadYoloModel, YoloModel, percentile, matchDetectionSets,
  type EvaluateOptions, type EvaluateResult, type CompareResult, type OutputFidelity, type ModelSource,
} from './evaluate.js';
export { drawDetections, classColor } from './draw.js';
