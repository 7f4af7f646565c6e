// One entry point for every supported source format.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readyQuietly } from '../backend.js';
import type { Graph } from '../../ir/graph.js';
import { importTfjsGraphModel, type ImportOptions } from './tfjs-graph.js';
import { importTfjsLayersModel } from './tfjs-layers.js';
import { importTflite } from './tflite.js';
import { readModelInfoBeside, readModelInfoFromTflite } from './model-info.js';
import { READ_LIMITS, readFileHead, readRegularFile, readRegularTextFile } from '../../util/read-file.js';

export { importTfjsGraphModel, importTfjsLayersModel, importTflite };
export type { ImportOptions };

export type ModelSource = string | Uint8Array | tf.GraphModel | tf.LayersModel;

/** True for TFLite flatbuffer bytes (file identifier "TFL3" at offset 4). */
export function isTfliteBytes(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && bytes[4] === 0x54 && bytes[5] === 0x46 && bytes[6] === 0x4c && bytes[7] === 0x33;
}

/**
 * Imports a model whatever its format: a directory or model.json path (graph or layers model, by
 * its `format` field), a .tflite path or bytes, or a loaded tf.GraphModel / tf.LayersModel.
 */
export async function importModel(source: ModelSource, opts: ImportOptions = {}): Promise<Graph> {
  const graph = await importAnyFormat(source, opts);
  // What the exporter says about the model (class names, pose keypoints), where it says it.
  if (!graph.meta.modelInfo) {
    const info =
      source instanceof Uint8Array
        ? readModelInfoFromTflite(source, opts.label)
        : typeof source === 'string'
          ? (graph.meta.format === 'tflite' ? readModelInfoFromTflite(readRegularFile(source, 'model file', READ_LIMITS.model), source) : undefined) ??
            readModelInfoBeside(source)
          : undefined;
    if (info) graph.meta.modelInfo = info;
  }
  return graph;
}

async function importAnyFormat(source: ModelSource, opts: ImportOptions): Promise<Graph> {
  // Layers models are rebuilt with TF.js (their weights become tensors): the current backend must have
  // finished starting (wasm starts asynchronously).
  await readyQuietly();
  if (source instanceof Uint8Array) {
    if (!isTfliteBytes(source)) throw new Error(`${opts.label ?? 'model bytes'}: not a TFLite flatbuffer (no TFL3 identifier)`);
    return importTflite(source, opts);
  }
  if (typeof source === 'string') {
    const st = fs.statSync(source, { throwIfNoEntry: false });
    if (!st) throw new Error(`${source}: no such file or directory`);
    const file = st.isDirectory() ? path.join(source, 'model.json') : source;
    if (st.isDirectory() && !fs.existsSync(file)) throw new Error(`${source}: the directory has no model.json`);
    if (isTfliteBytes(readFileHead(file, 'model file', 8))) return importTflite(file, opts);
    const text = readRegularTextFile(file, 'model file', READ_LIMITS.json);
    let json: { format?: string; modelTopology?: { node?: unknown; model_config?: unknown; class_name?: unknown } };
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`${file}: neither a .tflite file nor a TF.js model.json`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${file}: model.json is not a JSON object`);
    if (json.format === 'graph-model' || (json.format === undefined && Array.isArray(json.modelTopology?.node))) return importTfjsGraphModel(file, opts);
    if (json.format === 'layers-model' || json.modelTopology?.model_config || json.modelTopology?.class_name) return importTfjsLayersModel(file, opts);
    throw new Error(`${file}: unknown TF.js model format '${json.format}' (graph-model or layers-model expected)`);
  }
  const s = source as { executeAsync?: unknown; predict?: unknown; layers?: unknown };
  if (typeof s.executeAsync === 'function' && !Array.isArray(s.layers)) return importTfjsGraphModel(source as tf.GraphModel, opts);
  if (Array.isArray(s.layers)) return importTfjsLayersModel(source as tf.LayersModel, opts);
  throw new Error('importModel: the source is not a path, .tflite bytes, tf.GraphModel or tf.LayersModel');
}
