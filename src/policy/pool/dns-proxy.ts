/**
 * DNS for code in a worker thread, answered by the main thread's resolver.
 * A worker has no resolver of its own (and no cache, no DNSSEC view): it
 * sends {id, type, name} over a MessagePort made for one task, and the main
 * side answers each with the real resolver as data. The main side bounds
 * the lookups of one task and never throws: any failure is `temperror`.
 *
 * When the main side's resolver is a cache (CachingResolver), each reply also
 * says how long the answer stays fresh there, and the thread keeps it that
 * long for its later tasks (ThreadDnsCache): the SPF and DMARC records that
 * every message of a sender asks for then cost no round trip to the main
 * thread, which may be busy with other connections. No answer is kept longer
 * than the main cache keeps it, and nothing is kept from a resolver that does
 * not say (temperror never is).
 */
import type { MessagePort } from 'node:worker_threads';
import { canonicalName, type DnsAnswer, type DnsResolver, type MxRecord, type TlsaRecord } from '../../net/dns/types.js';

export const DNS_TYPES = ['mx', 'a', 'aaaa', 'txt', 'tlsa', 'ptr'] as const;
export type DnsQueryType = (typeof DNS_TYPES)[number];

/** At most this many lookups per task; more are answered `temperror` without asking. */
export const MAX_LOOKUPS_PER_TASK = 64;
/** A DNS name is at most 253 characters in text form; a little room for a trailing dot. */
const MAX_NAME_CHARS = 255;

export interface DnsRequest {
  readonly id: number;
  readonly type: DnsQueryType;
  readonly name: string;
}

export interface DnsReply {
  readonly id: number;
  readonly answer: DnsAnswer<unknown>;
  /** Milliseconds the answer stays fresh in the main side's cache; absent: not cached there. */
  readonly freshMs?: number;
}

/** A resolver that can say how long an answer it gave stays fresh (CachingResolver). */
interface Freshness {
  freshForMs(type: DnsQueryType, name: string): number;
}

function freshnessOf(resolver: DnsResolver): Freshness | null {
  const f = (resolver as Partial<Freshness>).freshForMs;
  return typeof f === 'function' ? (resolver as unknown as Freshness) : null;
}

function temperror(reason: string): DnsAnswer<never> {
  return { status: 'temperror', reason };
}

function isQueryType(t: unknown): t is DnsQueryType {
  return typeof t === 'string' && (DNS_TYPES as readonly string[]).includes(t);
}

export interface ResolverService {
  /** Lookups asked so far (those over the bound included). */
  readonly lookups: () => number;
  /** Stops answering and closes the channel (both ends). Idempotent. */
  close(): void;
}

/** Main side: answers the requests arriving on `port` with `resolver`. */
export function serveResolver(port: MessagePort, resolver: DnsResolver, maxLookups = MAX_LOOKUPS_PER_TASK): ResolverService {
  let closed = false;
  let asked = 0;
  const freshness = freshnessOf(resolver);
  const reply = (id: number, answer: DnsAnswer<unknown>, freshMs = 0): void => {
    if (!closed) port.postMessage((freshMs > 0 ? { id, answer, freshMs } : { id, answer }) satisfies DnsReply);
  };
  const lookup = async (type: DnsQueryType, name: string): Promise<DnsAnswer<unknown>> => {
    try {
      if (type === 'ptr') return resolver.ptr ? await resolver.ptr(name) : { status: 'nxdomain', authenticated: false };
      return await resolver[type](name);
    } catch (e) {
      return temperror(`${type} ${name.slice(0, 64)}: ${e instanceof Error ? e.message.slice(0, 200) : 'resolver failed'}`);
    }
  };
  port.on('message', (m: unknown) => {
    // The worker runs code over untrusted message bytes: check the request's shape.
    const req = (typeof m === 'object' && m !== null ? m : {}) as Partial<Record<keyof DnsRequest, unknown>>;
    if (typeof req.id !== 'number' || !Number.isSafeInteger(req.id)) return;
    const id = req.id;
    asked++;
    if (asked > maxLookups) return reply(id, temperror(`more than ${maxLookups} DNS lookups in one task`));
    if (!isQueryType(req.type) || typeof req.name !== 'string' || req.name.length === 0 || req.name.length > MAX_NAME_CHARS) {
      return reply(id, temperror('malformed DNS request'));
    }
    const type = req.type;
    const name = req.name;
    lookup(type, name).then(
      (answer) => reply(id, answer, answer.status === 'temperror' || !freshness ? 0 : freshness.freshForMs(type, name)),
      () => reply(id, temperror('resolver failed')),
    );
  });
  return {
    lookups: () => asked,
    close(): void {
      if (closed) return;
      closed = true;
      port.removeAllListeners('message');
      port.close();
    },
  };
}

