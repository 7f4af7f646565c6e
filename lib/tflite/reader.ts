// .tflite bytes -> the plain TfliteModel of model.ts, validating every offset on the way
// (see flatbuffer.ts). Buffer data may live inside the flatbuffer or, in files over 2 GB, after it
// (Buffer.offset/size, counted from the start of the file); both are returned as copied bytes.
import { CheckedReader, type PlainObject } from './flatbuffer.js';
import { FILE_IDENTIFIER } from '../../schema/generated/layout.js';
import type {
  BuiltinOptions, TfliteBuffer, TfliteModel, TfliteOperator, TfliteOperatorCode, TfliteQuantization,
  TfliteSignatureDef, TfliteSubgraph, TfliteTensor,
} from './model.js';

export interface ReadOptions {
  /** Prefix of error messages (e.g. the file path). */
  label?: string;
  /**
   * Check that tensor, buffer and operator-code indices are in range (default true). checkTflite
   * turns this off to report bad references itself, one violation each, instead of stopping at the first.
   */
  checkReferences?: boolean;
}

/** The first BuiltinOperator value that does not fit the old int8 `deprecated_builtin_code` field. */
export const PLACEHOLDER_FOR_GREATER_OP_CODES = 127;

const arr = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
/** The schema version every current .tflite has and the interpreter requires. */
const TFLITE_SCHEMA_VERSION = 3;

/** Options tables as plain objects: vectors become number[] (the model type keeps them JSON-like). */
function plainOptions(o: PlainObject | null): BuiltinOptions | null {
  if (!o) return null;
  const out: BuiltinOptions = {};
  for (const [k, v] of Object.entries(o)) {
    if (v instanceof Uint8Array) out[k] = Array.from(v);
    else if (Array.isArray(v)) out[k] = (v as unknown[]).map((x) => (typeof x === 'boolean' ? (x ? 1 : 0) : Number(x)));
    else out[k] = v as number | boolean | string | null;
  }
  return out;
}

function checkIndexList(r: CheckedReader, list: number[], count: number, where: string, allowMinusOne: boolean): void {
  for (const i of list) {
    if (!(i >= 0 && i < count) && !(allowMinusOne && i === -1)) {
      r.fail(`${where} refers to tensor ${i}, but the subgraph has ${count} tensors`);
    }
  }
}

/** The reader with the file's bytes and whether index references are checked. */
interface ReadContext {
  r: CheckedReader;
  bytes: Uint8Array;
  checkRefs: boolean;
}

function checkIndices(ctx: ReadContext, list: number[], count: number, where: string, allowMinusOne: boolean): void {
  if (ctx.checkRefs) checkIndexList(ctx.r, list, count, where, allowMinusOne);
}

