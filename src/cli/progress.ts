/**
 * Progress on stderr for long commands (scrub, backup, verify, restore): a
 * bar with rate and ETA redrawn in place when stderr is a terminal, and a
 * plain line every few seconds otherwise (logs, pipes, CI), so neither a
 * person nor a log file is flooded.
 */

export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  label: string;
  /** 'bytes' shows sizes and MB/s; 'items' shows counts. */
  unit: 'bytes' | 'items';
  stream?: ProgressStream;
  now?: () => number;
  /** Minimum time between two plain lines (non-terminal), default 5 s. */
  lineIntervalMs?: number;
}

const REDRAW_MS = 100;

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/** h:mm:ss or m:ss; "--:--" when unknown. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--:--';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function renderBar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

export class Progress {
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private readonly started: number;
  private lastDraw: number;
  private updated = false;
  private done = 0;
  private total = 0;
  private finished = false;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.now = opts.now ?? (() => Date.now());
    this.started = this.now();
    // A terminal shows the bar at once; a log gets its first line after one interval.
    this.lastDraw = this.tty ? -Infinity : this.started;
  }

  private get tty(): boolean {
    return this.stream.isTTY === true;
  }

  update(done: number, total: number): void {
    if (this.finished) return;
    this.updated = true;
    this.done = done;
    this.total = total;
    const t = this.now();
    const gap = this.tty ? REDRAW_MS : (this.opts.lineIntervalMs ?? 5000);
    if (t - this.lastDraw < gap) return;
    this.lastDraw = t;
    this.draw(t);
  }

  /** Draws the final state and ends the line; nothing if there never was any progress. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (!this.updated) return;
    this.draw(this.now());
    if (this.tty) this.stream.write('\n');
  }

  /** The status text without the bar: percentage, amounts, rate and ETA. */
  status(t: number = this.now()): string {
    const { done, total } = this;
    const elapsed = Math.max(1, t - this.started);
    const rate = done / (elapsed / 1000);
    const pct = total > 0 ? `${((100 * done) / total).toFixed(1)}%` : '100.0%';
    const amount = this.opts.unit === 'bytes' ? `${formatBytes(done)} of ${formatBytes(total)}` : `${done} of ${total}`;
    const speed = this.opts.unit === 'bytes' ? `${(rate / 1e6).toFixed(1)} MB/s` : `${rate.toFixed(1)}/s`;
    const eta = done >= total ? `done in ${formatDuration(t - this.started)}` : `ETA ${formatDuration(rate > 0 ? ((total - done) / rate) * 1000 : NaN)}`;
    return `${pct}  ${amount}  ${speed}  ${eta}`;
  }

  private draw(t: number): void {
    const text = this.status(t);
    if (this.tty) {
      const cols = this.stream.columns ?? 80;
      const width = Math.max(10, Math.min(40, cols - this.opts.label.length - text.length - 6));
      this.stream.write(`\r${this.opts.label} ${renderBar(this.total > 0 ? this.done / this.total : 1, width)} ${text}\x1b[K`);
    } else {
      this.stream.write(`${this.opts.label}: ${text}\n`);
    }
  }
}
