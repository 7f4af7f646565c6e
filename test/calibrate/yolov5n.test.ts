// calibrate() driven by the real float IR executor (TF.js wasm) on the real YOLOv5n graph:
// observed extremes must equal the exact extremes of the fetched activations, and the (subsampled)
// histogram percentile must match the exact percentile computed by sorting.
import path from 'node:path';
import { expect } from 'chai';
import { importTfjsGraphModel } from '../../lib/graph/importers/tfjs-graph.js';
import { runDefaultPasses } from '../../lib/graph/passes/index.js';
import { createFloatExecutor, type FloatExecutor } from '../../lib/graph/execute.js';
import type { Graph } from '../../lib/ir/graph.js';
import { calibrate } from '../../lib/calibrate/calibrate.js';
import { ObserverKernels } from '../../lib/calibrate/observer-kernels.js';
import { HistogramObserver } from '../../lib/calibrate/observers.js';
import { YOLOV5N_WEB_MODEL, requireFixtures } from '../support/fixtures.js';
import { letterboxedBus } from '../support/float-models.js';

/** Value at quantile q of the sorted data, linearly interpolated (numpy's default). */
function exactQuantile(sorted: Float32Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const i = Math.floor(pos);
  const f = pos - i;
  return i + 1 < sorted.length ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i];
}

function mirrored(x: Float32Array, h: number, w: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let y = 0; y < h; y++) for (let c = 0; c < w; c++) for (let k = 0; k < 3; k++) out[(y * w + c) * 3 + k] = x[(y * w + (w - 1 - c)) * 3 + k];
  return out;
}

