// Schema-driven flatbuffer access for the TFLite schema: a bounds-checked reader that turns any table
// into a plain object, and a writer that turns plain objects back into tables.
// Both are driven by schema/generated/layout.ts (generated from schema/tflite.fbs), so every table of
// the schema (including all ~150 builtin options tables) is handled by the same few functions.
//
// Why not the flatc-generated accessors for reading: they trust every offset in the file, so a damaged
// file makes them read garbage, throw RangeErrors from DataView or allocate huge arrays. Here every
// offset, length and vector bound is checked against the buffer before it is used, and the total
// amount of data materialized is capped by a budget proportional to the input size (a file can make
// many tables point at the same large vector; the budget stops that from blowing up memory).
import * as flatbuffers from 'flatbuffers';
import { TABLES, UNIONS, type FieldLayout, type ElemLayout, type ScalarType } from '../../schema/generated/layout.js';

export const SCALAR_SIZE: Record<ScalarType, number> = {
  bool: 1, byte: 1, ubyte: 1, short: 2, ushort: 2, int: 4, uint: 4, float: 4, long: 8, ulong: 8, double: 8,
};

/** snake_case schema name -> camelCase plain-object key. */
export function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** A plain value read from a table: scalars as number/boolean, ubyte vectors as Uint8Array. */
export type PlainValue = number | boolean | string | null | number[] | boolean[] | string[] | Uint8Array | PlainObject | PlainObject[];
export interface PlainObject {
  [key: string]: PlainValue;
}

interface TableRef {
  pos: number;
  vtable: number;
  vtableSize: number;
  tableSize: number;
  name: string;
}

