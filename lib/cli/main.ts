// The `yolo-int8` command line: argument parsing (node:util parseArgs) and output formatting only;
// all the work is done by the public API, imported lazily so `--help` and bad arguments answer fast.
import { CALIBRATION_METHODS } from '../calibrate/calibrate.js';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { errorLine } from './error-line.js';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { packageVersion } from '../util/package.js';
import { READ_LIMITS, readFileHead, readRegularFile, readRegularTextFile } from '../util/read-file.js';
import { checkOutputPath } from '../util/fs.js';
import { Progress, type ProgressStream } from './progress.js';
import { resolveDataset, type DatasetPurpose } from '../yolo/dataset.js';
import { formatClassTable, formatEvalTable, formatTable, formatBytes } from './table.js';
import { closestWord, joinNegativeValues } from './args.js';
import { annotatedPicturePath, nextPredictDir } from './predict-dir.js';

export interface CliIo {
  stdout: { write(s: string): unknown };
  stderr: ProgressStream;
}

/** A mistake in the command line (exit code 2, like most Unix tools). */
export class UsageError extends Error {}

const COMMANDS = ['quantize', 'analyze', 'eval', 'compare', 'inspect', 'check', 'detect', 'demo'] as const;
type Command = (typeof COMMANDS)[number];

const GENERAL_HELP = `yolo-int8: full-integer int8 TFLite quantization of TF.js / TFLite YOLO models, in Node

usage: yolo-int8 <command> [options]

commands:
  quantize <model> --calib <images> -o out.tflite     float model -> int8 .tflite, calibrated on images
  analyze <model> --calib <images> [--data <dataset>]  per-layer sensitivity to int8: table, --json, --chart out.png
  eval <model.tflite> --data <dataset>                 mAP@0.5, mAP@0.5:0.95, latency, size
  compare <a.tflite> <b.tflite> ... --data <dataset>   the same evaluation of several models, one table
  inspect <model.tflite>                               ops, I/O tensors, quantization, integer-only check
  check <model.tflite>                                 verify the TFLite int8 spec and runtime rules (exit 1 on violations)
  detect <model.tflite> <image> [-o out.png]           detections on one image, saved annotated (runs/detect/predict*)
  demo [--out dir]                                     offline end-to-end demo on the embedded model

options for every command:
  --json      print one JSON object to stdout (progress stays on stderr)
  --quiet     no progress output
  --verbose   stack traces on errors, LiteRT log lines
  -h, --help  help for a command
  --version   the yolo-int8 version

run 'yolo-int8 <command> --help' for the options of a command.`;

