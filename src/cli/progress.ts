/**
 * A progress bar on stderr for long work. It draws only when the context
 * allows it (a TTY, no --no-progress, no --json, no NO_COLOR), at most ten
 * times a second, and erases itself when done so logs stay clean.
 */
import type { CliContext } from './command.js';

export interface Progress {
  /** Set the amount done so far (same unit as total), with an optional note. */
  update(done: number, note?: string): void;
  /** Erase the bar. */
  finish(): void;
}

const WIDTH = 28;

function compact(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

export function createProgress(ctx: CliContext, label: string, total: number, unit = 'rows'): Progress {
  if (!ctx.progress) return { update: () => {}, finish: () => {} };
  const start = performance.now();
  let last = 0;
  let drawn = false;
  return {
    update(done, note = '') {
      const now = performance.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const fraction = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(fraction * WIDTH);
      const rate = done / Math.max((now - start) / 1000, 1e-3);
      const eta = rate > 0 && total > done ? ` ETA ${Math.ceil((total - done) / rate)}s` : '';
      const bar = `${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}`;
      ctx.stderr.write(
        `\r${label} [${bar}] ${(fraction * 100).toFixed(0).padStart(3)}% ${compact(done)}/${compact(total)} ${unit} ${compact(rate)}/s${eta} ${note}\x1b[K`,
      );
      drawn = true;
    },
    finish() {
      if (drawn) ctx.stderr.write('\r\x1b[K');
    },
  };
}