/** Bounds-checked reader over one flatbuffer. Every failure is an Error naming the label, place and offset. */
export class CheckedReader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly label: string;
  /** Remaining number of bytes the reader may still materialize (see the file comment). */
  private budget: number;

  constructor(bytes: Uint8Array, label: string) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.label = label;
    this.budget = 16 * bytes.byteLength + (1 << 20);
  }

  fail(message: string, at?: number): never {
    throw new Error(`${this.label}: invalid TFLite file: ${message}${at === undefined ? '' : ` (at byte ${at})`}`);
  }

  /** Charges `n` bytes of output against the budget. */
  charge(n: number, where: string): void {
    this.budget -= n;
    if (this.budget < 0) this.fail(`${where}: the file references more data than it could hold (shared or looping offsets?)`);
  }

  need(pos: number, size: number, what: string): void {
    if (!Number.isInteger(pos) || pos < 0 || size < 0 || pos + size > this.bytes.byteLength) {
      this.fail(`${what} lies outside the ${this.bytes.byteLength}-byte buffer (needs bytes ${pos}..${pos + size})`, pos);
    }
  }

  u8(pos: number): number { return this.view.getUint8(pos); }
  u16(pos: number): number { return this.view.getUint16(pos, true); }
  i32(pos: number): number { return this.view.getInt32(pos, true); }
  u32(pos: number): number { return this.view.getUint32(pos, true); }

  scalar(pos: number, type: ScalarType): number {
    const v = this.view;
    switch (type) {
      case 'bool': return v.getUint8(pos) ? 1 : 0;
      case 'byte': return v.getInt8(pos);
      case 'ubyte': return v.getUint8(pos);
      case 'short': return v.getInt16(pos, true);
      case 'ushort': return v.getUint16(pos, true);
      case 'int': return v.getInt32(pos, true);
      case 'uint': return v.getUint32(pos, true);
      case 'float': return v.getFloat32(pos, true);
      case 'double': return v.getFloat64(pos, true);
      case 'long': return Number(v.getBigInt64(pos, true));
      case 'ulong': return Number(v.getBigUint64(pos, true));
    }
  }

  /** Follows the uoffset stored at `pos`. */
  deref(pos: number, what: string): number {
    this.need(pos, 4, `${what} offset`);
    const target = pos + this.u32(pos);
    this.need(target, 4, what);
    return target;
  }

  /** Opens the table at `pos` and checks its vtable. */
  table(pos: number, name: string): TableRef {
    this.need(pos, 4, `table ${name}`);
    const vtable = pos - this.i32(pos);
    this.need(vtable, 4, `vtable of table ${name}`);
    const vtableSize = this.u16(vtable);
    const tableSize = this.u16(vtable + 2);
    if (vtableSize < 4 || vtableSize % 2 !== 0) this.fail(`vtable of table ${name} has a bad size ${vtableSize}`, vtable);
    this.need(vtable, vtableSize, `vtable of table ${name}`);
    if (tableSize < 4) this.fail(`table ${name} has a bad size ${tableSize}`, pos);
    this.need(pos, tableSize, `table ${name}`);
    return { pos, vtable, vtableSize, tableSize, name };
  }

  /** Absolute position of a field (0 when absent), checked to lie inside its table. */
  field(t: TableRef, slot: number, size: number, fieldName: string): number {
    const entry = 4 + 2 * slot;
    if (entry + 2 > t.vtableSize) return 0;
    const off = this.u16(t.vtable + entry);
    if (off === 0) return 0;
    if (off + size > t.tableSize) this.fail(`field ${t.name}.${fieldName} lies outside its table`, t.pos + off);
    return t.pos + off;
  }

  /** Position of the first element and the length of the vector whose offset is stored at `pos`. */
  vector(pos: number, elemSize: number, what: string): { start: number; length: number } {
    const v = this.deref(pos, what);
    const length = this.u32(v);
    const start = v + 4;
    if (length * elemSize > this.bytes.byteLength - start) {
      this.fail(`${what} claims ${length} elements of ${elemSize} bytes, more than the buffer holds`, v);
    }
    return { start, length };
  }

  string(pos: number, what: string): string {
    const { start, length } = this.vector(pos, 1, what);
    // The flatbuffer verifier (which LiteRT runs) requires the NUL after a string's bytes.
    if (start + length >= this.bytes.byteLength || this.bytes[start + length] !== 0) this.fail(`${what}: the string of ${length} bytes has no terminating NUL`, start);
    this.charge(length + 16, what);
    return new TextDecoder('utf-8', { fatal: false }).decode(this.bytes.subarray(start, start + length));
  }

  /** Reads a whole table of the schema as a plain object (camelCase keys, absent fields as defaults / null). */
  readTable(pos: number, tableName: string, path: string): PlainObject {
    const layout = TABLES[tableName];
    if (!layout) throw new Error(`internal: unknown table ${tableName}`);
    const t = this.table(pos, tableName);
    this.charge(16 * (layout.length + 1), path);
    const out: PlainObject = {};
    for (const f of layout) {
      if (f.deprecated) continue;
      out[camelCase(f.name)] = this.readField(t, f, `${path}.${f.name}`);
    }
    // readField returns unions as {type, value}; the plain form is `<name>Type` next to `<name>`.
    for (const f of layout) {
      if (f.kind !== 'union' || f.deprecated) continue;
      const value = out[camelCase(f.name)] as unknown as { type: number; value: PlainObject | null };
      out[`${camelCase(f.name)}Type`] = value.type;
      out[camelCase(f.name)] = value.value;
    }
    return out;
  }

  private readField(t: TableRef, f: FieldLayout, path: string): PlainValue {
    switch (f.kind) {
      case 'scalar': {
        const at = this.field(t, f.slot, SCALAR_SIZE[f.type], f.name);
        const v = at ? this.scalar(at, f.type) : f.default;
        return f.type === 'bool' ? v !== 0 : v;
      }
      case 'string': {
        const at = this.field(t, f.slot, 4, f.name);
        return at ? this.string(at, path) : null;
      }
      case 'table': {
        const at = this.field(t, f.slot, 4, f.name);
        return at ? this.readTable(this.deref(at, path), f.table, path) : null;
      }
      case 'union': {
        const tagAt = this.field(t, f.slot - 1, 1, `${f.name}_type`);
        const type = tagAt ? this.u8(tagAt) : 0;
        const at = this.field(t, f.slot, 4, f.name);
        if (type === 0) return { type: 0, value: null } as unknown as PlainObject;
        const member = UNIONS[f.union][type - 1];
        if (!member) this.fail(`${path}: union ${f.union} type ${type} is not in this schema (it has ${UNIONS[f.union].length} members)`, tagAt);
        const value = at ? this.readTable(this.deref(at, path), member, `${path}<${member}>`) : null;
        return { type, value } as unknown as PlainObject;
      }
      case 'vector': {
        const at = this.field(t, f.slot, 4, f.name);
        if (!at) return null;
        return this.readVector(at, f.elem, path);
      }
    }
  }

  private readVector(at: number, elem: ElemLayout, path: string): PlainValue {
    if (elem.kind === 'scalar') {
      const size = SCALAR_SIZE[elem.type];
      const { start, length } = this.vector(at, size, path);
      if (elem.type === 'ubyte') {
        this.charge(length, path);
        return this.bytes.slice(start, start + length);
      }
      this.charge(8 * length + 16, path);
      const out = new Array<number | boolean>(length);
      for (let i = 0; i < length; i++) {
        const v = this.scalar(start + i * size, elem.type);
        out[i] = elem.type === 'bool' ? v !== 0 : v;
      }
      return out as number[] | boolean[];
    }
    const { start, length } = this.vector(at, 4, path);
    this.charge(8 * length + 16, path);
    if (elem.kind === 'string') {
      const out: string[] = [];
      for (let i = 0; i < length; i++) out.push(this.string(start + 4 * i, `${path}[${i}]`));
      return out;
    }
    const out: PlainObject[] = [];
    for (let i = 0; i < length; i++) {
      out.push(this.readTable(this.deref(start + 4 * i, `${path}[${i}]`), elem.table, `${path}[${i}]`));
    }
    return out;
  }
}

