/**
 * Tasks that exercise the pool itself: its budget, its handling of a task
 * that throws or kills its thread, and the DNS proxy. Tests and the
 * benchmark use them; they read no message and are harmless in production.
 *
 *  selftest.echo        returns its input (round trip of plain data)
 *  selftest.thread      returns the worker's threadId (shows whether a thread was replaced)
 *  selftest.spin        busy loop forever: only the budget ends it
 *  selftest.throw       throws Error(input.message ?? 'selftest.throw')
 *  selftest.exit        process.exit(1) in the worker: the thread ends
 *  selftest.alloc       keeps allocating until the worker's heap limit kills it
 *  selftest.sleep       awaits input.ms (at most 60 s), returns it
 *  selftest.dns         one lookup through the proxied resolver: input {name, type?='txt'}, returns the answer
 *  selftest.dns.repeat  input {name, times}: `times` TXT lookups in turn (at most 1000), returns the answers
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';
import type { DnsAnswer } from '../../net/dns/types.js';
import { DNS_TYPES, type DnsQueryType } from './dns-proxy.js';
import type { TaskEnv, TaskFn } from './task.js';

function field(input: unknown, key: string): unknown {
  return typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[key] : undefined;
}

function needResolver(env: TaskEnv): NonNullable<TaskEnv['resolver']> {
  if (!env.resolver) throw new Error('no resolver was given to this task');
  return env.resolver;
}

function nameOf(input: unknown): string {
  const name = field(input, 'name');
  if (typeof name !== 'string') throw new Error('input.name must be a string');
  return name;
}

export const SELFTEST_TASKS = {
  'selftest.echo': async (input: unknown) => input,
  'selftest.thread': async () => threadId,
  'selftest.spin': async (): Promise<never> => {
    for (;;) {
      // Never yields: only terminating the thread ends this.
    }
  },
  'selftest.throw': async (input: unknown): Promise<never> => {
    const message = field(input, 'message');
    throw new Error(typeof message === 'string' ? message : 'selftest.throw');
  },
  'selftest.exit': async (): Promise<never> => process.exit(1),
  'selftest.alloc': async (): Promise<never> => {
    const keep: unknown[][] = [];
    for (;;) keep.push(Array.from({ length: 100_000 }, (_, i) => ({ i })));
  },
  'selftest.sleep': async (input: unknown) => {
    const ms = field(input, 'ms');
    const wait = typeof ms === 'number' && ms >= 0 ? Math.min(ms, 60_000) : 0;
    await sleep(wait);
    return wait;
  },
  'selftest.dns': async (input: unknown, env: TaskEnv): Promise<DnsAnswer<unknown>> => {
    const resolver = needResolver(env);
    const t = field(input, 'type') ?? 'txt';
    if (!(DNS_TYPES as readonly unknown[]).includes(t)) throw new Error(`input.type must be one of ${DNS_TYPES.join(', ')}`);
    const type = t as DnsQueryType;
    if (!resolver[type]) throw new Error(`this resolver does not answer ${type}`);
    return (resolver[type] as (name: string) => Promise<DnsAnswer<unknown>>).call(resolver, nameOf(input));
  },
  'selftest.dns.repeat': async (input: unknown, env: TaskEnv): Promise<DnsAnswer<unknown>[]> => {
    const resolver = needResolver(env);
    const times = field(input, 'times');
    const n = typeof times === 'number' && times > 0 ? Math.min(Math.floor(times), 1000) : 1;
    const name = nameOf(input);
    const out: DnsAnswer<unknown>[] = [];
    for (let i = 0; i < n; i++) out.push(await resolver.txt(name));
    return out;
  },
} satisfies Record<string, TaskFn>;
