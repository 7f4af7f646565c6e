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

/**
 * The accuracy-and-speed table of a YOLO bench: every model evaluated on coco128 images 65-128 and
 * timed interleaved; ratios against the model at `officialIndex`. Returns the mAP50-95 of each row.
 */
export async function yoloAccuracyTable(models: [string, string][], officialIndex: number, images: string, log: (s: string) => void): Promise<{ name: string; mAP50_95: number }[]> {
  const { listImageFiles } = await import('../lib/quantize/dataset.js');
  const { evaluate } = await import('../lib/yolo/evaluate.js');
  const fmt = (x: number, d = 4): string => x.toFixed(d);
  log('### Accuracy and speed on coco128 images 65-128 (LiteRT, wasm/XNNPACK, same run; v8 val NMS: conf 0.001, IoU 0.7, 300 boxes)');
  log('');
  log('| model | mAP50 | mAP50-95 | latency median (ms, interleaved) | latency p90 (ms) | size (bytes) | latency / official | size / official |');
  log('|---|---|---|---|---|---|---|---|');
  const results = [];
  for (const [name, file] of models) results.push({ name, r: await evaluate(file, { images, offset: 64, limit: 64 }) });
  // Latency interleaved: every image through every model in turn (rotating the order), so that load
  // from elsewhere on the machine falls on all models alike; median LiteRT run time per model.
  const latency = await interleavedLatency(models.map(([, f]) => f), listImageFiles(images).slice(64, 128));
  const off = results[officialIndex].r;
  results.forEach(({ name, r }, k) => {
    log(
      `| ${name} | ${fmt(r.mAP50)} | ${fmt(r.mAP50_95)} | ${fmt(latency[k].median, 1)} | ${fmt(latency[k].p90, 1)} | ${r.fileBytes} | ` +
        `${fmt(latency[k].median / latency[officialIndex].median, 2)} | ${fmt(r.fileBytes / off.fileBytes, 3)} |`,
    );
  });
  return results.map(({ name, r }) => ({ name, mAP50_95: r.mAP50_95 }));
}