const HELP: Record<Command, string> = {
  quantize: `usage: yolo-int8 quantize <model> --calib <images> -o <out.tflite> [options]

<model> is a TF.js graph or layers model (folder or model.json) or a float .tflite.

  --calib <images>        calibration images: a folder, a dataset root (images/, labels/; several
                          splits: train), a dataset .yaml, a .txt list or a glob ('images/*.jpg')
  -n, --num <N>           number of calibration images (default 100, or all when fewer)
  --method <m>            calibration: mse (default), minmax, percentile, entropy
  --input-type <t>        int8 (default), uint8 or float32
  --output-type <t>       int8 (default), uint8, int16 or float32
  --precision <p>         every op in int8 (default: full-integer), int16 (TFLite 16x8) or float;
                          per layer: the recipe's overrides ({ "match": "name", "precision": "int16" })
  --outputs <a,b>         tensor names to cut the graph at (post-processing after them is not quantized)
  --input-shape <dims>    the input's shape when the model leaves sizes unknown, e.g. 1,320,320,3
  --input-range <lo,hi>   the float range the model takes pixels 0..255 in: 0,1 (default), -1,1 or 0,255
  --mean <m[,m,m]>        per-channel mean in pixel units: model input = (pixel - mean) / std, written
  --std <s[,s,s]>         into the file as its first op (it then takes pixels), e.g. ImageNet
                          --mean 123.675,116.28,103.53 --std 58.395,57.12,57.375 (not with --input-range)
  --head <split|keep>     detection head: split where its family says (default) or keep it as it is
  --head-cut <cut>        a cut of the head's family (YOLOv8/11: logit-scores (default), sigmoid-scores)
  --recipe <recipe.json>  per-layer recipe (calibration, perChannel, precision, overrides, biasCorrection)
  --plan                  print the quantization plan (every tensor's dtype, parameters and origin)
  --bias-correction <m>   empirical bias correction of the weighted layers: off (default),
                          sequential (layer by layer), one-shot or local (each layer's own error)
  --bias-samples <N>      calibration samples bias correction measures on (default 8)
  --equalize              cross-layer equalization before calibration (MobileNet-style depthwise nets)
  --learned-rounding      round each weight up or down to minimise its layer's output error on the
                          calibration images (AdaRound-like; needs >= 4 images)
  --rounding-samples <N>  calibration images learned rounding reads (default 16)
  --backend <b>           TF.js backend for the float passes: wasm, cpu or tensorflow
  -o, --output <file>     the int8 .tflite to write (written atomically)
  --report <file.json>    also write the full quantization report as JSON
  --tensors               list every tensor's calibrated range and int8 parameters
  --max-drop <points>     accuracy target: at most this many mAP50-95 points (0-100 scale) below the
                          float model on --val (labelled); the most sensitive layers are raised to
                          int16 (up to all), then split weights, then float, until it holds. Nothing is
                          written when it cannot be met
  --min-sqnr <dB>         accuracy target instead: output SQNR against the float model on --val images
  --val <dataset>         the validation set of --max-drop / --min-sqnr (as for eval's --data)
  --holdout <dataset>     a second set the chosen model is also measured on; a variant is accepted
                          only if it also beats all-int8 there (--max-drop; raised variants) or
                          reaches the target there too (--min-sqnr)
  --write-best            write the best model found even when the target cannot be met
  --prefer <what>         full-integer (default: int16 and split weights before any float op) or
                          latency (raise layers to float only: LiteRT runs int16 ops on slow
                          reference kernels, float ops on XNNPACK)
  --names <file|coco>     class names stored in the file (detect, eval and compare print them): a
                          dataset yaml, a text file with one name per line, or coco (COCO-80).
                          Default: the source's own (ultralytics metadata), else the --calib yaml's`,
  analyze: `usage: yolo-int8 analyze <model> --calib <images> [--data <dataset>] [--top N] [--chart out.png] [options]

Sensitivity of every quantized layer (convolutions, activations, adds, ...): the output error that
layer alone adds, as an SQNR in dB against the float model (lower = more sensitive), calibrated once.
  --calib <images>        calibration images (as for quantize)
  -n, --num <N>           number of calibration images (default 100, or all when fewer)
  --method <m>            calibration: mse (default), minmax, percentile, entropy
  --by <how>              raise-one (default): the int8 model with only that layer raised;
                          only-int8: the float model with only that layer in int8
  --raise-to <p>          what raise-one raises to: int16 (default) or float
  --images <images>       images for the SQNR (default: the first calibration images)
  --num-images <N>        how many (default 4)
  --data <dataset>        a labelled set: the worst layers also get the mAP50-95 they cost
  --offset N, --limit N   the slice of --data (name order)
  --map-top <N>           how many of the worst layers get an mAP (default 5 with --data)
  --top <N>               layers in the table and the chart (default 20)
  --chart <out.png>       a bar chart of the worst layers (the output noise each adds)
  --layers <pattern>      only the layers whose name matches (exact, '*' glob or /regex/)
  --recipe <recipe.json>  the recipe of the int8 model analysed
  --head <split|keep>, --head-cut <cut>, --backend <b>   as for quantize`,
  eval: `usage: yolo-int8 eval <model.tflite> --data <dataset> [--offset N] [--limit N]

Precision, recall, COCO-style mAP@0.5 and mAP@0.5:0.95 (ultralytics val NMS settings) overall and
per class (with the class names the file carries), LiteRT latency and file size.
<dataset>: an images folder, a dataset root with images/ and labels/ (several splits: val), an
ultralytics dataset .yaml (its val), a .txt list of images or a glob. Labels: images/ -> labels/, .txt.
Images are taken in name order; --offset skips the first N, --limit caps the count.`,
  compare: `usage: yolo-int8 compare <a.tflite> <b.tflite> [...] --data <dataset> [--offset N] [--limit N]

Evaluates every model on the same images in the same run and prints one table (<dataset>: as for eval).
  --per-class  also each model's per-class table (as eval prints it)
  --fidelity   also compare each model's outputs and detections with the first model's`,
  inspect: `usage: yolo-int8 inspect <model.tflite>

Op histogram, input/output tensors with their quantization, weight bytes per dtype, whether every
tensor is integer, and the detection head spec stored in the file (if any).`,
  check: `usage: yolo-int8 check <model.tflite>

Verifies what the TFLite int8 quantization spec and the runtimes require: tensor, buffer and
operator-code references, constant buffer sizes, scales and zero points, symmetric int8 weights,
bias type and scale (input scale x weight scale), the fixed outputs of LOGISTIC / SOFTMAX / TANH,
equal parameters on CONCATENATION and data-movement ops, operator versions. Prints one line per
violation (with --json, { ok, violations: [{ rule, where, message }] }); exit code 1 when any.`,
  detect: `usage: yolo-int8 detect <model.tflite> <image> [-o out.png | --no-save] [--conf C] [--iou T] [--names file]

Prints detections in original-image pixels.
  --conf <C>         score threshold (default 0.25, as ultralytics predict)
  --iou <T>          NMS IoU threshold; default per family, as ultralytics predict:
                     YOLOv5 0.45, YOLOv8 / YOLO11 0.7
  --names <file>     class names from a dataset yaml ('names:') or a text file with one name per
                     line (default: the names the model file carries)
  -o <out.png>       write the annotated picture here (default: runs/detect/predict<N>/<image>.png,
                     a new folder each run, as yolo predict)
  --no-save          print the detections only, write no picture`,
  demo: `usage: yolo-int8 demo [--out dir]

Offline end-to-end run on the embedded demo detector: generates synthetic calibration and test
images, quantizes to int8, evaluates the float and int8 models, writes an annotated PNG.
  --out <dir>   where to write (and keep) the images, the int8 model and the PNG (default: a temp
                folder, removed when the demo ends)`,
};

