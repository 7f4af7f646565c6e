// Trains the embedded demo detector on freshly generated synthetic shapes and writes
// models/demo/model.json + weights.bin + README.md.
//   npx tsx scripts/demo-training/train.ts [--steps N] [--batch B] [--lr X] [--warmup N] [--seed S] [--obj-target one|iou]
//                                 [--assign all-levels|best-level|best-anchor|top-iou] [--top-k K] [--ignore-iou T] [--min-iou T]
//                                 [--obj-gain G] [--ema DECAY]
//                                 [--first-sample N] [--init DIR] [--measure N] [--anchors] [--out DIR]
// --init DIR: start from the weights saved in DIR (a later training stage; its history is kept in
// training.json). --first-sample N: index of the first generated training image (later stages use new images).
// --readme: only re-render DIR/README.md (DIR = --out or models/demo) from DIR/training.json.
// --assign: which anchors take a label (loss.ts LevelAssignment). --ema DECAY: save an EMA of the weights.
// --measure N: time N steps and exit without saving. --anchors: print 9-means anchors of generated labels.
// TF.js in Node without tfjs-node: the wasm backend (XNNPACK) plus our Conv2DBackpropFilter kernel.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { DEMO_HEAD, demoModelDir, fsLoadHandler, DEMO_CLASS_NAMES } from '../../lib/demo/model.js';
import { DEMO_SEEDS, generateSample, sampleSeed } from '../../lib/demo/synthetic.js';
import type { YoloLabel } from '../../lib/yolo/dataset.js';
import { buildDemoModels } from './architecture.js';
import { evaluateDemoFloat, rgbToFloat01 } from './evaluate.js';
import { buildLevelTargets, buildTopIouTargets, yoloLoss, DEMO_LOSS_WEIGHTS, type LevelAssignment, type ObjTarget } from './loss.js';
import { fsSaveHandler } from './save-model.js';
import { registerWasmConvGradients } from './wasm-grad.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`--${name}: expected a number, got '${process.argv[i + 1]}'`);
  return v;
}

const steps = arg('steps', 650);
const batchSize = arg('batch', 12);
const baseLr = arg('lr', 0.003);
const warmup = arg('warmup', 50);
const modelSeed = arg('seed', 1);
const measure = arg('measure', 0);
const firstSample = arg('first-sample', 0);
// Exponential moving average of all weights (YOLOv5's ModelEMA; 0 = off): the saved model is the
// average, decay ramped as TF's ExponentialMovingAverage with num_updates, min(decay, (1+t)/(10+t)).
const emaDecay = arg('ema', 0);
if (!(emaDecay >= 0 && emaDecay < 1)) throw new Error(`--ema: expected a decay in [0, 1), got ${emaDecay}`);
function stringArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const outDir = stringArg('out') ? path.resolve(stringArg('out')!) : demoModelDir();
const initDir = stringArg('init') ? path.resolve(stringArg('init')!) : undefined;
const objTarget = (stringArg('obj-target') ?? 'one') as ObjTarget;
if (objTarget !== 'one' && objTarget !== 'iou') throw new Error(`--obj-target: expected 'one' or 'iou', got '${objTarget}'`);
// 'top-iou': buildTopIouTargets on the model's current predictions (k = --top-k); otherwise a static LevelAssignment.
const assignment = (stringArg('assign') ?? 'best-level') as LevelAssignment | 'top-iou';
if (!['all-levels', 'best-level', 'best-anchor', 'top-iou'].includes(assignment)) {
  throw new Error(`--assign: expected all-levels, best-level, best-anchor or top-iou, got '${assignment}'`);
}
const topK = arg('top-k', 3);
// With top-iou: candidates beyond the k best whose predicted IoU is >= this get no objectness loss (0 = off).
const ignoreIoU = arg('ignore-iou', 0);
// With top-iou: of the k best, only the first and those whose predicted IoU is >= this are positives (0 = all k).
const minIoU = arg('min-iou', 0);
// Objectness loss gain (default DEMO_LOSS_WEIGHTS.obj, YOLOv5's 1.0 scaled by (128/640)^2).
const lossWeights = { ...DEMO_LOSS_WEIGHTS, obj: arg('obj-gain', DEMO_LOSS_WEIGHTS.obj) };