describe('calibrate with the real YOLOv5n float executor', function () {
  let graph: Graph;
  let ex: FloatExecutor;
  let inputs: Float32Array[];

  before(async function () {
    requireFixtures(this);
    graph = runDefaultPasses(await importTfjsGraphModel(YOLOV5N_WEB_MODEL));
    ex = await createFloatExecutor(graph, { backend: 'wasm' });
    const bus = await letterboxedBus();
    inputs = [bus, mirrored(bus, 640, 640)];
  });
  after(() => ex?.dispose());

  it('observes every activation; extremes exact, percentile close to the sorted-data percentile', async () => {
    const activations: string[] = [];
    for (const n of graph.nodes) for (const o of n.outputs) if (!graph.tensors.get(o)!.data) activations.push(o);
    let forwardSeconds = 0;
    const res = await calibrate({
      tensors: activations,
      samples: inputs,
      numSamples: inputs.length,
      forward: async (input, onTensor) => {
        const t0 = performance.now();
        await ex.stream(input, { onTensor: (name, data) => onTensor(name, data), fetch: [] });
        forwardSeconds += (performance.now() - t0) / 1000;
      },
      method: 'percentile',
      percentile: 99.9,
    });
    expect(res.samples).to.equal(2);
    expect(res.ranges.size).to.equal(activations.length);
    console.log(
      `      ${activations.length} activations: forward+observe ${((forwardSeconds / 2) * 1000).toFixed(0)} ms/image,` +
        ` of which observers ${((res.observeSeconds / 2) * 1000).toFixed(0)} ms/image (wall, shared machine)`,
    );

    // independent check on a few tensors: fetch them whole and compute the statistics directly
    const big = activations.filter((a) => graph.tensors.get(a)!.shape.reduce((x, y) => x * y, 1) >= 400_000);
    const checked = [big[0], big[Math.floor(big.length / 2)], graph.outputs[0]];
    const fetched = await Promise.all(inputs.map((x) => ex.run(x, checked)));
    for (const name of checked) {
      const all = new Float32Array(fetched[0][name].length * 2);
      all.set(fetched[0][name]);
      all.set(fetched[1][name], fetched[0][name].length);
      all.sort();
      const r = res.ranges.get(name)!;
      expect(r.observedMin, name).to.equal(all[0]);
      expect(r.observedMax, name).to.equal(all[all.length - 1]);
      const span = all[all.length - 1] - all[0];
      const lo = exactQuantile(all, 0.001);
      const hi = exactQuantile(all, 0.999);
      console.log(`      ${name} [${all.length}]: exact p99.9 [${lo.toFixed(4)}, ${hi.toFixed(4)}], calibrated [${r.min.toFixed(4)}, ${r.max.toFixed(4)}], observed [${all[0].toFixed(3)}, ${all[all.length - 1].toFixed(3)}]`);
      expect(Math.abs(r.min - lo), `${name} min`).to.be.lessThan(0.03 * span);
      expect(Math.abs(r.max - hi), `${name} max`).to.be.lessThan(0.03 * span);
    }
  });

  it('gives the same statistics from wasm heap views as from copies, with no copy made', async () => {
    const activations: string[] = [];
    for (const n of graph.nodes) for (const o of n.outputs) if (!graph.tensors.get(o)!.data) activations.push(o);
    const copying = await createFloatExecutor(graph, { backend: 'wasm', activationViews: false });
    const ranges = async (exec: FloatExecutor, sawView: (data: Float32Array) => void) =>
      (await calibrate({
        tensors: activations,
        samples: inputs,
        numSamples: inputs.length,
        forward: (input, onTensor) => exec.stream(input, { fetch: [], onTensor: (name, data) => (sawView(data), onTensor(name, data)) }).then(() => undefined),
        method: (name) => (name.length % 2 ? 'percentile' : 'minmax'),
      })).ranges;
    // A view shares the wasm heap (one buffer much larger than the tensor); a copy owns its buffer.
    const heap = (data: Float32Array) => data.buffer.byteLength > data.byteLength;
    let views = 0;
    let copies = 0;
    try {
      const fromViews = await ranges(ex, (d) => (heap(d) ? views++ : copies++));
      // onTensor sees the graph input and every activation of each sample.
      const reports = (activations.length + graph.inputs.length) * inputs.length;
      expect([views, copies]).to.deep.equal([reports, 0]);
      const fromCopies = await ranges(copying, (d) => (heap(d) ? views++ : copies++));
      expect([views, copies]).to.deep.equal([reports, reports]);
      expect([...fromViews]).to.deep.equal([...fromCopies]);
    } finally {
      copying.dispose();
    }
  });

  it('the WebAssembly kernels read every activation in place and give the JavaScript statistics bit for bit', async () => {
    const kernels = ObserverKernels.create(ex.heapMemory())!;
    const withKernels = new Map<string, HistogramObserver>();
    const withJs = new Map<string, HistogramObserver>();
    let inPlace = 0;
    let reports = 0;
    for (const [sample, input] of inputs.entries()) {
      await ex.stream(input, {
        fetch: [],
        onTensor: (name, data) => {
          reports++;
          if (kernels.onHeap(data)) inPlace++;
          if (!withJs.has(name)) {
            withJs.set(name, new HistogramObserver(name, {}, null));
            withKernels.set(name, new HistogramObserver(name, {}, kernels));
          }
          withJs.get(name)!.observe(data, sample);
          withKernels.get(name)!.observe(data, sample);
        },
      });
    }
    expect(inPlace).to.equal(reports);
    expect(withJs.size).to.be.greaterThan(150);
    let compared = 0;
    for (const [name, js] of withJs) {
      const k = withKernels.get(name)!;
      expect(k.minMax.count, name).to.equal(js.minMax.count);
      if (js.minMax.count === 0) continue; // an empty slice: no histogram either way
      compared++;
      const a = js.snapshot();
      const b = k.snapshot();
      expect([b.lo, b.binWidth, b.observedMin, b.observedMax], name).to.deep.equal([a.lo, a.binWidth, a.observedMin, a.observedMax]);
      expect(Buffer.from(b.counts.buffer).equals(Buffer.from(a.counts.buffer)), `${name}: counts`).to.equal(true);
    }
    expect(compared).to.be.greaterThan(150);
  });
});