/** TLSA data crosses the thread as a Uint8Array; the interface promises a Buffer. */
function restoreBuffers(answer: DnsAnswer<unknown>, type: DnsQueryType): DnsAnswer<unknown> {
  if (type !== 'tlsa' || answer.status !== 'ok') return answer;
  const records = (answer.records as TlsaRecord[]).map((r) => ({
    ...r,
    data: Buffer.isBuffer(r.data) ? r.data : Buffer.from((r.data as Uint8Array).buffer, (r.data as Uint8Array).byteOffset, (r.data as Uint8Array).byteLength),
  }));
  return { ...answer, records };
}

/**
 * The answers one worker thread keeps across its tasks, each for as long as
 * the main side said it stays fresh there, apart per main-side resolver
 * (`source`: two resolvers may answer the same name differently). Bounded;
 * the oldest goes first.
 */
export class ThreadDnsCache {
  private readonly entries = new Map<string, { until: number; answer: DnsAnswer<unknown> }>();

  constructor(
    private readonly max = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(source: number, type: DnsQueryType, name: string): DnsAnswer<unknown> | undefined {
    const key = `${source} ${type} ${canonicalName(name)}`;
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.until > this.now()) return hit.answer;
    this.entries.delete(key);
    return undefined;
  }

  set(source: number, type: DnsQueryType, name: string, answer: DnsAnswer<unknown>, freshMs: number): void {
    if (answer.status === 'temperror' || !(freshMs > 0)) return;
    const key = `${source} ${type} ${canonicalName(name)}`;
    this.entries.delete(key);
    while (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { until: this.now() + freshMs, answer });
  }
}

/** This thread's cache (in a worker thread: shared by every task the thread runs). */
const threadCache = new ThreadDnsCache();

const sources = new WeakMap<DnsResolver, number>();
let nextSource = 1;

/** A number that names this main-side resolver to the worker threads (their cache is kept apart per resolver). */
export function sourceOf(resolver: DnsResolver): number {
  let n = sources.get(resolver);
  if (n === undefined) {
    n = nextSource++;
    sources.set(resolver, n);
  }
  return n;
}

export interface WorkerResolverOptions {
  /** Lookups one task may make (cached answers count too). */
  readonly maxLookups?: number;
  /** Where answers are kept across tasks; the thread's own cache by default. */
  readonly cache?: ThreadDnsCache;
  /** The main-side resolver's number (sourceOf). */
  readonly source?: number;
}

/**
 * Worker side: a DnsResolver whose lookups go over `port`, or come from the
 * thread's cache while fresh. Answers are `temperror` once `maxLookups` were
 * asked (cached ones count too), and for every lookup pending or asked after
 * the channel closed.
 */
export function workerResolver(port: MessagePort, opts: WorkerResolverOptions = {}): DnsResolver {
  const { maxLookups = MAX_LOOKUPS_PER_TASK, cache = threadCache, source = 0 } = opts;
  const pending = new Map<number, { type: DnsQueryType; name: string; resolve: (a: DnsAnswer<unknown>) => void }>();
  let nextId = 1;
  let closed = false;
  port.on('message', (m: DnsReply) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    const answer = restoreBuffers(m.answer, p.type);
    if (typeof m.freshMs === 'number') cache.set(source, p.type, p.name, answer, m.freshMs);
    p.resolve(answer);
  });
  port.on('close', () => {
    closed = true;
    for (const p of pending.values()) p.resolve(temperror('DNS channel closed'));
    pending.clear();
  });
  const ask = <T>(type: DnsQueryType, name: string): Promise<DnsAnswer<T>> => {
    if (closed) return Promise.resolve(temperror('DNS channel closed'));
    if (nextId > maxLookups) return Promise.resolve(temperror(`more than ${maxLookups} DNS lookups in one task`));
    const id = nextId++;
    const cached = cache.get(source, type, name);
    if (cached) return Promise.resolve(cached as DnsAnswer<T>);
    return new Promise<DnsAnswer<T>>((resolve) => {
      pending.set(id, { type, name, resolve: resolve as (a: DnsAnswer<unknown>) => void });
      port.postMessage({ id, type, name } satisfies DnsRequest);
    });
  };
  return {
    mx: (name) => ask<MxRecord>('mx', name),
    a: (name) => ask<string>('a', name),
    aaaa: (name) => ask<string>('aaaa', name),
    txt: (name) => ask<string>('txt', name),
    tlsa: (name) => ask<TlsaRecord>('tlsa', name),
    ptr: (name) => ask<string>('ptr', name),
  };
}
