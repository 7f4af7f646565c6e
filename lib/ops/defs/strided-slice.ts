// StridedSlice in a normalised form: one begin/end/stride per input dimension, no ellipsis or
// new-axis; `endMask` bit i means "to the end" (needed for negative strides running past 0),
// `shrinkAxisMask` bit i drops dimension i (begin..begin+1). normalizeStridedSlice() turns
// TF/TFLite masks into this form at import.
import type { ImportContext, OpDef } from '../types.js';
import { attrNumber, attrNumbers } from '../util.js';
import { out0 } from '../emit-util.js';
import { sliceByRows, type SliceBox } from '../row-copy.js';

export interface NormalizedSlice {
  begin: number[];
  end: number[];
  strides: number[];
  endMask: number;
  shrinkAxisMask: number;
}

export interface SliceMasks {
  beginMask?: number;
  endMask?: number;
  ellipsisMask?: number;
  newAxisMask?: number;
  shrinkAxisMask?: number;
}

/** TF strided-slice semantics (masks, negative indices, clamping) resolved against a static shape. */
export function normalizeStridedSlice(
  shape: readonly number[],
  begin: readonly number[],
  end: readonly number[],
  strides: readonly number[],
  masks: SliceMasks,
): NormalizedSlice {
  const rank = shape.length;
  const { beginMask = 0, endMask = 0, ellipsisMask = 0, newAxisMask = 0, shrinkAxisMask = 0 } = masks;
  if (newAxisMask !== 0) throw new Error('StridedSlice with new_axis_mask is not supported');
  if (begin.length !== end.length || begin.length !== strides.length) throw new Error('StridedSlice begin/end/strides lengths differ');
  // Expand the sparse spec (with at most one ellipsis) to one entry per dimension.
  type Dim = { b: number; e: number; s: number; bm: boolean; em: boolean; shrink: boolean };
  const dense: Dim[] = [];
  const full = (): Dim => ({ b: 0, e: 0, s: 1, bm: true, em: true, shrink: false });
  let sawEllipsis = false;
  for (let i = 0; i < begin.length; i++) {
    if (ellipsisMask & (1 << i)) {
      if (sawEllipsis) throw new Error('StridedSlice has more than one ellipsis');
      sawEllipsis = true;
      const remaining = begin.length - i - 1;
      const fill = rank - dense.length - remaining;
      for (let k = 0; k < fill; k++) dense.push(full());
      continue;
    }
    dense.push({
      b: begin[i], e: end[i], s: strides[i],
      bm: (beginMask & (1 << i)) !== 0, em: (endMask & (1 << i)) !== 0, shrink: (shrinkAxisMask & (1 << i)) !== 0,
    });
  }
  while (dense.length < rank) dense.push(full());
  if (dense.length !== rank) throw new Error(`StridedSlice spec has ${begin.length} entries for rank ${rank}`);
  const out: NormalizedSlice = { begin: [], end: [], strides: [], endMask: 0, shrinkAxisMask: 0 };
  dense.forEach((d, i) => {
    const dim = shape[i];
    if (d.s === 0) throw new Error('StridedSlice stride 0');
    if (d.shrink) {
      let b = d.b < 0 ? d.b + dim : d.b;
      if (b < 0 || b >= dim) throw new Error(`StridedSlice shrink index ${d.b} out of range for dimension ${dim}`);
      out.begin.push(b); out.end.push(b + 1); out.strides.push(1);
      out.shrinkAxisMask |= 1 << i;
      return;
    }
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    if (d.s > 0) {
      const b = d.bm ? 0 : clamp(d.b < 0 ? d.b + dim : d.b, 0, dim);
      const e = d.em ? dim : clamp(d.e < 0 ? d.e + dim : d.e, 0, dim);
      out.begin.push(b); out.end.push(e); out.strides.push(d.s);
    } else {
      const b = d.bm ? dim - 1 : clamp(d.b < 0 ? d.b + dim : d.b, -1, dim - 1);
      const e = d.em ? -1 : clamp(d.e < 0 ? d.e + dim : d.e, -1, dim - 1);
      out.begin.push(b); out.strides.push(d.s);
      if (e === -1) { out.end.push(0); out.endMask |= 1 << i; } else out.end.push(e);
    }
  });
  return out;
}

export function stridedSliceShape(shape: readonly number[], s: NormalizedSlice): number[] {
  const out: number[] = [];
  shape.forEach((dim, i) => {
    if (s.shrinkAxisMask & (1 << i)) return;
    const b = s.begin[i], st = s.strides[i];
    const e = s.endMask & (1 << i) ? (st > 0 ? dim : -1) : s.end[i];
    out.push(st > 0 ? Math.max(0, Math.ceil((e - b) / st)) : Math.max(0, Math.ceil((b - e) / -st)));
  });
  return out;
}

