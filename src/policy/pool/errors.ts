/**
 * Why a pool task produced no result. Each error has a stable `code` and is
 * recoverable: the stage that called the pool turns it into `tempfail`
 * (4xx in-line, the message waits after-queue), never into a pass.
 */
export type PolicyPoolErrorCode = 'TIMEOUT' | 'TASK_FAILED' | 'WORKER_DIED' | 'BUSY' | 'ABORTED';

export abstract class PolicyPoolError extends Error {
  abstract readonly code: PolicyPoolErrorCode;
  readonly severity = 'recoverable' as const;
  /** The reply a client would see if this error reached SMTP: always a temporary failure. */
  readonly smtp: readonly [number, string] = [451, '4.3.0'];
  smtpText(): string {
    return `${this.smtp[1]} Temporary local problem, please try again later`;
  }
}

/** The task's time budget ran out (queue wait included); its worker, if it had one, was terminated. */
export class PolicyTimeout extends PolicyPoolError {
  readonly code = 'TIMEOUT' as const;
  constructor(task: string, budgetMs: number) {
    super(`policy task ${task} exceeded its budget of ${budgetMs} ms`);
    this.name = 'PolicyTimeout';
  }
}

/** The task ran and threw; `message` carries the worker's error message (bounded). */
export class PolicyTaskError extends PolicyPoolError {
  readonly code = 'TASK_FAILED' as const;
  constructor(task: string, detail: string) {
    super(`policy task ${task} failed: ${detail}`);
    this.name = 'PolicyTaskError';
  }
}

/** The worker thread running the task ended (process.exit, out of memory, an uncaught error). */
export class PolicyWorkerDied extends PolicyPoolError {
  readonly code = 'WORKER_DIED' as const;
  constructor(task: string, detail: string, options?: { cause?: unknown }) {
    super(`policy worker died running ${task}: ${detail}`, options);
    this.name = 'PolicyWorkerDied';
  }
}

/** The queue is full (or the pool is closed): refused at once, nothing ran. */
export class PolicyBusy extends PolicyPoolError {
  readonly code = 'BUSY' as const;
  override readonly smtp: readonly [number, string] = [451, '4.3.2'];
  constructor(detail: string) {
    super(`policy pool busy: ${detail}`);
    this.name = 'PolicyBusy';
  }
  override smtpText(): string {
    return `${this.smtp[1]} Server busy, try again later`;
  }
}

/** The caller's own signal aborted the task; its worker, if it had one, was terminated. */
export class PolicyAborted extends PolicyPoolError {
  readonly code = 'ABORTED' as const;
  constructor(task: string, options?: { cause?: unknown }) {
    super(`policy task ${task} was aborted`, options);
    this.name = 'PolicyAborted';
  }
}

export function isPolicyPoolError(e: unknown, code?: PolicyPoolErrorCode): e is PolicyPoolError {
  return e instanceof PolicyPoolError && (code === undefined || e.code === code);
}
