/**
 * The policy worker pool: content work whose cost grows with the message
 * (MIME parsing, DKIM body hashes, detectors) runs here, off the one event
 * loop every connection shares, in a bounded set of threads and within a
 * time budget per task. A task is a name from the fixed registry
 * (tasks.ts) and plain data; the answer is plain data or a PolicyPoolError
 * the caller turns into `tempfail`.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { DnsResolver } from '../../net/dns/types.js';
import { serveResolver, sourceOf, type ResolverService } from './dns-proxy.js';
import { PolicyAborted, PolicyBusy, PolicyPoolError, PolicyTaskError, PolicyTimeout, PolicyWorkerDied } from './errors.js';
import { errorText, type TaskMessage, type TaskOutcome } from './task.js';
import type { TaskName } from './tasks.js';
import { resolveWorkerUrl } from './worker-file.js';

export interface PolicyPoolOptions {
  /** Worker threads at most; default min(2, CPUs). */
  readonly threads?: number;
  /** Tasks that may wait for a thread; one more is refused with PolicyBusy. Default 256. */
  readonly maxQueue?: number;
  /** An idle thread beyond the first is stopped after this long; default 30 s. */
  readonly idleTimeoutMs?: number;
  /** Heap limit of each worker (V8 old generation); a task that needs more kills its thread. Default 512. */
  readonly maxHeapMb?: number;
}

export interface RunOptions {
  /** Time from the call to the answer, queue wait included; held to 1 ms .. 10 min (not a number: 10 min). */
  readonly budgetMs: number;
  /** The caller's own abort (e.g. the stage's budget, the session closing). */
  readonly signal?: AbortSignal;
  /** When given, the task may look up DNS through it (at most 64 lookups). */
  readonly resolver?: DnsResolver;
  /** A channel end handed to the task (transferred): answers it sends before its end, and a stop request to it. */
  readonly report?: MessagePort;
}

export interface PolicyPoolStats {
  /** Live worker threads. */
  readonly threads: number;
  /** Tasks waiting for a thread. */
  readonly queued: number;
  /** Tasks on a thread now. */
  readonly running: number;
  /** Tasks that returned a value. */
  readonly completed: number;
  /** Tasks that threw (PolicyTaskError). */
  readonly failed: number;
  readonly timeouts: number;
  readonly aborted: number;
  /** Threads that died under a task (PolicyWorkerDied) or while idle. */
  readonly deaths: number;
  /** Tasks refused because the queue was full or the pool closed. */
  readonly refused: number;
}

const MAX_THREADS = 64;
/** A budget longer than this is a mistake (a stuck thread for ten minutes); it is capped. */
const MAX_BUDGET_MS = 10 * 60_000;

function intOption(value: number | undefined, fallback: number, min: number, max: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`policy pool: ${name} must be an integer from ${min} to ${max}, not ${v}`);
  return v;
}

function isOutcome(x: unknown): x is TaskOutcome {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as { ok?: unknown; error?: unknown };
  return o.ok === true || (o.ok === false && typeof o.error === 'string');
}

export class PolicyPool {
  private readonly pending = new Set<Promise<unknown>>();
  private inFlight = 0;
  private closing: Promise<void> | null = null;
  private readonly counts = { completed: 0, failed: 0, timeouts: 0, aborted: 0, deaths: 0, refused: 0 };

  private constructor(
    private readonly piscina: Piscina,
    private readonly threads: number,
    private readonly maxQueue: number,
  ) {
    // A thread that fails while idle is reported here, not through a task;
    // without a listener the EventEmitter would throw on the main thread.
    piscina.on('error', () => {
      this.counts.deaths++;
    });
  }

  /** Starts the pool (one warm thread). Throws on bad options or when the worker was not built. */
  static open(opts: PolicyPoolOptions = {}): PolicyPool {
    const threads = intOption(opts.threads, Math.min(2, availableParallelism()), 1, MAX_THREADS, 'threads');
    const maxQueue = intOption(opts.maxQueue, 256, 0, 1_000_000, 'maxQueue');
    const idleTimeout = intOption(opts.idleTimeoutMs, 30_000, 0, 24 * 3_600_000, 'idleTimeoutMs');
    const maxHeapMb = intOption(opts.maxHeapMb, 512, 16, 65_536, 'maxHeapMb');
    const piscina = new Piscina({
      filename: resolveWorkerUrl(),
      minThreads: 1,
      maxThreads: threads,
      idleTimeout,
      // Admission is counted by PolicyPool: piscina's maxQueue counts only
      // tasks without an abort signal, and every task here has one (its budget).
      maxQueue: Infinity,
      resourceLimits: { maxOldGenerationSizeMb: maxHeapMb },
      // Code over untrusted message bytes sees no environment (no secrets in variables).
      env: {},
    });
    return new PolicyPool(piscina, threads, maxQueue);
  }