const GLOBAL_OPTIONS = {
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

const EVAL_SLICE = {
  data: { type: 'string' },
  offset: { type: 'string' },
  limit: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** The image pixel limit (width x height) checked in each image header before decoding. */
const MAX_PIXELS = { 'max-pixels': { type: 'string' } } as const satisfies ParseArgsConfig['options'];

const COMMAND_OPTIONS = {
  quantize: {
    ...MAX_PIXELS,
    calib: { type: 'string' },
    num: { type: 'string', short: 'n' },
    method: { type: 'string' },
    'input-type': { type: 'string' },
    'output-type': { type: 'string' },
    outputs: { type: 'string' },
    'input-shape': { type: 'string' },
    'input-range': { type: 'string' },
    mean: { type: 'string' },
    std: { type: 'string' },
    head: { type: 'string' },
    'head-cut': { type: 'string' },
    recipe: { type: 'string' },
    precision: { type: 'string' },
    plan: { type: 'boolean' },
    'bias-correction': { type: 'string' },
    'bias-samples': { type: 'string' },
    equalize: { type: 'boolean' },
    'learned-rounding': { type: 'boolean' },
    'rounding-samples': { type: 'string' },
    backend: { type: 'string' },
    output: { type: 'string', short: 'o' },
    report: { type: 'string' },
    tensors: { type: 'boolean' },
    'max-drop': { type: 'string' },
    'min-sqnr': { type: 'string' },
    val: { type: 'string' },
    holdout: { type: 'string' },
    'write-best': { type: 'boolean' },
    prefer: { type: 'string' },
    names: { type: 'string' },
  },
  analyze: {
    ...EVAL_SLICE,
    calib: { type: 'string' },
    num: { type: 'string', short: 'n' },
    method: { type: 'string' },
    by: { type: 'string' },
    'raise-to': { type: 'string' },
    images: { type: 'string' },
    'num-images': { type: 'string' },
    'map-top': { type: 'string' },
    top: { type: 'string' },
    chart: { type: 'string' },
    layers: { type: 'string' },
    recipe: { type: 'string' },
    head: { type: 'string' },
    'head-cut': { type: 'string' },
    backend: { type: 'string' },
  },
  eval: { ...EVAL_SLICE, ...MAX_PIXELS },
  compare: { ...EVAL_SLICE, ...MAX_PIXELS, fidelity: { type: 'boolean' }, 'per-class': { type: 'boolean' } },
  inspect: {},
  check: {},
  detect: {
    ...MAX_PIXELS,
    output: { type: 'string', short: 'o' },
    'no-save': { type: 'boolean' },
    conf: { type: 'string' },
    iou: { type: 'string' },
    names: { type: 'string' },
  },
  demo: { out: { type: 'string' } },
} as const satisfies Record<Command, ParseArgsConfig['options']>;

type Values = Record<string, string | boolean | undefined>;

/** parseArgs with errors rewritten as one-line UsageErrors that name the command. */
function parseCommand(command: Command, args: string[]): { values: Values; positionals: string[] } {
  const options = { ...GLOBAL_OPTIONS, ...COMMAND_OPTIONS[command] };
  try {
    const options = { ...GLOBAL_OPTIONS, ...COMMAND_OPTIONS[command] };
    const { values, positionals } = parseArgs({
      args: joinNegativeValues(args, options),
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Values, positionals };
  } catch (e) {
    const code = (e as { code?: string }).code;
    const msg = (e as Error).message;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const opt = /'([^']+)'/.exec(msg)?.[1] ?? msg;
      const known = Object.keys(options).map((o) => `--${o}`);
      const near = closestWord(opt.replace(/=.*$/, ''), known);
      throw new UsageError(`${command}: unknown option '${opt}'${near ? `; did you mean ${near}?` : ''} (see 'yolo-int8 ${command} --help')`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw new UsageError(`${command}: ${msg.split('\n')[0].replace(/^Option /, 'option ')}`);
    }
    throw new UsageError(`${command}: ${msg.split('\n')[0]}`);
  }
}

/** A non-negative (or >= min) integer option value; undefined when absent. */
export function parseIntOption(name: string, value: string | boolean | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const s = String(value).trim();
  if (!/^\d+$/.test(s) || Number(s) < min) throw new UsageError(`--${name} expects an integer >= ${min}, got '${value}'`);
  return Number(s);
}

/** A number in [lo, hi]; undefined when absent. */
export function parseFloatOption(name: string, value: string | boolean | undefined, lo: number, hi: number): number | undefined {
  if (value === undefined) return undefined;
  const x = Number(value);
  if (String(value).trim() === '' || !Number.isFinite(x) || x < lo || x > hi) {
    throw new UsageError(`--${name} expects a number in [${lo}, ${hi}], got '${value}'`);
  }
  return x;
}

/** One of `choices`; undefined when absent. */
export function parseChoice<T extends string>(name: string, value: string | boolean | undefined, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!choices.includes(value as T)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}; got '${value}'`);
  return value as T;
}

function requireString(command: Command, values: Values, name: string, what: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`${command}: --${name} <${what}> is required (see 'yolo-int8 ${command} --help')`);
  return v;
}

function expectPositionals(command: Command, positionals: string[], names: string[], variadic = false): void {
  if (positionals.length < names.length) {
    throw new UsageError(`${command}: missing ${names.slice(positionals.length).map((n) => `<${n}>`).join(' ')} (usage: ${HELP[command].split('\n')[0].replace('usage: ', '')})`);
  }
  if (!variadic && positionals.length > names.length) {
    throw new UsageError(`${command}: unexpected argument '${positionals[names.length]}'`);
  }
}

function requireFile(file: string, what: string): void {
  if (!fs.existsSync(file)) throw new Error(`${file}: ${what} not found`);
}

/** eval / compare read .tflite files only: say so before the dataset is looked at (a .jpg given as the model). */
function requireTfliteFile(file: string): void {
  requireFile(file, 'model');
  const head = readFileHead(file, 'model file', 8);
  if (head.length < 8 || String.fromCharCode(...head.subarray(4, 8)) !== 'TFL3') {
    throw new Error(`${file}: not a TFLite model (expected a .tflite flatbuffer, file identifier TFL3)`);
  }
}

/** Class names from a dataset yaml (`names:`), a text file with one name per line, or `coco` (the built-in COCO-80 list). */
export async function readClassNames(file: string): Promise<string[]> {
  if (file === 'coco' && !fs.existsSync(file)) return [...(await import('../yolo/coco-names.js')).COCO_CLASS_NAMES];
  const text = readRegularTextFile(file, 'class names file');
  if (/\.ya?ml$/i.test(file)) {
    const { parseDatasetYaml } = await import('../yolo/dataset.js');
    const names = parseDatasetYaml(text, file).names;
    if (!names?.length) throw new Error(`${file}: the yaml has no 'names' entry`);
    return names;
  }
  const names = text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new Error(`${file}: no class names (expected one name per line)`);
  return names;
}

interface Context {
  io: CliIo;
  json: boolean;
  progress: Progress;
  print(text: string): void;
  emitJson(obj: unknown): void;
  /** An informational line on stderr (not with --quiet): e.g. which dataset split was used. */
  note(text: string): void;
}

/**
 * Resolves --calib / --data the way the library will (same resolver) and says on stderr which split
 * or folder was used when there was a choice. Returns the number of images.
 */
function resolveDatasetOption(ctx: Context, option: string, spec: string, purpose: DatasetPurpose): number {
  let ds;
  try {
    ds = resolveDataset(spec, { purpose });
  } catch (e) {
    throw new Error(`--${option} ${(e as Error).message}`);
  }
  if (ds.note) ctx.note(ds.note);
  return ds.images.length;
}

// JSON.stringify turns NaN/Infinity into null; that is what a machine reader should see for "no value".
function toJson(obj: unknown): string {
  return JSON.stringify(obj, null, 2);
}

async function cmdQuantize(ctx: Context, values: Values, positionals: string[]): Promise<void> {
  expectPositionals('quantize', positionals, ['model']);
  const model = positionals[0];
  const calib = requireString('quantize', values, 'calib', 'images');
  const output = requireString('quantize', values, 'output', 'out.tflite');
  const num = parseIntOption('num', values.num, 1);
  const method = parseChoice('method', values.method, CALIBRATION_METHODS);
  const inputType = parseChoice('input-type', values['input-type'], ['int8', 'uint8', 'float32'] as const);
  const outputType = parseChoice('output-type', values['output-type'], ['int8', 'uint8', 'int16', 'float32'] as const);
  const precision = parseChoice('precision', values.precision, ['int8', 'int16', 'float'] as const);
  const head = parseChoice('head', values.head, ['split', 'keep'] as const);
  const backend = parseChoice('backend', values.backend, ['wasm', 'cpu', 'tensorflow'] as const);
  const biasMode = parseChoice('bias-correction', values['bias-correction'], ['off', 'sequential', 'one-shot', 'local'] as const);
  const biasSamples = parseIntOption('bias-samples', values['bias-samples'], 1);
  if (biasSamples !== undefined && (biasMode === undefined || biasMode === 'off')) throw new UsageError('--bias-samples needs --bias-correction sequential, one-shot or local');
  const roundingSamples = parseIntOption('rounding-samples', values['rounding-samples'], 4);
  if (roundingSamples !== undefined && values['learned-rounding'] !== true) throw new UsageError('--rounding-samples needs --learned-rounding');
  const learnedRounding = values['learned-rounding'] === true ? (roundingSamples !== undefined ? { samples: roundingSamples } : true) : undefined;
  const biasCorrection = biasMode === undefined ? undefined : biasMode === 'off' ? false : { mode: biasMode, ...(biasSamples !== undefined ? { samples: biasSamples } : {}) };
  const outputs = typeof values.outputs === 'string' ? values.outputs.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  if (values.outputs !== undefined && !outputs?.length) throw new UsageError('--outputs expects comma-separated tensor names');
  const inputShape = parseNumberList('input-shape', values['input-shape'], (d) => Number.isInteger(d) && d >= 1, 'positive integers, e.g. 1,320,320,3');
  const inputRange = parseNumberList('input-range', values['input-range'], Number.isFinite, 'two numbers lo,hi, e.g. -1,1');
  if (inputRange && (inputRange.length !== 2 || !(inputRange[0] < inputRange[1]))) throw new UsageError(`--input-range expects lo,hi with lo < hi, e.g. -1,1 (got '${values['input-range']}')`);
  const inputNormalization = normalizationOption(values);
  if (inputNormalization && inputRange) throw new UsageError('--mean / --std make the model take pixels 0..255; give them or --input-range, not both');
  if (!fs.existsSync(model)) throw new Error(`${model}: model not found (expected a TF.js model folder / model.json or a .tflite)`);
  // The library validates the recipe's shape (resolveRecipe) and names what is wrong.
  const recipe = (await readRecipe(values.recipe)) as import('../quantize/recipe.js').QuantRecipe | undefined;
  // Every output path is checked before the work starts: never the source, a folder or a device.
  checkOutputPath(output, [model], 'model');
  if (!/\.tflite$/i.test(output)) ctx.note(`warning: the output '${output}' does not end in .tflite; it is written as a TFLite flatbuffer`);
  if (typeof values.report === 'string') checkOutputPath(values.report, [model, output], 'report');
  const imageCount = resolveDatasetOption(ctx, 'calib', calib, 'calibration');
  if (imageCount < 8) ctx.note(`warning: ${imageCount} calibration image(s); ranges from so few are rarely representative (use 64 or more)`);
  const accuracy = accuracyOption(ctx, values);
  const classNames = await quantizeClassNames(ctx, model, values.names, calib);

  const { quantizeInt8, formatQuantizeReport } = await import('../yolo/quantize.js');
  const { writeFileAtomic } = await import('../util/fs.js');
  const result = await withImageFeedHint(model, () => namingRecipeFile(values.recipe, () => quantizeInt8(model, {
    maxPixels: parseIntOption('max-pixels', values['max-pixels'], 1),
    representativeDataset: calib,
    numCalibrationSamples: num ?? Math.min(100, imageCount),
    calibration: method,
    inputType,
    outputType,
    outputs,
    ...(inputShape ? { inputShape } : {}),
    ...(inputRange ? { inputRange: inputRange as [number, number] } : {}),
    ...(inputNormalization ? { inputNormalization } : {}),
    head,
    ...(typeof values['head-cut'] === 'string' ? { headCut: values['head-cut'] } : {}),
    recipe,
    precision,
    ...(biasCorrection !== undefined ? { biasCorrection } : {}),
    ...(values.equalize === true ? { equalize: true } : {}),
    ...(learnedRounding !== undefined ? { learnedRounding } : {}),
    backend,
    ...(accuracy ? { accuracy } : {}),
    ...(classNames ? { classNames } : {}),
    onProgress: (step, done, total, rate) => ctx.progress.update(step, done, total, rate),
  })));
  ctx.progress.finishLine();
  if (typeof values.names === 'string' && !result.head?.classNames) ctx.note(`warning: the class names were not stored: the model has no detection head that the file describes`);
  await writeFileAtomic(output, result.tflite);
  if (typeof values.report === 'string') await writeFileAtomic(values.report, toJson(result.report) + '\n');
  if (ctx.json) {
    ctx.emitJson({ command: 'quantize', model, output, report: result.report });
  } else {
    ctx.print(formatQuantizeReport(result.report, { tensors: values.tensors === true, plan: values.plan === true }));
    if (result.report.accuracy) {
      const { formatAccuracyReport } = await import('../quantize/accuracy.js');
      ctx.print(formatAccuracyReport(result.report.accuracy));
    }
    ctx.print(`wrote ${output} (${formatBytes(result.tflite.length)})${typeof values.report === 'string' ? ` and ${values.report}` : ''}`);
  }
}

/**
 * Runs a command's library call; a model that the images cannot feed (a tensor input, several inputs
 * that are not all image-like) gets the CLI's answer: it reads images only, the API takes tensors.
 */
async function withImageFeedHint<T>(model: string, run: () => Promise<T>): Promise<T> {
  const { ImageFeedError } = await import('../quantize/dataset.js');
  try {
    return await run();
  } catch (e) {
    if (!(e instanceof ImageFeedError)) throw e;
    throw new Error(`${model}: the CLI calibrates from images, which cannot feed its inputs (${e.inputs}); ` +
      'use the API: quantizeInt8 with one tensor per input in each sample (README: Several inputs)');
  }
}

/**
 * quantize's class names: --names, else (when the source carries none of its own: a YOLOv5 TF.js
 * export) the names of the --calib dataset's yaml; undefined keeps the source's.
 */
async function quantizeClassNames(ctx: Context, model: string, names: string | boolean | undefined, calib: string): Promise<string[] | undefined> {
  if (typeof names === 'string') return readClassNames(names);
  const { readModelInfoBeside, readModelInfoFromTflite } = await import('../graph/importers/model-info.js');
  const own = /\.tflite$/i.test(model) ? readModelInfoFromTflite(readRegularFile(model, 'model file', READ_LIMITS.model), model) : readModelInfoBeside(model);
  if (own?.names?.length) return undefined;
  const fromCalib = resolveDataset(calib, { purpose: 'calibration' }).names;
  if (fromCalib?.length) ctx.note(`class names: ${fromCalib.length} from the --calib dataset's yaml (--names overrides)`);
  return fromCalib?.length ? fromCalib : undefined;
}

