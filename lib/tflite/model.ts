// A plain, typed view of a .tflite file: what the reader returns and the writer accepts.
// It mirrors the TFLite flatbuffer schema (schema/tflite.fbs) closely enough that reading a file and
// writing it back gives a model that runs identically, yet it is plain data (no flatbuffer accessors),
// so the quantizer can build one from scratch and tests can compare them.

/** TFLite TensorType enum values (schema order). */
export const TensorType = {
  FLOAT32: 0,
  FLOAT16: 1,
  INT32: 2,
  UINT8: 3,
  INT64: 4,
  STRING: 5,
  BOOL: 6,
  INT16: 7,
  COMPLEX64: 8,
  INT8: 9,
  FLOAT64: 10,
  COMPLEX128: 11,
  UINT64: 12,
  RESOURCE: 13,
  VARIANT: 14,
  UINT32: 15,
  UINT16: 16,
  INT4: 17,
  BFLOAT16: 18,
} as const;

export type DTypeName =
  | 'float32' | 'float16' | 'int32' | 'uint8' | 'int64' | 'string' | 'bool' | 'int16' | 'complex64'
  | 'int8' | 'float64' | 'complex128' | 'uint64' | 'resource' | 'variant' | 'uint32' | 'uint16' | 'int4' | 'bfloat16';

export const DTYPE_NAMES: readonly DTypeName[] = [
  'float32', 'float16', 'int32', 'uint8', 'int64', 'string', 'bool', 'int16', 'complex64',
  'int8', 'float64', 'complex128', 'uint64', 'resource', 'variant', 'uint32', 'uint16', 'int4', 'bfloat16',
];

export function dtypeName(type: number): DTypeName | `unknown(${number})` {
  return DTYPE_NAMES[type] ?? `unknown(${type})`;
}

export interface TfliteQuantization {
  /** One scale per channel (per-axis) or a single scale (per-tensor). */
  scale: number[];
  /** Same length as scale. Stored as int64 in the file. */
  zeroPoint: number[];
  /** Calibration min/max when the file has them (informational). */
  min?: number[];
  max?: number[];
  /** The channel axis for per-axis quantization (0 when per-tensor). */
  quantizedDimension: number;
  /** QuantizationDetails union (CustomQuantization), kept as decoded for round trips. */
  detailsType?: number;
  details?: Record<string, unknown> | null;
}

export interface TfliteTensor {
  name: string;
  shape: number[];
  /** -1 for dynamic dimensions; absent when the file has none. */
  shapeSignature?: number[];
  /** A TensorType value. */
  type: number;
  /** Index into TfliteModel.buffers (0 = the empty sentinel buffer: no constant data). */
  buffer: number;
  quantization?: TfliteQuantization;
  isVariable?: boolean;
  /** Set (true) when the file marks the rank as known; absent otherwise. */
  hasRank?: boolean;
  /** Sparse-tensor encoding (SparsityParameters table, decoded generically), kept for round trips. */
  sparsity?: Record<string, unknown>;
  /** VARIANT element types (VariantSubType tables), kept for round trips. */
  variantTensors?: Record<string, unknown>[];
}

/** Builtin options are kept as a plain object of the options table's fields (camelCase, schema names). */
export type BuiltinOptions = Record<string, number | boolean | number[] | string | null>;

export interface TfliteOperator {
  opcodeIndex: number;
  /** Tensor indices; -1 marks an omitted optional input. */
  inputs: number[];
  outputs: number[];
  /** BuiltinOptions union type id (0 = NONE). */
  builtinOptionsType: number;
  builtinOptions: BuiltinOptions | null;
  /** BuiltinOptions2 union (newer ops such as STABLEHLO_*), kept as-is for round trips. */
  builtinOptions2Type?: number;
  builtinOptions2?: BuiltinOptions | null;
  customOptions?: Uint8Array;
  /** CustomOptionsFormat (0 = FLEXBUFFERS); absent when 0. */
  customOptionsFormat?: number;
  mutatingVariableInputs?: boolean[];
  intermediates?: number[];
}

export interface TfliteOperatorCode {
  /** The BuiltinOperator value (the int32 `builtin_code` field, falling back to the deprecated int8 field). */
  builtinCode: number;
  version: number;
  customCode?: string;
}

export interface TfliteSubgraph {
  name: string;
  tensors: TfliteTensor[];
  inputs: number[];
  outputs: number[];
  operators: TfliteOperator[];
}

export interface TfliteBuffer {
  /** Constant bytes (empty for activations and the sentinel buffer 0). */
  data: Uint8Array;
}

export interface TfliteMetadata {
  name: string;
  buffer: number;
}

export interface TfliteTensorMap {
  name: string;
  tensorIndex: number;
}

export interface TfliteSignatureDef {
  signatureKey: string;
  subgraphIndex: number;
  inputs: TfliteTensorMap[];
  outputs: TfliteTensorMap[];
}

export interface TfliteModel {
  /** Schema version; 3 for every current file. */
  version: number;
  description: string;
  operatorCodes: TfliteOperatorCode[];
  subgraphs: TfliteSubgraph[];
  buffers: TfliteBuffer[];
  metadata: TfliteMetadata[];
  signatureDefs: TfliteSignatureDef[];
  /** The older `metadata_buffer` list (buffer indices), when the file has one. */
  metadataBuffer?: number[];
}
