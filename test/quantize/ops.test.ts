// For each supported op type: a small float graph is quantized with quantizeInt8, run in LiteRT,
// and compared with the float graph run in TF.js on the same (int8-representable) input. The
// tolerance is derived from the output scale: a few output steps, plus the propagated weight
// rounding for weighted ops.
import { expect } from 'chai';
import { GraphBuilder } from '../../lib/graph/builder.js';
import type { Graph, IrTensor } from '../../lib/ir/graph.js';
import { createFloatExecutor } from '../../lib/graph/execute.js';
import { quantizeInt8 } from '../../lib/quantize/index.js';
import { readTflite } from '../../lib/tflite/reader.js';
import { TfliteRunner } from '../../lib/runtime/index.js';
import { dtypeName } from '../../lib/tflite/model.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function randomArray(n: number, lo: number, hi: number, r: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

const H = 8;
const W = 8;
const C = 4;
const INPUT_SHAPE = [1, H, W, C];
const N_IN = H * W * C;

/** Inputs in [0,1] on the int8 grid of scale 1/255, zero point -128 (the quantizer's input choice). */
function gridInput(r: () => number): Float32Array {
  const a = new Float32Array(N_IN);
  for (let i = 0; i < N_IN; i++) a[i] = Math.round(r() * 255) / 255;
  return a;
}

interface Case {
  name: string;
  build(b: GraphBuilder, x: string, r: () => number): string[];
  /** Extra tolerance in output steps (ops whose int8 kernels round more). */
  steps?: number;
  /** Extra steps for the int16 kernel (TANH / SOFTMAX int16 use table lookups with interpolation). */
  int16Steps?: number;
  weighted?: boolean;
}

const conv = (b: GraphBuilder, x: string, r: () => number, name: string, oc: number, k = 3, attrs: Record<string, unknown> = {}) => {
  const ic = b.tensor(x).shape[3];
  const f = b.addConstant(`${name}/w`, [k, k, ic, oc], 'float32', randomArray(k * k * ic * oc, -0.5, 0.5, r));
  const bias = b.addConstant(`${name}/b`, [oc], 'float32', randomArray(oc, -0.2, 0.2, r));
  return b.emit(name, 'Conv2D', [x, f, bias], { strides: [1, 1], padding: 'SAME', dilations: [1, 1], activation: 'none', ...attrs } as never)[0];
};