// ------------------------------------------------------------------------------------------------
// Writing

/** Access to Builder internals needed to copy a large byte vector in one `set` instead of per byte. */
interface BuilderInternals {
  bb: flatbuffers.ByteBuffer;
  space: number;
}

function writeByteVector(b: flatbuffers.Builder, data: Uint8Array, align: number): flatbuffers.Offset {
  b.startVector(1, data.length, align);
  const inner = b as unknown as BuilderInternals;
  inner.space -= data.length;
  inner.bb.bytes().set(data, inner.space);
  return b.endVector();
}

function addScalar(b: flatbuffers.Builder, type: ScalarType, v: number): void {
  switch (type) {
    case 'bool': case 'byte': case 'ubyte': b.addInt8(v); break;
    case 'short': case 'ushort': b.addInt16(v); break;
    case 'int': case 'uint': b.addInt32(v); break;
    case 'float': b.addFloat32(v); break;
    case 'double': b.addFloat64(v); break;
    case 'long': case 'ulong': b.addInt64(BigInt(Math.trunc(v))); break;
  }
}

function addScalarField(b: flatbuffers.Builder, slot: number, type: ScalarType, v: number, def: number): void {
  switch (type) {
    case 'bool': case 'byte': case 'ubyte': b.addFieldInt8(slot, v, def); break;
    case 'short': case 'ushort': b.addFieldInt16(slot, v, def); break;
    case 'int': case 'uint': b.addFieldInt32(slot, v, def); break;
    case 'float': b.addFieldFloat32(slot, v, def); break;
    case 'double': b.addFieldFloat64(slot, v, def); break;
    case 'long': case 'ulong': b.addFieldInt64(slot, BigInt(Math.trunc(v)), BigInt(def)); break;
  }
}

function toNumber(v: unknown, where: string): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  throw new Error(`${where}: expected a number, got ${v === null ? 'null' : typeof v}`);
}

/**
 * Writes `obj` (camelCase keys, as readTable returns) as a table of `tableName`; returns its offset.
 * Unknown keys are an error, so a typo in an options object does not silently write a default.
 */
