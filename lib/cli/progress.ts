// Progress on stderr: a redrawn bar on a terminal, plain periodic lines otherwise (logs, CI), and
// nothing at all when quiet. stdout stays clean for the result (and for --json).
import type { ProgressRate } from '../util/progress.js';

export { progressRate, type ProgressRate } from '../util/progress.js';

export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.ceil(s - m * 60)).padStart(2, '0')} s`;
}

/** The bar text: `label [#####.....]  12/64  19%` (then `, 3.1/s, 14 s left` with a rate), `width` characters of bar. */
export function formatBar(label: string, done: number, total: number, width = 24, rate?: ProgressRate): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(frac * width);
  const pct = Math.floor(frac * 100);
  const bar = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(done).padStart(String(total).length)}/${total} ${String(pct).padStart(3)}%`;
  return rate ? `${bar}, ${rate.perSecond.toFixed(1)}/s, ${formatSeconds(rate.etaSeconds)} left` : bar;
}

/**
 * Whether a plain (non-TTY) progress line is due: the first and last step, and every step that
 * crosses a 10 % boundary, so a long run prints at most ~12 lines per stage.
 */
export function plainLineDue(done: number, total: number, lastPrinted: number): boolean {
  if (done === total || lastPrinted < 0) return true;
  if (total <= 0) return false;
  return Math.floor((done * 10) / total) > Math.floor((lastPrinted * 10) / total);
}

export class Progress {
  private stage = '';
  private lastPrinted = -1;
  private barOpen = false;

  constructor(
    private readonly out: ProgressStream,
    private readonly enabled = true,
  ) {}

  update(stage: string, done: number, total: number, rate?: ProgressRate): void {
    if (!this.enabled) return;
    if (stage !== this.stage) {
      this.finishLine();
      this.stage = stage;
      this.lastPrinted = -1;
    }
    if (this.out.isTTY) {
      // Clear to the end of the line: the rate part can get shorter.
      this.out.write(`\r${formatBar(stage, done, total, 24, rate)}\x1b[K`);
      this.barOpen = true;
      if (done >= total) this.finishLine();
    } else if (plainLineDue(done, total, this.lastPrinted)) {
      this.out.write(`${stage}: ${done}/${total}${rate ? ` (${rate.perSecond.toFixed(1)}/s, ${formatSeconds(rate.etaSeconds)} left)` : ''}\n`);
      this.lastPrinted = done;
    }
  }

  /** Ends a bar line so later messages start on a fresh line. */
  finishLine(): void {
    if (this.barOpen) {
      this.out.write('\n');
      this.barOpen = false;
    }
  }
}