/** One training run, as recorded in training.json and rendered into README.md. */
interface StageRecord {
  command: string;
  init: string | null;
  steps: number;
  batch: number;
  lr: number;
  warmup: number;
  seed: number;
  objTarget: ObjTarget;
  /** EMA decay of the saved weights (absent or 0: the last weights were saved). */
  ema?: number;
  /** Absent in records written before the option existed: those stages used 'all-levels'. */
  assign?: LevelAssignment | 'top-iou';
  /** k of 'top-iou', and its ignore threshold when set. */
  topK?: number;
  ignoreIoU?: number;
  /** Of the k best, the predicted IoU a candidate after the first needs to be positive. */
  minIoU?: number;
  /** Objectness gain when not DEMO_LOSS_WEIGHTS.obj. */
  objGain?: number;
  firstSample: number;
  finalLoss: { total: number; box: number; obj: number; cls: number; ema: number };
  seconds: number;
  eval: { recall: number; precision: number; truePositives: number; objects: number; detections: number };
}
const size = DEMO_HEAD.inputSize[0];

/** Linear warm-up, then cosine decay to 5% of the base learning rate. */
function learningRate(step: number): number {
  if (step < warmup) return (baseLr * (step + 1)) / warmup;
  const t = (step - warmup) / Math.max(1, steps - warmup);
  return baseLr * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * t)));
}

function printAnchors(): void {
  const wh: [number, number][] = [];
  for (let i = 0; i < 200; i++) for (const l of generateSample(sampleSeed(DEMO_SEEDS.train, i), size).labels) wh.push([l.w * size, l.h * size]);
  wh.sort((a, b) => a[0] * a[1] - b[0] * b[1]);
  const iou = (a: number[], b: number[]) => {
    const i = Math.min(a[0], b[0]) * Math.min(a[1], b[1]);
    return i / (a[0] * a[1] + b[0] * b[1] - i);
  };
  // Deterministic init at area quantiles, then Lloyd iterations with 1-IoU distance.
  let centres = Array.from({ length: 9 }, (_, i) => wh[Math.floor(((i + 0.5) * wh.length) / 9)].slice());
  for (let it = 0; it < 50; it++) {
    const acc = centres.map(() => [0, 0, 0]);
    for (const s of wh) {
      let best = 0;
      for (let j = 1; j < centres.length; j++) if (iou(s, centres[j]) > iou(s, centres[best])) best = j;
      acc[best][0] += s[0];
      acc[best][1] += s[1];
      acc[best][2]++;
    }
    centres = acc.map((a, j) => (a[2] ? [a[0] / a[2], a[1] / a[2]] : centres[j]));
  }
  centres.sort((a, b) => a[0] * a[1] - b[0] * b[1]);
  console.log(`${wh.length} labels; anchors:`, centres.map((c) => `[${Math.round(c[0])}, ${Math.round(c[1])}]`).join(' '));
}

