/**
 * What passes between the pool (main thread) and its workers. Both sides
 * import this file; it holds types and no code, so the main thread never
 * loads a task's modules.
 */
import type { MessagePort } from 'node:worker_threads';
import type { DnsResolver } from '../../net/dns/types.js';

/** What a task may reach besides its input: only the proxied resolver, when the caller gave one. */
export interface TaskEnv {
  readonly resolver?: DnsResolver;
  /** Sends one answer ahead of the task's end (a batch answers item by item), when the caller gave a channel. */
  readonly report?: (message: unknown) => void;
  /** True once the caller has said it needs no more answers (a batch then skips its remaining items). */
  readonly stopped?: () => boolean;
}

/**
 * A task: plain data in, plain data (structured-cloneable) out. It runs in a
 * worker thread, so it shares nothing with the main thread but `env`.
 */
export type TaskFn = (input: unknown, env: TaskEnv) => Promise<unknown>;

/** The message the pool posts for one task. */
export interface TaskMessage {
  readonly task: string;
  readonly input: unknown;
  /** The worker's end of the DNS proxy channel (transferred), when the caller gave a resolver. */
  readonly dns?: MessagePort;
  /** Which main-side resolver answers on `dns` (sourceOf): the thread's DNS cache is kept apart per resolver. */
  readonly dnsSource?: number;
  /** The worker's end of the report channel (transferred): early answers out, a stop request in. */
  readonly report?: MessagePort;
}

/**
 * What the worker answers. A task that throws is reported here as data, so
 * a rejection from the pool itself always means the worker was stopped
 * (budget, abort) or died.
 */
export type TaskOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };

/** Bound on an error message carried back from a worker. */
export const MAX_ERROR_CHARS = 500;

export function errorText(e: unknown): string {
  const raw = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return raw.length > MAX_ERROR_CHARS ? `${raw.slice(0, MAX_ERROR_CHARS)}…` : raw;
}