/** A comma-separated list of numbers (--input-shape, --input-range), each passing `ok`; undefined when absent. */
function parseNumberList(option: string, raw: unknown, ok: (n: number) => boolean, expected: string): number[] | undefined {
  if (raw === undefined) return undefined;
  const parts = String(raw).split(',').map((p) => p.trim());
  const values = parts.map((p) => (p === '' ? NaN : Number(p)));
  if (values.some((v) => !ok(v))) throw new UsageError(`--${option} expects ${expected} (got '${String(raw)}')`);
  return values;
}

/** --mean / --std -> quantizeInt8's inputNormalization (3 values, or 1 for every channel); undefined when neither is given. */
function normalizationOption(values: Values): { mean?: number[]; std?: number[] } | undefined {
  const mean = parseNumberList('mean', values.mean, Number.isFinite, 'one or three numbers in pixel units, e.g. 123.675,116.28,103.53');
  const std = parseNumberList('std', values.std, (v) => Number.isFinite(v) && v > 0, 'one or three numbers > 0 in pixel units, e.g. 58.395,57.12,57.375');
  for (const [option, list] of [['mean', mean], ['std', std]] as const) {
    if (list && list.length !== 1 && list.length !== 3) throw new UsageError(`--${option} expects 1 or 3 values (one per channel), got ${list.length} ('${String(values[option])}')`);
  }
  if (!mean && !std) return undefined;
  return { ...(mean ? { mean } : {}), ...(std ? { std } : {}) };
}