async function main(): Promise<void> {
  if (process.argv.includes('--anchors')) return printAnchors();
  registerWasmConvGradients();
  await tf.setBackend('wasm');
  await tf.ready();
  if (process.argv.includes('--readme')) {
    // Re-render README.md of --out from its training.json (after a change of this template).
    const history = JSON.parse(fs.readFileSync(path.join(outDir, 'training.json'), 'utf8')) as StageRecord[];
    const { inference } = buildDemoModels(modelSeed);
    writeReadme(history, inference.countParams());
    console.log(`wrote ${path.join(outDir, 'README.md')}`);
    return;
  }
  const { logits, inference } = buildDemoModels(modelSeed);
  let history: StageRecord[] = [];
  if (initDir) {
    // Copy every layer's weights (BN moving statistics included) from the saved model by layer name.
    const saved = await tf.loadLayersModel(fsLoadHandler(initDir));
    for (const layer of inference.layers) {
      const weights = saved.getLayer(layer.name).getWeights();
      if (weights.length) layer.setWeights(weights);
    }
    saved.dispose();
    const historyPath = path.join(initDir, 'training.json');
    if (fs.existsSync(historyPath)) history = JSON.parse(fs.readFileSync(historyPath, 'utf8')) as StageRecord[];
  }
  console.log(`init ${initDir ?? 'seeded random'}, obj target ${objTarget}, assignment ${assignment}${assignment === 'top-iou' ? ` (k ${topK})` : ''}, first sample ${firstSample}`);
  console.log(`backend ${tf.getBackend()}, params ${inference.countParams()}, steps ${steps}, batch ${batchSize}, lr ${baseLr}`);
  const optimizer = tf.train.adam(baseLr);
  const t0 = Date.now();
  const runSteps = measure > 0 ? measure : steps;
  let smoothed = 0;
  let last = { total: 0, box: 0, obj: 0, cls: 0 };
  // EMA copies of inference.getWeights() (same order as setWeights expects; BN statistics included).
  let average: tf.Tensor[] | undefined = emaDecay > 0 ? inference.getWeights().map((w) => w.clone()) : undefined;
  for (let step = 0; step < runSteps; step++) {
    const labels: YoloLabel[][] = [];
    const pixels = new Float32Array(batchSize * size * size * 3);
    for (let b = 0; b < batchSize; b++) {
      // Infinite data: every step draws new images, so augmentation is unnecessary.
      const s = generateSample(sampleSeed(DEMO_SEEDS.train, firstSample + step * batchSize + b), size);
      pixels.set(rgbToFloat01(s.rgb), b * size * size * 3);
      labels.push(s.labels);
    }
    (optimizer as unknown as { learningRate: number }).learningRate = learningRate(step);
    const x = tf.tensor4d(pixels, [batchSize, size, size, 3]);
    let targets;
    if (assignment === 'top-iou') {
      // The current model's boxes (inference mode) choose each label's positives.
      const predictions = tf.tidy(() => (inference.predict(x) as tf.Tensor[]).map((t) => t.dataSync() as Float32Array));
      targets = buildTopIouTargets(labels, DEMO_HEAD, predictions, topK, ignoreIoU > 0 ? ignoreIoU : undefined, minIoU > 0 ? minIoU : undefined);
    } else {
      targets = DEMO_HEAD.levels.map((_, li) => buildLevelTargets(labels, DEMO_HEAD, li, assignment));
    }
    let parts: { box: tf.Scalar; obj: tf.Scalar; cls: tf.Scalar } | undefined;
    const total = optimizer.minimize(() => {
      const outs = logits.apply(x, { training: true }) as tf.Tensor[];
      const l = yoloLoss(outs, targets, DEMO_HEAD, lossWeights, objTarget);
      parts = { box: tf.keep(l.box), obj: tf.keep(l.obj), cls: tf.keep(l.cls) };
      return l.total;
    }, true) as tf.Scalar;
    last = { total: total.dataSync()[0], box: parts!.box.dataSync()[0], obj: parts!.obj.dataSync()[0], cls: parts!.cls.dataSync()[0] };
    tf.dispose([x, total, parts!.box, parts!.obj, parts!.cls]);
    if (average) {
      const d = Math.min(emaDecay, (1 + step) / (10 + step));
      const current = inference.getWeights();
      const next = tf.tidy(() => average!.map((a, i) => a.mul(d).add(current[i].mul(1 - d))));
      tf.dispose(average);
      average = next;
    }
    smoothed = step === 0 ? last.total : 0.98 * smoothed + 0.02 * last.total;
    if (!Number.isFinite(last.total)) throw new Error(`step ${step}: loss is ${last.total}`);
    if (step % 25 === 0 || step === runSteps - 1) {
      const sec = (Date.now() - t0) / 1000;
      console.log(
        `step ${step} lr ${learningRate(step).toExponential(2)} loss ${last.total.toFixed(4)} (box ${last.box.toFixed(4)} obj ${last.obj.toFixed(4)} cls ${last.cls.toFixed(4)}) ema ${smoothed.toFixed(4)} ${sec.toFixed(0)}s ${((sec * 1000) / (step + 1)).toFixed(0)}ms/step tensors ${tf.memory().numTensors}`,
      );
    }
  }
  const seconds = (Date.now() - t0) / 1000;
  if (measure > 0) return;

  if (average) {
    inference.setWeights(average);
    tf.dispose(average);
  }
  inference.setUserDefinedMetadata({ yoloHead: DEMO_HEAD, classNames: [...DEMO_CLASS_NAMES] });
  await inference.save(fsSaveHandler(outDir));
  // Reload what was written and evaluate it, so the README numbers describe the committed files.
  const reloaded = await tf.loadLayersModel(fsLoadHandler(outDir));
  const evalResult = evaluateDemoFloat(reloaded, { count: 64, seed: DEMO_SEEDS.test, scoreThreshold: 0.3 });
  console.log('held-out eval (64 images, seed test, score 0.3, IoU 0.5):', evalResult);
  const args = process.argv.slice(2).filter((_, i, all) => !(all[i] === '--out' || all[i - 1] === '--out'));
  history.push({
    command: ['npx tsx scripts/demo-training/train.ts', ...args].join(' '),
    init: initDir ? path.relative(outDir, initDir) || '.' : null,
    steps,
    batch: batchSize,
    lr: baseLr,
    warmup,
    seed: modelSeed,
    objTarget,
    ema: emaDecay,
    assign: assignment,
    ...(assignment === 'top-iou' ? { topK, ...(ignoreIoU > 0 ? { ignoreIoU } : {}), ...(minIoU > 0 ? { minIoU } : {}) } : {}),
    ...(lossWeights.obj !== DEMO_LOSS_WEIGHTS.obj ? { objGain: lossWeights.obj } : {}),
    firstSample,
    finalLoss: { ...last, ema: smoothed },
    seconds: Math.round(seconds),
    eval: { recall: evalResult.recall, precision: evalResult.precision, truePositives: evalResult.truePositives, objects: evalResult.objects, detections: evalResult.detections },
  });
  fs.writeFileSync(path.join(outDir, 'training.json'), JSON.stringify(history, null, 2) + '\n');
  writeReadme(history, inference.countParams());
  console.log(`saved ${outDir} in ${seconds.toFixed(0)} s`);
}

