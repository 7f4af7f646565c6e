// Fidelity methods on the YOLO family (issue 19: YOLOv5n, YOLOv8n and YOLO11n at most 0.3 mAP50-95
// points below float). One calibration per model (coco128 images 1-64, default options), and from the
// same statistics and float executor:
//   - the default plan (all int8; its sha is printed to compare with quantizeInt8's own file),
//   - all int16 (16x8: int8 weights, int16 activations): what is left is mostly the weights' error,
//   - learned rounding (learned-rounding.ts, default settings), bias correction (default settings),
//   - the named-layer variants given with --raise=NAME:REGEX:int16|float (plain regex; e.g. YOLO11's attention),
//   - with --observed=NAME:REGEX (a plain regex, no surrounding slashes), the matching tensors in int8 with their observed extremes as range,
//   - with --layers, the per-tensor SQNR of the default plan against the float graph (the worst 25).
// Each file is scored (mAP50 / mAP50-95) on coco128 images 65-128 in LiteRT, the images read once.
//   npx tsx bench/yolo-fidelity.ts --models=yolo11n,yolov8n,yolov5n [--variants=...] [--raise=...] [--layers]
// Equalize needs a calibration of its own (it changes the graph): --equalize reports what the pass
// finds on each model's graph (its pairs) without quantizing.
import crypto from 'node:crypto';
import type { IrNode } from '../lib/ir/graph.js';
import type { Precision } from '../lib/ops/types.js';
import { COCO128_IMAGES, YOLO_SOURCES, flagValue } from './yolo-sources.js';

const images = COCO128_IMAGES;
const SOURCES = YOLO_SOURCES;
const arg = flagValue;
const argAll = (name: string) => process.argv.filter((a) => a.startsWith(`--${name}=`)).map((a) => a.slice(name.length + 3));
const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex').slice(0, 16);
const now = () => performance.now() / 1000;