/** Size and file identifier, before any offset is followed. */
function checkHeader(r: CheckedReader, bytes: Uint8Array): void {
  if (bytes.byteLength === 0) r.fail('the file is empty');
  if (bytes.byteLength < 8) r.fail(`the file is only ${bytes.byteLength} bytes; a TFLite flatbuffer has at least a root offset and the "${FILE_IDENTIFIER}" identifier`);
  const ident = String.fromCharCode(...bytes.subarray(4, 8));
  if (ident !== FILE_IDENTIFIER) {
    const shown = Array.from(bytes.subarray(4, 8), (c) => (c >= 32 && c < 127 ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`)).join('');
    r.fail(`file identifier is "${shown}", expected "${FILE_IDENTIFIER}" (not a TFLite model)`, 4);
  }
}

function readBuffers(ctx: ReadContext, m: PlainObject): TfliteBuffer[] {
  const { r, bytes } = ctx;
  return arr<PlainObject>(m.buffers).map((b, i) => {
    const offset = Number(b.offset ?? 0);
    const size = Number(b.size ?? 0);
    if (offset > 1) {
      // Data stored after the flatbuffer (large models); offset is from the start of the file.
      r.need(offset, size, `Model.buffers[${i}] external data`);
      r.charge(size, `Model.buffers[${i}]`);
      return { data: bytes.slice(offset, offset + size) };
    }
    return { data: b.data instanceof Uint8Array ? b.data : new Uint8Array(0) };
  });
}

function readOperatorCodes(m: PlainObject): TfliteOperatorCode[] {
  return arr<PlainObject>(m.operatorCodes).map((c) => {
    const code: TfliteOperatorCode = {
      // Old writers fill only the int8 field, new ones both; the larger value is the real code.
      builtinCode: Math.max(Number(c.deprecatedBuiltinCode ?? 0), Number(c.builtinCode ?? 0)),
      version: Number(c.version ?? 1),
    };
    if (typeof c.customCode === 'string') code.customCode = c.customCode;
    return code;
  });
}

function readQuantization(q: PlainObject): TfliteQuantization {
  const quant: TfliteQuantization = {
    scale: arr<number>(q.scale),
    zeroPoint: arr<number>(q.zeroPoint),
    quantizedDimension: Number(q.quantizedDimension ?? 0),
  };
  if (q.min) quant.min = arr<number>(q.min);
  if (q.max) quant.max = arr<number>(q.max);
  if (q.detailsType) { quant.detailsType = Number(q.detailsType); quant.details = q.details as Record<string, unknown>; }
  return quant;
}

function readTensor(ctx: ReadContext, t: PlainObject, where: string, bufferCount: number): TfliteTensor {
  const tensor: TfliteTensor = {
    name: (t.name as string | null) ?? '',
    shape: arr<number>(t.shape),
    type: Number(t.type),
    buffer: Number(t.buffer),
  };
  if (ctx.checkRefs && tensor.buffer >= bufferCount && !(tensor.buffer === 0 && bufferCount === 0)) {
    ctx.r.fail(`${where} '${tensor.name}' uses buffer ${tensor.buffer}, but the model has ${bufferCount} buffers`);
  }
  if (t.shapeSignature) tensor.shapeSignature = arr<number>(t.shapeSignature);
  if (t.quantization) tensor.quantization = readQuantization(t.quantization as PlainObject);
  if (t.isVariable) tensor.isVariable = true;
  if (t.hasRank) tensor.hasRank = true;
  if (t.sparsity) tensor.sparsity = t.sparsity as Record<string, unknown>;
  if (t.variantTensors) tensor.variantTensors = t.variantTensors as Record<string, unknown>[];
  return tensor;
}

function readOperator(ctx: ReadContext, o: PlainObject, ow: string, tensorCount: number, codeCount: number): TfliteOperator {
  const { r, bytes } = ctx;
  const op: TfliteOperator = {
    opcodeIndex: Number(o.opcodeIndex),
    inputs: arr<number>(o.inputs),
    outputs: arr<number>(o.outputs),
    builtinOptionsType: Number(o.builtinOptionsType ?? 0),
    builtinOptions: plainOptions(o.builtinOptions as PlainObject | null),
  };
  if (ctx.checkRefs && op.opcodeIndex >= codeCount) r.fail(`${ow} uses operator code ${op.opcodeIndex}, but the model has ${codeCount}`);
  checkIndices(ctx, op.inputs, tensorCount, `${ow}.inputs`, true);
  checkIndices(ctx, op.outputs, tensorCount, `${ow}.outputs`, false);
  if (o.builtinOptions2Type) {
    op.builtinOptions2Type = Number(o.builtinOptions2Type);
    op.builtinOptions2 = plainOptions(o.builtinOptions2 as PlainObject | null);
  }
  const bigOffset = Number(o.largeCustomOptionsOffset ?? 0);
  if (bigOffset > 1) {
    const size = Number(o.largeCustomOptionsSize ?? 0);
    r.need(bigOffset, size, `${ow} external custom options`);
    r.charge(size, ow);
    op.customOptions = bytes.slice(bigOffset, bigOffset + size);
  } else if (o.customOptions instanceof Uint8Array) {
    op.customOptions = o.customOptions;
  }
  if (Number(o.customOptionsFormat ?? 0) !== 0) op.customOptionsFormat = Number(o.customOptionsFormat);
  if (o.mutatingVariableInputs) op.mutatingVariableInputs = arr<boolean>(o.mutatingVariableInputs);
  if (o.intermediates) {
    op.intermediates = arr<number>(o.intermediates);
    checkIndices(ctx, op.intermediates, tensorCount, `${ow}.intermediates`, false);
  }
  return op;
}

function readSubgraph(ctx: ReadContext, sg: PlainObject, si: number, bufferCount: number, codeCount: number): TfliteSubgraph {
  const where = `Model.subgraphs[${si}]`;
  const tensors = arr<PlainObject>(sg.tensors).map((t, ti) => readTensor(ctx, t, `${where}.tensors[${ti}]`, bufferCount));
  const operators = arr<PlainObject>(sg.operators).map((o, oi) => readOperator(ctx, o, `${where}.operators[${oi}]`, tensors.length, codeCount));
  const inputs = arr<number>(sg.inputs);
  const outputs = arr<number>(sg.outputs);
  checkIndices(ctx, inputs, tensors.length, `${where}.inputs`, false);
  checkIndices(ctx, outputs, tensors.length, `${where}.outputs`, false);
  return { name: (sg.name as string | null) ?? '', tensors, inputs, outputs, operators };
}

function readSignatureDefs(m: PlainObject): TfliteSignatureDef[] {
  const tensorMaps = (v: unknown) => arr<PlainObject>(v).map((tm) => ({ name: (tm.name as string | null) ?? '', tensorIndex: Number(tm.tensorIndex) }));
  return arr<PlainObject>(m.signatureDefs).map((s) => ({
    signatureKey: (s.signatureKey as string | null) ?? '',
    subgraphIndex: Number(s.subgraphIndex),
    inputs: tensorMaps(s.inputs),
    outputs: tensorMaps(s.outputs),
  }));
}

export function readTflite(bytes: Uint8Array, opts: ReadOptions = {}): TfliteModel {
  const label = opts.label ?? 'model';
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${label}: readTflite expects a Uint8Array`);
  const r = new CheckedReader(bytes, label);
  const ctx: ReadContext = { r, bytes, checkRefs: opts.checkReferences !== false };
  checkHeader(r, bytes);
  const m = r.readTable(r.deref(0, 'root table Model'), 'Model', 'Model');
  const buffers = readBuffers(ctx, m);
  const operatorCodes = readOperatorCodes(m);
  const subgraphs = arr<PlainObject>(m.subgraphs).map((sg, si) => readSubgraph(ctx, sg, si, buffers.length, operatorCodes.length));
  const metadata = arr<PlainObject>(m.metadata).map((md, i) => {
    const buffer = Number(md.buffer);
    if (ctx.checkRefs && buffer >= buffers.length) r.fail(`Model.metadata[${i}] '${md.name}' uses buffer ${buffer}, but the model has ${buffers.length} buffers`);
    return { name: (md.name as string | null) ?? '', buffer };
  });
  // The interpreter refuses any other schema version ('Model provided is schema version N not equal to 3').
  if (Number(m.version) !== TFLITE_SCHEMA_VERSION) r.fail(`Model.version is ${Number(m.version)}; TFLite reads schema version ${TFLITE_SCHEMA_VERSION}`);
  const model: TfliteModel = {
    version: Number(m.version),
    description: (m.description as string | null) ?? '',
    operatorCodes,
    subgraphs,
    buffers,
    metadata,
    signatureDefs: readSignatureDefs(m),
  };
  if (m.metadataBuffer) model.metadataBuffer = arr<number>(m.metadataBuffer);
  return model;
}

/** Returns the text stored in a metadata entry's buffer (e.g. 'min_runtime_version'), without trailing NULs. */
export function readMetadataString(model: TfliteModel, name: string): string | undefined {
  const md = model.metadata.find((x) => x.name === name);
  if (!md) return undefined;
  const data = model.buffers[md.buffer]?.data ?? new Uint8Array(0);
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  return new TextDecoder().decode(data.subarray(0, end));
}
