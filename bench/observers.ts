// Benchmark (not a test): observer cost on a realistic activation set: the 195 activation tensors (50.1M floats) of
// YOLOv5n at 640x640 after the default passes (shapes counted from the real graph), filled with
// SiLU-of-Gaussian values. The float forward pass of that model costs ~0.2 s on the wasm backend.
import { calibrate, type CalibrationMethod } from '../lib/calibrate/calibrate.js';
import { gaussian } from '../test/support/random.js';

const YOLOV5N_640_ACTIVATIONS: Record<string, number> = {
  '1x644x644x3': 1, '1x320x320x16': 2, '1x322x322x16': 1, '1x160x160x32': 5, '1x160x160x16': 9,
  '1x162x162x32': 1, '1x80x80x64': 9, '1x80x80x32': 22, '1x82x82x64': 2, '1x40x40x128': 13,
  '1x40x40x64': 39, '1x42x42x128': 2, '1x20x20x256': 11, '1x20x20x128': 26, '1x20x20x512': 1,
  '1x40x40x256': 1, '1x80x80x128': 1, '1x80x80x255': 1, '1x6400x3x85': 2, '1x6400x3x2': 9,
  '1x6400x3x81': 2, '1x6400x3x0': 1, '1x19200x85': 1, '1x40x40x255': 1, '1x1600x3x85': 2,
  '1x1600x3x2': 9, '1x1600x3x81': 2, '1x1600x3x0': 1, '1x4800x85': 1, '1x20x20x255': 1,
  '1x400x3x85': 2, '1x400x3x2': 9, '1x400x3x81': 2, '1x400x3x0': 1, '1x1200x85': 1, '1x25200x85': 1,
};

// Run: npx tsx bench/observers.ts   (prints one line per calibration method)

async function main(): Promise<void> {
  const tensors: { name: string; data: Float32Array }[] = [];
  // one SiLU(N(0, 2)) buffer per distinct shape, shared by the tensors of that shape (the observers
  // do not care that the values repeat; this keeps the setup cheap)
  let seed = 1;
  for (const [shape, count] of Object.entries(YOLOV5N_640_ACTIVATIONS)) {
    const n = shape.split('x').reduce((a, b) => a * Number(b), 1);
    const data = gaussian(n, seed++, 0, 2).map((x) => x / (1 + Math.exp(-x)));
    for (let i = 0; i < count; i++) tensors.push({ name: `${shape}#${i}`, data });
  }
  const totalFloats = tensors.reduce((a, t) => a + t.data.length, 0);
  console.log(`${tensors.length} activation tensors, ${totalFloats} floats per image (YOLOv5n at 640)`);
  console.log('| method | observers, wall (ms/image) | observers, CPU (ms/image) | ns/float | range selection, 195 tensors (ms) |');
  console.log('|---|---|---|---|---|');
  for (const method of ['minmax', 'percentile', 'mse', 'entropy'] as CalibrationMethod[]) {
    const samples = 3;
    let forwardMs = 0;
    let cpuMicros = 0;
    const res = await calibrate({
      tensors: tensors.map((t) => t.name),
      samples: Array.from({ length: samples }, () => new Float32Array(1)),
      numSamples: samples,
      // this "forward" does nothing but report: its time is the observers' time
      forward: async (_x, onTensor) => {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        for (const t of tensors) onTensor(t.name, t.data);
        const c = process.cpuUsage(c0);
        cpuMicros += c.user + c.system;
        forwardMs += performance.now() - t0;
      },
      method,
    });
    const perImage = res.observeSeconds / samples;
    const cpuPerImage = cpuMicros / 1e6 / samples;
    const selection = res.seconds - forwardMs / 1000;
    console.log(
      `| ${method} | ${(perImage * 1000).toFixed(1)} | ${(cpuPerImage * 1000).toFixed(1)} | ${((cpuPerImage * 1e9) / totalFloats).toFixed(2)} | ${(selection * 1000).toFixed(0)} |`,
    );
  }
  console.log('(the float forward pass of YOLOv5n at 640 costs about 200 ms on the wasm backend)');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
