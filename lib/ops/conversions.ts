// The TFLite operators the quantizer itself writes between precisions and at the model's edges
// (and that the TFLite importer removes): QUANTIZE (float -> integer, or integer -> integer with new
// parameters) and DEQUANTIZE (integer or float16 -> float32). They are no IR op of their own.
import type { BuiltinSpec } from './types.js';

export const CONVERSION_BUILTINS: Record<string, BuiltinSpec> = {
  QUANTIZE: {
    options: 'QuantizeOptions',
    version: ({ outputs: [y] }) => (y === 'int16' ? 2 : 1),
    runtime: ['1.14.0', '1.15.0', '2.7.0', '2.21.0', '2.21.0', '2.21.0'],
  },
  DEQUANTIZE: {
    options: 'DequantizeOptions',
    version: ({ inputs: [x] }) => (x === 'int16' || x === 'float16' ? 3 : x === 'int8' ? 2 : 1),
    runtime: ['1.13.1', '1.14.0', '1.15.0', '2.2.0', '2.7.0', '2.18.0', '2.21.0', '2.22.0'],
  },
};