  /**
   * Runs `task` on `input` in a worker thread. Resolves with the task's value;
   * rejects with PolicyBusy (refused at once), PolicyTimeout, PolicyAborted,
   * PolicyTaskError (the task threw) or PolicyWorkerDied (its thread ended).
   * Never throws synchronously.
   */
  run<T>(task: TaskName, input: unknown, opts: RunOptions): Promise<T> {
    if (this.closing) return this.refuse('the pool is closed');
    if (this.inFlight >= this.threads + this.maxQueue) return this.refuse(`${this.inFlight} tasks in flight`);
    if (opts.signal?.aborted) {
      this.counts.aborted++;
      return Promise.reject(new PolicyAborted(task, { cause: opts.signal.reason }));
    }
    const p = this.execute<T>(task, input, opts);
    this.pending.add(p);
    const forget = (): void => {
      this.pending.delete(p);
    };
    p.then(forget, forget);
    return p;
  }

  private refuse<T>(why: string): Promise<T> {
    this.counts.refused++;
    return Promise.reject(new PolicyBusy(why));
  }

  private async execute<T>(task: TaskName, input: unknown, opts: RunOptions): Promise<T> {
    this.inFlight++;
    const budgetMs = Number.isFinite(opts.budgetMs) ? Math.min(Math.max(opts.budgetMs, 1), MAX_BUDGET_MS) : MAX_BUDGET_MS;
    const stop = new AbortController();
    let why: 'timeout' | 'aborted' | null = null;
    // The budget starts now, not when a thread picks the task up: time spent
    // waiting in the queue counts, so a backlog cannot stretch one message's
    // budget. Aborting a queued task removes it; aborting a running one
    // terminates its thread (piscina starts a replacement).
    const timer = setTimeout(() => {
      why ??= 'timeout';
      stop.abort();
    }, budgetMs);
    const onAbort = (): void => {
      why ??= 'aborted';
      stop.abort();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let dns: { service: ResolverService; workerEnd: MessagePort } | null = null;
    try {
      const message: { -readonly [K in keyof TaskMessage]: TaskMessage[K] } = { task, input };
      const transferList: MessagePort[] = [];
      if (opts.resolver) {
        const channel = new MessageChannel();
        dns = { service: serveResolver(channel.port1, opts.resolver), workerEnd: channel.port2 };
        message.dns = channel.port2;
        message.dnsSource = sourceOf(opts.resolver);
        transferList.push(channel.port2);
      }
      if (opts.report) {
        message.report = opts.report;
        transferList.push(opts.report);
      }
      let outcome: unknown;
      try {
        outcome = await this.piscina.run(message, { signal: stop.signal, transferList });
      } catch (e) {
        throw this.stopped(task, budgetMs, why, e, opts.signal);
      }
      if (!isOutcome(outcome)) {
        this.counts.failed++;
        throw new PolicyTaskError(task, 'the worker returned a malformed answer');
      }
      if (!outcome.ok) {
        this.counts.failed++;
        throw new PolicyTaskError(task, outcome.error);
      }
      this.counts.completed++;
      return outcome.value as T;
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      // Closing our end closes the channel on both sides; the worker's end is
      // closed here too in case the task never reached a thread.
      dns?.service.close();
      dns?.workerEnd.close();
      this.inFlight--;
    }
  }

  /** What a rejection from piscina means: our budget, the caller's abort, or a dead thread. */
  private stopped(task: TaskName, budgetMs: number, why: 'timeout' | 'aborted' | null, e: unknown, signal?: AbortSignal): PolicyPoolError {
    if (why === 'timeout') {
      this.counts.timeouts++;
      return new PolicyTimeout(task, budgetMs);
    }
    if (why === 'aborted') {
      this.counts.aborted++;
      return new PolicyAborted(task, { cause: signal?.reason });
    }
    if (e instanceof Error && e.name === 'DataCloneError') {
      // Input (or an answer) that is not plain data: piscina refuses to post it; the thread is fine.
      this.counts.failed++;
      return new PolicyTaskError(task, `not plain data: ${errorText(e)}`);
    }
    if (e instanceof Error && /queue is at limit|No task queue available/.test(e.message)) {
      this.counts.refused++;
      return new PolicyBusy(e.message);
    }
    this.counts.deaths++;
    return new PolicyWorkerDied(task, errorText(e), { cause: e });
  }

  stats(): PolicyPoolStats {
    const queued = this.piscina.queueSize;
    return {
      threads: this.piscina.threads.length,
      queued,
      running: Math.max(0, this.inFlight - queued),
      ...this.counts,
    };
  }

  /**
   * Refuses new tasks, waits for those in flight (each ends by its budget),
   * then stops every thread. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.pending]);
      await this.piscina.destroy();
    })();
    return this.closing;
  }
}
