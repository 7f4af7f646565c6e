// Where a zoo model's int8 error comes from (issue 19 item 1), on one model:
//   npx tsx bench/weight-diagnose.ts [zoo-folder/file] [--equalize skip|clip]
// 1. Per-channel axis check: for every weighted op of the int8 file, the written per-channel scales
//    against the float export's weights along the same axis (scale_c * 127 = max |w_c| when the axis
//    is right), and the weights' own SQNR after rounding.
// 2. Weight-only rounding: the float graph with every weight rounded to per-channel int8 (everything
//    else float), and with one layer's weights rounded at a time: output SQNR on coco128 images 17-24.
// 3. The float model's own noise gain: i.i.d. Gaussian noise added to the input at 60 / 46 / 40 dB SNR
//    (46 dB is about the SQNR of int8 weights), output SQNR of the float graph. A model whose outputs
//    lose more dB than the input had cannot be int8-accurate whatever the quantizer does.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importModel } from '../lib/graph/importers/index.js';
import { equalizeCrossLayer, runDefaultPasses } from '../lib/graph/passes/index.js';
import { channelLayout, perChannelMaxAbs, type WeightedOpName } from '../lib/graph/passes/equalize-math.js';
import { exportFloatTflite, quantizeInt8 } from '../lib/quantize/index.js';
import { datasetInputs, listImageFiles, type DatasetStats } from '../lib/quantize/dataset.js';
import { readTflite } from '../lib/tflite/reader.js';
import { builtinOperatorName } from '../lib/tflite/operators.js';
import { createFloatExecutor } from '../lib/graph/execute.js';
import type { TfliteModel } from '../lib/tflite/model.js';
import type { Graph, IrNode } from '../lib/ir/graph.js';
import { gaussian } from '../test/support/random.js';