/** --max-drop / --min-sqnr / --val / --write-best -> quantizeInt8's accuracy option. */
function accuracyOption(ctx: Context, values: Values) {
  const maxDrop = parseFloatOption('max-drop', values['max-drop'], 0, 100);
  const minSqnrDb = parseFloatOption('min-sqnr', values['min-sqnr'], -1000, 1000);
  if (maxDrop === undefined && minSqnrDb === undefined) {
    if (values.val !== undefined || values.holdout !== undefined || values['write-best'] || values.prefer !== undefined) {
      throw new UsageError('quantize: --val, --holdout, --write-best and --prefer go with --max-drop <points> or --min-sqnr <dB>');
    }
    return undefined;
  }
  if (maxDrop !== undefined && minSqnrDb !== undefined) throw new UsageError('quantize: give one of --max-drop and --min-sqnr');
  const val = requireString('quantize', values, 'val', 'dataset');
  resolveDatasetOption(ctx, 'val', val, 'evaluation');
  const holdout = typeof values.holdout === 'string' ? values.holdout : undefined;
  if (holdout !== undefined) resolveDatasetOption(ctx, 'holdout', holdout, 'evaluation');
  const prefer = values.prefer;
  if (prefer !== undefined && prefer !== 'full-integer' && prefer !== 'latency') throw new UsageError(`quantize: --prefer must be full-integer or latency, got '${String(prefer)}'`);
  return {
    ...(maxDrop !== undefined ? { maxDrop } : { minSqnrDb }), validation: val, ...(holdout !== undefined ? { holdout } : {}), writeBest: values['write-best'] === true,
    ...(prefer !== undefined ? { prefer: prefer as 'full-integer' | 'latency' } : {}),
  };
}

/**
 * Runs `work`; an error about the recipe's overrides that only the model can reveal (a match naming no
 * node) is thrown again naming the recipe file too, so the user knows which file to edit.
 */
async function namingRecipeFile<T>(file: string | boolean | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (typeof file !== 'string' || !(e instanceof Error) || !e.message.includes('recipe.overrides[')) throw e;
    throw new Error(e.message.replace('recipe.overrides[', `recipe ${file}: overrides[`));
  }
}

