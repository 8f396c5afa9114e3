/**
 * The main side of a batch (batch-task.ts): the pool tasks of several
 * stages over one message as one worker task. Each item's answer is a
 * promise of its own, settled as soon as the worker reports it, so a stage
 * waits for its own work only. The batch's budget is the sum of its items'
 * budgets (each stage still holds its own budget through the pipeline's
 * runner); `abort()` stops the thread as a single task's abort would, and
 * `stop()` asks the worker to skip the items not started yet.
 */
import { MessageChannel } from 'node:worker_threads';
import type { DnsResolver } from '../../net/dns/types.js';
import type { BatchItem, BatchReport } from './batch-task.js';
import { PolicyAborted, PolicyTaskError } from './errors.js';
import type { PolicyPool } from './pool.js';
import type { TaskOutcome } from './task.js';
import type { ItemTaskName } from './tasks.js';

/** What one stage asks of the pool for one message; the message bytes are added as `raw`. */
export interface PoolWork {
  readonly task: ItemTaskName;
  readonly input: Readonly<Record<string, unknown>>;
  readonly budgetMs: number;
  /** DNS for the task (the first item that gives one serves the whole batch). */
  readonly resolver?: DnsResolver;
}

interface Slot {
  readonly promise: Promise<unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  settled: boolean;
}

function slot(): Slot {
  let resolve!: (v: unknown) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<unknown>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A stage that never asks for its answer (its phase ended first) leaves no unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject, settled: false };
}

function isOutcome(x: unknown): x is TaskOutcome {
  const o = x as { ok?: unknown; error?: unknown } | null;
  return typeof o === 'object' && o !== null && (o.ok === true || (o.ok === false && typeof o.error === 'string'));
}

export class PoolBatch {
  private readonly slots: Slot[];
  private readonly stopper = new AbortController();
  private readonly port;
  private failed = false;

  private constructor(
    pool: Pick<PolicyPool, 'run'>,
    raw: Uint8Array,
    private readonly works: readonly PoolWork[],
  ) {
    this.slots = works.map(slot);
    const channel = new MessageChannel();
    this.port = channel.port1;
    this.port.on('message', (m: unknown) => {
      const r = (typeof m === 'object' && m !== null ? m : {}) as Partial<BatchReport>;
      if (typeof r.i === 'number') this.settle(r.i, r.outcome);
    });
    const items: BatchItem[] = works.map((w) => ({ task: w.task, input: w.input }));
    const resolver = works.find((w) => w.resolver)?.resolver;
    const budgetMs = works.reduce((sum, w) => sum + w.budgetMs, 0);
    pool
      .run<unknown>('policy.batch', { raw, items }, { budgetMs, signal: this.stopper.signal, report: channel.port2, ...(resolver ? { resolver } : {}) })
      .then(
        (outcomes) => {
          const list = Array.isArray(outcomes) ? outcomes : [];
          this.slots.forEach((_, i) => this.settle(i, list[i]));
        },
        (e: unknown) => {
          this.failed = true;
          for (const s of this.slots) this.fail(s, e);
        },
      )
      .finally(() => this.port.close());
  }

  /** Starts the items in one worker task at once. Never throws; failures arrive through result(). */
  static start(pool: Pick<PolicyPool, 'run'>, raw: Uint8Array, works: readonly PoolWork[]): PoolBatch {
    return new PoolBatch(pool, raw, works);
  }

  /** The answer of item `i`: its task's value, or the error a lone task would have given. */
  result(i: number): Promise<unknown> {
    const s = this.slots[i];
    return s ? s.promise : Promise.reject(new RangeError(`no batch item ${i}`));
  }

  answered(i: number): boolean {
    return this.slots[i]?.settled ?? true;
  }

  /** False once the batch failed or was aborted: a later stage then runs its own task. */
  get alive(): boolean {
    return !this.failed && !this.stopper.signal.aborted;
  }

  /** Ends the worker task now (its thread is stopped and replaced); unanswered items reject. */
  abort(): void {
    this.stopper.abort();
  }

  /** The remaining answers are not needed: the worker skips items it has not started. */
  stop(): void {
    if (this.slots.every((s) => s.settled)) return;
    try {
      this.port.postMessage('stop');
    } catch {
      // The channel is closed: the task has ended already.
    }
    for (const s of this.slots) this.fail(s, new PolicyAborted('policy.batch'));
  }

  private settle(i: number, outcome: unknown): void {
    const s = this.slots[i];
    if (!s || s.settled) return;
    const task = this.works[i]!.task;
    if (outcome === undefined) return this.fail(s, new PolicyAborted(task));
    if (!isOutcome(outcome)) return this.fail(s, new PolicyTaskError(task, 'the worker returned a malformed answer'));
    s.settled = true;
    if (outcome.ok) s.resolve(outcome.value);
    else s.reject(new PolicyTaskError(task, outcome.error));
  }

  private fail(s: Slot, e: unknown): void {
    if (s.settled) return;
    s.settled = true;
    s.reject(e);
  }
}
