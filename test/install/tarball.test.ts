// Install once, run from anywhere (issue 22): the package packed with `npm pack`, installed globally
// into a temporary prefix the way a user would (`npm install -g <tarball>`), then run as `yolo-int8`
// from an unrelated folder. Dependencies come from the npm registry or npm's cache (--prefer-offline).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { runProcess, type Run } from '../support/process.js';
import { REPO_ROOT } from '../support/fixtures.js';

/** What the package ships; anything else in the tarball (tests, benches, examples, training code) is a leak. */
const SHIPPED = [/^package\.json$/, /^README\.md$/, /^LICENSE$/, /^bin\/yolo-int8\.js$/, /^cjs\/index\.cjs$/, /^dist\/lib\/.+\.(js|d\.ts)$/, /^dist\/schema\/.+\.(js|d\.ts)$/, /^models\/demo\/(model\.json|weights\.bin|README\.md)$/];

function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  return spawnSync('npm', args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
}

describe('install: npm pack -> npm install -g <tarball> -> yolo-int8 from another folder', function () {
  // npm pack (a build) + a global install + the demo: about a minute idle, 9 minutes measured at load 25.
  this.timeout(900_000);
  let work: string;
  let tarball: string;
  let files: string[];
  let prefix: string;
  let install: { status: number | null; stdout: string; stderr: string };

  before(function () {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-int8-install-'));
    // npm pack runs `prepare` (the build), so the tarball holds the current lib/.
    const pack = npm(['pack', REPO_ROOT, '--pack-destination', work, '--json', '--loglevel', 'error'], work);
    if (pack.status !== 0) throw new Error(`npm pack failed:\n${pack.stderr.slice(-3000)}`);
    const json = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[')));
    tarball = path.join(work, json[0].filename);
    files = json[0].files.map((f: { path: string }) => f.path);
    prefix = path.join(work, 'prefix');
    install = npm(['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'error', tarball], work);
  });
  after(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('the tarball holds only what is shipped: the compiled lib, the schema, the command, the demo model, docs', () => {
    expect(files.filter((f) => !SHIPPED.some((re) => re.test(f))), 'files that should not be packed').to.deep.equal([]);
    expect(files).to.include.members(['bin/yolo-int8.js', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/cli/main.js', 'models/demo/weights.bin']);
    expect(files.some((f) => /(^|\/)(test|bench|examples|scripts|wip)\//.test(f) || /\.test\.|demo-training/.test(f))).to.equal(false);
  });

  it('installs without building: no sources, compiler or compiler config come along, dist/ is the packed one', () => {
    expect(install.status, install.stderr.slice(-3000)).to.equal(0);
    const pkg = path.join(prefix, 'lib', 'node_modules', 'yolo-int8');
    const dist = (fs.readdirSync(path.join(pkg, 'dist'), { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(pkg, 'dist', f)).isFile());
    expect(dist.map((f) => `dist/${f.split(path.sep).join('/')}`).sort()).to.deep.equal(files.filter((f) => f.startsWith('dist/')).sort());
    // Nothing a build could run with: no TypeScript sources, no tsconfig, no typescript package.
    expect(fs.existsSync(path.join(pkg, 'lib'))).to.equal(false);
    expect(fs.existsSync(path.join(pkg, 'tsconfig.json'))).to.equal(false);
    expect(fs.existsSync(path.join(pkg, 'node_modules', 'typescript'))).to.equal(false);
    expect(fs.existsSync(path.join(pkg, 'node_modules', '.bin', 'tsc'))).to.equal(false);
  });

  it("require('yolo-int8') fails with one line saying how to import it; import('yolo-int8') loads the API", () => {
    // A consumer project that depends on the installed package (bare specifiers go through its exports map).
    const consumer = path.join(work, 'consumer');
    fs.mkdirSync(path.join(consumer, 'node_modules'), { recursive: true });
    fs.symlinkSync(path.join(prefix, 'lib', 'node_modules', 'yolo-int8'), path.join(consumer, 'node_modules', 'yolo-int8'));
    const required = spawnSync(process.execPath, ['-e', "require('yolo-int8')"], { cwd: consumer, encoding: 'utf8' });
    expect(required.status).to.not.equal(0);
    expect(required.stderr).to.contain("yolo-int8 is an ES module: use `import { quantizeInt8 } from 'yolo-int8'`");
    const imported = spawnSync(process.execPath, ['--input-type=module', '-e', "const m = await import('yolo-int8'); console.log(typeof m.quantizeInt8)"], { cwd: consumer, encoding: 'utf8' });
    expect(imported.stdout.trim(), imported.stderr).to.equal('function');
  });

  it('yolo-int8 --help answers in under 5 s from another folder; the demo runs and leaves nothing behind', async () => {
    expect(install.status, install.stderr.slice(-3000)).to.equal(0);
    const elsewhere = fs.mkdirSync(path.join(work, 'elsewhere'), { recursive: true }) ?? path.join(work, 'elsewhere');
    const tmp = fs.mkdirSync(path.join(work, 'tmp'), { recursive: true }) ?? path.join(work, 'tmp');
    const bin = path.join(prefix, 'bin', 'yolo-int8');
    const help: Run = await runProcess([bin, '--help'], elsewhere, 60);
    console.log(`      first call (yolo-int8 --help): ${help.seconds.toFixed(2)} s`);
    expect(help.code, help.stderr).to.equal(0);
    expect(help.stdout).to.match(/^yolo-int8: full-integer int8 TFLite quantization/);
    expect(help.seconds).to.be.below(5);
    // The demo with the temp folder it creates (and must remove) in a folder this test watches.
    const demo = await runWithEnv([bin, 'demo'], elsewhere, { TMPDIR: tmp }, 300);
    console.log(`      yolo-int8 demo: ${demo.seconds.toFixed(1)} s`);
    expect(demo.code, demo.stderr.slice(-2000)).to.equal(0);
    expect(demo.stdout).to.match(/^int8 \(\.tflite\)\s+0\.\d{3}\s+0\.\d{3}/m);
    expect(demo.stdout).to.contain('a temporary folder, removed now');
    // yolo-int8-cache is LiteRT's patched loader, kept on purpose for the next run (lib/runtime/litert-loader.ts).
    expect(fs.readdirSync(tmp).filter((f) => f !== 'yolo-int8-cache'), 'left in TMPDIR').to.deep.equal([]);
    expect(fs.readdirSync(elsewhere), 'left in the current folder').to.deep.equal([]);
  });
});

/** runProcess with extra environment variables (spawned through `env`, so PATH lookup stays the same). */
function runWithEnv(argv: string[], cwd: string, vars: Record<string, string>, limitSeconds: number): Promise<Run> {
  return runProcess(['env', ...Object.entries(vars).map(([k, v]) => `${k}=${v}`), ...argv], cwd, limitSeconds);
}
