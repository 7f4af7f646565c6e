// The head spec stored in our files' metadata, whatever its family: reading and validating go
// through the family registry (lib/yolo/families). The YOLOv5 helpers are re-exported here for the
// public API.
export {
  YOLO_HEAD_METADATA_NAME, readHeadSpec, describeHeadSpec, validateHeadSpec, checkSpecOutputs, decodeWithSpec, specOutputs, headSpecMetadata,
  HEAD_FAMILIES, SPEC_KINDS, type HeadSpec,
} from './families/index.js';
export { decodeYoloHead, yolov5HeadSpec, headRowCount, YOLOV5_ANCHORS, type YoloHeadSpec, type YoloHeadLevel } from './families/yolov5.js';
export { decodeYolov8, YOLOV8_EVAL_NMS, type Yolov8HeadSpec, type Yolov8Level } from './families/yolov8.js';
export { runFloatTail, splitMixedOutputTail, MIXED_RANGE_FACTOR, type FloatTailSpec, type TailStep } from './families/float-tail.js';