/** Renders README.md of outDir from the stage history and the saved weights. */
function writeReadme(history: StageRecord[], params: number): void {
  const weightsBytes = fs.statSync(path.join(outDir, 'weights.bin')).size;
  const stageRows = history
    .map(
      (h, i) =>
        `| ${i + 1} | \`${h.command}\` | ${h.init ? 'previous stage' : 'seeded random'} | ${h.steps} x ${h.batch} | ${h.firstSample}.. | ${h.lr} (warm-up ${h.warmup}) | ${h.assign ?? 'all-levels'} | ${h.objTarget} | ${h.ema ? h.ema : '-'} | ${h.finalLoss.total.toFixed(4)} (box ${h.finalLoss.box.toFixed(4)}, obj ${h.finalLoss.obj.toFixed(4)}, cls ${h.finalLoss.cls.toFixed(4)}) | ${h.seconds} s | ${h.eval.recall.toFixed(3)} / ${h.eval.precision.toFixed(3)} |`,
    )
    .join('\n');
  const totalSeconds = history.reduce((t, h) => t + h.seconds, 0);
  const readme = `# Demo detector (generated by scripts/demo-training/train.ts)

A small YOLOv5-style detector of four synthetic shapes (${DEMO_CLASS_NAMES.join(', ')}) trained from scratch on
images generated by \`lib/demo/synthetic.ts\`; no external data or weights. Licence: the project's (Apache-2.0).

- Files: \`model.json\` (TF.js layers model, \`userDefinedMetadata.yoloHead\` = head spec, \`classNames\`), \`weights.bin\` (${weightsBytes} bytes, float32), \`training.json\` (the training stages below).
- Input \`[1,${size},${size},3]\` float RGB in [0,1]; outputs ${DEMO_HEAD.levels.map((l) => `\`${l.output}\` [1,${l.gridH},${l.gridW},${3 * (5 + DEMO_HEAD.numClasses)}] (stride ${l.stride})`).join(', ')}, already sigmoid-activated, channel = anchor*(5+nc)+k.
- Anchors (pixels): ${DEMO_HEAD.levels.map((l) => JSON.stringify(l.anchors)).join(' ')}.
- Parameters: ${params}.

## Training

