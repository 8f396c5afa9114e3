import type { Logger } from '../metrics/logger.js';

/**
 * Runs a delivery pass on demand and on a timer: `kick` starts a pass now or,
 * if one is running, right after it; between passes it polls every `pollMs`
 * so deferred mail is retried when due. Never two passes at once.
 */
export class Pump {
  private timer: NodeJS.Timeout | null = null;
  private active = false;
  private again = false;
  private halted = true;
  private current: Promise<void> = Promise.resolve();

  constructor(
    private readonly pass: () => Promise<unknown>,
    private readonly pollMs: number,
    private readonly log: Logger,
    private readonly what: string,
    /** Records a failed pass (an event); the next pass, at the latest after `pollMs`, is the retry. */
    private readonly onError?: (e: unknown) => Promise<void>,
  ) {}

  get running(): boolean {
    return this.active;
  }

  get stopped(): boolean {
    return this.halted;
  }

  /** Settles when the pass under way (if any) has finished. */
  get idle(): Promise<void> {
    return this.current;
  }

  start(): void {
    this.halted = false;
    this.kick();
  }

  kick(): void {
    if (this.halted) return;
    if (this.active) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.active = true;
    this.current = this.pass()
      .then(() => undefined)
      .catch(async (e: unknown) => {
        this.log.error({ err: e }, `${this.what} pass failed`);
        await this.onError?.(e);
      })
      .catch(() => undefined)
      .finally(() => {
        this.active = false;
        if (this.halted) return;
        if (this.again) {
          this.again = false;
          this.kick();
        } else {
          this.timer = setTimeout(() => this.kick(), this.pollMs);
        }
      });
  }

  /** No new passes from now on; the one under way keeps running (await `idle`). */
  halt(): void {
    this.halted = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
