// The shape a graph input takes: the one the caller gives (options inputShape / inputShapes), checked
// against what the source declares, or the declared one when every dimension is known (an unknown
// batch is 1). An unknown size without a given shape is an error naming the input and the option.

export interface InputShapeOptions {
  /** The shape of the model's input (a model with one input), e.g. [1, 320, 320, 3] for [-1,-1,-1,3]. */
  inputShape?: number[];
  /** Shapes per input name (any model). */
  inputShapes?: Record<string, number[]>;
}

const isUnknown = (d: number | null | undefined) => d === null || d === undefined || d < 0;

/** The option spelling an error points to, for the input `name` of a model with `count` inputs. */
function optionHint(name: string, count: number): string {
  return count === 1
    ? 'give its shape with the inputShape option (CLI: --input-shape 1,H,W,C)'
    : `give its shape with the inputShapes option ({ '${name}': [...] })`;
}

/**
 * The static shape of input `name`: `declared` is the source's (null / -1 = unknown), `count` the
 * number of graph inputs. Throws a one-line error naming the input when the shape stays unknown or
 * the given one disagrees with a known dimension.
 */
export function resolveInputShape(opts: InputShapeOptions, name: string, declared: readonly (number | null)[] | undefined, count: number, label: string): number[] {
  if (opts.inputShape && count !== 1) {
    throw new Error(`${label}: the model has ${count} inputs; inputShape gives one shape, pass inputShapes per input name`);
  }
  // -1 (or null) means unknown; any other negative size is a damaged file, whatever shape is given.
  const negative = declared?.findIndex((d) => typeof d === 'number' && d < -1) ?? -1;
  if (negative >= 0) {
    throw new Error(`${label}: input '${name}': dimension ${negative} of shape [${declared!.map((d) => d ?? -1)}] is negative`);
  }
  const given = opts.inputShapes?.[name] ?? opts.inputShape;
  if (given) {
    if (!Array.isArray(given) || given.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new Error(`${label}: the shape given for input '${name}' must be positive integers, got [${given}]`);
    }
    if (declared && (declared.length !== given.length || declared.some((d, i) => !isUnknown(d) && d !== given[i]))) {
      throw new Error(`${label}: input '${name}' has shape [${declared.map((d) => d ?? -1)}]; the shape given, [${given}], does not fit it`);
    }
    return [...given];
  }
  if (!declared) throw new Error(`${label}: input '${name}' has no static shape; ${optionHint(name, count)}`);
  const shape = declared.map((d, i) => (i === 0 && isUnknown(d) ? 1 : d));
  if (shape.some(isUnknown)) {
    throw new Error(`${label}: input '${name}' has shape [${declared.map((d) => d ?? -1)}] with unknown dimensions; ${optionHint(name, count)}`);
  }
  return shape as number[];
}
