// Plain-text tables for the eval / compare / demo summaries.

/** Left-aligns the first column and right-aligns the others, two spaces apart, with a rule under the header. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Bytes as B / KB / MB (1000-based, like file managers). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1000).toFixed(1)} KB`;
  return `${(n / 1e6).toFixed(2)} MB`;
}

function formatMs(ms: number): string {
  return Number.isFinite(ms) ? `${ms.toFixed(1)} ms` : '-';
}

function formatMap(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : '-';
}

interface EvalRow {
  name: string;
  precision: number;
  recall: number;
  mAP50: number;
  mAP50_95: number;
  latencyMs: { median: number; p90: number };
  fileBytes: number;
}

/** The evaluation table shared by `eval` and `compare` (P and R as ultralytics val: at the max-F1 confidence). */
export function formatEvalTable(rows: EvalRow[]): string {
  return formatTable(
    ['model', 'P', 'R', 'mAP50', 'mAP50-95', 'latency median', 'latency p90', 'size'],
    rows.map((r) => [r.name, formatMap(r.precision), formatMap(r.recall), formatMap(r.mAP50), formatMap(r.mAP50_95), formatMs(r.latencyMs.median), formatMs(r.latencyMs.p90), formatBytes(r.fileBytes)]),
  );
}

interface ClassRow {
  classId: number;
  name?: string;
  images: number;
  instances: number;
  precision: number;
  recall: number;
  mAP50: number;
  mAP50_95: number;
}

/** The per-class table of `yolo val`: an 'all' row, then one row per class present in the labels. */
export function formatClassTable(all: Omit<ClassRow, 'classId'>, classes: ClassRow[]): string {
  const row = (name: string, r: Omit<ClassRow, 'classId'>) => [name, String(r.images), String(r.instances), formatMap(r.precision), formatMap(r.recall), formatMap(r.mAP50), formatMap(r.mAP50_95)];
  return formatTable(
    ['class', 'images', 'instances', 'P', 'R', 'mAP50', 'mAP50-95'],
    [row('all', all), ...classes.map((c) => row(c.name ?? `class ${c.classId}`, c))],
  );
}
