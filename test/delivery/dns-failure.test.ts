/**
 * When the resolver is gone (every query times out, or every lookup
 * throws), remote mail is deferred with a temporary error, each failed
 * destination is recorded as a `delivery.dns_failure` event, nothing is
 * bounced, and delivery resumes once DNS answers again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeHarness, message, ManualClock, type Harness } from './helpers/harness.js';
import { startPeer, type Peer } from './helpers/peer.js';
import { ZoneServer } from '../../src/net/dns/testing/zone-server.js';
import { WireResolver } from '../../src/net/dns/wire.js';
import { MemoryResolver } from '../../src/net/dns/memory.js';
import type { DnsResolver } from '../../src/net/dns/types.js';

const T0 = Date.UTC(2025, 0, 2, 12, 0, 0);

/** Forwards to whichever resolver is current, so a test can take DNS away and give it back. */
class SwitchResolver implements DnsResolver {
  constructor(public current: DnsResolver) {}
  mx(n: string) {
    return this.current.mx(n);
  }
  a(n: string) {
    return this.current.a(n);
  }
  aaaa(n: string) {
    return this.current.aaaa(n);
  }
  txt(n: string) {
    return this.current.txt(n);
  }
  tlsa(n: string) {
    return this.current.tlsa(n);
  }
}

const refused = (): DnsResolver => {
  const no = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:53'), { code: 'ECONNREFUSED' }));
  return { mx: no, a: no, aaaa: no, txt: no, tlsa: no };
};

describe('DNS failures', () => {
  let h: Harness | null = null;
  let peer: Peer | null = null;
  let dns: ZoneServer | null = null;
  afterEach(async () => {
    await h?.close();
    await peer?.close();
    await dns?.stop();
    h = peer = dns = null;
  });

  for (const mode of ['timeout', 'refused'] as const) {
    it(`defers (never bounces) when every query ${mode === 'timeout' ? 'times out' : 'is refused'}, then delivers once DNS is back`, async () => {
      peer = await startPeer({ tls: null });
      const clock = new ManualClock(T0);
      let dead: DnsResolver;
      if (mode === 'timeout') {
        dns = await new ZoneServer({}, { silent: true }).start();
        dead = new WireResolver({ server: dns.address, timeoutMs: 100, tries: 2 });
      } else {
        dead = refused();
      }
      const resolver = new SwitchResolver(dead);
      h = await makeHarness({
        resolver,
        port: peer.port,
        clock,
        policies: { 'dane.test': 'dane', 'strict.test': 'verify' },
        relay: { host: 'relay.corp.test', port: peer.port, level: 'may', domains: ['corp.test'] },
      });
      const ids = [];
      for (const to of ['bob@dest.test', 'carol@dane.test', 'dave@strict.test', 'erin@corp.test']) ids.push(await h.enqueue({ to: [to], body: message(to) }));

      expect(await h.agent.pass()).toBe(4);
      for (const id of ids) expect((await h.recipients(id))[0]).toMatchObject({ state: 'deferred', lastError: expect.stringMatching(/^4\.4\.3 /) });
      const events = await h.store.meta.events.list('delivery.dns_failure');
      expect(events.map((e) => e.subject).sort()).toEqual(['dane.test', 'dest.test', 'relay.corp.test', 'strict.test']);
      expect(h.agent.stats).toMatchObject({ failed: 0, bounces: 0, dnsFailures: 4 });
      expect(await h.store.meta.events.count('delivery.error')).toBe(0); // an expected failure, not an accident

      resolver.current = new MemoryResolver({
        'dest.test': { A: ['127.0.0.1'] },
        'dane.test': { A: ['127.0.0.1'] },
        'strict.test': { A: ['127.0.0.1'] },
        'relay.corp.test': { A: ['127.0.0.1'] },
      });
      clock.advance(1000);
      expect(await h.agent.pass()).toBe(4);
      // strict.test wants a verified certificate the plain peer cannot show: it keeps waiting; the rest go out.
      expect(peer.received.map((r) => r.to[0]).sort()).toEqual(['bob@dest.test', 'carol@dane.test', 'erin@corp.test']);
      expect((await h.recipients(ids[2]!))[0]).toMatchObject({ state: 'deferred', lastError: expect.stringContaining('4.7.5') });
    });
  }
});
