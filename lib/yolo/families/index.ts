// The registry of detection-head families and metadata spec kinds. Generic code (the quantizer,
// evaluation, the CLI) goes through these functions and names no family; adding a family = one
// file with a HeadFamily entry + one line in HEAD_FAMILIES.
import type { TfliteModel } from '../../tflite/model.js';
import type { DecodedRows, HeadFamily, HeadSpecBase, OutputRole, SpecKind } from './types.js';
import { YOLOV5_FAMILY, type YoloHeadSpec } from './yolov5.js';
import { YOLOV8_FAMILY, type Yolov8HeadSpec } from './yolov8.js';
import { FLOAT_TAIL, type FloatTailSpec } from './float-tail.js';

export type { DecodedRows, HeadFamily, HeadSpecBase, SpecKind, HeadCandidate, HeadRunner, ProbeResult, OutputRole } from './types.js';

/** Every stored head spec. */
export type HeadSpec = YoloHeadSpec | Yolov8HeadSpec | FloatTailSpec;

/** Families in the order they are tried on a float graph. */
export const HEAD_FAMILIES: readonly HeadFamily[] = [YOLOV5_FAMILY, YOLOV8_FAMILY];

/** Every kind a file's metadata may carry: the families' and the generic float tail. */
export const SPEC_KINDS: readonly SpecKind[] = [...HEAD_FAMILIES, FLOAT_TAIL];

/** Name of the TFLite metadata entry holding the head spec as JSON. */
export const YOLO_HEAD_METADATA_NAME = 'yolo_int8_head';

export function specKindOf(kind: string): SpecKind | undefined {
  return SPEC_KINDS.find((k) => k.kind === kind);
}

/** The roles its kind gives a spec's outputs (empty for kinds without any, or no spec). */
export function outputRolesOf(spec: HeadSpecBase | undefined): Map<string, OutputRole> {
  const roles = spec ? specKindOf(spec.kind)?.outputRoles?.(spec as never) : undefined;
  return new Map(Object.entries(roles ?? {}));
}

/** Validates a parsed spec of any known kind; `where` names the source in errors. */
export function validateHeadSpec(x: unknown, where = 'head spec'): HeadSpec {
  if (typeof x !== 'object' || x === null) throw new Error(`${where}: expected an object`);
  const kind = (x as { kind?: unknown }).kind;
  const entry = typeof kind === 'string' ? specKindOf(kind) : undefined;
  if (!entry) throw new Error(`${where}: kind must be one of ${SPEC_KINDS.map((k) => `'${k.kind}'`).join(', ')}, got ${JSON.stringify(kind)}`);
  const spec = entry.validate(x, where) as unknown as HeadSpec;
  const names = (spec as HeadSpecBase).classNames;
  if (names !== undefined && (!Array.isArray(names) || names.length !== spec.numClasses || !names.every((n) => typeof n === 'string'))) {
    throw new Error(`${where}: classNames must be ${spec.numClasses} strings, got ${JSON.stringify(names).slice(0, 80)}`);
  }
  return spec;
}

/** The head spec a model stores in its `yolo_int8_head` metadata, or undefined when it has none. */
export function readHeadSpec(model: TfliteModel, label = 'model'): HeadSpec | undefined {
  const entry = model.metadata.find((m) => m.name === YOLO_HEAD_METADATA_NAME);
  if (!entry) return undefined;
  const buf = model.buffers[entry.buffer];
  if (!buf) throw new Error(`${label}: metadata '${YOLO_HEAD_METADATA_NAME}' points at missing buffer ${entry.buffer}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(buf.data));
  } catch (e) {
    throw new Error(`${label}: metadata '${YOLO_HEAD_METADATA_NAME}' is not valid JSON: ${(e as Error).message}`);
  }
  return validateHeadSpec(parsed, `${label}: metadata '${YOLO_HEAD_METADATA_NAME}'`);
}

/** The metadata bytes for a spec (JSON, key order as built: the same spec gives the same bytes). */
export function headSpecMetadata(spec: HeadSpecBase): Record<string, Uint8Array> {
  return { [YOLO_HEAD_METADATA_NAME]: new TextEncoder().encode(JSON.stringify(spec)) };
}

/** The outputs a spec reads, each with the shape it must have. */
export function specOutputs(spec: HeadSpec): { name: string; shape: number[] }[] {
  return (specKindOf(spec.kind) as SpecKind).outputsOf(spec as unknown as HeadSpecBase);
}

/** One line saying what the spec describes (for reports and `inspect`). */
export function describeHeadSpec(spec: HeadSpec): string {
  return (specKindOf(spec.kind) as SpecKind).describe(spec as unknown as HeadSpecBase);
}

/** Checks that a model's outputs are the ones its spec reads: an error names the tensor and the expected shape. */
export function checkSpecOutputs(spec: HeadSpec, outputs: readonly { name: string; shape: number[] }[], label = 'model'): void {
  for (const want of specOutputs(spec)) {
    const got = outputs.find((o) => o.name === want.name);
    if (!got) {
      throw new Error(`${label}: metadata '${YOLO_HEAD_METADATA_NAME}' (${spec.kind}) reads output '${want.name}' [${want.shape}], which the model does not have (outputs: ${outputs.map((o) => o.name).join(', ')})`);
    }
    if (got.shape.join(',') !== want.shape.join(',')) {
      throw new Error(`${label}: output '${want.name}' is [${got.shape}], but metadata '${YOLO_HEAD_METADATA_NAME}' (${spec.kind}) expects [${want.shape}]`);
    }
  }
}

/** Decodes a model's float outputs (in `names` order) with its spec. */
export function decodeWithSpec(spec: HeadSpec, outputs: readonly Float32Array[], names: readonly string[]): DecodedRows {
  const byName = new Map<string, Float32Array>();
  names.forEach((n, i) => byName.set(n, outputs[i]));
  return (specKindOf(spec.kind) as SpecKind).decode(spec as unknown as HeadSpecBase, byName);
}
