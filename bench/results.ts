// Writes one benchmark's section of bench/RESULTS.md, between its own markers, leaving the rest of
// the file as it is (a new section is appended under `heading` the first time).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const RESULTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'RESULTS.md');

export function writeResultsSection(script: string, command: string, heading: string, body: string): void {
  const begin = `<!-- ${script}: begin -->`;
  const end = `<!-- ${script}: end -->`;
  const section = `${begin}\nCommand: \`${command}\` (${script})\n\n${body}\n${end}`;
  let text = fs.existsSync(RESULTS) ? fs.readFileSync(RESULTS, 'utf8') : '# Benchmark results\n\n';
  if (text.includes(begin) && text.includes(end)) {
    text = text.slice(0, text.indexOf(begin)) + section + text.slice(text.indexOf(end) + end.length);
  } else text += `\n## ${heading}\n\n${section}\n`;
  fs.writeFileSync(RESULTS, text);
  console.log(`\nwritten to ${path.relative(process.cwd(), RESULTS)}`);
}

/** A log that prints and keeps its lines for the RESULTS.md section, starting with the machine line. */
export function resultsLog(): { log: (s: string) => void; lines: string[] } {
  const lines: string[] = [];
  const log = (s: string) => {
    console.log(s);
    lines.push(s);
  };
  log(`machine: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; ${new Date().toISOString().slice(0, 10)}`);
  log('');
  return { log, lines };
}

/**
 * Latency interleaved (lib/runtime/latency.ts): every image through every model in turn (rotating
 * the order), so that load from elsewhere on the machine falls on all models alike; median and p90
 * LiteRT run time per model.
 */
export async function interleavedLatency(files: string[], imageFiles: string[]): Promise<{ median: number; p90: number }[]> {
  const { loadYoloModel } = await import('../lib/yolo/evaluate.js');
  const { interleavedRunTimes } = await import('../lib/runtime/latency.js');
  const { percentile } = await import('../lib/util/stats.js');
  const models: Awaited<ReturnType<typeof loadYoloModel>>[] = [];
  for (const f of files) models.push(await loadYoloModel(f));
  try {
    const times = await interleavedRunTimes(models.map((m) => m.runner), imageFiles.length, async (k, i) => [(await models[k].prepare(imageFiles[i])).data]);
    return times.map((t) => ({ median: percentile(t, 50), p90: percentile(t, 90) }));
  } finally {
    for (const m of models) m.runner.dispose();
  }
}