async function main(): Promise<void> {
  const stages = await import('../lib/quantize/stages.js');
  const { YOLO_PLUGIN } = await import('../lib/yolo/plugin.js');
  const { resolveRecipe } = await import('../lib/quantize/recipe.js');
  const { listImageFiles, correctionInputs, modelInputShapes } = await import('../lib/quantize/dataset.js');
  const { learnRounding, LEARNED_ROUNDING_DEFAULTS } = await import('../lib/quantize/learned-rounding.js');
  const { correctBiases } = await import('../lib/quantize/bias-correction.js');
  const { BIAS_CORRECTION_DEFAULTS } = await import('../lib/quantize/recipe.js');
  const { planPrecisionSummary } = await import('../lib/quantize/plan.js');
  const { analyzeLayerErrors } = await import('../lib/quantize/layer-errors.js');
  const { MAP_METRIC } = await import('../lib/yolo/map-metric.js');
  const { equalizeCrossLayer } = await import('../lib/graph/passes/equalize.js');
  const calib = listImageFiles(images).slice(0, 64);
  const variants = (arg('variants') ?? 'float,default,int16,learned-rounding,bias-correction').split(',');
  const raises = argAll('raise').map((r) => {
    const [name, re, to] = r.split(':');
    return { name, re: new RegExp(re), to: to as Precision };
  });
  const evalSet = await MAP_METRIC.load({ images, offset: 64, limit: 64 }, [640, 640]);
  for (const model of (arg('models') ?? 'yolo11n').split(',')) {
    const source = SOURCES[model];
    const recipe = resolveRecipe({});
    const t0 = now();
    const prepared = await stages.prepareGraph(source, {}, YOLO_PLUGIN);
    if (process.argv.includes('--equalize')) {
      const { report } = equalizeCrossLayer(prepared.graph);
      console.log(`${model} equalize: ${JSON.stringify(report).slice(0, 600)}`);
      continue;
    }
    const inputRange: [number, number] | undefined = prepared.graph.meta.integerInputs?.[prepared.graph.inputs[0]] ? [0, 255] : undefined;
    const { calibrated: cal, executor } = await stages.calibrateGraph(prepared, recipe, { representativeDataset: calib, numCalibrationSamples: 64, keepExecutor: true, inputRange }, YOLO_PLUGIN);
    console.error(`${model}: calibration ${(now() - t0).toFixed(0)} s`);
    const base = stages.planFor(cal, recipe, { outputType: 'int8', inputRange });
    const write = (plan: typeof base, what: string) => {
      const s = planPrecisionSummary(plan);
      const description = s.int16 === 0 && s.float === 0 ? 'yolo-int8 full-integer quantization' : `yolo-int8 mixed precision (${s.int8} int8, ${s.int16} int16, ${s.float} float ops)`;
      return stages.writePlan(cal.graph, plan, { metadata: cal.fileMetadata, description, where: what });
    };
    const inputs = correctionInputs(calib, modelInputShapes(cal.graph), undefined, stages.imageSourceOf(YOLO_PLUGIN), inputRange)!;
    const byPrecision = (f: (n: IrNode) => Precision) => stages.planFor(cal, recipe, { outputType: 'int8', inputRange, precisionOf: (n) => stages.supportedPrecision(n, f(n)) });
    const files: [string, () => Promise<Uint8Array>][] = [];
    for (const v of variants) {
      if (v === 'float') files.push([v, async () => write(byPrecision(() => 'float'), v)]);
      if (v === 'default') files.push([v, async () => write(base, v)]);
      if (v === 'int16') files.push([v, async () => write(byPrecision(() => 'int16'), v)]);
      if (v === 'learned-rounding') {
        files.push([v, async () => {
          const r = await learnRounding(base, cal.graph, { floatExec: executor!, inputs, quantOf: stages.quantOf, settings: { ...LEARNED_ROUNDING_DEFAULTS }, available: 64 });
          const gains = r.report.layers.map((l) => l.heldOutSqnrAfterDb - l.heldOutSqnrBeforeDb).filter(Number.isFinite).sort((a, b) => a - b);
          console.error(`  learned rounding: ${r.report.layers.filter((l) => l.channelsChanged > 0).length} of ${r.report.layers.length} layers changed, median held-out gain ${gains[gains.length >> 1]?.toFixed(2)} dB, ${r.report.seconds.toFixed(0)} s`);
          return write(r.plan, v);
        }]);
      }
      if (v === 'bias-correction') {
        files.push([v, async () => {
          const r = await correctBiases(base, cal.graph, {
            floatExec: executor!, inputs, settings: { ...BIAS_CORRECTION_DEFAULTS, samples: Math.min(BIAS_CORRECTION_DEFAULTS.samples, 64) },
            write: (p) => stages.writePlan(cal.graph, p, { description: 'bc', where: 'bc', check: false }),
          });
          return write(r.plan, v);
        }]);
      }
    }
    for (const r of raises) {
      files.push([`${r.name} ${r.to}`, async () => {
        const hit = cal.graph.nodes.filter((n) => r.re.test(n.name));
        console.error(`  ${r.name}: ${hit.length} nodes (${hit.map((n) => n.op).join(' ')})`);
        return write(byPrecision((n) => (r.re.test(n.name) ? r.to : 'int8')), r.name);
      }]);
    }
    // --observed=NAME:REGEX: the matching int8 tensors take their observed extremes instead of calibration's (mse) range.
    for (const o of argAll('observed')) {
      const [name, re] = [o.slice(0, o.indexOf(':')), new RegExp(o.slice(o.indexOf(':') + 1))];
      files.push([`${name} observed range`, async () => {
        const ranges = new Map(cal.ranges);
        const hit = cal.activations.filter((t) => re.test(t) && cal.observedRanges.has(t));
        for (const t of hit) ranges.set(t, cal.observedRanges.get(t)!);
        console.error(`  ${name}: ${hit.length} tensors take their observed range`);
        return write(stages.planFor({ ...cal, ranges }, recipe, { outputType: 'int8', inputRange }), name);
      }]);
    }
    if (process.argv.includes('--layers')) {
      const debugPlan = stages.planFor(cal, recipe, { inputType: 'int8', extraOutputs: cal.activations, inputRange });
      const debugModel = stages.writePlan(cal.graph, debugPlan, { description: 'layers', where: 'layers', check: false });
      const few = correctionInputs(calib.slice(0, 4), modelInputShapes(cal.graph), undefined, stages.imageSourceOf(YOLO_PLUGIN), inputRange)!;
      const errors = await analyzeLayerErrors(debugModel, executor!, few(), cal.activations);
      const producer = new Map(cal.graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n.op] as const)));
      const order = new Map(cal.activations.map((t, k) => [t, k]));
      for (const e of errors) console.log(`layer ${order.get(e.tensor)} ${producer.get(e.tensor)} ${e.tensor} ${e.sqnrDb.toFixed(1)} dB range ${JSON.stringify(cal.ranges.get(e.tensor))}`);
    }
    for (const [name, make] of files) {
      const tv = now();
      const tflite = await make();
      const tm = now();
      const s = await evalSet.score(tflite, name);
      console.log(`| ${model} | ${name} | ${s.mAP50.toFixed(4)} | ${s.mAP50_95.toFixed(4)} | ${sha(tflite)} | ${(tm - tv).toFixed(0)} s + ${(now() - tm).toFixed(0)} s |`);
    }
    executor?.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