const CASES: Case[] = [
  { name: 'Conv2D', weighted: true, build: (b, x, r) => [conv(b, x, r, 'conv', 6)] },
  { name: 'Conv2D+relu stride 2 VALID', weighted: true, build: (b, x, r) => [conv(b, x, r, 'conv', 5, 3, { strides: [2, 2], padding: 'VALID', activation: 'relu' })] },
  {
    name: 'DepthwiseConv2D',
    weighted: true,
    build: (b, x, r) => {
      const f = b.addConstant('dw/w', [3, 3, C, 2], 'float32', randomArray(3 * 3 * C * 2, -0.5, 0.5, r));
      const bias = b.addConstant('dw/b', [C * 2], 'float32', randomArray(C * 2, -0.1, 0.1, r));
      return b.emit('dw', 'DepthwiseConv2D', [x, f, bias], { strides: [1, 1], padding: 'SAME', dilations: [1, 1], activation: 'relu6' });
    },
  },
  {
    name: 'FullyConnected',
    weighted: true,
    build: (b, x, r) => {
      const flat = b.emit('flat', 'Reshape', [x], { shape: [1, N_IN] })[0];
      const w = b.addConstant('fc/w', [N_IN, 10], 'float32', randomArray(N_IN * 10, -0.1, 0.1, r));
      const bias = b.addConstant('fc/b', [10], 'float32', randomArray(10, -0.1, 0.1, r));
      return b.emit('fc', 'FullyConnected', [flat, w, bias], { activation: 'none' });
    },
  },
  { name: 'Sigmoid', build: (b, x, r) => b.emit('sig', 'Sigmoid', [conv(b, x, r, 'c', 4)], {}) },
  { name: 'Silu (LOGISTIC + MUL)', steps: 2, build: (b, x, r) => b.emit('silu', 'Silu', [conv(b, x, r, 'c', 4)], {}) },
  // int16 TANH: measured 2.6 steps of 1/32768 (its lookup table's interpolation error).
  { name: 'Tanh', int16Steps: 2, build: (b, x, r) => b.emit('tanh', 'Tanh', [conv(b, x, r, 'c', 4)], {}) },
  { name: 'Add', build: (b, x, r) => b.emit('add', 'Add', [conv(b, x, r, 'c1', 4), conv(b, x, r, 'c2', 4)], {}) },
  { name: 'Sub', build: (b, x, r) => b.emit('sub', 'Sub', [conv(b, x, r, 'c1', 4), conv(b, x, r, 'c2', 4)], {}) },
  { name: 'Mul', steps: 2, build: (b, x, r) => b.emit('mul', 'Mul', [conv(b, x, r, 'c1', 4), conv(b, x, r, 'c2', 4)], {}) },
  {
    name: 'Mul by constant',
    build: (b, x, r) => {
      const k = b.addConstant('k', [C], 'float32', Float32Array.from([2, -1, 0.5, 3]));
      return b.emit('mulc', 'Mul', [x, k], {});
    },
  },
  { name: 'Square', steps: 2, build: (b, x, r) => b.emit('sq', 'Square', [conv(b, x, r, 'c', 4)], {}) },
  { name: 'Concat (shared parameters)', build: (b, x, r) => b.emit('cat', 'Concat', [conv(b, x, r, 'c1', 3), conv(b, x, r, 'c2', 5)], { axis: 3 }) },
  { name: 'MaxPool 5x5 SAME', build: (b, x, r) => b.emit('mp', 'MaxPool', [conv(b, x, r, 'c', 4)], { filter: [5, 5], strides: [1, 1], padding: 'SAME' }) },
  { name: 'AvgPool 2x2', steps: 1, build: (b, x, r) => b.emit('ap', 'AvgPool', [conv(b, x, r, 'c', 4)], { filter: [2, 2], strides: [2, 2], padding: 'VALID' }) },
  {
    name: 'ResizeNearest (half pixel centers)',
    build: (b, x, r) => b.emit('up', 'ResizeNearest', [conv(b, x, r, 'c', 4)], { size: [16, 16], alignCorners: false, halfPixelCenters: true }),
  },
  { name: 'Pad', build: (b, x, r) => b.emit('pad', 'Pad', [conv(b, x, r, 'c', 4)], { paddings: [0, 0, 1, 1, 2, 2, 0, 0], constantValue: 0 }) },
  { name: 'Reshape', build: (b, x, r) => b.emit('rs', 'Reshape', [conv(b, x, r, 'c', 6)], { shape: [1, H * W * 3, 2] }) },
  { name: 'Transpose', build: (b, x, r) => b.emit('tp', 'Transpose', [conv(b, x, r, 'c', 4)], { perm: [0, 3, 1, 2] }) },
  { name: 'Relu', build: (b, x, r) => b.emit('relu', 'Relu', [conv(b, x, r, 'c', 4)], {}) },
  { name: 'LeakyRelu', build: (b, x, r) => b.emit('lrelu', 'LeakyRelu', [conv(b, x, r, 'c', 4)], { alpha: 0.1 }) },
  // int8 MEAN averages on the input's (coarser) grid before requantizing to the output scale:
  // measured up to ~3.3 output steps here, where the output scale is a third of the input's.
  { name: 'Mean', steps: 2.5, build: (b, x, r) => b.emit('mean', 'Mean', [conv(b, x, r, 'c', 4)], { axes: [1, 2], keepDims: true }) },
  {
    name: 'StridedSlice',
    build: (b, x, r) =>
      b.emit('ss', 'StridedSlice', [conv(b, x, r, 'c', 6)], { begin: [0, 1, 0, 2], end: [1, 7, 8, 6], strides: [1, 2, 1, 1], beginMask: 0, endMask: 0, shrinkAxisMask: 0 }),
  },
  {
    name: 'BatchNorm (unfolded: a 1x1 depthwise conv)',
    weighted: true,
    build: (b, x, r) => {
      const t = (name: string, lo: number, hi: number) => b.addConstant(`bn/${name}`, [C], 'float32', randomArray(C, lo, hi, r));
      return b.emit('bn', 'BatchNorm', [x, t('scale', 0.5, 2), t('offset', -0.5, 0.5), t('mean', 0.2, 0.8), t('variance', 0.05, 0.5)], { epsilon: 1e-3 });
    },
  },
  { name: 'Split', build: (b, x, r) => b.emit('sp', 'Split', [conv(b, x, r, 'c', 5)], { axis: 3, sizes: [2, 3] }, ['sp:0', 'sp:1']) },
  { name: 'Pack', build: (b, x, r) => b.emit('pk', 'Pack', [conv(b, x, r, 'c1', 3), conv(b, x, r, 'c2', 3)], { axis: 1 }) },
  { name: 'Unpack', build: (b, x, r) => b.emit('up', 'Unpack', [conv(b, x, r, 'c', 3)], { axis: 3 }, ['up:0', 'up:1', 'up:2']) },
  { name: 'Slice', build: (b, x, r) => b.emit('sl', 'Slice', [conv(b, x, r, 'c', 4)], { begin: [0, 1, 2, 1], size: [1, 5, 4, 2] }) },
  { name: 'ExpandDims', build: (b, x, r) => b.emit('ed', 'ExpandDims', [conv(b, x, r, 'c', 4)], { axis: 1 }) },
  { name: 'Squeeze', build: (b, x, r) => b.emit('sq1', 'Squeeze', [b.emit('m', 'Mean', [conv(b, x, r, 'c', 4)], { axes: [1], keepDims: true })[0]], { axes: [1] }) },
  // int16 SOFTMAX: measured 1.7 steps (exp and reciprocal lookup tables).
  { name: 'Softmax', int16Steps: 2, build: (b, x, r) => b.emit('sm', 'Softmax', [conv(b, x, r, 'c', 4)], { beta: 1 }) },
];

