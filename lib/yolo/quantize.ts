// The quantizer as users call it: the generic core (lib/quantize) with the YOLO plug-in
// (lib/yolo/plugin.ts) wired in. Names, signatures and behaviour are those of the public API.
import {
  exportFloatTflite as exportWithPlugin, quantizeInt8 as quantizeWithPlugin,
  type FloatExportOptions, type ModelSource, type QuantizeInt8Options, type QuantizeInt8Result as CoreQuantizeInt8Result, type QuantizeReport as CoreQuantizeReport,
} from '../quantize/index.js';
import { formatQuantizeReport as formatReport } from '../quantize/report.js';
import {
  analyzeSensitivity as analyzeWithPlugin, type LayerSensitivity as CoreLayerSensitivity, type SensitivityOptions, type SensitivityResult as CoreSensitivityResult,
} from '../quantize/sensitivity.js';
import type { MapScore } from './map-metric.js';
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
  options: FloatExportOptions = {},
): Promise<{ tflite: Uint8Array; head?: HeadSpec }> {
  return exportWithPlugin(source, options, YOLO_PLUGIN);
}

export type { SensitivityOptions };

/** A layer's sensitivity, with `data`: the variant's mAP and the mAP50-95 points the layer costs. */
export interface LayerSensitivity extends CoreLayerSensitivity<MapScore> {
  mAP50?: number;
  mAP50_95?: number;
  /** mAP50-95 points this layer costs: raise-one, gained by raising it; only-int8, lost by quantizing it alone. */
  mapCost?: number;
}

/** The core result with its metric under YOLO's names: `map`, each scored layer's mAP50 / mAP50_95 / mapCost. */
export interface SensitivityResult extends CoreSensitivityResult<MapScore> {
  layers: LayerSensitivity[];
  /** With `data`: mAP of the float reference and of the int8 model on it. */
  map?: { images: number; float: MapScore; int8: MapScore };
  timings: CoreSensitivityResult['timings'] & { mapSeconds: number };
}

/** Sensitivity of every quantized layer of a model (lib/quantize/sensitivity.ts), YOLO heads split, mAP on `data`. */
export async function analyzeSensitivity(source: ModelSource, options: SensitivityOptions): Promise<SensitivityResult> {
  // The metric is YOLO_PLUGIN's (MAP_METRIC): its values are MapScores.
  const r = (await analyzeWithPlugin(source, options, YOLO_PLUGIN)) as CoreSensitivityResult<MapScore>;
  const layers = r.layers.map((l): LayerSensitivity => (l.metric ? { ...l, mAP50: l.metric.mAP50, mAP50_95: l.metric.mAP50_95, mapCost: l.metricCost } : l));
  const map = r.metric ? { images: r.metric.images, float: r.metric.float, int8: r.metric.int8 } : undefined;
  return { ...r, layers, map, timings: { ...r.timings, mapSeconds: r.timings.metricSeconds } };
}

/** A readable summary of a quantization report (the head spec described by its family). */
export function formatQuantizeReport(r: QuantizeReport, opts: { tensors?: boolean; plan?: boolean } = {}): string {
  return formatReport(r, { ...opts, describeHead: describeHeadSpec });
}
