// Every op of the registry (lib/ops/defs): each of its examples, a small float graph, is quantized with
// quantizeInt8 in every precision the op supports, run in LiteRT, and compared with the float graph
// run in TF.js on the same (int8-representable) input. The tolerance is derived from the output scale:
// a few output steps, plus the propagated weight rounding for weighted ops.
import { expect } from 'chai';
import { GraphBuilder } from '../../lib/graph/builder.js';
import type { Graph, IrTensor } from '../../lib/ir/graph.js';
import { createFloatExecutor } from '../../lib/graph/execute.js';
import { quantizeInt8 } from '../../lib/quantize/index.js';
import { OP_DEFS } from '../../lib/ops/registry.js';
import type { ExampleBuilder, OpExample, Precision } from '../../lib/ops/types.js';
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

/** An ExampleBuilder (lib/ops/types.ts) over a GraphBuilder, with the example's seeded random numbers. */
function exampleBuilder(b: GraphBuilder, input: string, r: () => number): ExampleBuilder {
  const uniform = (n: number, lo: number, hi: number) => randomArray(n, lo, hi, r);
  return {
    input,
    uniform,
    constant: (name, shape, data) => b.addConstant(name, shape, 'float32', data),
    emit: (name, op, inputs, attrs, outputs) => b.emit(name, op, inputs, attrs, outputs),
    shape: (name) => b.tensor(name).shape,
    conv(name, x, oc) {
      const ic = b.tensor(x).shape[3];
      const f = b.addConstant(`${name}/w`, [3, 3, ic, oc], 'float32', uniform(3 * 3 * ic * oc, -0.5, 0.5));
      const bias = b.addConstant(`${name}/b`, [oc], 'float32', uniform(oc, -0.2, 0.2));
      return b.emit(name, 'Conv2D', [x, f, bias], { strides: [1, 1], padding: 'SAME', dilations: [1, 1], activation: 'none' })[0];
    },
  };
}

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


/** File dtypes each precision may write (besides the int8 model input and int32 shape operands). */
const ALLOWED_TYPES: Record<Precision, string[]> = {
  int8: ['int8', 'int32'],
  // 16x8: int16 activations, int8 weights, int64 bias; the int8 model input is converted by a QUANTIZE.
  int16: ['int8', 'int16', 'int32', 'int64'],
  float: ['int8', 'int32', 'float32'],
};

describe('op registry: every op has examples', () => {
  it('each registered op with a quantization rule has at least one example', () => {
    const missing = OP_DEFS.filter((d) => d.quant && !(d.examples?.length)).map((d) => d.op);
    expect(missing, `ops without examples: ${missing.join(', ')}`).to.deep.equal([]);
  });
});

const CASES: { op: string; example: OpExample; precisions: readonly Precision[] }[] = OP_DEFS.flatMap((d) =>
  (d.examples ?? []).map((example) => ({ op: d.op, example, precisions: d.quant?.precisions ?? ['int8', 'int16', 'float'] })),
);

for (const precision of ['int8', 'int16', 'float'] as Precision[]) {
  describe(`every registered op against LiteRT (${precision})`, function () {
    for (const { op, example: c, precisions } of CASES) {
      if (!precisions.includes(precision)) continue;
      it(`${op}: ${c.name}`, async () => {
        const r = rng(c.name.length * 7919 + 13);
        const b = new GraphBuilder(c.name);
        const x = b.addInput('input', INPUT_SHAPE);
        const outs = c.build(exampleBuilder(b, x, r));
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
