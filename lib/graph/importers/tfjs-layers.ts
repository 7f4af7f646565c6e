// Importer for TF.js layers models: a tf.LayersModel in memory, or a layers-model model.json path
// (loaded with tfjs from memory: tfjs in Node has no file:// handler).
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { AttrValue, Graph } from '../../ir/graph.js';
import { GraphBuilder, unsupportedOpsError } from '../builder.js';
import { concatBytes, readWeightGroups } from './tfjs-weights.js';
import type { ImportOptions } from './tfjs-graph.js';

type Config = Record<string, unknown>;
type Sym = { id: number; name: string; shape: (number | null)[] };
interface LayerCtx {
  b: GraphBuilder;
  layer: tf.layers.Layer;
  config: Config;
  inputs: string[];
  out: string;
  weights: Map<string, Float32Array>;
  weightShapes: Map<string, number[]>;
  error(msg: string): Error;
}

const ACTIVATION_OPS: Record<string, string | null> = {
  linear: null, relu: 'Relu', relu6: 'Relu6', sigmoid: 'Sigmoid', tanh: 'Tanh', softmax: 'Softmax', swish: 'Silu', silu: 'Silu',
};

function pair(v: unknown, fallback: number): [number, number] {
  if (v === undefined || v === null) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  const a = v as number[];
  return [a[0], a[1] ?? a[0]];
}

function padding(c: LayerCtx): 'SAME' | 'VALID' {
  const p = String(c.config.padding ?? 'valid');
  if (p !== 'same' && p !== 'valid') throw c.error(`padding '${p}' is not supported`);
  return p === 'same' ? 'SAME' : 'VALID';
}

function checkChannelsLast(c: LayerCtx): void {
  const f = c.config.dataFormat;
  if (f !== undefined && f !== 'channelsLast') throw c.error(`dataFormat ${String(f)} is not supported (channelsLast expected)`);
}

/** Emits `op` then the layer's activation (if any), the last node writing the layer output. */
function withActivation(c: LayerCtx, op: string, inputs: string[], attrs: Record<string, AttrValue>): void {
  const act = String(c.config.activation ?? 'linear');
  if (!(act in ACTIVATION_OPS)) throw c.error(`activation '${act}' is not supported`);
  const actOp = ACTIVATION_OPS[act];
  if (!actOp) {
    c.b.emit(c.out, op, inputs, attrs);
    return;
  }
  const pre = `${c.out}/pre_activation`;
  c.b.emit(pre, op, inputs, attrs, [pre]);
  c.b.emit(c.out, actOp, [pre], actOp === 'Softmax' ? { axis: -1, beta: 1 } : {});
}

function weight(c: LayerCtx, suffix: string): string | undefined {
  for (const [k, v] of c.weights) {
    if (k.endsWith(`/${suffix}`) || k === suffix) {
      const name = c.b.uniqueName(`${c.layer.name}/${suffix}`);
      return c.b.addConstant(name, c.weightShapes.get(k)!, 'float32', v);
    }
  }
  return undefined;
}

function requireWeight(c: LayerCtx, suffix: string): string {
  const w = weight(c, suffix);
  if (!w) throw c.error(`has no '${suffix}' weight`);
  return w;
}

