/**
 * MTA-STS (RFC 8461): the policy is fetched over HTTPS from a server on
 * 127.0.0.1 with a certificate from a test CA, cached for max_age, refetched
 * when the TXT id changes, and enforced (or only reported, in testing mode).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/core/clock.js';
import { MemoryResolver } from '../../src/net/dns/memory.js';
import { FileStsCache, MemoryStsCache, StsResolver, httpsStsFetcher } from '../../src/policy/tls/index.js';
import { TestCa, type KeyCert } from './helpers/pki.js';
import { enforcePolicy, startStsServer, type StsServer } from './helpers/sts-server.js';
import { makeHarness, message, type Harness } from './helpers/harness.js';
import { startPeer, type Peer } from './helpers/peer.js';
import { startMitm, type Mitm } from './helpers/mitm.js';

let ca: TestCa;
let stsCert: KeyCert;
let mxCert: KeyCert;
beforeAll(async () => {
  ca = await TestCa.create();
  stsCert = await ca.issue(['mta-sts.dest.test']);
  mxCert = await ca.issue(['mx1.dest.test']);
});

const T0 = Date.UTC(2025, 0, 2);

describe('MTA-STS discovery and cache', () => {
  let server: StsServer | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  const setup = async (policy = enforcePolicy('mx1.dest.test', 3600), trustCa = true) => {
    server = await startStsServer(stsCert, policy);
    const dns = new MemoryResolver({ '_mta-sts.dest.test': { TXT: ['v=STSv1; id=one'] }, 'mta-sts.dest.test': { A: ['127.0.0.1'] } });
    const clock = new ManualClock(T0);
    const fetcher = httpsStsFetcher({ resolver: dns, port: server.port, extraCa: trustCa ? [ca.certPem] : [], timeoutMs: 5000 });
    return { dns, clock, fetcher, sts: new StsResolver(dns, fetcher, new MemoryStsCache(), clock) };
  };

  it('fetches the policy once, then serves it from the cache while the id is unchanged', async () => {
    const { sts } = await setup();
    const a = await sts.lookup('dest.test');
    expect(a).toMatchObject({ kind: 'policy', id: 'one', fromCache: false, policy: { mode: 'enforce', mx: ['mx1.dest.test'], maxAge: 3600 } });
    expect(await sts.lookup('dest.test')).toMatchObject({ kind: 'policy', fromCache: true });
    expect(server!.requests).toBe(1);
  });

  it('refetches when the TXT id changes or the policy expired', async () => {
    const { sts, dns, clock } = await setup();
    await sts.lookup('dest.test');
    dns.set('_mta-sts.dest.test', { TXT: ['v=STSv1; id=two'] });
    server!.policy = enforcePolicy('*.dest.test', 3600);
    expect(await sts.lookup('dest.test')).toMatchObject({ kind: 'policy', id: 'two', policy: { mx: ['*.dest.test'] } });
    clock.advance(3601_000);
    await sts.lookup('dest.test');
    expect(server!.requests).toBe(3);
  });

  it('keeps using a valid cached policy when the record disappears or the fetch fails', async () => {
    const { sts, dns } = await setup();
    await sts.lookup('dest.test');
    dns.set('_mta-sts.dest.test', { TXT: ['v=STSv1; id=three'] });
    server!.status = 404;
    expect(await sts.lookup('dest.test')).toMatchObject({ kind: 'policy', id: 'one', fromCache: true });
    dns.set('_mta-sts.dest.test', {}); // an attacker removed the record
    expect(await sts.lookup('dest.test')).toMatchObject({ kind: 'policy', id: 'one', policy: { mode: 'enforce' } });
  });

  it('reports fetch errors, certificates it cannot trust, and invalid policies', async () => {
    let t = await setup(enforcePolicy('mx1.dest.test'), false);
    expect(await t.sts.lookup('dest.test')).toMatchObject({ kind: 'error', resultType: 'sts-webpki-invalid' });
    await server!.close();
    t = await setup('version: STSv1\nmode: enforce\nmax_age: 60\n');
    expect(await t.sts.lookup('dest.test')).toMatchObject({ kind: 'error', resultType: 'sts-policy-invalid', reason: 'no mx pattern' });
    server!.status = 500;
    expect(await t.sts.lookup('dest.test')).toMatchObject({ kind: 'error', resultType: 'sts-policy-fetch-error', reason: expect.stringContaining('HTTP 500') });
    t.dns.set('_mta-sts.dest.test', {});
    expect(await t.sts.lookup('dest.test')).toEqual({ kind: 'none' });
  });

  it('persists the cache across restarts', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'postern-sts-'));
    try {
      const file = path.join(dir, 'sts.json');
      const { dns, clock, fetcher } = await setup();
      await new StsResolver(dns, fetcher, new FileStsCache(file), clock).lookup('dest.test');
      server!.status = 503;
      const after = await new StsResolver(dns, fetcher, new FileStsCache(file), clock).lookup('dest.test');
      expect(after).toMatchObject({ kind: 'policy', fromCache: true, policy: { mode: 'enforce' } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('MTA-STS delivery', () => {
  let h: Harness | null = null;
  let peer: Peer | null = null;
  let mitm: Mitm | null = null;
  let server: StsServer | null = null;
  afterEach(async () => {
    await h?.close();
    await mitm?.close();
    await peer?.close();
    await server?.close();
    h = peer = mitm = server = null;
  });

  async function setup(policy: string, mx: string, strip = false) {
    peer = await startPeer({ tls: mxCert });
    mitm = await startMitm(peer.port, { stripStartTls: strip });
    server = await startStsServer(stsCert, policy);
    const port = server.port;
    h = await makeHarness({
      zone: {
        'dest.test': { MX: [{ exchange: mx, preference: 10 }] },
        [mx]: { A: ['127.0.0.1'] },
        '_mta-sts.dest.test': { TXT: ['v=STSv1; id=1'] },
        'mta-sts.dest.test': { A: ['127.0.0.1'] },
      },
      port: mitm.port,
      policies: { 'dest.test': 'mta-sts' },
      extraCa: [ca.certPem],
      sts: (resolver) => httpsStsFetcher({ resolver, port, extraCa: [ca.certPem] }),
    });
    return h;
  }

  it('enforce: delivers over verified TLS to an MX the policy lists', async () => {
    const harness = await setup(enforcePolicy('mx1.dest.test'), 'mx1.dest.test');
    await harness.enqueue({ to: ['bob@dest.test'], body: message('sts-ok') });
    await harness.agent.pass();
    expect(peer!.received).toHaveLength(1);
    expect((await harness.store.meta.events.list('tls.success'))[0]!.data).toMatchObject({ verified: 'pkix', policyType: 'sts', mxPatterns: ['mx1.dest.test'] });
  });

  it('enforce: refuses an MX the policy does not list, without connecting', async () => {
    const harness = await setup(enforcePolicy('mx1.dest.test'), 'evil.attacker.test');
    const id = await harness.enqueue({ to: ['bob@dest.test'], body: message('sts-mx') });
    await harness.agent.pass();
    expect(mitm!.fromClient().length).toBe(0);
    expect((await harness.recipients(id))[0]).toMatchObject({ state: 'deferred', lastError: expect.stringContaining('not in the MTA-STS policy') });
  });

  it('testing: delivers despite a stripped STARTTLS, and reports the failure', async () => {
    const harness = await setup('version: STSv1\nmode: testing\nmx: mx1.dest.test\nmax_age: 86400\n', 'mx1.dest.test', true);
    await harness.enqueue({ to: ['bob@dest.test'], body: message('sts-testing') });
    await harness.agent.pass();
    expect(peer!.received).toHaveLength(1);
    const [f] = await harness.store.meta.events.list('tls.failure');
    expect(f!.data).toMatchObject({ resultType: 'starttls-not-supported', enforced: false, policyType: 'sts' });
    expect(harness.agent.stats).toMatchObject({ tlsWarnings: 1, tlsFailures: 0, plaintextSessions: 1 });
  });
});
