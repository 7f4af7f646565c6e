// Progress on stderr: a redrawn bar on a terminal, plain periodic lines otherwise (logs, CI), and
// nothing at all when quiet. stdout stays clean for the result (and for --json).

export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
}

/** The bar text: `label [#####.....]  12/64  19%`, `width` characters of bar. */
export function formatBar(label: string, done: number, total: number, width = 24): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(frac * width);
  const pct = Math.floor(frac * 100);
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(done).padStart(String(total).length)}/${total} ${String(pct).padStart(3)}%`;
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

  update(stage: string, done: number, total: number): void {
    if (!this.enabled) return;
    if (stage !== this.stage) {
      this.finishLine();
      this.stage = stage;
      this.lastPrinted = -1;
    }
    if (this.out.isTTY) {
      this.out.write(`\r${formatBar(stage, done, total)}`);
      this.barOpen = true;
      if (done >= total) this.finishLine();
    } else if (plainLineDue(done, total, this.lastPrinted)) {
      this.out.write(`${stage}: ${done}/${total}\n`);
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