const CONVERTERS: Record<string, (c: LayerCtx) => void> = {
  InputLayer: () => undefined,
  Conv2D(c) {
    checkChannelsLast(c);
    const ins = [c.inputs[0], requireWeight(c, 'kernel')];
    if (c.config.useBias !== false) ins.push(requireWeight(c, 'bias'));
    withActivation(c, 'Conv2D', ins, { strides: pair(c.config.strides, 1), dilations: pair(c.config.dilationRate, 1), padding: padding(c), activation: 'none' });
  },
  DepthwiseConv2D(c) {
    checkChannelsLast(c);
    const ins = [c.inputs[0], requireWeight(c, 'depthwise_kernel')];
    if (c.config.useBias !== false) ins.push(requireWeight(c, 'bias'));
    withActivation(c, 'DepthwiseConv2D', ins, { strides: pair(c.config.strides, 1), dilations: pair(c.config.dilationRate, 1), padding: padding(c), activation: 'none' });
  },
  Dense(c) {
    if (c.b.tensor(c.inputs[0]).shape.length !== 2) throw c.error('Dense is only supported on rank-2 inputs (add a Flatten)');
    const ins = [c.inputs[0], requireWeight(c, 'kernel')];
    if (c.config.useBias !== false) ins.push(requireWeight(c, 'bias'));
    withActivation(c, 'FullyConnected', ins, { activation: 'none' });
  },
  BatchNormalization(c) {
    const x = c.b.tensor(c.inputs[0]);
    const axis = Number(c.config.axis ?? -1);
    if (axis !== -1 && axis !== x.shape.length - 1) throw c.error(`axis ${axis} is not supported (channels-last only)`);
    const ch = x.shape[x.shape.length - 1];
    const constant = (suffix: string, value: number) =>
      c.b.addConstant(c.b.uniqueName(`${c.layer.name}/${suffix}`), [ch], 'float32', new Float32Array(ch).fill(value));
    const gamma = weight(c, 'gamma') ?? constant('gamma', 1);
    const beta = weight(c, 'beta') ?? constant('beta', 0);
    c.b.emit(c.out, 'BatchNorm', [c.inputs[0], gamma, beta, requireWeight(c, 'moving_mean'), requireWeight(c, 'moving_variance')], {
      epsilon: Number(c.config.epsilon ?? 1e-3),
    });
  },
  Activation: (c) => withActivation(c, 'Identity', [c.inputs[0]], {}),
  ReLU(c) {
    const max = c.config.maxValue as number | null | undefined;
    const slope = Number(c.config.negativeSlope ?? 0);
    const threshold = Number(c.config.threshold ?? 0);
    if (threshold !== 0) throw c.error('threshold != 0 is not supported');
    if (slope !== 0) {
      if (max != null) throw c.error('negativeSlope with maxValue is not supported');
      c.b.emit(c.out, 'LeakyRelu', [c.inputs[0]], { alpha: slope });
    } else if (max == null) c.b.emit(c.out, 'Relu', [c.inputs[0]], {});
    else if (max === 6) c.b.emit(c.out, 'Relu6', [c.inputs[0]], {});
    else throw c.error(`maxValue ${max} is not supported (none or 6)`);
  },
  LeakyReLU: (c) => void c.b.emit(c.out, 'LeakyRelu', [c.inputs[0]], { alpha: Number(c.config.alpha ?? 0.3) }),
  Softmax(c) {
    const axis = Number(c.config.axis ?? -1);
    c.b.emit(c.out, 'Softmax', [c.inputs[0]], { axis, beta: 1 });
  },
  Add(c) {
    let acc = c.inputs[0];
    for (let k = 1; k < c.inputs.length; k++) {
      const name = k === c.inputs.length - 1 ? c.out : `${c.out}/add_${k}`;
      acc = c.b.emit(name, 'Add', [acc, c.inputs[k]], { activation: 'none' }, [name])[0];
    }
  },
  Multiply(c) {
    let acc = c.inputs[0];
    for (let k = 1; k < c.inputs.length; k++) {
      const name = k === c.inputs.length - 1 ? c.out : `${c.out}/mul_${k}`;
      acc = c.b.emit(name, 'Mul', [acc, c.inputs[k]], { activation: 'none' }, [name])[0];
    }
  },
  Subtract: (c) => void c.b.emit(c.out, 'Sub', c.inputs, { activation: 'none' }),
  Concatenate(c) {
    const rank = c.b.tensor(c.inputs[0]).shape.length;
    const axis = Number(c.config.axis ?? -1);
    c.b.emit(c.out, 'Concat', c.inputs, { axis: axis < 0 ? axis + rank : axis, activation: 'none' });
  },
  MaxPooling2D: (c) => pool(c, 'MaxPool'),
  AveragePooling2D: (c) => pool(c, 'AvgPool'),
  UpSampling2D(c) {
    checkChannelsLast(c);
    const [sh, sw] = pair(c.config.size, 2);
    const x = c.b.tensor(c.inputs[0]).shape;
    const interp = String(c.config.interpolation ?? 'nearest');
    if (interp !== 'nearest' && interp !== 'bilinear') throw c.error(`interpolation '${interp}' is not supported`);
    c.b.emit(c.out, interp === 'nearest' ? 'ResizeNearest' : 'ResizeBilinear', [c.inputs[0]], {
      size: [x[1] * sh, x[2] * sw], alignCorners: false, halfPixelCenters: false,
    });
  },
  ZeroPadding2D(c) {
    checkChannelsLast(c);
    const p = c.config.padding as number | number[] | number[][];
    const [[t, b2], [l, r]] = typeof p === 'number' ? [[p, p], [p, p]] : Array.isArray(p[0]) ? (p as number[][]) : [[p[0] as number, p[0] as number], [p[1] as number, p[1] as number]];
    c.b.emit(c.out, 'Pad', [c.inputs[0]], { paddings: [0, 0, t, b2, l, r, 0, 0], constantValue: 0 });
  },
  Reshape(c) {
    const target = c.config.targetShape as number[];
    c.b.emit(c.out, 'Reshape', [c.inputs[0]], { shape: [c.b.tensor(c.inputs[0]).shape[0], ...target] });
  },
  Flatten(c) {
    const s = c.b.tensor(c.inputs[0]).shape;
    c.b.emit(c.out, 'Reshape', [c.inputs[0]], { shape: [s[0], s.slice(1).reduce((a, d) => a * d, 1)] });
  },
  GlobalAveragePooling2D(c) {
    checkChannelsLast(c);
    c.b.emit(c.out, 'Mean', [c.inputs[0]], { axes: [1, 2], keepDims: Boolean(c.config.keepDims) });
  },
  Dropout: (c) => void c.b.emit(c.out, 'Identity', [c.inputs[0]], {}),
};

