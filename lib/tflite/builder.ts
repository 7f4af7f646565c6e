// A small builder for making TFLite models from scratch (used by the quantizer and by tests).
// Tensors and operators are added in order; operator codes are shared per (op, version) and the
// version is derived from the tensors' types by op-versions.ts, so a model built here loads in LiteRT
// without hand-picked versions.
import { TensorType, DTYPE_NAMES, type DTypeName, type TfliteModel, type TfliteTensor, type TfliteOperator, type BuiltinOptions, type TfliteQuantization } from './model.js';
import { builtinOperatorCode, builtinOptionsType, optionsTableOf, opVersion, type BuiltinOperatorName } from './operators.js';
import type { TensorDType } from '../ops/types.js';

export type TensorData = Float32Array | Int32Array | Int8Array | Uint8Array | Int16Array | Uint16Array | BigInt64Array;

export interface TensorSpec {
  name: string;
  shape: number[];
  type: DTypeName;
  /** Constant contents (little-endian, as stored in the file). */
  data?: TensorData;
  quantization?: { scale: number[]; zeroPoint: number[]; quantizedDimension?: number };
}

const BYTES_PER_ELEMENT: Partial<Record<DTypeName, number>> = {
  float32: 4, float16: 2, int32: 4, uint8: 1, int64: 8, bool: 1, int16: 2, int8: 1, float64: 8, uint32: 4, uint16: 2, uint64: 8,
};

export class TfliteBuilder {
  private tensors: TfliteTensor[] = [];
  private buffers: { data: Uint8Array }[] = [{ data: new Uint8Array(0) }];
  private operators: TfliteOperator[] = [];
  private codes: { builtinCode: number; version: number }[] = [];
  private inputs: number[] = [];
  private outputs: number[] = [];
  private names = new Set<string>();
  description = 'yolo-int8';

  /** Adds a tensor and returns its index. Constant data is checked against the shape and dtype. */
  addTensor(t: TensorSpec): number {
    const type = DTYPE_NAMES.indexOf(t.type);
    if (type < 0) throw new Error(`addTensor '${t.name}': unknown dtype ${t.type}`);
    if (this.names.has(t.name)) throw new Error(`addTensor: duplicate tensor name '${t.name}'`);
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`addTensor '${t.name}': bad shape [${t.shape}]`);
    this.names.add(t.name);
    let buffer = 0;
    if (t.data) {
      const count = t.shape.reduce((a, b) => a * b, 1);
      const bpe = BYTES_PER_ELEMENT[t.type];
      if (bpe === undefined) throw new Error(`addTensor '${t.name}': constant data of dtype ${t.type} is not supported`);
      if (t.data.byteLength !== count * bpe) {
        throw new Error(`addTensor '${t.name}': data has ${t.data.byteLength} bytes, shape [${t.shape}] of ${t.type} needs ${count * bpe}`);
      }
      const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice();
      this.buffers.push({ data: bytes });
      buffer = this.buffers.length - 1;
    }
    const tensor: TfliteTensor = { name: t.name, shape: [...t.shape], type, buffer };
    if (t.quantization) {
      const q = t.quantization;
      if (q.scale.length !== q.zeroPoint.length || q.scale.length === 0) {
        throw new Error(`addTensor '${t.name}': quantization needs as many zero points as scales (got ${q.scale.length} and ${q.zeroPoint.length})`);
      }
      const quant: TfliteQuantization = { scale: [...q.scale], zeroPoint: [...q.zeroPoint], quantizedDimension: q.quantizedDimension ?? 0 };
      tensor.quantization = quant;
    }
    this.tensors.push(tensor);
    return this.tensors.length - 1;
  }

  /** The tensor as added so far (e.g. to read its quantization). */
  tensor(index: number): TfliteTensor {
    const t = this.tensors[index];
    if (!t) throw new Error(`no tensor ${index}`);
    return t;
  }

  /**
   * Adds an operator. `options` are the fields of its options table in camelCase schema names
   * (e.g. { padding: 1, strideW: 1, strideH: 1 } for CONV_2D); the options table is chosen by op.
   */
  addOperator(op: BuiltinOperatorName, inputs: number[], outputs: number[], options?: BuiltinOptions): void {
    const where = `addOperator ${op}`;
    for (const i of inputs) if (i !== -1 && !this.tensors[i]) throw new Error(`${where}: input tensor ${i} does not exist`);
    for (const i of outputs) if (!this.tensors[i]) throw new Error(`${where}: output tensor ${i} does not exist`);
    const builtinCode = builtinOperatorCode(op);
    const tableName = optionsTableOf(op);
    if (options && !tableName) throw new Error(`${where}: this builder does not know the options table of ${op}`);
    const typeOf = (i: number) => (i === -1 ? undefined : (DTYPE_NAMES[this.tensors[i].type] as TensorDType));
    const scaleOf = (i: number) => (i === -1 ? undefined : this.tensors[i].quantization?.scale[0]);
    const version = opVersion(op, {
      inputs: inputs.map(typeOf),
      outputs: outputs.map((i) => typeOf(i)!),
      inputRanks: inputs.map((i) => (i === -1 ? 0 : this.tensors[i].shape.length)),
      options: (options ?? {}) as Record<string, unknown>,
      inputScales: inputs.map(scaleOf),
      outputScales: outputs.map(scaleOf),
    });
    let opcodeIndex = this.codes.findIndex((c) => c.builtinCode === builtinCode && c.version === version);
    if (opcodeIndex < 0) {
      this.codes.push({ builtinCode, version });
      opcodeIndex = this.codes.length - 1;
    }
    this.operators.push({
      opcodeIndex,
      inputs: [...inputs],
      outputs: [...outputs],
      builtinOptionsType: tableName ? builtinOptionsType(tableName) : 0,
      builtinOptions: tableName ? { ...(options ?? {}) } : null,
    });
  }

  setInputs(ids: number[]): void { this.inputs = [...ids]; }
  setOutputs(ids: number[]): void { this.outputs = [...ids]; }

  build(): TfliteModel {
    if (this.inputs.length === 0) throw new Error('TfliteBuilder.build: no model inputs set (setInputs)');
    if (this.outputs.length === 0) throw new Error('TfliteBuilder.build: no model outputs set (setOutputs)');
    return {
      version: 3,
      description: this.description,
      operatorCodes: this.codes.map((c) => ({ ...c })),
      subgraphs: [{
        name: 'main',
        tensors: this.tensors.map((t) => structuredClone(t)),
        inputs: [...this.inputs],
        outputs: [...this.outputs],
        operators: this.operators.map((o) => structuredClone(o)),
      }],
      buffers: this.buffers.map((b) => ({ data: b.data.slice() })),
      metadata: [],
      signatureDefs: [],
    };
  }
}

export { TensorType };
