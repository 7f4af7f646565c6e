// `yolo-int8 analyze` end to end on the small graph with one sensitive layer (written as a float
// .tflite) and generated noise images: the table, --json, and the --chart PNG (decoded: its size and
// the bars, whose lengths must follow the JSON's SQNRs).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Jimp } from 'jimp';
import { exportFloatTflite } from '../../lib/yolo/quantize.js';
import { BAR_COLOR } from '../../lib/cli/chart.js';
import { sensitiveGraph } from '../support/sensitive-graph.js';
import { lcg as rng } from '../support/random.js';
import { runCli } from '../support/cli.js';

describe('cli: analyze (small graph with one sensitive layer)', function () {
  this.timeout(60_000);
  let work: string;
  let model: string;
  let images: string;

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-analyze-'));
    model = path.join(work, 'sensitive.tflite');
    fs.writeFileSync(model, (await exportFloatTflite(sensitiveGraph(), { backend: 'wasm' })).tflite);
    images = path.join(work, 'images');
    fs.mkdirSync(images);
    const r = rng(3);
    for (let k = 0; k < 6; k++) {
      const img = new Jimp({ width: 8, height: 8, color: 0xffffffff });
      for (let i = 0; i < img.bitmap.data.length; i++) img.bitmap.data[i] = i % 4 === 3 ? 255 : Math.floor(r() * 256);
      fs.writeFileSync(path.join(images, `n${k}.png`), await img.getBuffer('image/png'));
    }
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('prints the table of the worst layers (the sensitive one first)', async () => {
    const r = await runCli(['analyze', model, '--calib', images, '--num', '6', '--top', '3', '--quiet']);
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/sensitivity \(raise-one: int8 model with one layer raised to int16\) of 4 layers on 4 image\(s\)/);
    const rows = r.stdout.split('\n').filter((l) => /^\d+\s/.test(l));
    expect(rows).to.have.length(3);
    expect(rows[0]).to.match(/^1\s+hot\s+Conv2D\s+-?[\d.]+/);
  });

  it('--json and --chart: the JSON result, and a PNG whose bars follow the SQNRs', async () => {
    const chart = path.join(work, 'chart.png');
    const r = await runCli(['analyze', model, '--calib', images, '--num', '6', '--top', '4', '--chart', chart, '--json', '--quiet']);
    expect(r.code, r.stderr).to.equal(0);
    const json = JSON.parse(r.stdout);
    expect(json.command).to.equal('analyze');
    expect(json.chart).to.equal(chart);
    const layers = json.result.layers as { node: string; sqnrDb: number | null; rank: number }[];
    expect(layers.map((l) => l.node)).to.have.members(['c1', 'silu1', 'hot', 'out']);
    expect(layers[0].node).to.equal('hot');
    expect(layers.map((l) => l.rank)).to.deep.equal([1, 2, 3, 4]);

    const img = await Jimp.read(chart);
    const { width, height, data } = img.bitmap;
    expect(width).to.equal(900);
    // Title band 30 px, padding 10 px above and below, 22 px per bar.
    expect(height).to.equal(30 + 20 + 4 * 22);
    const barPixels = (row: number) => {
      const y = 30 + 10 + row * 22 + 11;
      let n = 0;
      for (let x = 0; x < width; x++) {
        const o = (y * width + x) * 4;
        if (data[o] === (BAR_COLOR >> 16) && data[o + 1] === ((BAR_COLOR >> 8) & 255) && data[o + 2] === (BAR_COLOR & 255)) n++;
      }
      return n;
    };
    const widths = [0, 1, 2, 3].map(barPixels);
    expect(widths[0]).to.be.greaterThan(300);
    // Bar length = the noise power each layer adds (10^(-SQNR/10)), relative to the worst.
    const noise = layers.map((l) => (l.sqnrDb === null ? 0 : 10 ** (-l.sqnrDb / 10)));
    for (let i = 1; i < 4; i++) expect(widths[i], `bar ${i}`).to.be.closeTo((noise[i] / noise[0]) * widths[0], 1.5);
  });

  it('bad arguments are usage errors naming the option', async () => {
    let r = await runCli(['analyze', model, '--calib', images, '--by', 'all']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/--by must be one of raise-one, only-int8/);
    r = await runCli(['analyze', model]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/--calib <images> is required/);
    r = await runCli(['analyze', model, '--calib', images, '--layers', 'nosuch', '--quiet']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/layers 'nosuch' matches none of the 4 int8 layers; close names/);
    r = await runCli(['quantize', model, '--calib', images, '-o', path.join(work, 'x.tflite'), '--max-drop', '0.5']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/--val <dataset> is required/);
    expect(fs.existsSync(path.join(work, 'x.tflite'))).to.equal(false);
  });

  it('quantize --max-drop with an unlabelled --val: an error naming the labels, and no file written', async () => {
    const out = path.join(work, 'y.tflite');
    const r = await runCli(['quantize', model, '--calib', images, '--num', '6', '-o', out, '--max-drop', '0.5', '--val', images, '--quiet']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/none of the 6 images has a YOLO label file/);
    expect(fs.existsSync(out)).to.equal(false);
  });

  it('quantize --min-sqnr --prefer latency: layers raised to float only; a bad --prefer is a usage error and writes nothing', async () => {
    const out = path.join(work, 'lat.tflite');
    const r = await runCli(['quantize', model, '--calib', images, '--num', '6', '-o', out, '--min-sqnr', '30', '--val', images, '--prefer', 'latency', '--quiet']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/layers raised \(\d+\): hot -> float/);
    expect(r.stdout).to.match(/layers raised to float only \(prefer latency\)/);
    expect(fs.existsSync(out)).to.equal(true);
    const bad = path.join(work, 'bad-prefer.tflite');
    const e = await runCli(['quantize', model, '--calib', images, '--num', '6', '-o', bad, '--min-sqnr', '30', '--val', images, '--prefer', 'speed', '--quiet']);
    expect(e.code).to.equal(2);
    expect(e.stderr).to.match(/--prefer must be full-integer or latency, got 'speed'/);
    expect(fs.existsSync(bad)).to.equal(false);
  });

  it('quantize --min-sqnr: the accuracy lines of the report, and the file', async () => {
    const out = path.join(work, 'z.tflite');
    const r = await runCli(['quantize', model, '--calib', images, '--num', '6', '-o', out, '--min-sqnr', '30', '--val', images, '--quiet']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/accuracy target: output SQNR >= 30 dB \(pooled, and its lower bound for unseen images\) on 6 validation images: reached/);
    expect(r.stdout).to.match(/layers raised \(\d+\): hot -> int16/);
    expect(r.stdout).to.match(/cost vs all-int8 \(LiteRT, this run\): latency [\d.]+ ms vs [\d.]+ ms/);
    expect(fs.existsSync(out)).to.equal(true);
  });
});