function pool(c: LayerCtx, op: string) {
  checkChannelsLast(c);
  const size = pair(c.config.poolSize, 2);
  const strides = c.config.strides == null ? size : pair(c.config.strides, 1);
  c.b.emit(c.out, op, [c.inputs[0]], { filter: size, strides, padding: padding(c), activation: 'none' });
}

export const TFJS_LAYERS: readonly string[] = Object.keys(CONVERTERS);

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
      json = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
    } catch (e) {
      throw new Error(`${label}: cannot read model.json (${(e as Error).message})`);
    }
    if (typeof json !== 'object' || json === null) throw new Error(`${label}: model.json is not a JSON object`);
    if (json.format !== undefined && json.format !== 'layers-model') throw new Error(`${label}: format '${json.format}' is not a layers model`);
    const manifest = (json.weightsManifest ?? []) as { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
    const dir = path.dirname(jsonPath);
    // Same path and size checks as graph models: shards stay inside the model directory.
    const bytes = concatBytes(readWeightGroups(manifest, dir, label).bytes);
    // Layer construction registers unknown classes as errors; report them as unsupported layers.
    const layers = ((json.modelTopology?.model_config ?? json.modelTopology)?.config?.layers ?? []) as { class_name: string; config?: { name?: string } }[];
    const unknown = new Map<string, string[]>();
    for (const l of layers) {
      if (CONVERTERS[l.class_name]) continue;
      if (!unknown.has(l.class_name)) unknown.set(l.class_name, []);
      unknown.get(l.class_name)!.push(l.config?.name ?? '?');
    }
    if (unknown.size) throw unsupportedOpsError(label, unknown);
    model = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: manifest.flatMap((g) => g.weights),
      weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    }));
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
    if (CONVERTERS[cls]) continue;
    if (!unsupported.has(cls)) unsupported.set(cls, []);
    unsupported.get(cls)!.push(l.name);
  }
  if (unsupported.size) throw unsupportedOpsError(label, unsupported);
  const b = new GraphBuilder(label);
  const names = new Map<number, string>();
  for (const sym of model.inputs as unknown as Sym[]) {
    const shape = opts.inputShapes?.[sym.name] ?? sym.shape.map((d, i) => (d === null && i === 0 ? 1 : d));
    if (shape.some((d) => d === null || (d as number) < 0)) {
      throw new Error(`${label}: input '${sym.name}' has shape [${sym.shape}]; pass opts.inputShapes['${sym.name}']`);
    }
    names.set(sym.id, b.addInput(sym.name, shape as number[]));
  }
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
    const weights = new Map<string, Float32Array>();
    const weightShapes = new Map<string, number[]>();
    for (const w of layer.weights) {
      const v = w.read();
      weights.set(w.originalName ?? w.name, Float32Array.from(v.dataSync() as Float32Array));
      weightShapes.set(w.originalName ?? w.name, [...w.shape] as number[]);
    }
    const ctx: LayerCtx = {
      b, layer, config: layer.getConfig() as Config, inputs, out: layer.name, weights, weightShapes,
      error: (msg) => new Error(`${label}: layer '${layer.name}' (${cls}) ${msg}`),
    };
    CONVERTERS[cls](ctx);
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
