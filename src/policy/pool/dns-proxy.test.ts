import { once } from 'node:events';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { CachingResolver } from '../../net/dns/cache.js';
import { MemoryResolver } from '../../net/dns/memory.js';
import { serveResolver, sourceOf, ThreadDnsCache, workerResolver, type DnsReply, type ResolverService } from './dns-proxy.js';

const zone = new MemoryResolver({ 'example.org': { TXT: ['v=spf1 -all'], MX: [{ exchange: 'mx.example.org', preference: 10 }] } });

describe('DNS proxy, main side', () => {
  let service: ResolverService | null = null;
  afterEach(() => service?.close());

  /** Sends raw requests as a (possibly hostile) worker would, and collects replies by id. */
  async function ask(worker: MessagePort, requests: unknown[], expected: number): Promise<Map<number, DnsReply['answer']>> {
    const replies = new Map<number, DnsReply['answer']>();
    const done = new Promise<void>((resolve) => {
      worker.on('message', (m: DnsReply) => {
        replies.set(m.id, m.answer);
        if (replies.size === expected) resolve();
      });
    });
    for (const r of requests) worker.postMessage(r);
    await done;
    worker.removeAllListeners('message');
    return replies;
  }

  it('answers at most the bound of lookups, then temperror without asking the resolver', async () => {
    const counted = new MemoryResolver({ 'example.org': { TXT: ['x'] } });
    const { port1, port2 } = new MessageChannel();
    service = serveResolver(port1, counted, 5);
    const requests = Array.from({ length: 8 }, (_, i) => ({ id: i + 1, type: 'txt', name: 'example.org' }));
    const replies = await ask(port2, requests, 8);
    expect([...replies.values()].filter((a) => a.status === 'ok')).toHaveLength(5);
    expect([...replies.values()].filter((a) => a.status === 'temperror')).toHaveLength(3);
    expect(counted.log).toHaveLength(5);
    expect(service.lookups()).toBe(8);
    port2.close();
  });

  it('answers malformed requests with temperror and ignores those without a usable id', async () => {
    const { port1, port2 } = new MessageChannel();
    service = serveResolver(port1, zone);
    const replies = await ask(
      port2,
      [
        null,
        'txt example.org',
        { id: 'one', type: 'txt', name: 'example.org' },
        { id: 1.5, type: 'txt', name: 'example.org' },
        { id: 1, type: 'constructor', name: 'example.org' },
        { id: 2, type: 'txt', name: 'x'.repeat(300) },
        { id: 3, type: 'txt', name: 42 },
        { id: 4, type: 'mx', name: 'example.org' },
      ],
      4,
    );
    expect(replies.get(1)).toEqual({ status: 'temperror', reason: 'malformed DNS request' });
    expect(replies.get(2)).toEqual({ status: 'temperror', reason: 'malformed DNS request' });
    expect(replies.get(3)).toEqual({ status: 'temperror', reason: 'malformed DNS request' });
    expect(replies.get(4)).toEqual({ status: 'ok', records: [{ exchange: 'mx.example.org', preference: 10 }], authenticated: false });
    port2.close();
  });

  it('close() closes both ends of the channel', async () => {
    const { port1, port2 } = new MessageChannel();
    service = serveResolver(port1, zone);
    const closed = Promise.all([once(port1, 'close'), once(port2, 'close')]);
    port2.on('message', () => undefined);
    service.close();
    await closed;
  });
});

