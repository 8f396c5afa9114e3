/**
 * DNS for code in a worker thread, answered by the main thread's resolver.
 * A worker has no resolver of its own (and no cache, no DNSSEC view): it
 * sends {id, type, name} over a MessagePort made for one task, and the main
 * side answers each with the real resolver as data. The main side bounds
 * the lookups of one task and never throws: any failure is `temperror`.
 */
import type { MessagePort } from 'node:worker_threads';
import type { DnsAnswer, DnsResolver, MxRecord, TlsaRecord } from '../../net/dns/types.js';

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
  const reply = (id: number, answer: DnsAnswer<unknown>): void => {
    if (!closed) port.postMessage({ id, answer } satisfies DnsReply);
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
    lookup(req.type, req.name).then(
      (answer) => reply(id, answer),
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
 * Worker side: a DnsResolver whose lookups go over `port`. Answers are
 * `temperror` once `maxLookups` were asked, and for every lookup pending
 * or asked after the channel closed.
 */
export function workerResolver(port: MessagePort, maxLookups = MAX_LOOKUPS_PER_TASK): DnsResolver {
  const pending = new Map<number, { type: DnsQueryType; resolve: (a: DnsAnswer<unknown>) => void }>();
  let nextId = 1;
  let closed = false;
  port.on('message', (m: DnsReply) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    p.resolve(restoreBuffers(m.answer, p.type));
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
    return new Promise<DnsAnswer<T>>((resolve) => {
      pending.set(id, { type, resolve: resolve as (a: DnsAnswer<unknown>) => void });
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
