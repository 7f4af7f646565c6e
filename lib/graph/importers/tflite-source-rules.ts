// What a quantized .tflite source may say about the dtypes of its weighted operators, checked at import.
//
// The importer reads integer weights as the real numbers scale x (q - zero point), so a file whose
// weights have a dtype its operator cannot take (say, int8 conv weights retyped to uint8) would still
// import - as a different, wrong float model - and quantize to a model that detects nothing. These
// rules refuse such a file by name. They are the source's rules, not the writer's checker
// (lib/tflite/check.ts): a dynamic-range source is float compute, and its integer constants anywhere
// else (an ADD of a uint8 constant) mean their real values and are fine to import.
//
// From TensorFlow Lite's quantization_spec.md (and the kernels' type switches):
//   CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, TRANSPOSE_CONV with int8 activations take int8
//   weights (zero point 0, per channel or per tensor); the old uint8 scheme takes uint8 weights with
//   uint8 activations; 16x8 (int16 activations) takes int8 weights; float32 activations take float32
//   weights or int8 / uint8 ones (hybrid, dynamic-range). The output has the activations' type,
//   but a float one for hybrid.
import { TensorType, dtypeName, type TfliteOperator, type TfliteTensor } from '../../tflite/model.js';

/** The weighted operators: which input is the activation and which the weights. */
const WEIGHTED_OPS: Record<string, { activation: number; weights: number }> = {
  CONV_2D: { activation: 0, weights: 1 },
  DEPTHWISE_CONV_2D: { activation: 0, weights: 1 },
  FULLY_CONNECTED: { activation: 0, weights: 1 },
  TRANSPOSE_CONV: { activation: 2, weights: 1 },
};

/** Weight dtypes each activation dtype may meet in a weighted operator. */
const WEIGHTS_FOR_ACTIVATION: Partial<Record<number, readonly number[]>> = {
  [TensorType.FLOAT32]: [TensorType.FLOAT32, TensorType.INT8, TensorType.UINT8],
  [TensorType.INT8]: [TensorType.INT8],
  [TensorType.UINT8]: [TensorType.UINT8],
  [TensorType.INT16]: [TensorType.INT8],
};

export interface SourceOpView {
  label: string;
  tensors: readonly TfliteTensor[];
  /** Unique tensor names (for messages). */
  names: readonly string[];
  ops: readonly TfliteOperator[];
  opName(op: TfliteOperator): string;
  /** Tensors with data in the file (weights proper; a MatMul's second operand may be an activation). */
  isConstant(i: number): boolean;
}

const typeList = (types: readonly number[]) => types.map(dtypeName).join(' or ');

/** Why one weighted operator's dtypes are impossible, or undefined. */
function weightedOpProblem(src: SourceOpView, op: TfliteOperator, name: string): string | undefined {
  const slots = WEIGHTED_OPS[name];
  const a = op.inputs[slots.activation];
  const w = op.inputs[slots.weights];
  if (a === undefined || a < 0 || w === undefined || w < 0) return undefined; // the op's own import names a missing input
  const act = src.tensors[a];
  const weights = src.tensors[w];
  const allowed = WEIGHTS_FOR_ACTIVATION[act.type];
  if (!allowed) return `input '${src.names[a]}' is ${dtypeName(act.type)}; ${name} takes float32, int8, uint8 or int16 activations`;
  if (!allowed.includes(weights.type)) {
    return `weights '${src.names[w]}' are ${dtypeName(weights.type)} but input '${src.names[a]}' is ${dtypeName(act.type)}; ` +
      `with ${dtypeName(act.type)} activations ${name} takes ${typeList(allowed)} weights`;
  }
  const out = op.outputs[0] !== undefined && op.outputs[0] >= 0 ? src.tensors[op.outputs[0]] : undefined;
  if (out && act.type !== TensorType.FLOAT32 && out.type !== act.type) {
    return `output '${src.names[op.outputs[0]]}' is ${dtypeName(out.type)} but input '${src.names[a]}' is ${dtypeName(act.type)}; an integer ${name} keeps its activations' type`;
  }
  const zeroPoints = weights.quantization?.zeroPoint ?? [];
  if (src.isConstant(w) && act.type !== TensorType.FLOAT32 && weights.type === TensorType.INT8 && zeroPoints.some((z) => Number(z) !== 0)) {
    return `int8 weights '${src.names[w]}' have a non-zero zero point; int8 weights are symmetric (zero point 0)`;
  }
  return undefined;
}

/** Throws, naming the file, the operator and the tensor, at the first weighted operator whose dtypes its kernel cannot take. */
export function checkSourceWeightTypes(src: SourceOpView): void {
  for (const op of src.ops) {
    const name = src.opName(op);
    if (!(name in WEIGHTED_OPS)) continue;
    const problem = weightedOpProblem(src, op, name);
    const output = op.outputs[0] !== undefined && op.outputs[0] >= 0 ? src.names[op.outputs[0]] : '?';
    if (problem) throw new Error(`${src.label}: ${name} '${output}': ${problem}`);
  }
}