export function writeTable(b: flatbuffers.Builder, tableName: string, obj: Record<string, unknown>, where: string): flatbuffers.Offset {
  const layout = TABLES[tableName];
  if (!layout) throw new Error(`${where}: unknown table ${tableName}`);
  const known = new Set<string>();
  for (const f of layout) {
    known.add(camelCase(f.name));
    if (f.kind === 'union') known.add(`${camelCase(f.name)}Type`);
  }
  for (const k of Object.keys(obj)) {
    if (!known.has(k) && obj[k] !== undefined) {
      throw new Error(`${where}: ${tableName} has no field '${k}' (fields: ${[...known].join(', ')})`);
    }
  }
  // Children first: flatbuffers cannot nest object construction.
  const offsets = new Map<number, flatbuffers.Offset>();
  const unionTypes = new Map<number, number>();
  for (const f of layout) {
    if (f.deprecated) continue;
    const key = camelCase(f.name);
    const v = obj[key];
    if (v === undefined || v === null) continue;
    const fw = `${where}.${key}`;
    if (f.kind === 'string') {
      if (typeof v !== 'string') throw new Error(`${fw}: expected a string`);
      offsets.set(f.slot, b.createString(v));
    } else if (f.kind === 'table') {
      offsets.set(f.slot, writeTable(b, f.table, v as Record<string, unknown>, fw));
    } else if (f.kind === 'union') {
      const type = toNumber(obj[`${key}Type`], `${fw}Type`);
      const member = UNIONS[f.union][type - 1];
      if (!member) throw new Error(`${fw}Type: ${type} is not a ${f.union} member`);
      offsets.set(f.slot, writeTable(b, member, v as Record<string, unknown>, `${fw}<${member}>`));
      unionTypes.set(f.slot - 1, type);
    } else if (f.kind === 'vector') {
      offsets.set(f.slot, writeVector(b, f.elem, v, f.align ?? 0, fw));
    }
  }
  const numSlots = layout.reduce((m, f) => Math.max(m, f.slot + 1), 0);
  b.startObject(numSlots);
  for (const f of layout) {
    if (f.deprecated) continue;
    const key = camelCase(f.name);
    if (f.kind === 'scalar') {
      const v = obj[key];
      if (v === undefined || v === null) continue;
      addScalarField(b, f.slot, f.type, toNumber(v, `${where}.${key}`), f.default);
    } else if (offsets.has(f.slot)) {
      if (f.kind === 'union') b.addFieldInt8(f.slot - 1, unionTypes.get(f.slot - 1)!, 0);
      b.addFieldOffset(f.slot, offsets.get(f.slot)!, 0);
    }
  }
  return b.endObject();
}

/**
 * Scalar vectors already written by a builder, by content: identical small vectors (the per-channel
 * zero points of every 64-channel conv are the same 64 zeros, 8 bytes each) are written once and
 * referenced from every table that has them - legal in flatbuffers (an offset is just an offset) and
 * about 90 KB less in a per-channel YOLOv8n. Deterministic: the same model gives the same bytes.
 */
const sharedVectors = new WeakMap<flatbuffers.Builder, Map<string, flatbuffers.Offset>>();
const MAX_SHARED_VECTOR = 4096;

function writeVector(b: flatbuffers.Builder, elem: ElemLayout, v: unknown, align: number, where: string): flatbuffers.Offset {
  if (elem.kind === 'scalar') {
    if (elem.type === 'ubyte' && v instanceof Uint8Array) return writeByteVector(b, v, Math.max(align, 1));
    if (!Array.isArray(v) && !ArrayBuffer.isView(v)) throw new Error(`${where}: expected an array`);
    const arr = Array.from(v as ArrayLike<unknown>);
    const size = SCALAR_SIZE[elem.type];
    const nums = arr.map((x, i) => toNumber(x, `${where}[${i}]`));
    let cache = sharedVectors.get(b);
    if (!cache) sharedVectors.set(b, (cache = new Map()));
    const key = arr.length <= MAX_SHARED_VECTOR ? `${elem.type}/${Math.max(align, size)}:${nums.join(',')}` : undefined;
    const known = key !== undefined ? cache.get(key) : undefined;
    if (known !== undefined) return known;
    b.startVector(size, nums.length, Math.max(align, size));
    for (let i = nums.length - 1; i >= 0; i--) addScalar(b, elem.type, nums[i]);
    const off = b.endVector();
    if (key !== undefined) cache.set(key, off);
    return off;
  }
  if (!Array.isArray(v)) throw new Error(`${where}: expected an array`);
  const offs = v.map((item, i) => (elem.kind === 'string'
    ? b.createString(String(item))
    : writeTable(b, elem.table, item as Record<string, unknown>, `${where}[${i}]`)));
  b.startVector(4, offs.length, 4);
  for (let i = offs.length - 1; i >= 0; i--) b.addOffset(offs[i]);
  return b.endVector();
}
