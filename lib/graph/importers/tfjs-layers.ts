// Importer for TF.js layers models: a tf.LayersModel in memory, or a layers-model model.json path
// (loaded with tfjs from memory: tfjs in Node has no file:// handler).
import { resolveInputShape } from './input-shape.js';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { AttrValue, Graph, IrTensor } from '../../ir/graph.js';
import type { AttrSource, Attrs, AttrType, ImportContext } from '../../ops/types.js';
import { importEntry, importableOps } from '../../ops/registry.js';
import { attrValue, runImportEntry, type FormatHooks } from './rules.js';
import { GraphBuilder, unsupportedOpsError } from '../builder.js';
import { concatBytes, readWeightGroups } from './tfjs-weights.js';
import type { ImportOptions } from './tfjs-graph.js';
import { READ_LIMITS, readRegularTextFile } from '../../util/read-file.js';
import { checkLayersTopology } from './layers-topology.js';

type Config = Record<string, unknown>;
type Sym = { id: number; name: string; shape: (number | null)[] };

/** [a, b] from a number or a pair; `fallback` for both when absent. */
function pair(v: unknown, fallback: number): [number, number] {
  if (typeof v === 'number') return [v, v];
  const a = v as number[];
  return [a[0], a[1] ?? a[0]];
}

/** Reads one layer config value as an op file's rule asks (lib/ops/types.ts AttrType). */
function readConfig(config: Config, key: string, type: AttrType, fallback: AttrValue | undefined, fail: (msg: string) => Error): AttrValue {
  const v = config[key];
  if (v === undefined || v === null) {
    if (type === 'pair' && typeof fallback === 'number') return pair(fallback, fallback);
    if (type === 'padding') return readConfig({ [key]: fallback ?? 'valid' }, key, type, undefined, fail);
    if (fallback !== undefined) return fallback;
    if (type === 'bool') return false;
    throw fail(`has no '${key}' in its config`);
  }
  switch (type) {
    case 'number':
      return Number(v);
    case 'bool':
      return Boolean(v);
    case 'string':
      return String(v);
    case 'numbers':
      return (v as unknown[]).map(Number);
    case 'pair':
      return pair(v, 1);
    case 'padding': {
      const p = String(v);
      if (p !== 'same' && p !== 'valid') throw fail(`padding '${p}' is not supported`);
      return p === 'same' ? 'SAME' : 'VALID';
    }
    case 'raw':
      return v as AttrValue;
    default:
      throw fail(`attribute type '${type}' does not apply to layer configs`);
  }
}

/** The ImportContext of one layer (lib/ops/types.ts). */
class LayerCtx implements ImportContext {
  readonly name: string;
  readonly config: Config;
  constructor(
    readonly b: GraphBuilder,
    readonly layer: tf.layers.Layer,
    private readonly cls: string,
    private readonly inputs: string[],
    private readonly weights: Map<string, { data: Float32Array; shape: number[] }>,
    readonly label: string,
  ) {
    this.name = layer.name;
    this.config = layer.getConfig() as Config;
  }
  get inputCount(): number { return this.inputs.length; }
  hasInput(i: number): boolean { return i < this.inputs.length; }
  input(i: number): string {
    if (!this.hasInput(i)) throw this.error(`expects input ${i}`);
    return this.inputs[i];
  }
  output(): string { return this.layer.name; }
  tensor(name: string): IrTensor { return this.b.tensor(name); }
  constValues(i: number): number[] {
    const t = this.b.tensor(this.input(i));
    if (!t.data) throw this.error(`input ${i} must be a constant`);
    return Array.from(t.data as ArrayLike<number>);
  }
  attr(source: AttrSource): AttrValue {
    if (!('attr' in source)) return attrValue(source, this);
    const read = (key: string) => readConfig(this.config, key, source.type, source.default, (m) => this.error(m));
    return Array.isArray(source.attr) ? (source.attr.map(read) as number[]) : read(source.attr);
  }
  emit(op: string, inputs: string[], attrs: Attrs, at: { name?: string; outputs?: string[] } = {}): string[] {
    return this.b.emit(at.name ?? this.name, op, inputs, attrs, at.outputs ?? [this.name]);
  }
  constant(name: string, shape: number[], data: Float32Array): string {
    return this.b.addConstant(this.b.uniqueName(name), shape, 'float32', data);
  }
  weight(suffix: string): string | undefined {
    for (const [k, v] of this.weights) {
      if (k.endsWith(`/${suffix}`) || k === suffix) return this.b.addConstant(this.b.uniqueName(`${this.layer.name}/${suffix}`), v.shape, 'float32', v.data);
    }
    return undefined;
  }
  /** Emits `op` then the layer's activation (if any), the last node writing the layer output. */
  emitWithActivation(op: string, inputs: string[], attrs: Attrs): void {
    const act = String(this.config.activation ?? 'linear');
    if (act === 'linear') {
      this.emit(op, inputs, attrs);
      return;
    }
    const found = importEntry('tfjsLayers', `Activation(${act})`);
    if (!found || typeof found.entry === 'function') throw this.error(`activation '${act}' is not supported`);
    const pre = `${this.name}/pre_activation`;
    this.b.emit(pre, op, inputs, attrs, [pre]);
    const actAttrs: Attrs = {};
    for (const [key, source] of Object.entries(found.entry.attrs ?? {})) actAttrs[key] = attrValue(source, this);
    this.emit(found.def.op, [pre], actAttrs);
  }
  error(msg: string): Error { return new Error(`${this.label}: layer '${this.layer.name}' (${this.cls}) ${msg}`); }
}

