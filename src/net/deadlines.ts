import { performance } from 'node:perf_hooks';

export interface InputDeadlineOptions {
  /** A command line must be complete this long after its first byte. Also the grace before a transfer's rate counts. */
  commandMs: number;
  /** Slowest average a message or literal may arrive at, after the grace, in bytes per second. */
  minBytesPerSecond: number;
}

/**
 * What the connection is doing when bytes arrive or a deadline falls due:
 * reading a command line, receiving message data or a literal, or busy on our
 * side (a command being handled, reading paused for back-pressure), when the
 * client's slowness is not the client's fault.
 */
export type InputMode = 'command' | 'transfer' | 'busy';

/**
 * Deadlines on what a client sends, which idle timers cannot give: an idle
 * timer restarts on every byte, so a client trickling one byte a second holds
 * its connection for ever. Here a command line must be complete within
 * commandMs of its first byte, and message data or a literal must keep up an
 * average of minBytesPerSecond once commandMs have passed, however the bytes
 * are spread. One timer per connection, re-armed lazily.
 */
export class InputDeadlines {
  /** When the incomplete command line started, or null when none is pending. */
  private lineStart: number | null = null;
  private transferStart: number | null = null;
  private transferBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly opts: InputDeadlineOptions,
    private readonly mode: () => InputMode,
    /** Called once when a deadline passes; the connection answers and closes. */
    private readonly onExpire: (what: 'command' | 'transfer') => void,
  ) {}

  /** Bytes arrived from the client (before they are parsed). */
  received(chunk: Buffer): void {
    if (this.stopped || chunk.length === 0) return;
    const now = performance.now();
    if (this.mode() === 'transfer') {
      this.lineStart = null;
      if (this.transferStart === null) {
        this.transferStart = now;
        this.transferBytes = 0;
      }
      this.transferBytes += chunk.length;
    } else {
      this.transferStart = null;
      const lf = chunk.lastIndexOf(0x0a);
      if (lf < 0) this.lineStart ??= now;
      else this.lineStart = lf === chunk.length - 1 ? null : now;
    }
    this.arm(now);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private due(): number | null {
    if (this.transferStart !== null) return this.transferStart + this.opts.commandMs + (this.transferBytes * 1000) / this.opts.minBytesPerSecond;
    if (this.lineStart !== null) return this.lineStart + this.opts.commandMs;
    return null;
  }

  private arm(now: number): void {
    const due = this.due();
    if (due === null) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      return;
    }
    // A timer already running fires early at worst and re-arms itself then.
    if (this.timer) return;
    this.timer = setTimeout(() => this.fire(), Math.max(0, due - now) + 1);
    this.timer.unref();
  }

  private fire(): void {
    this.timer = null;
    if (this.stopped) return;
    const now = performance.now();
    const mode = this.mode();
    if (mode === 'busy') {
      // Our side holds the client up: its clock starts again when we are done.
      if (this.lineStart !== null) this.lineStart = now;
      if (this.transferStart !== null) {
        this.transferStart = now;
        this.transferBytes = 0;
      }
    } else if (mode === 'command' && this.transferStart !== null) {
      // The transfer ended (the last bytes were its end) and no command has started since.
      this.transferStart = null;
    }
    const due = this.due();
    if (due === null) return;
    if (due > now) return this.arm(now);
    this.stop();
    this.onExpire(this.lineStart !== null ? 'command' : 'transfer');
  }
}