describe('DNS proxy, worker side', () => {
  it('answers temperror for lookups pending or asked after the channel closed', async () => {
    const { port1, port2 } = new MessageChannel();
    port1.on('message', () => undefined); // a main side that never answers
    const resolver = workerResolver(port2);
    const pending = resolver.txt('example.org');
    port1.close();
    expect(await pending).toEqual({ status: 'temperror', reason: 'DNS channel closed' });
    expect(await resolver.a('example.org')).toEqual({ status: 'temperror', reason: 'DNS channel closed' });
  });

  it('round-trips through serveResolver, TLSA data as a Buffer', async () => {
    const secure = new MemoryResolver({ '_25._tcp.mx.example.org': { TLSA: [{ usage: 3, selector: 1, matchingType: 1, data: Buffer.from('ab', 'hex') }], secure: true } });
    const { port1, port2 } = new MessageChannel();
    const service = serveResolver(port1, secure);
    try {
      const a = await workerResolver(port2).tlsa('_25._tcp.mx.example.org');
      expect(a.status).toBe('ok');
      if (a.status === 'ok') {
        expect(Buffer.isBuffer(a.records[0]!.data)).toBe(true);
        expect(a.records[0]!.data.toString('hex')).toBe('ab');
        expect(a.authenticated).toBe(true);
      }
    } finally {
      service.close();
    }
  });

  /** One task's channel: its worker-side resolver and the main side's service. */
  function task(main: Parameters<typeof serveResolver>[1], cache: ThreadDnsCache, maxLookups?: number) {
    const { port1, port2 } = new MessageChannel();
    const service = serveResolver(port1, main, maxLookups);
    return { resolver: workerResolver(port2, { cache, source: sourceOf(main), ...(maxLookups ? { maxLookups } : {}) }), service };
  }

  it('keeps an answer the main cache holds for later tasks on the thread, as long as the main cache holds it', async () => {
    let t = 1_000_000;
    const zone = new MemoryResolver({ 'example.org': { TXT: ['v=spf1 -all'] } });
    const main = new CachingResolver(zone, { now: () => t, negativeTtlSec: 30 });
    const cache = new ThreadDnsCache(100, () => t);
    const first = task(main, cache);
    expect(await first.resolver.txt('example.org')).toMatchObject({ status: 'ok', records: ['v=spf1 -all'] });
    expect(await first.resolver.a('nowhere.example.org')).toMatchObject({ status: 'nxdomain' });
    first.service.close();
    const second = task(main, cache);
    try {
      expect(await second.resolver.txt('EXAMPLE.org.')).toMatchObject({ status: 'ok', records: ['v=spf1 -all'] });
      expect(await second.resolver.a('nowhere.example.org')).toMatchObject({ status: 'nxdomain' });
      expect(second.service.lookups()).toBe(0); // both from the thread's cache
      t += 31_000; // the negative answer is stale in the main cache, so here too
      expect(await second.resolver.a('nowhere.example.org')).toMatchObject({ status: 'nxdomain' });
      expect(await second.resolver.txt('example.org')).toMatchObject({ status: 'ok' });
      expect(second.service.lookups()).toBe(1);
      expect(zone.log.filter((l) => l === 'A nowhere.example.org')).toHaveLength(2);
      expect(zone.log.filter((l) => l === 'TXT example.org')).toHaveLength(1);
    } finally {
      second.service.close();
    }
  });

  it('keeps the answers of two main-side resolvers apart', async () => {
    const cache = new ThreadDnsCache();
    const one = new CachingResolver(new MemoryResolver({ 'example.org': { TXT: ['one'] } }));
    const two = new CachingResolver(new MemoryResolver({ 'example.org': { TXT: ['two'] } }));
    for (const [main, want] of [[one, 'one'], [two, 'two'], [one, 'one']] as const) {
      const t = task(main, cache);
      expect(await t.resolver.txt('example.org')).toMatchObject({ status: 'ok', records: [want] });
      t.service.close();
    }
    expect(cache.size).toBe(2);
  });

  it('keeps nothing from a resolver that does not say how fresh it is, and never a temperror', async () => {
    const cache = new ThreadDnsCache();
    const plain = new MemoryResolver({ 'example.org': { TXT: ['x'] } });
    const a = task(plain, cache);
    await a.resolver.txt('example.org');
    a.service.close();
    const main = new CachingResolver(new MemoryResolver({ 'down.example': { fail: ['TXT'] } }));
    const b = task(main, cache);
    expect(await b.resolver.txt('down.example')).toMatchObject({ status: 'temperror' });
    b.service.close();
    expect(cache.size).toBe(0);
  });

  it('counts cached answers against the bound of lookups per task', async () => {
    const main = new CachingResolver(new MemoryResolver({ 'example.org': { TXT: ['x'] } }));
    const cache = new ThreadDnsCache();
    const warm = task(main, cache);
    await warm.resolver.txt('example.org');
    warm.service.close();
    const bounded = task(main, cache, 2);
    try {
      const answers = [await bounded.resolver.txt('example.org'), await bounded.resolver.txt('example.org'), await bounded.resolver.txt('example.org')];
      expect(answers.map((x) => x.status)).toEqual(['ok', 'ok', 'temperror']);
    } finally {
      bounded.service.close();
    }
  });

  it('keeps at most its bound of answers, the oldest going first', () => {
    const cache = new ThreadDnsCache(2, () => 0);
    const nx = { status: 'nxdomain', authenticated: false } as const;
    cache.set(1, 'a', 'one.test', nx, 1000);
    cache.set(1, 'a', 'two.test', nx, 1000);
    cache.set(1, 'a', 'three.test', nx, 1000);
    expect(cache.get(1, 'a', 'one.test')).toBeUndefined();
    expect(cache.get(1, 'a', 'three.test')).toEqual(nx);
    expect(cache.get(2, 'a', 'three.test')).toBeUndefined();
    expect(cache.size).toBe(2);
  });
});