const LAYERS_HOOKS: FormatHooks = {
  checkNhwc(c) {
    const f = (c as LayerCtx).config.dataFormat;
    if (f !== undefined && f !== 'channelsLast') throw c.error(`dataFormat ${String(f)} is not supported (channelsLast expected)`);
  },
  hasOptionalWeights: (c) => (c as LayerCtx).config.useBias !== false,
};

/** Layer classes the importer skips (they produce no node). */
const STRUCTURAL_LAYERS = new Set(['InputLayer']);

/** Layer classes the layers-model importer converts. */
export function tfjsLayerClasses(): string[] {
  return [...STRUCTURAL_LAYERS, ...importableOps('tfjsLayers').filter((k) => !k.startsWith('Activation('))].sort();
}

const isConvertibleLayer = (cls: string) => STRUCTURAL_LAYERS.has(cls) || (!cls.startsWith('Activation(') && importEntry('tfjsLayers', cls) !== undefined);

/** Imports a tf.LayersModel (or a layers-model model.json path) into the IR. */
export async function importTfjsLayersModel(source: tf.LayersModel | string, opts: ImportOptions = {}): Promise<Graph> {
  let model: tf.LayersModel;
  let label = opts.label ?? 'tf.LayersModel';
  let owned = false;
  if (typeof source === 'string') {
    const jsonPath = fs.statSync(source, { throwIfNoEntry: false })?.isDirectory() ? path.join(source, 'model.json') : source;
    label = opts.label ?? jsonPath;
    let json;
    try {
      json = JSON.parse(readRegularTextFile(jsonPath, 'model.json', READ_LIMITS.json));
    } catch (e) {
      if (e instanceof Error && e.message.startsWith(`${jsonPath}:`)) throw e;
      throw new Error(`${label}: cannot read model.json (${(e as Error).message})`);
    }
    if (typeof json !== 'object' || json === null) throw new Error(`${label}: model.json is not a JSON object`);
    if (json.format !== undefined && json.format !== 'layers-model') throw new Error(`${label}: format '${json.format}' is not a layers model`);
    const manifest = (json.weightsManifest ?? []) as { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
    const dir = path.dirname(jsonPath);
    // Same path and size checks as graph models: shards stay inside the model directory.
    const bytes = concatBytes(readWeightGroups(manifest, dir, label).bytes);
    const config = (json.modelTopology?.model_config ?? json.modelTopology)?.config;
    checkLayersTopology(config, label);
    // Layer construction registers unknown classes as errors; report them as unsupported layers.
    const layers = (Array.isArray(config?.layers) ? config.layers : []) as { class_name: string; config?: { name?: string } }[];
    const unknown = new Map<string, string[]>();
    for (const l of layers) {
      if (isConvertibleLayer(l.class_name)) continue;
      if (!unknown.has(l.class_name)) unknown.set(l.class_name, []);
      unknown.get(l.class_name)!.push(l.config?.name ?? '?');
    }
    if (unknown.size) throw unsupportedOpsError(label, unknown);
    try {
      model = await tf.loadLayersModel(tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: manifest.flatMap((g) => g.weights),
        weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
      }));
    } catch (e) {
      // TF.js names no file and may quote the whole topology (a graph-model topology under format
      // 'layers-model' gives "layer: Improper config format: {...}"): say which model and what was expected.
      throw new Error(`${label}: TF.js cannot build this layers model (expected a Keras model config under modelTopology): ${(e as Error).message.slice(0, 120)}`);
    }
    if (json.userDefinedMetadata && typeof json.userDefinedMetadata === 'object') model.setUserDefinedMetadata(json.userDefinedMetadata);
    owned = true;
  } else {
    model = source;
  }
  try {
    return graphFromLayersModel(model, opts, label);
  } finally {
    if (owned) model.dispose();
  }
}