TF.js ${tf.version.tfjs} on the \`${tf.getBackend()}\` backend (XNNPACK, single thread) with the gradient kernels of
\`scripts/demo-training/wasm-grad.ts\`. Every step draws new images (training image i = generateSample(sampleSeed(${DEMO_SEEDS.train}, i), ${size})),
so there is no augmentation and no epoch. Adam, linear warm-up then cosine decay to 5% of the base rate;
\`--ema d\` saves an exponential moving average of the weights (BN statistics included) instead of the last ones;
\`--obj-gain\` overrides the objectness gain.
Loss (scripts/demo-training/loss.ts): YOLOv5 — 1-GIoU box (gain ${DEMO_LOSS_WEIGHTS.box}), objectness BCE (gain ${DEMO_LOSS_WEIGHTS.obj.toFixed(3)}, level balance ${DEMO_LOSS_WEIGHTS.objBalance.join('/')}),
class BCE (gain ${DEMO_LOSS_WEIGHTS.cls}); positives are the centre cell of a label and its 2 nearest neighbours, for the anchors
chosen by \`--assign\`:

- \`all-levels\` (YOLOv5's rule, stages 1-3): every anchor within 4x of the label's size. The demo's 9 anchors
  (11-66 px) and its objects (10-77 px) are so close in scale that this made a label positive on 8.1 of the 9
  anchors and 2.9 of the 3 levels (200 training images), about 24 positives per object, even stride-32 cells for
  a 10 px shape. The model learnt to put several confident boxes on each object, from different levels and anchor
  shapes, that overlap the best one too little for NMS (the demo picture showed two boxes on one square), and the
  IoU-valued objectness of stages 2-3 (\`--obj-target iou\`) only lowered their scores (precision 0.64).
- \`best-level\` (stage 4): only the level of the label's best anchor (smallest size ratio). The duplicates
  fell (false positives on the 64 held-out images: 109 -> 35), but with IoU-valued objectness the true boxes
  scored low (median objectness of an object's best box 0.44): recall 0.67.
- \`best-anchor\` (stage 5, YOLOv3's rule) and \`top-iou\` (stages 6-7: the \`--top-k\` candidates, over all levels,
  whose current predicted boxes fit the label best) make only a few anchors positive and teach all the others
  near the object to be background. Neighbouring anchors differ by only 15-30% in size and neighbouring cells see
  nearly the same pixels, so the model could not tell the chosen ones from their equally good neighbours and
  hedged: objectness of the best box fell to a median of 0.27-0.29 and recall to 0.36-0.44 (precision 0.86-0.88).
- \`top-iou\` with \`--ignore-iou 0.6\` (stage 8, YOLOv3's ignore rule applied to the dynamic assignment):
  candidates beyond the k best whose predicted box already has IoU >= 0.6 with the label get no objectness loss,
  so good boxes may stay confident (NMS merges them with the best one) while poorly placed ones are still
  trained as background. Recall rose to 0.729 (precision 0.843), but the objects still missed were mostly small
  (42 of 64 under 20 px) and scored low only through objectness: of the 63 misses with a box of IoU >= 0.5,
  the best such box had a median objectness of 0.13 and class probability 0.98.
- \`top-iou --top-k 6 --ignore-iou 0.5\` (stages 9-12): twice as many positives per label (on 32 training
  images after stage 10, the 4th-6th best candidates have a median predicted IoU of 0.74-0.78 with the label,
  so they are good boxes, not poorly placed ones), and candidates at IoU 0.5-0.6, which count as found at the
  evaluation's IoU 0.5, are no longer trained as background. Recall rose to 0.85 in one stage, but precision
  fell to 0.72; further stages at \`--obj-gain 0.08\` (the box loss relatively twice as strong) raised both.
  The remaining false positives are mostly a second box of another size on an object that is already found,
  with IoU 0.3-0.5 to it, too little overlap for NMS at IoU 0.45 (50 of the 69 false positives after stage 11).
- \`--top-k 4\` (stages 13-17, same ignore rule): fewer positives per label, for fewer such second boxes.
  Stage 13 traded recall for precision (0.903 / 0.795 -> 0.869 / 0.827); stages 14-16 at lr 0.001 measured
  0.890 / 0.827, 0.890 / 0.840 and 0.907 / 0.823. Stage 16 is kept although its precision is 0.017 below stage
  15's: \`yolo-int8 demo\` measures it better on everything else (float mAP50 0.887 vs 0.861, mAP50-95 0.520 vs
  0.501, recall 0.907 vs 0.890; int8 precision 0.849 vs 0.834). Precision stays the gap: 46 false positives in
  260 detections, 29 of them boxes with IoU 0.1-0.5 to a labelled object (mostly the second boxes above), 11 on background.
- \`--min-iou 0.6\` (stages 17-18): of the k best candidates only the first and those whose predicted box
  already has IoU >= 0.6 with the label are positives; the rest are trained as background, and the ignore
  threshold rises to 0.6 with it. A classification of the 46 false positives after stage 16 showed where they
  came from: 31 were a second box on an object already found (26 of its class), IoU 0.3-0.5 with the found
  box and 0.3-0.6 with the label, a size step away (e.g. 21x21 on a 13x14 square) - the 4th-best candidates of
  \`--top-k 4\`, positives with a predicted IoU under 0.5 that were taught to score high. Stage 17 (top-k 4)
  halved those second boxes (31 -> 16; false positives 46 -> 26): 0.898 / 0.891. Stage 18 (top-k 6 at lr 0.0007,
  more positives per label but only good ones) raised recall without bringing the second boxes back:
  0.919 / 0.904, 23 false positives (13 second boxes of the same class, 4 of another, 5 on background, 1 poorly
  placed box).

Reproduce by running the stages in order (each later stage starts from the previous one's output in models/demo):

| stage | command | init | steps x batch | first image | lr | assign | obj target | EMA | final loss | wall time | held-out recall / precision |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${stageRows}

Tried and discarded (the weights were restored from git before the next stage):
\`npx tsx scripts/demo-training/train.ts --init models/demo --steps 800 --batch 12 --lr 0.002 --warmup 20 --seed 1 --obj-target one --assign top-iou --top-k 3 --ignore-iou 0.6 --obj-gain 0.16 --ema 0.99 --first-sample 53400\`
after stage 8 (the stage-8 recipe for 800 more steps, 625 s) measured recall 0.720 and precision 0.810
(170 of 236 objects, 210 detections): no better than stage 8, so stage 9 used the same images with the
assignment above instead.
\`npx tsx scripts/demo-training/train.ts --init models/demo --steps 650 --batch 12 --lr 0.001 --warmup 20 --seed 1 --obj-target one --assign top-iou --top-k 4 --ignore-iou 0.6 --min-iou 0.6 --obj-gain 0.08 --ema 0.99 --first-sample 123600\`
after stage 17 (the stage-17 recipe again, 615 s) measured recall 0.877 and precision 0.888 (207 of 236
objects, 233 detections): both below stage 17, so stage 18 used the same images with k 6 and a lower rate.

Status: the last stage measures recall ${history[history.length - 1].eval.recall.toFixed(3)} and precision ${history[history.length - 1].eval.precision.toFixed(3)} on the held-out
images; the goal of issue 13.5 (both >= 0.9 at score 0.3) ${Math.min(history[history.length - 1].eval.recall, history[history.length - 1].eval.precision) >= 0.9 ? 'is met' : `is not reached (${['recall', 'precision'].filter((_, i) => [history[history.length - 1].eval.recall, history[history.length - 1].eval.precision][i] < 0.9).join(' and ')} below 0.9; the training budget of this round ended here)`}.

Total training time ${totalSeconds} s on a shared 2-core machine (other jobs running; about 0.6 s per step of 12
images when the machine is idle). Stages 1-3 ran before \`--assign\` existed, with the behaviour that
\`--assign all-levels\` selects now (the default is \`best-level\`), so their commands carry the flag.
Held-out evaluation: 64 images of seed ${DEMO_SEEDS.test}, float TF.js model, score > 0.3, per-class NMS IoU 0.45,
class-aware match at IoU 0.5, decoded and counted by the code of \`yolo-int8 demo\`'s precision and recall
(scripts/demo-training/evaluate.ts), which prints them for the float and int8 .tflite models, with the mAP table.
Stages 1-18 were measured by the demo's earlier decode and greedy best-score-first match (score >= 0.3),
which counts the same on the stage-18 weights.

Determinism: data, initialisation (seeded initializers) and the training loop are deterministic; the
wasm backend runs single-threaded, so a rerun on the same machine and TF.js version is expected to give the
same weights, but bit-identical results across CPUs / TF.js versions are not guaranteed (float summation order
in XNNPACK kernels may differ). Not verified by a second full run (time budget).
`;
  fs.writeFileSync(path.join(outDir, 'README.md'), readme);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