const fx = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/fixtures');
const arg = process.argv[2] ?? 'human-models-posenet/model.json';
const flag = (name: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const eqMode = flag('--equalize') as 'skip' | 'clip' | undefined;
// --range lo,hi: feed pixel/255 mapped to [lo, hi] (PoseNet's package feeds [-1, 1]); weight-only part only.
const [lo, hi] = (flag('--range') ?? '0,1').split(',').map(Number);
const skipAxis = process.argv.includes('--no-axis');
const images = listImageFiles(fx + '/coco128/images');
const WEIGHTED = new Set(['Conv2D', 'DepthwiseConv2D', 'FullyConnected']);

function floatsOf(m: TfliteModel, ti: number): Float32Array | Int8Array {
  const t = m.subgraphs[0].tensors[ti];
  const d = m.buffers[t.buffer].data;
  const copy = d.slice();
  return t.type === 9 ? new Int8Array(copy.buffer) : new Float32Array(copy.buffer);
}

/** Per written weight tensor: worst |scale_c * 127 / max|w_c| - 1| over channels, and the weights' SQNR. */
function axisCheck(int8: TfliteModel, float: TfliteModel): void {
  const sg = int8.subgraphs[0];
  const fsg = float.subgraphs[0];
  const floatOpByOut = new Map(fsg.operators.map((o) => [fsg.tensors[o.outputs[0]].name, o]));
  let worstAll = 0;
  for (const op of sg.operators) {
    const name = builtinOperatorName(int8.operatorCodes[op.opcodeIndex].builtinCode);
    if (!['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED'].includes(name)) continue;
    const out = sg.tensors[op.outputs[0]].name;
    const fop = floatOpByOut.get(out);
    const wt = sg.tensors[op.inputs[1]];
    if (!fop || !wt.quantization) { console.log(`  ${out}: no float op / no quantization`); continue; }
    const q = floatsOf(int8, op.inputs[1]) as Int8Array;
    const w = floatsOf(float, fop.inputs[1]) as Float32Array;
    const axis = wt.quantization.quantizedDimension;
    const inner = wt.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const n = wt.shape[axis];
    const ch = (k: number) => Math.floor(k / inner) % n;
    const maxAbs = perChannelMaxAbs(w, n, ch);
    let worst = 0;
    let s = 0;
    let e = 0;
    // Channels below 1e-6 of the tensor's largest are dead (the writer's scale floor applies there): counted apart.
    const top = Math.max(...maxAbs);
    let dead = 0;
    for (let c = 0; c < n; c++) {
      if (maxAbs[c] <= 1e-6 * top) dead++;
      else worst = Math.max(worst, Math.abs((wt.quantization.scale[c] * 127) / maxAbs[c] - 1));
    }
    for (let k = 0; k < w.length; k++) { s += w[k] ** 2; e += (w[k] - q[k] * wt.quantization.scale[ch(k)]) ** 2; }
    worstAll = Math.max(worstAll, worst);
    console.log(`  ${name.padEnd(17)} axis ${axis} [${wt.shape}] scale*127/max|w| off by <= ${worst.toExponential(1)}, weight SQNR ${(10 * Math.log10(s / e)).toFixed(1)} dB${dead ? `, ${dead} dead channels` : ''}  ${out}`);
  }
  console.log(`  worst scale mismatch over all weighted ops: ${worstAll.toExponential(2)}`);
}

/** The graph with the weights of `nodes` rounded to symmetric per-output-channel int8 (IR layouts). */
function roundWeights(g: Graph, nodes: IrNode[]): Graph {
  const tensors = new Map(g.tensors);
  const renamed = new Map<string, string>();
  for (const n of nodes) {
    const t = g.tensors.get(n.inputs[1])!;
    const lay = channelLayout(n.op as WeightedOpName, t.shape);
    const w = t.data as Float32Array;
    const scale = perChannelMaxAbs(w, lay.outChannels, lay.outOf).map((m) => m / 127);
    const r = Float32Array.from(w, (v, k) => (scale[lay.outOf(k)] > 0 ? Math.round(v / scale[lay.outOf(k)]) * scale[lay.outOf(k)] : v));
    const name = `${t.name}/rounded`;
    tensors.set(name, { ...t, name, data: r });
    renamed.set(n.name, name);
  }
  const out = g.nodes.map((n) => (renamed.has(n.name) ? { ...n, inputs: [n.inputs[0], renamed.get(n.name)!, ...n.inputs.slice(2)] } : n));
  return { ...g, tensors, nodes: out };
}

async function outputsOf(g: Graph, inputs: Float32Array[]): Promise<Float32Array[][]> {
  const ex = await createFloatExecutor(g);
  try {
    const res: Float32Array[][] = [];
    for (const x of inputs) { const r = await ex.run(x); res.push(g.outputs.map((o) => r[o])); }
    return res;
  } finally { ex.dispose(); }
}

function sqnrs(ref: Float32Array[][], got: Float32Array[][]): number[] {
  return ref[0].map((_, k) => {
    let s = 0; let n = 0;
    ref.forEach((r, j) => r[k].forEach((v, i) => { s += v * v; n += (v - got[j][k][i]) ** 2; }));
    return 10 * Math.log10(s / n);
  });
}

let graph = runDefaultPasses(await importModel(path.join(fx, 'zoo', arg)));
if (eqMode) graph = equalizeCrossLayer(graph, { relu6: eqMode }).graph;
console.log(`${arg}${eqMode ? ` (equalised, relu6 ${eqMode})` : ''}: per-channel axis check of the written int8 file`);
if (!skipAxis) {
  const int8 = readTflite((await quantizeInt8(graph, { representativeDataset: images.slice(0, 16), numCalibrationSamples: 16 })).tflite);
  axisCheck(int8, readTflite((await exportFloatTflite(graph)).tflite));
}
const stats: DatasetStats = { used: 0, skipped: [] };
const inputs: Float32Array[] = [];
for await (const x of datasetInputs(images.slice(16, 24), graph.tensors.get(graph.inputs[0])!.shape, stats)) inputs.push(x.map((v) => lo + v * (hi - lo)));
console.log(`inputs in [${lo}, ${hi}]`);
const ref = await outputsOf(graph, inputs);
const weighted = graph.nodes.filter((n) => WEIGHTED.has(n.op));
console.log(`\nweight-only rounding, all ${weighted.length} layers: output SQNR ${sqnrs(ref, await outputsOf(roundWeights(graph, weighted), inputs)).map((v) => v.toFixed(1)).join(' / ')} dB (${graph.outputs.join(', ')})`);
console.log('one layer at a time (worst first):');
const rows: [number, string][] = [];
for (const n of weighted) {
  const s = sqnrs(ref, await outputsOf(roundWeights(graph, [n]), inputs));
  rows.push([Math.min(...s), `  ${s.map((v) => v.toFixed(1).padStart(6)).join(' ')}  ${n.op} [${graph.tensors.get(n.inputs[1])!.shape}] ${n.name}`]);
}
for (const [, line] of rows.sort((a, b) => a[0] - b[0]).slice(0, 12)) console.log(line);

console.log('\nfloat model, noise added to the input:');
for (const db of [60, 46, 40]) {
  const noisy = inputs.map((x, j) => {
    const power = x.reduce((a, v) => a + v * v, 0) / x.length;
    const n = gaussian(x.length, 7 + j, 0, Math.sqrt(power / 10 ** (db / 10)));
    return x.map((v, i) => v + n[i]);
  });
  console.log(`  input at ${db} dB SNR -> output SQNR ${sqnrs(ref, await outputsOf(graph, noisy)).map((v) => v.toFixed(1)).join(' / ')} dB`);
}
