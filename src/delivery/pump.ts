import type { Logger } from '../metrics/logger.js';

/**
 * Runs delivery passes on demand and on a timer: `kick` starts a pass now
 * when fewer than `parallel` are running, else right after one ends; between
 * passes it polls every `pollMs` so deferred mail is retried when due.
 *
 * Passes in parallel are safe only when each takes its work by lease (a
 * pass never sees what another holds); they let new mail start at once
 * instead of waiting for a whole pass over earlier mail to end. With
 * `parallel` 1 (the default) there are never two passes at once.
 */
export class Pump {
  private timer: NodeJS.Timeout | null = null;
  private readonly passes = new Set<Promise<void>>();
  private again = false;
  private halted = true;

  constructor(
    private readonly pass: () => Promise<unknown>,
    private readonly pollMs: number,
    private readonly log: Logger,
    private readonly what: string,
    /** Records a failed pass (an event); the next pass, at the latest after `pollMs`, is the retry. */
    private readonly onError?: (e: unknown) => Promise<void>,
    private readonly parallel = 1,
  ) {
    if (!Number.isInteger(parallel) || parallel < 1) throw new Error(`${what}: parallel passes must be a positive integer`);
  }

  get running(): boolean {
    return this.passes.size > 0;
  }

  get stopped(): boolean {
    return this.halted;
  }

  /** Settles when every pass under way (if any) has finished. */
  get idle(): Promise<void> {
    return Promise.all([...this.passes]).then(() => undefined);
  }

  start(): void {
    this.halted = false;
    this.kick();
  }

  kick(): void {
    if (this.halted) return;
    if (this.passes.size >= this.parallel) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const run: Promise<void> = this.pass()
      .then(() => undefined)
      .catch(async (e: unknown) => {
        this.log.error({ err: e }, `${this.what} pass failed`);
        await this.onError?.(e);
      })
      .catch(() => undefined)
      .finally(() => {
        this.passes.delete(run);
        if (this.halted) return;
        if (this.again) {
          this.again = false;
          this.kick();
        } else if (this.passes.size === 0) {
          this.timer = setTimeout(() => this.kick(), this.pollMs);
        }
      });
    this.passes.add(run);
  }

  /** No new passes from now on; those under way keep running (await `idle`). */
  halt(): void {
    this.halted = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
