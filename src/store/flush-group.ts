/**
 * Group commit for one disk flush (an fsync of a file or a folder): every
 * caller's promise resolves after a flush that started after its call, so
 * whatever it wrote before calling is on disk. Callers that arrive while a
 * flush runs share the next one (that flush may have started before their
 * write), so N writers landing together cost two flushes, not N.
 */
export class FlushGroup {
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(private readonly flush: () => Promise<void>) {}

  /** No flush running or waiting. */
  get idle(): boolean {
    return this.running === null && this.queued === null;
  }

  request(): Promise<void> {
    if (!this.running) return this.start();
    if (!this.queued) {
      const after = (): Promise<void> => {
        this.queued = null;
        return this.start();
      };
      this.queued = this.running.then(after, after);
    }
    return this.queued;
  }

  private start(): Promise<void> {
    const p = Promise.resolve().then(this.flush);
    const done = (): void => {
      if (this.running === p) this.running = null;
    };
    p.then(done, done);
    this.running = p;
    return p;
  }
}
