// Sparse TFLite constants (schema.fbs SparsityParameters) made dense at import.
//
// A sparse tensor stores only some of its values, in the order of a traversal of its dimensions:
// `traversalOrder` lists the n original dimensions in the order they are walked, followed by k block
// dimensions (numbered n..n+k-1; block dimension b splits original dimension blockMap[b] into blocks
// of the block dimension's size). `dimMetadata[level]` describes the dimension walked at that level:
// DENSE walks every index 0..denseSize-1; SPARSE_CSR walks only the indices
// arrayIndices[arraySegments[p]..arraySegments[p+1]-1], where p is the position reached at the level
// above (for a dense level above, the flat position of the indices walked so far; for a sparse one,
// the index into its arrayIndices). Each leaf of the walk consumes the next stored value; every
// position no leaf reaches is zero (the stored type's zero: the raw 0 of quantized integers).

/** One walked dimension, its index arrays decoded to plain numbers. */
export interface SparseLevel {
  format: 'dense' | 'sparse';
  /** DENSE: the dimension's size (a block dimension's block size). */
  denseSize: number;
  /** SPARSE_CSR: segment boundaries, one more than the positions of the level above. */
  segments: number[];
  /** SPARSE_CSR: the indices of the stored entries. */
  indices: number[];
}

export interface Sparsity {
  traversalOrder: number[];
  blockMap: number[];
  levels: SparseLevel[];
}

/** A limit on the walk, so a damaged file cannot make it run for ever. */
const MAX_LEAVES = 2 ** 28;

/** Int32Vector / Uint16Vector / Uint8Vector as the reader decodes them ({ values }) -> numbers. */
function indexVector(v: unknown, type: unknown, where: string): number[] {
  if (v === null || v === undefined) return [];
  const values = (v as { values?: unknown }).values;
  if (![1, 2, 3].includes(Number(type))) throw new Error(`${where}: index vector type ${String(type)} is not Int32Vector, Uint16Vector or Uint8Vector`);
  if (values === null || values === undefined) return [];
  if (!(values instanceof Uint8Array) && !Array.isArray(values)) throw new Error(`${where}: index vector has no values`);
  return Array.from(values as ArrayLike<number>, Number);
}

/** The reader's plain SparsityParameters object -> Sparsity (formats and index vectors decoded). */
export function sparsityOf(raw: Record<string, unknown>, where: string): Sparsity {
  const ints = (v: unknown) => (Array.isArray(v) ? v.map(Number) : []);
  const dims = Array.isArray(raw.dimMetadata) ? (raw.dimMetadata as Record<string, unknown>[]) : [];
  const levels = dims.map((d, i): SparseLevel => {
    const at = `${where}: sparsity dim_metadata[${i}]`;
    const format = Number(d.format ?? 0);
    if (format !== 0 && format !== 1) throw new Error(`${at}: format ${format} is neither DENSE (0) nor SPARSE_CSR (1)`);
    return {
      format: format === 0 ? 'dense' : 'sparse',
      denseSize: Number(d.denseSize ?? 0),
      segments: format === 1 ? indexVector(d.arraySegments, d.arraySegmentsType, `${at} array_segments`) : [],
      indices: format === 1 ? indexVector(d.arrayIndices, d.arrayIndicesType, `${at} array_indices`) : [],
    };
  });
  return { traversalOrder: ints(raw.traversalOrder), blockMap: ints(raw.blockMap), levels };
}

/** Checks the parameters against the dense shape; returns each block dimension's block size. */
function checkSparsity(shape: readonly number[], sp: Sparsity, where: string): number[] {
  const n = shape.length;
  const k = sp.blockMap.length;
  const order = sp.traversalOrder;
  if (order.length !== n + k || sp.levels.length !== n + k) {
    throw new Error(`${where}: sparsity has ${order.length} traversal entries and ${sp.levels.length} dim_metadata for a rank-${n} tensor with ${k} block dimensions (${n + k} expected)`);
  }
  const sorted = [...order].sort((a, b) => a - b);
  if (sorted.some((d, i) => d !== i)) throw new Error(`${where}: sparsity traversal_order [${order}] is not a permutation of 0..${n + k - 1}`);
  if (order.slice(0, n).some((d) => d >= n)) throw new Error(`${where}: sparsity traversal_order [${order}] must walk the ${n} original dimensions before the block dimensions`);
  const blockSizes = sp.blockMap.map((dim, b) => {
    const level = sp.levels[order.indexOf(n + b)];
    if (!(dim >= 0 && dim < n) || sp.blockMap.indexOf(dim) !== b) throw new Error(`${where}: sparsity block_map [${sp.blockMap}] must name distinct dimensions below ${n}`);
    if (level.format !== 'dense' || !(level.denseSize > 0) || shape[dim] % level.denseSize !== 0) {
      throw new Error(`${where}: block dimension ${b} must be dense with a size dividing dimension ${dim} (${shape[dim]})`);
    }
    return level.denseSize;
  });
  order.forEach((d, level) => {
    const l = sp.levels[level];
    const size = d < n ? shape[d] / (blockSizes[sp.blockMap.indexOf(d)] ?? 1) : blockSizes[d - n];
    if (l.format === 'dense' && l.denseSize !== size) throw new Error(`${where}: sparsity dim_metadata[${level}] dense_size ${l.denseSize} does not match the dimension's size ${size}`);
    if (l.format === 'sparse' && l.indices.some((x) => !(x >= 0 && x < size))) throw new Error(`${where}: sparsity dim_metadata[${level}] has an index outside 0..${size - 1}`);
  });
  return blockSizes;
}