/** A slice whose strides are all 1 as a box (shrunk dimensions kept, length 1), else undefined. */
function unitStrideBox(shape: readonly number[], s: NormalizedSlice): SliceBox | undefined {
  if (s.strides.some((st) => st !== 1)) return undefined;
  const shrunk = (i: number) => (s.shrinkAxisMask & (1 << i)) !== 0;
  const ends = shape.map((dim, i) => (shrunk(i) ? s.begin[i] + 1 : s.endMask & (1 << i) ? dim : s.end[i]));
  // Only the normalised form (0 <= begin, end <= dim); anything else keeps TF.js's kernel.
  if (shape.some((dim, i) => !(s.begin[i] >= 0 && s.begin[i] <= dim && ends[i] >= 0 && ends[i] <= dim))) return undefined;
  const size = shape.map((_, i) => Math.max(0, ends[i] - s.begin[i]));
  return { begin: s.begin, size };
}

function sliceAttrs(attrs: Record<string, unknown>): NormalizedSlice {
  const a = attrs as Parameters<typeof attrNumbers>[0];
  return {
    begin: attrNumbers(a, 'begin'),
    end: attrNumbers(a, 'end'),
    strides: attrNumbers(a, 'strides'),
    endMask: attrNumber(a, 'endMask', 0),
    shrinkAxisMask: attrNumber(a, 'shrinkAxisMask', 0),
  };
}

/** TF.js StridedSlice / TFLite STRIDED_SLICE: begin, end, strides are constant inputs 1-3; masks resolved here. */
function importStridedSlice(masks: { begin: string; end: string; ellipsis: string; newAxis: string; shrink: string }) {
  return (c: ImportContext): void => {
    const mask = (key: string) => c.attr({ attr: key, type: 'number', default: 0 }) as number;
    const s = normalizeStridedSlice(c.tensor(c.input(0)).shape, c.constValues(1), c.constValues(2), c.constValues(3), {
      beginMask: mask(masks.begin), endMask: mask(masks.end), ellipsisMask: mask(masks.ellipsis),
      newAxisMask: mask(masks.newAxis), shrinkAxisMask: mask(masks.shrink),
    });
    c.emit('StridedSlice', [c.input(0)], { ...s });
  };
}

const importTfliteStridedSlice = importStridedSlice({ begin: 'beginMask', end: 'endMask', ellipsis: 'ellipsisMask', newAxis: 'newAxisMask', shrink: 'shrinkAxisMask' });

export const StridedSlice: OpDef = {
  op: 'StridedSlice',
  imports: {
    tfjsGraph: { StridedSlice: importStridedSlice({ begin: 'begin_mask', end: 'end_mask', ellipsis: 'ellipsis_mask', newAxis: 'new_axis_mask', shrink: 'shrink_axis_mask' }) },
    tflite: {
      STRIDED_SLICE(c) {
        if (c.attr({ attr: 'offset', type: 'bool' })) throw c.error('offset=true is not supported');
        importTfliteStridedSlice(c);
      },
    },
  },
  inferShapes([x], attrs) {
    const s = sliceAttrs(attrs);
    if (s.begin.length !== x.shape.length) throw new Error(`StridedSlice attrs have ${s.begin.length} dims for rank ${x.shape.length}`);
    return [stridedSliceShape(x.shape, s)];
  },
  runFloat(tf, [x], attrs) {
    const s = sliceAttrs(attrs);
    const box = unitStrideBox(x.shape, s);
    if (box) return [tf.reshape(sliceByRows(tf, x, box), stridedSliceShape(x.shape, s))];
    return [tf.stridedSlice(x, s.begin, s.end, s.strides, 0, s.endMask, 0, 0, s.shrinkAxisMask)];
  },
  quant: {
    rule: { output: 'same-as-input' },
    emit(ctx) {
      const { node } = ctx;
      const s = sliceAttrs(node.attrs);
      ctx.op(
        'STRIDED_SLICE',
        [
          ctx.activation(node.inputs[0]),
          ctx.int32Constant(`${node.name}/begin`, s.begin, [s.begin.length]),
          ctx.int32Constant(`${node.name}/end`, s.end, [s.end.length]),
          ctx.int32Constant(`${node.name}/strides`, s.strides, [s.strides.length]),
        ],
        [out0(ctx)],
        { beginMask: attrNumber(node.attrs, 'beginMask', 0), endMask: s.endMask, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: s.shrinkAxisMask, offset: false },
      );
    },
  },
  builtins: {
    STRIDED_SLICE: {
      options: 'StridedSliceOptions',
      version({ inputs: [x], inputRanks: [rank = 4], options }) {
        if (options.offset) return 8;
        if (options.ellipsisMask || options.newAxisMask) return 6;
        if (rank > 4) return 4;
        if (x === 'bool') return 3;
        return x === 'int8' ? 2 : 1;
      },
      runtime: ['1.6.0', '1.14.0', '2.1.0', '2.2.0', '2.5.0', '2.6.0', '2.14.0', '2.14.0'],
      kernel: { sameParams: [0] },
    },
  },
  examples: [
    {
      name: 'StridedSlice',
      build: (b) =>
        b.emit('ss', 'StridedSlice', [b.conv('c', b.input, 6)], { begin: [0, 1, 0, 2], end: [1, 7, 8, 6], strides: [1, 2, 1, 1], beginMask: 0, endMask: 0, shrinkAxisMask: 0 }),
    },
  ],
};
