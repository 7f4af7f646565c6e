// TfliteModel -> .tflite bytes (identifier "TFL3"). The same model always gives the same bytes.
// Constant buffers are 16-byte aligned (the schema's force_align on Buffer.data; XNNPACK and mmap
// users rely on it). A 'min_runtime_version' metadata entry is added when the model has none,
// computed from the operator codes like the TFLite converter does; an existing entry is kept.
import * as flatbuffers from 'flatbuffers';
import { writeTable } from './flatbuffer.js';
import { computeMinRuntimeVersion } from './runtime-version.js';
import { PLACEHOLDER_FOR_GREATER_OP_CODES } from './reader.js';
import { FILE_IDENTIFIER } from '../../schema/generated/layout.js';
import type { TfliteModel, TfliteTensor, TfliteOperator } from './model.js';

export const MIN_RUNTIME_VERSION_KEY = 'min_runtime_version';
/** TFLite reserves 16 bytes for the version string (NUL padded). */
const MIN_RUNTIME_VERSION_BYTES = 16;

export interface WriteOptions {
  /** Add the min_runtime_version metadata when absent (default true). */
  addMinRuntimeVersion?: boolean;
}

function tensorPlain(t: TfliteTensor): Record<string, unknown> {
  const q = t.quantization;
  return {
    shape: t.shape,
    type: t.type,
    buffer: t.buffer,
    name: t.name,
    quantization: q ? {
      min: q.min, max: q.max, scale: q.scale, zeroPoint: q.zeroPoint,
      detailsType: q.detailsType, details: q.details ?? undefined,
      quantizedDimension: q.quantizedDimension,
    } : undefined,
    isVariable: t.isVariable || undefined,
    sparsity: t.sparsity,
    shapeSignature: t.shapeSignature,
    hasRank: t.hasRank || undefined,
    variantTensors: t.variantTensors,
  };
}

function operatorPlain(op: TfliteOperator): Record<string, unknown> {
  return {
    opcodeIndex: op.opcodeIndex,
    inputs: op.inputs,
    outputs: op.outputs,
    builtinOptionsType: op.builtinOptionsType || undefined,
    // A union member without fields is still written as an (empty) table, as the converter does.
    builtinOptions: op.builtinOptionsType ? (op.builtinOptions ?? {}) : undefined,
    customOptions: op.customOptions,
    customOptionsFormat: op.customOptionsFormat,
    mutatingVariableInputs: op.mutatingVariableInputs,
    intermediates: op.intermediates,
    builtinOptions2Type: op.builtinOptions2Type || undefined,
    builtinOptions2: op.builtinOptions2Type ? (op.builtinOptions2 ?? {}) : undefined,
  };
}

/** Returns the model with a min_runtime_version entry (a new object; the input is not modified). */
export function withMinRuntimeVersion(model: TfliteModel): TfliteModel {
  if (model.metadata.some((m) => m.name === MIN_RUNTIME_VERSION_KEY)) return model;
  const version = computeMinRuntimeVersion(model);
  const data = new Uint8Array(MIN_RUNTIME_VERSION_BYTES);
  data.set(new TextEncoder().encode(version).subarray(0, MIN_RUNTIME_VERSION_BYTES - 1));
  const buffers = model.buffers.length === 0 ? [{ data: new Uint8Array(0) }] : [...model.buffers];
  buffers.push({ data });
  return {
    ...model,
    buffers,
    metadata: [...model.metadata, { name: MIN_RUNTIME_VERSION_KEY, buffer: buffers.length - 1 }],
  };
}

export function writeTflite(input: TfliteModel, opts: WriteOptions = {}): Uint8Array {
  const model = opts.addMinRuntimeVersion === false ? input : withMinRuntimeVersion(input);
  const totalData = model.buffers.reduce((s, b) => s + b.data.length + 16, 0);
  const b = new flatbuffers.Builder(Math.max(1024, totalData + 64 * 1024));
  const plain = {
    version: model.version || 3,
    operatorCodes: model.operatorCodes.map((c) => ({
      deprecatedBuiltinCode: Math.min(c.builtinCode, PLACEHOLDER_FOR_GREATER_OP_CODES),
      customCode: c.customCode,
      version: c.version,
      builtinCode: c.builtinCode,
    })),
    subgraphs: model.subgraphs.map((sg) => ({
      tensors: sg.tensors.map(tensorPlain),
      inputs: sg.inputs,
      outputs: sg.outputs,
      operators: sg.operators.map(operatorPlain),
      name: sg.name || undefined,
    })),
    description: model.description || undefined,
    buffers: model.buffers.map((buf) => ({ data: buf.data.length > 0 ? buf.data : undefined })),
    metadataBuffer: model.metadataBuffer,
    metadata: model.metadata.map((m) => ({ name: m.name, buffer: m.buffer })),
    signatureDefs: model.signatureDefs.map((s) => ({
      inputs: s.inputs.map((t) => ({ name: t.name, tensorIndex: t.tensorIndex })),
      outputs: s.outputs.map((t) => ({ name: t.name, tensorIndex: t.tensorIndex })),
      signatureKey: s.signatureKey,
      subgraphIndex: s.subgraphIndex,
    })),
  };
  const root = writeTable(b, 'Model', plain, 'writeTflite: Model');
  b.finish(root, FILE_IDENTIFIER);
  return b.asUint8Array().slice();
}
