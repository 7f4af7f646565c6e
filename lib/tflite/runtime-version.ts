// The minimum TFLite runtime version each (builtin operator, op version) pair needs, as listed in
// TensorFlow Lite's runtime-version table (tools/versioning/runtime_version.cc). Only the operators
// this project can emit or meets in YOLO-style models are listed; pairs not listed do not raise the
// model's minimum (the same rule TFLite applies to pairs missing from its table).
import { BuiltinOperator } from '../../schema/generated/tflite/builtin-operator.js';
import type { TfliteModel } from './model.js';

const V = BuiltinOperator;
/** [operator, versions 1..n as runtime strings]. */
const TABLE: [number, string[]][] = [
  [V.ADD, ['1.5.0', '1.14.0', '2.4.0', '2.6.0', '2.13.0', '2.23.0']],
  [V.AVERAGE_POOL_2D, ['1.5.0', '1.14.0', '2.3.0']],
  [V.CONCATENATION, ['1.5.0', '1.14.0', '2.3.0', '2.14.0', '2.21.0']],
  [V.CONV_2D, ['1.5.0', '1.14.0', '1.14.0', '2.3.0', '2.4.0', '2.9.0', '2.11.0', '2.15.0']],
  [V.DEPTHWISE_CONV_2D, ['1.5.0', '1.12.0', '1.14.0', '2.2.0', '2.3.0', '2.3.0', '2.11.0']],
  [V.DEQUANTIZE, ['1.13.1', '1.14.0', '1.15.0', '2.2.0', '2.7.0', '2.18.0', '2.21.0', '2.22.0']],
  [V.FULLY_CONNECTED, ['1.5.0', '1.10.0', '1.14.0', '1.14.0', '2.0.0', '2.1.0', '2.3.0', '2.3.0', '2.3.0', '2.11.0', '2.15.0', '2.17.0', '2.18.0', '2.21.0']],
  [V.HARD_SWISH, ['1.15.0']],
  [V.LEAKY_RELU, ['1.13.1', '2.3.0']],
  [V.LOGISTIC, ['1.14.0', '1.14.0', '2.3.0']],
  [V.MAX_POOL_2D, ['1.5.0', '1.14.0', '2.3.0']],
  [V.MAXIMUM, ['1.14.0', '1.14.0', '2.3.0', '2.3.0']],
  [V.MINIMUM, ['1.14.0', '1.14.0', '2.3.0', '2.3.0']],
  [V.MEAN, ['1.6.0', '1.14.0', '2.4.0']],
  [V.MUL, ['1.5.0', '1.14.0', '1.15.0', '2.3.0', '2.6.0', '2.11.0', '2.13.0', '2.23.0']],
  [V.PAD, ['1.5.0', '1.14.0', '2.4.0', '2.6.0', '2.20.0']],
  [V.PADV2, ['1.9.0', '1.14.0', '2.4.0', '2.6.0', '2.20.0']],
  [V.QUANTIZE, ['1.14.0', '1.15.0', '2.7.0', '2.21.0', '2.21.0', '2.21.0']],
  [V.RELU, ['1.5.0', '2.1.0', '2.5.0']],
  [V.RELU6, ['1.5.0', '1.14.0', '2.5.0']],
  [V.RESHAPE, ['1.5.0']],
  [V.RESIZE_BILINEAR, ['1.7.0', '1.14.0', '2.2.0', '2.5.0']],
  [V.RESIZE_NEAREST_NEIGHBOR, ['1.13.1', '1.14.0', '2.3.0', '2.4.0']],
  [V.SLICE, ['1.14.0', '1.14.0', '1.14.0', '2.4.0', '2.5.0', '2.14.0', '2.21.0']],
  [V.SOFTMAX, ['1.5.0', '1.14.0', '2.3.0']],
  [V.SPLIT, ['1.5.0', '1.14.0', '1.14.0', '2.3.0']],
  [V.SPLIT_V, ['1.13.1', '2.3.0']],
  [V.STRIDED_SLICE, ['1.6.0', '1.14.0', '2.1.0', '2.2.0', '2.5.0', '2.6.0', '2.14.0', '2.14.0']],
  [V.SUB, ['1.6.0', '1.14.0', '2.3.0', '2.4.0', '2.4.0']],
  [V.TANH, ['1.14.0', '1.14.0', '2.3.0']],
  [V.TRANSPOSE, ['1.6.0', '1.14.0', '1.15.0', '2.3.0', '2.4.0', '2.12.0', '2.14.4', '2.22.0']],
];
const MAP = new Map<number, string[]>(TABLE);

/** The runtime version needed by one operator code, or undefined when the pair is not in the table. */
export function minRuntimeVersionForOp(builtinCode: number, version: number): string | undefined {
  return MAP.get(builtinCode)?.[version - 1];
}

/** Numeric comparison of dotted versions: negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The highest runtime version required by the operator codes the model's operators use ('' if none is known). */
export function computeMinRuntimeVersion(model: TfliteModel): string {
  let best = '';
  const used = new Set<number>();
  for (const sg of model.subgraphs) for (const op of sg.operators) used.add(op.opcodeIndex);
  for (const i of [...used].sort((a, b) => a - b)) {
    const code = model.operatorCodes[i];
    if (!code) continue;
    const v = minRuntimeVersionForOp(code.builtinCode, code.version);
    if (v && (best === '' || compareVersions(v, best) > 0)) best = v;
  }
  return best;
}