async function floatRun(graph: Graph, input: Record<string, Float32Array>, fetch: string[]): Promise<Record<string, Float32Array>> {
  const ex = await createFloatExecutor(graph, { backend: 'wasm' });
  try {
    return await ex.run(input, fetch);
  } finally {
    ex.dispose();
  }
}

/** The graph's last node alone, with its activation inputs as graph inputs (constants kept). */
function lastNodeGraph(graph: Graph): Graph {
  const node = graph.nodes[graph.nodes.length - 1];
  const tensors = new Map<string, IrTensor>();
  for (const t of [...node.inputs, ...node.outputs]) tensors.set(t, graph.tensors.get(t)!);
  const inputs = [...new Set(node.inputs.filter((t) => !graph.tensors.get(t)!.data))];
  return { tensors, nodes: [node], inputs, outputs: node.outputs, meta: graph.meta };
}

type Precision = 'int8' | 'int16' | 'float';

/** File dtypes each precision may write (besides the int8 model input and int32 shape operands). */
const ALLOWED_TYPES: Record<Precision, string[]> = {
  int8: ['int8', 'int32'],
  // 16x8: int16 activations, int8 weights, int64 bias; the int8 model input is converted by a QUANTIZE.
  int16: ['int8', 'int16', 'int32', 'int64'],
  float: ['int8', 'int32', 'float32'],
};

