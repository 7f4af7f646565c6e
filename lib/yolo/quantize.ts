// The quantizer as users call it: the generic core (lib/quantize) with the YOLO plug-in
// (lib/yolo/plugin.ts) wired in. Names, signatures and behaviour are those of the public API.
import {
  exportFloatTflite as exportWithPlugin, quantizeInt8 as quantizeWithPlugin,
  type ModelSource, type QuantizeInt8Options, type QuantizeInt8Result as CoreQuantizeInt8Result, type QuantizeReport as CoreQuantizeReport,
} from '../quantize/index.js';
import type { BackendName } from '../graph/backend.js';
import { formatQuantizeReport as formatReport } from '../quantize/report.js';
import { analyzeSensitivity as analyzeWithPlugin, type SensitivityOptions, type SensitivityResult } from '../quantize/sensitivity.js';
import { describeHeadSpec, type HeadSpec } from './families/index.js';
import { YOLO_PLUGIN } from './plugin.js';

export type { QuantizeInt8Options, ModelSource };
export type QuantizeReport = CoreQuantizeReport<HeadSpec>;
export type QuantizeInt8Result = CoreQuantizeInt8Result<HeadSpec>;

/** Float model in, int8 (full-integer unless the recipe says otherwise) .tflite out, YOLO heads split. */
export function quantizeInt8(source: ModelSource, options: QuantizeInt8Options): Promise<QuantizeInt8Result> {
  return quantizeWithPlugin(source, options, YOLO_PLUGIN);
}

/**
 * The same graph written as a float32 .tflite (same ops, same head treatment, no quantization): the
 * float reference that the int8 model is compared with, runnable in the same runtime.
 */
export function exportFloatTflite(
  source: ModelSource,
  options: { outputs?: string[]; head?: 'split' | 'keep'; headCut?: string; backend?: BackendName } = {},
): Promise<{ tflite: Uint8Array; head?: HeadSpec }> {
  return exportWithPlugin(source, options, YOLO_PLUGIN);
}

/** Sensitivity of every quantized layer of a model (lib/quantize/sensitivity.ts), YOLO heads split. */
export function analyzeSensitivity(source: ModelSource, options: SensitivityOptions): Promise<SensitivityResult> {
  return analyzeWithPlugin(source, options, YOLO_PLUGIN);
}

/** A readable summary of a quantization report (the head spec described by its family). */
export function formatQuantizeReport(r: QuantizeReport, opts: { tensors?: boolean; plan?: boolean } = {}): string {
  return formatReport(r, { ...opts, describeHead: describeHeadSpec });
}
