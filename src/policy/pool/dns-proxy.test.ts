import { once } from 'node:events';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryResolver } from '../../net/dns/memory.js';
import { serveResolver, workerResolver, type DnsReply, type ResolverService } from './dns-proxy.js';

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
});
