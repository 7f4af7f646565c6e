// Runs a child process for the tests that must watch a whole program (examples, README commands,
// what the CLI prints): output collected, killed after a time limit so a hang fails instead of stalling.
import { spawn } from 'node:child_process';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Spawns `argv` in `cwd`; rejects with the output tails when it runs longer than `limitSeconds`. */
export function runProcess(argv: string[], cwd: string, limitSeconds: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(argv[0], argv.slice(1), { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${argv.slice(1).join(' ')} did not finish within ${limitSeconds} s\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`));
    }, limitSeconds * 1000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: (Date.now() - t0) / 1000 });
    });
  });
}

/** `node --import tsx ...args` from `cwd` (TypeScript sources run as they are). */
export function runTsx(args: string[], cwd: string, limitSeconds = 240): Promise<Run> {
  return runProcess([process.execPath, '--import', 'tsx', ...args], cwd, limitSeconds);
}
