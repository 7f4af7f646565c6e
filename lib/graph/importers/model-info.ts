// What an exporter says about its model, read from where ultralytics puts it:
//   - TF.js exports: `metadata.yaml` beside model.json (task, names, kpt_shape, imgsz);
//   - TFLite exports: a zip archive appended to the flatbuffer holding one text file with a Python
//     dict literal of the same fields (TFLite ignores bytes after the flatbuffer).
// Only the few fields we use are read; anything unexpected is ignored, never an error (the model
// itself does not depend on them).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { ModelInfo } from '../../ir/graph.js';
import { readRegularTextFile } from '../../util/read-file.js';

/** Appended metadata larger than this is not an exporter's (ultralytics writes a few KiB). */
const MAX_METADATA_BYTES = 16 * 2 ** 20;

/** Reads `metadata.yaml` in a TF.js model folder (or beside a model.json / .tflite path). */
export function readModelInfoBeside(modelPath: string): ModelInfo | undefined {
  const dir = fs.statSync(modelPath, { throwIfNoEntry: false })?.isDirectory() ? modelPath : path.dirname(modelPath);
  const file = path.join(dir, 'metadata.yaml');
  if (!fs.existsSync(file)) return undefined;
  try {
    return fromFields(parseSimpleYaml(readRegularTextFile(file, 'metadata file', MAX_METADATA_BYTES)), file);
  } catch {
    return undefined;
  }
}

/** Reads the metadata zip ultralytics appends to its .tflite files, if any. */
export function readModelInfoFromTflite(bytes: Uint8Array, label = 'model.tflite'): ModelInfo | undefined {
  try {
    const text = readLastZipEntry(bytes);
    if (text === undefined) return undefined;
    const value = parsePythonLiteral(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    return fromFields(value as Record<string, unknown>, `${label} (embedded metadata)`);
  } catch {
    return undefined;
  }
}

function fromFields(f: Record<string, unknown>, from: string): ModelInfo | undefined {
  const info: ModelInfo = { from };
  if (typeof f.task === 'string') info.task = f.task;
  const names = f.names;
  if (Array.isArray(names)) info.names = names.map(String);
  else if (names && typeof names === 'object') {
    const entries = Object.entries(names as Record<string, unknown>).map(([k, v]) => [Number(k), String(v)] as const);
    if (entries.every(([k]) => Number.isInteger(k) && k >= 0)) {
      const list: string[] = [];
      for (const [k, v] of entries) list[k] = v;
      if (list.length === entries.length) info.names = list;
    }
  }
  const pair = (v: unknown): [number, number] | undefined =>
    Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(Number(x)) && Number(x) > 0) ? [Number(v[0]), Number(v[1])] : undefined;
  info.kptShape = pair(f.kpt_shape);
  info.imgsz = pair(f.imgsz);
  if (!info.kptShape) delete info.kptShape;
  if (!info.imgsz) delete info.imgsz;
  return Object.keys(info).length > 1 ? info : undefined;
}

/**
 * The subset of YAML ultralytics writes: top-level `key: value`, nested maps (`names:` then
 * `  0: person`) and lists (`imgsz:` then `- 640`). Values are strings or numbers.
 */
export function parseSimpleYaml(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let current: string | undefined;
  const scalar = (v: string): unknown => {
    const t = v.trim();
    if (/^'.*'$/.test(t)) return t.slice(1, -1).replace(/''/g, "'");
    if (/^".*"$/.test(t)) return t.slice(1, -1);
    if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
    return t;
  };
  for (const raw of text.split(/\r?\n/)) {
    if (!raw.trim() || raw.trim().startsWith('#')) continue;
    const indented = /^\s/.test(raw);
    const line = raw.trim();
    if (!indented) {
      // ultralytics writes list items of a top-level key unindented.
      if (line.startsWith('- ') && current) {
        if (!Array.isArray(out[current])) out[current] = [];
        (out[current] as unknown[]).push(scalar(line.slice(2)));
        continue;
      }
      const m = /^([^:]+):\s*(.*)$/.exec(line);
      if (!m) continue;
      current = m[1].trim();
      out[current] = m[2] === '' ? undefined : scalar(m[2]);
      continue;
    }
    if (!current) continue;
    if (line.startsWith('- ')) {
      if (!Array.isArray(out[current])) out[current] = [];
      (out[current] as unknown[]).push(scalar(line.slice(2)));
      continue;
    }
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    if (typeof out[current] !== 'object' || out[current] === null || Array.isArray(out[current])) out[current] = {};
    (out[current] as Record<string, unknown>)[String(scalar(m[1]))] = scalar(m[2]);
  }
  return out;
}

