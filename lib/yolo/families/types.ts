// What a detection-head family is: everything about one head design in one place. The generic
// quantizer sees only the find / probe / cut part (its HeadFamily, lib/quantize/plugin.ts), through
// the YOLO plug-in (lib/yolo/plugin.ts); it names no family.
//
//   find   - structural search in the float graph (ops and shapes, never node names);
//   probe  - the head's decode parameters read off the float head itself by running it on chosen
//            values, then checked against the family's own float decode on random values;
//   cut    - where the int8 graph ends (per-level tensors with their own int8 parameters);
//   spec   - the JSON stored in the file's metadata ('yolo_int8_head'), with a versioned `kind`;
//   decode - the float post-processing that turns the cut outputs into detection rows.
import type { HeadFamily as QuantizerHeadFamily } from '../../quantize/plugin.js';
import type { NmsOptions } from '../nms.js';

export type { HeadCandidate, HeadRunner, ProbeResult, CutResult } from '../../quantize/plugin.js';

/** What every stored head spec has. `version` is the layout version of its kind (absent = 1). */
export interface HeadSpecBase {
  kind: string;
  version?: number;
  inputSize: [h: number, w: number];
  numClasses: number;
  /** Class names by id, when the source model said (ultralytics metadata). */
  classNames?: string[];
}

/**
 * Decoded detections, one row per candidate box: [cx, cy, w, h, obj, cls_0 .. cls_{nc-1}] in input
 * pixels. Anchor-free heads (no objectness) have obj = 1, so score = class probability everywhere.
 */
export interface DecodedRows {
  rows: Float32Array;
  numClasses: number;
  /** The NMS settings ultralytics val uses for this family (mAP evaluation). */
  evalNms?: Required<NmsOptions>;
  /** The NMS settings of the family's own predict/detect (final detections). */
  detectNms?: Required<NmsOptions>;
}

/**
 * What the float decode does with an output, where that changes how its int8 range is chosen.
 * 'score-logits': the decode turns it into detection scores with a sigmoid. Nearly all its values are
 * background logits, so an error-minimising range (mse) clips the top tail, and the top tail is the
 * detections: clipped, every confident score becomes the same number.
 */
export type OutputRole = 'score-logits';

/** A metadata spec kind: how a file's outputs are read back. */
export interface SpecKind<S extends HeadSpecBase = HeadSpecBase> {
  /** The metadata `kind` written and read. */
  kind: string;
  /** The layout version written; files with a higher version are refused. */
  version: number;
  /** Checks a parsed spec; `where` names the source in errors. */
  validate(x: unknown, where: string): S;
  /** The output tensors the spec reads, with the shape each must have. */
  outputsOf(spec: S): { name: string; shape: number[] }[];
  /** Float decode of the (dequantized) outputs, keyed by tensor name. */
  decode(spec: S, outputs: ReadonlyMap<string, Float32Array>): DecodedRows;
  /** One line for reports and `inspect`. */
  describe(spec: S): string;
  /** Outputs whose role in the decode matters to calibration (absent: none). */
  outputRoles?(spec: S): Record<string, OutputRole>;
}

/**
 * A head family: a spec kind plus how its head is found, probed and cut in a float graph (the
 * quantizer's HeadFamily: name ('yolov5', 'yolov8'), cuts, find, probe, cut).
 */
export interface HeadFamily<S extends HeadSpecBase = HeadSpecBase> extends SpecKind<S>, QuantizerHeadFamily<S> {}