async function readRecipe(file: string | boolean | undefined): Promise<unknown> {
  if (typeof file !== 'string') return undefined;
  const text = readRegularTextFile(file, 'recipe file', READ_LIMITS.json);
  let recipe: unknown;
  try {
    recipe = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  // Checked here as well as in the library, so that what is wrong in it is reported with its file name.
  const { resolveRecipe } = await import('../quantize/recipe.js');
  try {
    resolveRecipe({ recipe: recipe as import('../quantize/recipe.js').QuantRecipe });
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message.replace(/^quantizeInt8: /, '')}`);
  }
  return recipe;
}

async function cmdAnalyze(ctx: Context, values: Values, positionals: string[]): Promise<void> {
  expectPositionals('analyze', positionals, ['model']);
  const model = positionals[0];
  const calib = requireString('analyze', values, 'calib', 'images');
  const num = parseIntOption('num', values.num, 1);
  const method = parseChoice('method', values.method, ['minmax', 'percentile', 'mse', 'entropy'] as const);
  const by = parseChoice('by', values.by, ['raise-one', 'only-int8'] as const);
  const raiseTo = parseChoice('raise-to', values['raise-to'], ['int16', 'float'] as const);
  const head = parseChoice('head', values.head, ['split', 'keep'] as const);
  const backend = parseChoice('backend', values.backend, ['wasm', 'cpu', 'tensorflow'] as const);
  const top = parseIntOption('top', values.top, 1) ?? 20;
  const mapTop = parseIntOption('map-top', values['map-top'], 0);
  const numImages = parseIntOption('num-images', values['num-images'], 1);
  const offset = parseIntOption('offset', values.offset, 0);
  const limit = parseIntOption('limit', values.limit, 1);
  const data = typeof values.data === 'string' ? values.data : undefined;
  if ((offset !== undefined || limit !== undefined || mapTop !== undefined) && !data) throw new UsageError('analyze: --offset, --limit and --map-top go with --data <dataset>');
  const chart = typeof values.chart === 'string' ? values.chart : undefined;
  // Checked before the analysis (minutes) starts, not after it.
  if (chart) checkOutputPath(chart, [model], 'chart');
  if (!fs.existsSync(model)) throw new Error(`${model}: model not found (expected a TF.js model folder / model.json or a .tflite)`);
  const recipe = await readRecipe(values.recipe);
  const imageCount = resolveDatasetOption(ctx, 'calib', calib, 'calibration');
  if (typeof values.images === 'string') resolveDatasetOption(ctx, 'images', values.images, 'calibration');
  if (data) resolveDatasetOption(ctx, 'data', data, 'evaluation');

  const { analyzeSensitivity } = await import('../yolo/quantize.js');
  const { formatSensitivity } = await import('../quantize/sensitivity.js');
  const result = await withImageFeedHint(model, () => analyzeSensitivity(model, {
    representativeDataset: calib,
    numCalibrationSamples: num ?? Math.min(100, imageCount),
    calibration: method,
    method: by,
    raiseTo,
    head,
    ...(typeof values['head-cut'] === 'string' ? { headCut: values['head-cut'] } : {}),
    backend,
    recipe: recipe as never,
    ...(typeof values.images === 'string' ? { images: values.images } : {}),
    numImages,
    ...(typeof values.layers === 'string' ? { layers: values.layers } : {}),
    ...(data ? { data: { images: data, offset, limit }, mapTop } : {}),
    onProgress: (step, done, total) => ctx.progress.update(step, done, total),
  }));
  ctx.progress.finishLine();
  if (chart) {
    const { barChartPng } = await import('./chart.js');
    const { writeFileAtomic } = await import('../util/fs.js');
    const worst = result.layers.slice(0, top);
    const { png } = await barChartPng(
      // Bar length: the output noise power the layer adds, relative to the float signal (linear).
      worst.map((l) => ({ label: `${l.rank}. ${l.node} (${l.op})`, value: Number.isFinite(l.sqnrDb) ? 10 ** (-l.sqnrDb / 10) : 0, text: `${Number.isFinite(l.sqnrDb) ? l.sqnrDb.toFixed(1) : 'inf'} dB` })),
      { title: `worst ${worst.length} of ${result.layers.length} layers (${result.method}${result.method === 'raise-one' ? ` to ${result.raiseTo}` : ''}): output noise each adds, SQNR dB` },
    );
    await writeFileAtomic(chart, png);
  }
  if (ctx.json) {
    ctx.emitJson({ command: 'analyze', model, chart: chart ?? null, result });
  } else {
    ctx.print(formatSensitivity(result, top, formatTable));
    if (chart) ctx.print(`wrote ${chart}`);
  }
}

function sliceOptions(command: Command, values: Values) {
  const data = requireString(command, values, 'data', 'dataset');
  return { images: data, offset: parseIntOption('offset', values.offset, 0), limit: parseIntOption('limit', values.limit, 1), maxPixels: parseIntOption('max-pixels', values['max-pixels'], 1) };
}

function sliceText(opts: { offset?: number; limit?: number }, images: number): string {
  return `${images} images${opts.offset ? ` from #${opts.offset}` : ''}`;
}

async function cmdEval(ctx: Context, values: Values, positionals: string[]): Promise<void> {
  expectPositionals('eval', positionals, ['model.tflite']);
  const model = positionals[0];
  const slice = sliceOptions('eval', values);
  requireTfliteFile(model);
  resolveDatasetOption(ctx, 'data', slice.images, 'evaluation');
  const { evaluate } = await import('../yolo/evaluate.js');
  const result = await evaluate(model, { ...slice, onProgress: (d, t) => ctx.progress.update('evaluate', d, t) });
  ctx.progress.finishLine();
  if (ctx.json) {
    ctx.emitJson({ command: 'eval', model, data: slice.images, offset: slice.offset ?? 0, limit: slice.limit ?? null, result });
  } else {
    ctx.print(`${slice.images}: ${sliceText(slice, result.images)}, ${result.labels} labelled objects`);
    ctx.print(formatEvalTable([{ name: model, ...result }]));
    ctx.print('');
    ctx.print(formatClassTable({ ...result, instances: result.labels }, result.classes));
    ctx.print(EVAL_LEGEND(result.confidence));
  }
}

async function cmdCompare(ctx: Context, values: Values, positionals: string[]): Promise<void> {
  expectPositionals('compare', positionals, ['a.tflite', 'b.tflite'], true);
  const slice = sliceOptions('compare', values);
  for (const m of positionals) requireTfliteFile(m);
  resolveDatasetOption(ctx, 'data', slice.images, 'evaluation');
  const { evaluate, compareModels } = await import('../yolo/evaluate.js');
  const results = [];
  for (const [i, model] of positionals.entries()) {
    const label = `evaluate ${i + 1}/${positionals.length}`;
    results.push({ model, result: await evaluate(model, { ...slice, onProgress: (d, t) => ctx.progress.update(label, d, t) }) });
  }
  const fidelity = [];
  if (values.fidelity) {
    for (const model of positionals.slice(1)) {
      fidelity.push({
        reference: positionals[0],
        model,
        result: await compareModels(positionals[0], model, { ...slice, onProgress: (d, t) => ctx.progress.update(`fidelity ${model}`, d, t) }),
      });
    }
  }
  ctx.progress.finishLine();
  if (ctx.json) {
    ctx.emitJson({ command: 'compare', data: slice.images, offset: slice.offset ?? 0, limit: slice.limit ?? null, models: results, fidelity: values.fidelity ? fidelity : undefined });
    return;
  }
  ctx.print(`${slice.images}: ${sliceText(slice, results[0].result.images)}, ${results[0].result.labels} labelled objects`);
  ctx.print(formatEvalTable(results.map((r) => ({ name: r.model, ...r.result }))));
  if (values['per-class']) {
    for (const { model, result } of results) {
      ctx.print(`\n${model}:`);
      ctx.print(formatClassTable({ ...result, instances: result.labels }, result.classes));
    }
  }
  ctx.print(EVAL_LEGEND());
  if (fidelity.length) {
    ctx.print(`\nfidelity to ${positionals[0]} (detections with the reference's predict NMS - YOLOv5 conf 0.25 / IoU 0.45, YOLOv8/11 0.25 / 0.7 - matched by class and IoU >= 0.5):`);
    ctx.print(
      formatTable(
        ['model', 'max output error / range', 'detections matched', 'matched IoU', 'score error'],
        fidelity.map((f) => [
          f.model,
          Math.max(...f.result.outputs.map((o) => o.maxErrorOfRange)).toFixed(4),
          `${(f.result.detections.fractionMatched * 100).toFixed(1)} %`,
          f.result.detections.matchedIouMean.toFixed(3),
          f.result.detections.scoreErrorMean.toFixed(4),
        ]),
      ),
    );
    ctx.print(FIDELITY_LEGEND);
  }
}

/** What the evaluation columns mean (printed under the tables). */
function EVAL_LEGEND(confidence?: number): string {
  return (
    `P, R: precision and recall at IoU 0.5, at the one confidence where the class-mean F1 is highest` +
    `${confidence !== undefined ? ` (here ${confidence.toFixed(3)})` : ''}, as ultralytics val; mAP: ultralytics val NMS (conf 0.001)`
  );
}

const FIDELITY_LEGEND = [
  'max output error / range: the largest |model - reference| of any output value, over that output\'s range in the',
  '  reference (max - min) on these images: a worst case over millions of values, large even when detections agree;',
  'detections matched: the reference\'s detections that the model also finds (same class, IoU >= 0.5);',
  'matched IoU: mean IoU of those pairs; score error: mean |score difference| of those pairs.',
].join('\n');

async function cmdInspect(ctx: Context, _values: Values, positionals: string[]): Promise<void> {
  expectPositionals('inspect', positionals, ['model.tflite']);
  const model = positionals[0];
  requireFile(model, 'model');
  const { inspectTflite, formatInspectReport } = await import('../tflite/inspect.js');
  const { readTflite } = await import('../tflite/reader.js');
  const { readHeadSpec, describeHeadSpec } = await import('../yolo/head.js');
  const bytes = readRegularFile(model, 'model file', READ_LIMITS.model);
  const report = inspectTflite(bytes, model);
  const head = readHeadSpec(readTflite(bytes, { label: model }), model);
  if (ctx.json) {
    ctx.emitJson({ command: 'inspect', ...report, yoloHead: head ?? null });
  } else {
    ctx.print(formatInspectReport(report));
    if (head) ctx.print(`detection head (metadata 'yolo_int8_head'): ${describeHeadSpec(head)}`);
  }
}

async function cmdDetect(ctx: Context, values: Values, positionals: string[]): Promise<void> {
  expectPositionals('detect', positionals, ['model.tflite', 'image']);
  const [model, image] = positionals;
  const conf = parseFloatOption('conf', values.conf, 0, 1);
  const iou = parseFloatOption('iou', values.iou, 0, 1);
  if (values['no-save'] && values.output !== undefined) throw new UsageError('detect: give one of -o <out.png> and --no-save');
  const maxPixels = parseIntOption('max-pixels', values['max-pixels'], 1);
  requireFile(model, 'model');
  requireFile(image, 'image');
  const { loadYoloModel } = await import('../yolo/evaluate.js');
  const yolo = await loadYoloModel(model);
  // --names wins; otherwise the names the file carries (our head spec, or ultralytics' embedded metadata).
  const names = typeof values.names === 'string' ? await readClassNames(values.names) : (yolo.classNames ?? []);
  const out = values['no-save'] ? undefined : typeof values.output === 'string' ? values.output : annotatedPicturePath(nextPredictDir(), image);
  if (typeof values.output === 'string' && out) checkOutputPath(out, [model, image], 'picture');
  let detections, ms;
  try {
    // Only the options given: an undefined key would override the DETECT_NMS defaults.
    const nms: { confThreshold?: number; iouThreshold?: number } = {};
    if (conf !== undefined) nms.confThreshold = conf;
    if (iou !== undefined) nms.iouThreshold = iou;
    ({ detections, ms } = await yolo.detect(image, nms, maxPixels));
  } finally {
    yolo.runner.dispose();
  }
  if (out) {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const { drawDetections } = await import('../yolo/draw.js');
    await drawDetections(image, detections, out, names);
  }
  const nameOf = (c: number) => names[c] ?? `class ${c}`;
  if (ctx.json) {
    ctx.emitJson({
      command: 'detect',
      model,
      image,
      output: out ?? null,
      ms,
      detections: detections.map((d) => ({ classId: d.classId, className: names[d.classId] ?? null, score: d.score, box: d.box })),
    });
    return;
  }
  ctx.print(`${image}: ${detections.length} detection(s) in ${ms.toFixed(1)} ms (boxes x1,y1,x2,y2 in image pixels)`);
  for (const d of detections) {
    ctx.print(`  ${nameOf(d.classId).padEnd(14)} ${d.score.toFixed(3)}  [${d.box.map((v) => v.toFixed(1)).join(', ')}]`);
  }
  if (out) ctx.print(`wrote ${out}`);
}

async function cmdCheck(ctx: Context, _values: Values, positionals: string[]): Promise<void> {
  expectPositionals('check', positionals, ['model.tflite']);
  const model = positionals[0];
  requireFile(model, 'model');
  const { checkTflite, formatCheckResult } = await import('../tflite/check.js');
  // Lenient: what LiteRT runs is not a violation (strict findings are printed as notes).
  const bytes = readRegularFile(model, 'model file', READ_LIMITS.model);
  const result = checkTflite(bytes, { label: model, strict: false });
  // Not a violation: a float or dynamic-range file is valid TFLite, but not what `quantize` writes.
  const { inspectTflite } = await import('../tflite/inspect.js');
  const { floatTensors } = result.ok ? inspectTflite(bytes, model) : { floatTensors: [] as string[] };
  const fullInteger = result.ok ? floatTensors.length === 0 : undefined;
  if (ctx.json) ctx.emitJson({ command: 'check', model, ...result, ...(fullInteger !== undefined ? { fullInteger } : {}) });
  else {
    ctx.print(formatCheckResult(result, model));
    if (fullInteger === false) {
      ctx.print(`  note: not full-integer: ${floatTensors.length} float tensor(s) (e.g. ${floatTensors.slice(0, 3).join(', ')}); 'yolo-int8 inspect' lists them`);
    }
  }
  // Exit code 1 through the usual error path (one line on stderr).
  if (!result.ok) throw new Error(`${model}: ${result.violations.length} violation(s)`);
}

async function cmdDemo(ctx: Context, values: Values, positionals: string[]): Promise<void> {
  expectPositionals('demo', positionals, []);
  const { runDemo } = await import('../demo/run-demo.js');
  const result = await runDemo({
    outDir: typeof values.out === 'string' ? values.out : undefined,
    onProgress: (step, done, total) => ctx.progress.update(step, done, total),
    log: ctx.json ? undefined : (line) => {
      ctx.progress.finishLine();
      ctx.print(line);
    },
  });
  ctx.progress.finishLine();
  if (ctx.json) ctx.emitJson({ command: 'demo', ...result });
}

const RUNNERS: Record<Command, (ctx: Context, values: Values, positionals: string[]) => Promise<void>> = {
  quantize: cmdQuantize,
  analyze: cmdAnalyze,
  eval: cmdEval,
  compare: cmdCompare,
  inspect: cmdInspect,
  check: cmdCheck,
  detect: cmdDetect,
  demo: cmdDemo,
};

/**
 * Runs the CLI on `argv` (without the node and script paths) and returns the exit code:
 * 0 success, 1 failure, 2 bad command line. Nothing is thrown; errors are one line on stderr.
 */
export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const verbose = argv.includes('--verbose');
  let restoreQuiet: (() => void) | undefined;
  // The command's file arguments, for an error message that names none (errorLine).
  let files: string[] = [];
  try {
    const [first, ...rest] = argv;
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      if (first === 'help' && rest[0] && (COMMANDS as readonly string[]).includes(rest[0])) io.stdout.write(HELP[rest[0] as Command] + '\n');
      else io.stdout.write(GENERAL_HELP + '\n');
      return first === undefined ? 2 : 0;
    }
    if (first === '--version' || first === '-v') {
      io.stdout.write(packageVersion() + '\n');
      return 0;
    }
    if (!(COMMANDS as readonly string[]).includes(first)) {
      const near = closestWord(first, COMMANDS);
      throw new UsageError(`unknown command '${first}'${near ? `; did you mean '${near}'?` : ''} (commands: ${COMMANDS.join(', ')}; see 'yolo-int8 --help')`);
    }
    const command = first as Command;
    const { values, positionals } = parseCommand(command, rest);
    files = positionals;
    if (values.help) {
      io.stdout.write(HELP[command] + '\n');
      return 0;
    }
    if (verbose) {
      // Process-wide; main() restores it when it returns, so an embedding program is not left verbose.
      const { setLiteRtVerbose } = await import('../runtime/index.js');
      setLiteRtVerbose(true);
      restoreQuiet = () => setLiteRtVerbose(false);
    }
    const json = values.json === true;
    const ctx: Context = {
      io,
      json,
      progress: new Progress(io.stderr, values.quiet !== true),
      print: (text) => io.stdout.write(text + '\n'),
      emitJson: (obj) => io.stdout.write(toJson(obj) + '\n'),
      note: (text) => {
        if (values.quiet !== true) io.stderr.write(`yolo-int8: ${text}\n`);
      },
    };
    await RUNNERS[command](ctx, values, positionals);
    return 0;
  } catch (e) {
    const usage = e instanceof UsageError;
    io.stderr.write(`yolo-int8: ${errorLine(e, usage ? [] : files)}\n`);
    if (verbose && e instanceof Error && e.stack) io.stderr.write(e.stack + '\n');
    return usage ? 2 : 1;
  } finally {
    restoreQuiet?.();
  }
}

/** True when this module is the program being run (`tsx lib/cli/main.ts ...`), not imported. */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return pathToFileURL(fs.realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // process.exit: LiteRT / TF.js wasm workers can keep the event loop alive after the work is done.
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