/**
 * For each stored value (in storage order), its flat index in the dense tensor of `shape`
 * (schema.fbs SparsityParameters; sparsity_format_converter.cc walks the same way).
 */
export function sparseToDenseIndices(shape: readonly number[], sp: Sparsity, where: string): Int32Array {
  const blockSizes = checkSparsity(shape, sp, where);
  const n = shape.length;
  const depth = sp.levels.length;
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out: number[] = [];
  const idx = new Array<number>(depth).fill(0);
  const leaf = () => {
    const orig = new Array<number>(n).fill(0);
    for (let level = 0; level < depth; level++) {
      const d = sp.traversalOrder[level];
      if (d < n) orig[d] = idx[level];
      else orig[sp.blockMap[d - n]] = orig[sp.blockMap[d - n]] * blockSizes[d - n] + idx[level];
    }
    if (out.length >= MAX_LEAVES) throw new Error(`${where}: sparsity describes more than ${MAX_LEAVES} stored values`);
    out.push(orig.reduce((s, v, i) => s + v * strides[i], 0));
  };
  // Depth-first walk; `position` is the walk's position at the level above (see the file comment).
  const walk = (level: number, position: number): void => {
    if (level === depth) return leaf();
    const l = sp.levels[level];
    if (l.format === 'dense') {
      for (let i = 0; i < l.denseSize; i++) {
        idx[level] = i;
        walk(level + 1, position * l.denseSize + i);
      }
      return;
    }
    if (position + 1 >= l.segments.length) throw new Error(`${where}: sparsity dim_metadata[${level}] has ${l.segments.length} segments, position ${position} needs ${position + 2}`);
    const [from, to] = [l.segments[position], l.segments[position + 1]];
    if (!(from >= 0 && from <= to && to <= l.indices.length)) throw new Error(`${where}: sparsity dim_metadata[${level}] segment ${position} [${from}, ${to}) is outside its ${l.indices.length} indices`);
    for (let i = from; i < to; i++) {
      idx[level] = l.indices[i];
      walk(level + 1, i);
    }
  };
  walk(0, 0);
  const seen = new Set(out);
  if (seen.size !== out.length) throw new Error(`${where}: sparsity stores a dense position twice`);
  return Int32Array.from(out);
}

/** The dense values of a sparse tensor: `stored` in storage order, zeros elsewhere. */
export function densify(stored: ArrayLike<number>, shape: readonly number[], sp: Sparsity, where: string): Float64Array {
  const positions = sparseToDenseIndices(shape, sp, where);
  if (positions.length !== stored.length) throw new Error(`${where}: sparsity describes ${positions.length} stored values, the buffer holds ${stored.length}`);
  const dense = new Float64Array(shape.reduce((a, b) => a * b, 1));
  positions.forEach((p, i) => { dense[p] = stored[i]; });
  return dense;
}

/** Byte-level densify: each stored element of `elementSize` bytes copied to its dense position. */
export function densifyBytes(stored: Uint8Array, elementSize: number, shape: readonly number[], sp: Sparsity, where: string): Uint8Array {
  const positions = sparseToDenseIndices(shape, sp, where);
  if (positions.length * elementSize !== stored.byteLength) {
    throw new Error(`${where}: sparsity describes ${positions.length} stored values (${positions.length * elementSize} bytes), the buffer has ${stored.byteLength} bytes`);
  }
  const dense = new Uint8Array(shape.reduce((a, b) => a * b, 1) * elementSize);
  positions.forEach((p, i) => dense.set(stored.subarray(i * elementSize, (i + 1) * elementSize), p * elementSize));
  return dense;
}