function graphFromLayersModel(model: tf.LayersModel, opts: ImportOptions, label: string): Graph {
  const unsupported = new Map<string, string[]>();
  for (const l of model.layers) {
    const cls = l.getClassName();
    if (isConvertibleLayer(cls)) continue;
    if (!unsupported.has(cls)) unsupported.set(cls, []);
    unsupported.get(cls)!.push(l.name);
  }
  if (unsupported.size) throw unsupportedOpsError(label, unsupported);
  const b = new GraphBuilder(label);
  const names = new Map<number, string>();
  (model.inputs as unknown as Sym[]).forEach((sym, k) => {
    // The input layer's name, not its symbolic tensor's: TF.js numbers tensor names per process
    // ('images', then 'images_1' when the same model is loaded again), which would change the file.
    const name = model.inputLayers[k]?.name ?? sym.name;
    const shape = resolveInputShape(opts, name, sym.shape, model.inputs.length, label);
    names.set(sym.id, b.addInput(name, shape));
  });
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls === 'InputLayer') continue;
    const inbound = (layer as unknown as { inboundNodes: { inputTensors: Sym[] }[] }).inboundNodes;
    if (inbound.length !== 1) throw new Error(`${label}: layer '${layer.name}' (${cls}) is used ${inbound.length} times; shared layers are not supported`);
    const inputs = inbound[0].inputTensors.map((s) => {
      const n = names.get(s.id);
      if (!n) throw new Error(`${label}: layer '${layer.name}' reads '${s.name}', which was not computed before it`);
      return n;
    });
    const outs = (Array.isArray(layer.output) ? layer.output : [layer.output]) as unknown as Sym[];
    if (outs.length !== 1) throw new Error(`${label}: layer '${layer.name}' (${cls}) has ${outs.length} outputs; only single-output layers are supported`);
    const weights = new Map<string, { data: Float32Array; shape: number[] }>();
    for (const w of layer.weights) {
      const v = w.read();
      weights.set(w.originalName ?? w.name, { data: Float32Array.from(v.dataSync() as Float32Array), shape: [...w.shape] as number[] });
    }
    const found = importEntry('tfjsLayers', cls)!;
    runImportEntry(found.entry, found.def.op, new LayerCtx(b, layer, cls, inputs, weights, label), LAYERS_HOOKS);
    names.set(outs[0].id, layer.name);
  }
  const outputs = (model.outputs as unknown as Sym[]).map((s) => {
    const n = names.get(s.id);
    if (!n) throw new Error(`${label}: model output '${s.name}' is not produced by any layer`);
    return n;
  });
  const chosen = opts.outputs?.length ? opts.outputs : outputs;
  const graph = b.build(chosen, { source: label, format: 'tfjs-layers-model', cutAt: opts.outputs?.length ? [...chosen] : undefined, notes: [] });
  // The model's own metadata describes the model as saved (its outputs among it): it travels with the
  // graph, opaque here, unless the graph was cut elsewhere. A quantizer plug-in reads what it knows
  // from it (lib/yolo: a head spec, which then ends the int8 model at those outputs).
  const meta = model.getUserDefinedMetadata();
  if (meta !== undefined && !opts.outputs?.length) graph.meta.sourceMetadata = meta as Record<string, unknown>;
  return graph;
}