for (const precision of ['int8', 'int16', 'float'] as Precision[]) {
  describe(`quantizeInt8: every op type against LiteRT (${precision})`, function () {
    for (const c of CASES) {
      it(c.name, async () => {
        const r = rng(c.name.length * 7919 + 13);
        const b = new GraphBuilder(c.name);
        const x = b.addInput('input', INPUT_SHAPE);
        const outs = c.build(b, x, r);
        // Every activation is also a model output, so the op under test can be checked on the exact
        // inputs LiteRT gave it (upstream rounding then does not count against it).
        const all = b.nodes.flatMap((n) => n.outputs).filter((t) => !outs.includes(t));
        const graph = b.build([...all, ...outs], { source: c.name, format: 'built', notes: [] });
        const calib = Array.from({ length: 16 }, () => gridInput(r));
        const { tflite, report } = await quantizeInt8(graph, {
          representativeDataset: calib,
          numCalibrationSamples: 16,
          backend: 'wasm',
          precision,
          outputType: precision === 'int8' ? 'int8' : precision === 'int16' ? 'int16' : 'float32',
        });

        // Spec checks on the file as written.
        const model = readTflite(tflite);
        const sg = model.subgraphs[0];
        for (const t of sg.tensors) expect(ALLOWED_TYPES[precision], `${t.name}`).to.include(dtypeName(t.type));
        const inT = sg.tensors[sg.inputs[0]];
        expect(dtypeName(inT.type)).to.equal('int8');
        expect(inT.quantization!.scale[0]).to.be.closeTo(1 / 255, 1e-9);
        expect(inT.quantization!.zeroPoint[0]).to.equal(-128);
        expect(report.allInteger).to.equal(precision !== 'float');
        expect(report.precision[precision]).to.equal(report.plan.steps.filter((st) => st.kind === 'op').length);
        if (precision === 'int16') {
          for (const t of sg.tensors) if (dtypeName(t.type) === 'int16') expect(t.quantization!.zeroPoint.every((z) => z === 0), `${t.name} symmetric`).to.equal(true);
        }

        const runner = await TfliteRunner.load(tflite, { label: c.name });
        try {
          const test = gridInput(r);
          const q = new Int8Array(N_IN);
          for (let i = 0; i < N_IN; i++) q[i] = Math.round(test[i] * 255) - 128;
          const got = await runner.run([q]);
          const deq: Record<string, Float32Array> = { input: test };
          graph.outputs.forEach((name, k) => {
            const o = runner.outputs[k];
            expect(got[k]).to.be.instanceOf(precision === 'int8' ? Int8Array : precision === 'int16' ? Int16Array : Float32Array);
            deq[name] = precision === 'float' ? Float32Array.from(got[k]) : Float32Array.from(got[k], (v) => (v - o.zeroPoint!) * o.scale!);
          });
          const single = lastNodeGraph(graph);
          const want = await floatRun(single, Object.fromEntries(single.inputs.map((i) => [i, deq[i]])), single.outputs);
          for (const name of single.outputs) {
            const k = graph.outputs.indexOf(name);
            const ref = want[name];
            const mine = deq[name];
            expect(mine.length).to.equal(ref.length);
            let maxErr = 0;
            let sumErr = 0;
            let maxRef = 0;
            // Values beyond the calibrated range saturate by design: compare with the reference
            // clamped to what the output's parameters represent.
            const o = runner.outputs[k];
            const [lo, hi] = precision === 'float' ? [-Infinity, Infinity] : precision === 'int16' ? [-32768, 32767] : [-128, 127];
            const clamp = (v: number) => (o.scale === undefined ? v : Math.min((hi - o.zeroPoint!) * o.scale, Math.max((lo - o.zeroPoint!) * o.scale, v)));
            for (let i = 0; i < ref.length; i++) {
              const e = Math.abs(mine[i] - clamp(ref[i]));
              maxErr = Math.max(maxErr, e);
              sumErr += e;
              maxRef = Math.max(maxRef, Math.abs(ref[i]));
            }
            if (precision === 'float') {
              // Float kernels (XNNPACK vs TF.js): float32 rounding only.
              expect(maxErr, `${c.name}: max error ${maxErr}`).to.be.at.most(1e-4 * (1 + maxRef));
              continue;
            }
            const s = runner.outputs[k].scale!;
            // The same range's int8 step: int8 weight rounding is as large in 16x8 as in int8.
            const int8Step = precision === 'int16' ? (2 * 32767 * s) / 255 : s;
            // Output rounding is half a step and the kernels' fixed-point multipliers add up to about
            // one more; weighted ops also carry their weight rounding (a few int8 steps at most here).
            const steps = (c.steps ?? 0) + (precision === 'int16' ? c.int16Steps ?? 0 : 0);
            const allowed = s * (1.5 + steps) + (c.weighted ? 3 * int8Step : 0);
            expect(maxErr, `${c.name}: max error ${maxErr} vs output scale ${s}`).to.be.at.most(allowed);
            const meanAllowed = precision === 'int16' ? s * (1 + steps) + (c.weighted ? int8Step : 0) : s * (c.weighted ? 1 : 0.5) * (1 + steps);
            expect(sumErr / ref.length, 'mean error').to.be.at.most(meanAllowed);
          }
        } finally {
          runner.dispose();
        }
      });
    }
  });
}
