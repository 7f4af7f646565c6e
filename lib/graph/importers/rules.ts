// Runs an op file's import rule (lib/ops/types.ts ImportEntry) against a source op, whatever the
// format: the importers provide the ImportContext (how inputs, attributes and weights of their format
// are read); a data rule is interpreted here the same way for every format.
import type { AttrValue } from '../../ir/graph.js';
import type { AttrSource, Attrs, ImportContext, ImportEntry, ImportRule } from '../../ops/types.js';

/** What a format adds to the context for data rules. */
export interface FormatHooks {
  /** Throws when the source op is channels-first (rule.nhwc). */
  checkNhwc(ctx: ImportContext): void;
  /** Layers models: whether the layer has the optional weights ('bias?': config useBias !== false). */
  hasOptionalWeights?(ctx: ImportContext): boolean;
}

/** Imports one source op as the IR op `op` with its entry. */
export function runImportEntry(entry: ImportEntry, op: string, ctx: ImportContext, hooks: FormatHooks): void {
  if (typeof entry === 'function') {
    entry(ctx);
    return;
  }
  runImportRule(entry, op, ctx, hooks);
}

function runImportRule(rule: ImportRule, op: string, ctx: ImportContext, hooks: FormatHooks): void {
  if (rule.nhwc) hooks.checkNhwc(ctx);
  const selected = rule.inputs ?? [0];
  const inputs = selected === 'all' ? Array.from({ length: ctx.inputCount }, (_, i) => ctx.input(i)) : selected.map((i) => ctx.input(i));
  for (const w of rule.weights ?? []) {
    const optional = w.endsWith('?');
    const name = optional ? w.slice(0, -1) : w;
    if (optional && hooks.hasOptionalWeights && !hooks.hasOptionalWeights(ctx)) continue;
    const t = ctx.weight?.(name);
    if (!t) throw ctx.error(`has no '${name}' weight`);
    inputs.push(t);
  }
  const attrs: Attrs = {};
  for (const [key, source] of Object.entries(rule.attrs ?? {})) attrs[key] = attrValue(source, ctx);
  if (rule.activation) {
    if (!ctx.emitWithActivation) throw ctx.error('this format has no layer activations');
    ctx.emitWithActivation(op, inputs, attrs);
  } else {
    ctx.emit(op, inputs, attrs);
  }
}

/** The value of one IR attribute: fixed, from a constant input, or read from the source op. */
export function attrValue(source: AttrSource, ctx: ImportContext): AttrValue {
  if ('value' in source) return source.value;
  if ('constInput' in source) {
    if (!ctx.hasInput(source.constInput)) {
      if (source.default !== undefined) return source.default;
      throw ctx.error(`expects input ${source.constInput}`);
    }
    const values = ctx.constValues(source.constInput);
    return source.type === 'number' ? values[0] : values;
  }
  return ctx.attr(source);
}
