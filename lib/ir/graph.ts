// The in-memory graph (IR) every importer produces and calibration, quantization and the TFLite
// writer consume. It is deliberately small and explicit:
//   - NHWC activations throughout;
//   - TF layouts for weights: Conv2D filter HWIO [kh, kw, inC, outC], DepthwiseConv2D filter
//     [kh, kw, inC, multiplier], FullyConnected weights [in, out] (the TFLite writer transposes);
//   - constants are tensors with `data`; every tensor has a fully known static shape (batch included);
//   - nodes are kept in topological order.

export type IrDType = 'float32' | 'int32' | 'bool';
export type IrData = Float32Array | Int32Array | Uint8Array;

export interface IrTensor {
  name: string;
  shape: number[];
  dtype: IrDType;
  /** Present for constants (weights, biases, shape operands). */
  data?: IrData;
}

export type AttrValue = number | string | boolean | number[] | string[] | null;

export interface IrNode {
  /** Unique node name (kept from the source where it has one, so errors can name it). */
  name: string;
  /** The IR op type: a key of the op registry (lib/graph/ops). */
  op: string;
  /** Tensor names; constants are tensors too. */
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

export interface Graph {
  tensors: Map<string, IrTensor>;
  /** Topologically ordered. */
  nodes: IrNode[];
  inputs: string[];
  outputs: string[];
  /** Where it came from and what the importer did (format, cut points, notes) - echoed in reports. */
  meta: {
    source: string;
    format: 'tfjs-graph-model' | 'tfjs-layers-model' | 'tflite' | 'built';
    /** Tensors the importer cut the graph at (post-processing is never quantized). */
    cutAt?: string[];
    /**
     * Set when the source stored its weights as integers (a quantized .tflite imported as the float
     * graph it approximates): 'dynamic-range' (integer weights, float activations) or 'full-integer'
     * (integer weights and activations). The float weights are then already int8-rounded.
     */
    sourceQuantization?: 'dynamic-range' | 'full-integer';
    notes: string[];
    /** The head spec the graph is quantized with, when known before any head is searched for (a plug-in read it from the source, or the caller set it). */
    headSpec?: { kind: string; numClasses: number; inputSize: [number, number] };
    /**
     * What the source model stores about itself as plain JSON (a layers model's userDefinedMetadata),
     * opaque to the importers: a quantizer plug-in reads what it knows from it (e.g. a head spec).
     */
    sourceMetadata?: Readonly<Record<string, unknown>>;
    /** What the source says about itself (ultralytics metadata.yaml / embedded metadata). */
    modelInfo?: ModelInfo;
    /**
     * Inputs the source declares as integers (MoveNet's int32 pixels, uint8 images): the IR input is
     * float32 holding the same integer values, so the data fed to it are pixels 0..255, not [0, 1].
     */
    integerInputs?: Record<string, 'uint8' | 'int32'>;
  };
}

/** Facts an exporter stores beside or inside the model (ultralytics: metadata.yaml, or a zip appended to .tflite). */
export interface ModelInfo {
  /** Where they were read from. */
  from: string;
  task?: string;
  /** Class names by id. */
  names?: string[];
  /** Pose models: [keypoints, values per keypoint (2 or 3)]. */
  kptShape?: [number, number];
  imgsz?: [number, number];
}

export function tensorOf(g: Graph, name: string): IrTensor {
  const t = g.tensors.get(name);
  if (!t) throw new Error(`graph: no tensor named '${name}'`);
  return t;
}

export function isConstant(g: Graph, name: string): boolean {
  return g.tensors.get(name)?.data !== undefined;
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Map from tensor name to the nodes that read it. */
export function consumersOf(g: Graph): Map<string, IrNode[]> {
  const m = new Map<string, IrNode[]>();
  for (const n of g.nodes) {
    for (const i of n.inputs) {
      const list = m.get(i);
      if (list) list.push(n);
      else m.set(i, [n]);
    }
  }
  return m;
}

/** Map from tensor name to the node that writes it. */
export function producersOf(g: Graph): Map<string, IrNode> {
  const m = new Map<string, IrNode>();
  for (const n of g.nodes) for (const o of n.outputs) m.set(o, n);
  return m;
}