/** The text of the last file of a zip archive appended at the end of `bytes`, or undefined. */
export function readLastZipEntry(bytes: Uint8Array): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // End of central directory: signature 0x06054b50 within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 65557); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return undefined;
  const entries = view.getUint16(eocd + 10, true);
  const cdSize = view.getUint32(eocd + 12, true);
  // The archive may be appended: its offsets count from its own start, which lies cdSize + cdOffset before the EOCD.
  const cdOffsetRel = view.getUint32(eocd + 16, true);
  const cdStart = eocd - cdSize;
  const base = cdStart - cdOffsetRel;
  if (entries < 1 || cdStart < 0 || base < 0) return undefined;
  let p = cdStart;
  let last: { method: number; compressed: number; local: number } | undefined;
  for (let e = 0; e < entries; e++) {
    if (p + 46 > eocd || view.getUint32(p, true) !== 0x02014b50) return undefined;
    const method = view.getUint16(p + 10, true);
    const compressed = view.getUint32(p + 20, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const local = base + view.getUint32(p + 42, true);
    last = { method, compressed, local };
    p += 46 + nameLen + extraLen + commentLen;
  }
  if (!last || last.local + 30 > bytes.length || view.getUint32(last.local, true) !== 0x04034b50) return undefined;
  const dataStart = last.local + 30 + view.getUint16(last.local + 26, true) + view.getUint16(last.local + 28, true);
  if (dataStart + last.compressed > bytes.length) return undefined;
  const data = bytes.subarray(dataStart, dataStart + last.compressed);
  if (last.method === 0) return new TextDecoder().decode(data);
  // The metadata is a few KiB; a damaged or hostile archive may inflate to gigabytes (a zip bomb).
  if (last.method === 8) return new TextDecoder().decode(zlib.inflateRawSync(data, { maxOutputLength: MAX_METADATA_BYTES }));
  return undefined;
}

/** Parses a Python literal (dict, list, tuple, str, int, float, True/False/None), as `str(dict)` writes it. */
export function parsePythonLiteral(text: string): unknown {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === '{' || c === '[' || c === '(') {
      const close = c === '{' ? '}' : c === '[' ? ']' : ')';
      i++;
      const dict: Record<string, unknown> = {};
      const list: unknown[] = [];
      ws();
      while (text[i] !== close) {
        const k = value();
        ws();
        if (c === '{') {
          if (text[i] !== ':') throw new Error(`expected ':' at ${i}`);
          i++;
          dict[String(k)] = value();
        } else list.push(k);
        ws();
        if (text[i] === ',') i++;
        ws();
        if (i >= text.length) throw new Error('unterminated literal');
      }
      i++;
      return c === '{' ? dict : list;
    }
    if (c === "'" || c === '"') {
      let s = '';
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\' && i + 1 < text.length) {
          const n = text[i + 1];
          s += n === 'n' ? '\n' : n === 't' ? '\t' : n;
          i += 2;
        } else s += text[i++];
      }
      i++;
      return s;
    }
    const m = /^(True|False|None|-?[\d.]+(?:e-?\d+)?)/.exec(text.slice(i));
    if (!m) throw new Error(`unexpected '${c}' at ${i}`);
    i += m[0].length;
    return m[0] === 'True' ? true : m[0] === 'False' ? false : m[0] === 'None' ? null : Number(m[0]);
  };
  return value();
}
