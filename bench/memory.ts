// Calibration memory must not grow with the number of calibration images: quantizes YOLOv5n (TF.js
// graph model, 640x640 input) with 64 and with 512 calibration samples, each in its own child
// process, and compares the children's peak resident set size (VmHWM / maxRSS at the end).
// The 512 samples cycle coco128 images 1-64 (sorted by name), decoded and letterboxed one at a time
// by the library's own dataset reader, exactly as a user's image directory would be.
// Run: npx tsx bench/memory.ts [--samples 64,512] [--backend wasm|cpu]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const thisFile = fileURLToPath(import.meta.url);
const root = path.resolve(path.dirname(thisFile), '..');
const fixtures = path.resolve(root, '../shared/fixtures');
const modelDir = path.join(fixtures, 'yolov5n_web_model');
const imageDir = path.join(fixtures, 'coco128/images');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Peak resident set size of this process in MiB (Linux VmHWM; maxRSS elsewhere). */
function peakRssMiB(): number {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}

interface ChildResult {
  samples: number;
  peakRssMiB: number;
  seconds: number;
  calibrationSeconds: number;
  fileBytes: number;
}

async function child(samples: number, backend: 'wasm' | 'cpu'): Promise<void> {
  const { quantizeInt8 } = await import('../lib/yolo/quantize.js');
  const calibrationImages = fs.readdirSync(imageDir).filter((f) => f.endsWith('.jpg')).sort().slice(0, 64);
  // A list of paths is read lazily, one image per forward pass; repeating names costs nothing.
  const list = Array.from({ length: samples }, (_, i) => path.join(imageDir, calibrationImages[i % calibrationImages.length]));
  const t0 = performance.now();
  const { report } = await quantizeInt8(modelDir, { representativeDataset: list, numCalibrationSamples: samples, backend });
  if (report.calibration.samples !== samples) throw new Error(`calibrated on ${report.calibration.samples} samples, expected ${samples}`);
  const result: ChildResult = {
    samples,
    peakRssMiB: peakRssMiB(),
    seconds: (performance.now() - t0) / 1000,
    calibrationSeconds: report.timings.calibrationSeconds,
    fileBytes: report.fileBytes,
  };
  console.log(`RESULT ${JSON.stringify(result)}`);
}

async function main(): Promise<void> {
  const backend = (arg('--backend') ?? 'wasm') as 'wasm' | 'cpu';
  const childSamples = arg('--child');
  if (childSamples) return child(Number(childSamples), backend);
  if (!fs.existsSync(modelDir)) {
    console.log(`fixtures not found at ${fixtures}; nothing to measure`);
    return;
  }
  const counts = (arg('--samples') ?? '64,512').split(',').map(Number);
  const results: ChildResult[] = [];
  for (const n of counts) {
    // A fresh process per run, so one run's peak cannot hide in the other's.
    const r = spawnSync(process.execPath, [...process.execArgv, thisFile, '--child', String(n), '--backend', backend], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (r.status !== 0 || !line) throw new Error(`child with ${n} samples failed (status ${r.status}):\n${r.stderr}\n${r.stdout}`);
    const res = JSON.parse(line.slice(7)) as ChildResult;
    console.error(`  ${n} samples: peak RSS ${res.peakRssMiB.toFixed(1)} MiB, ${res.seconds.toFixed(1)} s`);
    results.push(res);
  }
  console.log(`\nYOLOv5n TF.js graph model, 640x640, backend ${backend}, calibration images cycling coco128 1-64\n`);
  console.log('| calibration samples | peak RSS (MiB) | total time (s) | calibration (s) | output bytes |');
  console.log('|---|---|---|---|---|');
  for (const r of results) {
    console.log(`| ${r.samples} | ${r.peakRssMiB.toFixed(1)} | ${r.seconds.toFixed(1)} | ${r.calibrationSeconds.toFixed(1)} | ${r.fileBytes} |`);
  }
  if (results.length >= 2) {
    const a = results[0], b = results[results.length - 1];
    const ratio = b.peakRssMiB / a.peakRssMiB;
    const diff = Math.abs(ratio - 1) * 100;
    console.log(`\npeak RSS ratio ${b.samples}/${a.samples} samples: ${ratio.toFixed(3)} (${diff.toFixed(1)}% difference; requirement < 10%: ${diff < 10 ? 'PASS' : 'FAIL'})`);
    if (diff >= 10) process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
