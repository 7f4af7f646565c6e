// A readable summary of a quantization report (the CLI prints it; --json prints the object).
import type { QuantizeReport } from './index.js';
import { formatRecipe } from './recipe.js';
import { formatPlanJson } from './plan.js';
import type { HeadSpecData } from './plugin.js';

function io(list: QuantizeReport['inputs']): string[] {
  return list.map(
    (t) => `  ${t.name}: ${t.dtype} [${t.shape.join(',')}]${t.scale !== undefined ? ` scale ${t.scale.toPrecision(6)} zero point ${t.zeroPoint}` : ''}`,
  );
}

/**
 * How the graph's ops became the file's operators, counted as `inspect` counts them: one graph op
 * may be written as several operators (SiLU: LOGISTIC and MUL), and the conversions are operators too.
 */
function operatorCount(ops: Record<string, number>): string {
  const all = Object.values(ops).reduce((a, b) => a + b, 0);
  const conversions = (ops.QUANTIZE ?? 0) + (ops.DEQUANTIZE ?? 0);
  return `written as ${all} TFLite operators, ${conversions} of them QUANTIZE/DEQUANTIZE`;
}

/** One line on the model's precision: full-integer, or which ops are not int8 (graph ops, then the file's operators). */
export function formatPrecision(p: QuantizeReport['precision'], ops?: Record<string, number>): string {
  const written = ops ? `; ${operatorCount(ops)}` : '';
  if (p.int16 === 0 && p.float === 0) return `precision: every op int8 (${p.int8} graph ops${written})`;
  const list = (k: 'int16' | 'float') => p.notInt8.filter((o) => o.precision === k).map((o) => o.node);
  const part = (k: 'int16' | 'float') => (list(k).length ? `, ${list(k).length} ${k} (${list(k).slice(0, 6).join(', ')}${list(k).length > 6 ? ', ...' : ''})` : '');
  return `precision: mixed - ${p.int8} ops int8${part('int16')}${part('float')}; ${p.conversions} precision conversions` +
    (p.float > 0 ? '; NOT full-integer (float ops)' : '; int16 ops run on TFLite kernels, not XNNPACK') + written;
}

export interface FormatReportOptions<S extends HeadSpecData> {
  tensors?: boolean;
  plan?: boolean;
  /** One line describing the head spec (the plug-in's describe); default: its kind. */
  describeHead?: (spec: S) => string;
}

export function formatQuantizeReport<S extends HeadSpecData>(r: QuantizeReport<S>, opts: FormatReportOptions<S> = {}): string {
  const describeHead = opts.describeHead ?? ((spec: S) => `kind '${spec.kind}'`);
  const lines: string[] = [];
  lines.push(`source: ${r.source} (${r.format}); float backend: ${r.backend}`);
  if (r.sourceQuantization) {
    lines.push(`source weights: already int8-rounded by the source model (${r.sourceQuantization}); dequantized at import and re-quantized here`);
  }
  if (r.cutAt?.length) lines.push(`cut before post-processing at: ${r.cutAt.join(', ')}`);
  lines.push(`recipe:\n${formatRecipe(r.recipe).replace(/^/gm, '  ')}`);
  if (r.head.treatment === 'split' && r.head.spec) {
    lines.push(`detection head: split${r.head.cut ? ` (cut '${r.head.cut}')` : ''}: ${describeHead(r.head.spec)}`);
  } else if (r.head.treatment === 'keep') lines.push(`detection head${r.head.family ? ` (${r.head.family})` : ''}: quantized as it is`);
  else lines.push('model: no detection head or float tail found (a plain model): every output is the graph\'s own, quantized');
  lines.push(`calibration: ${r.calibration.samples} samples, ${r.calibration.method}, ${r.calibration.seconds.toFixed(1)} s` +
    (r.calibration.skipped.length ? `, ${r.calibration.skipped.length} files skipped` : '') +
    (r.calibration.dataset?.split ? `, split '${r.calibration.dataset.split}' of ${r.calibration.dataset.root ?? r.calibration.dataset.source}` : ''));
  if (r.biasCorrection) {
    const b = r.biasCorrection;
    lines.push(`bias correction (${b.mode}): ${b.layers} of ${b.candidates} weighted layers corrected on ${b.samples} samples in ${b.passes} pass(es), ` +
      `mean |correction| ${b.meanAbsCorrectionBiasSteps.toFixed(0)} bias steps (${b.meanAbsCorrectionOutputSteps.toFixed(3)} output steps), ${b.seconds.toFixed(1)} s` +
      (b.skipped.length ? `; skipped ${b.skipped.length} (${b.skipped.slice(0, 2).map((x) => `${x.node}: ${x.reason}`).join('; ')})` : ''));
  }
  lines.push('inputs:', ...io(r.inputs), 'outputs:', ...io(r.outputs));
  const ops = Object.entries(r.ops).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
  lines.push(`ops: ${ops}`);
  lines.push(formatPrecision(r.precision, r.ops));
  for (const n of r.notes.filter((t) => / written in (int16|float): /.test(t))) lines.push(`  not int8: ${n}`);
  lines.push(`all tensors integer: ${r.allInteger ? 'yes' : `NO (${r.floatTensors.slice(0, 5).join(', ')})`}; QUANTIZE ops: ${r.quantizeOps}`);
  lines.push(`size: ${r.fileBytes} bytes; time: ${r.timings.totalSeconds?.toFixed(1)} s (float forward passes ${r.timings.forwardSeconds?.toFixed(1)} s)`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  if (r.layerErrors?.length) {
    const worst = [...r.layerErrors].sort((a, b) => a.sqnrDb - b.sqnrDb).slice(0, 10);
    lines.push(`layer-by-layer SQNR (int8 vs float, ${r.layerErrors.length} tensors; the 10 lowest):`);
    for (const l of worst) lines.push(`  ${l.sqnrDb.toFixed(1).padStart(6)} dB  ${l.tensor}`);
  }
  if (opts.plan) lines.push(formatPlanJson(r.plan));
  if (opts.tensors) {
    lines.push('tensors (name: calibrated range -> scale, zero point):');
    for (const t of r.tensors) lines.push(`  ${t.tensor}: [${t.min.toPrecision(4)}, ${t.max.toPrecision(4)}] -> ${t.scale.toPrecision(5)}, ${t.zeroPoint}`);
  }
  return lines.join('\n');
}
