/**
 * A smart host (e.g. an internal Exchange) that takes all outbound mail or
 * some domains' mail, with its own TLS level and a client certificate.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeHarness, message, type Harness } from './helpers/harness.js';
import { startPeer, type Peer } from './helpers/peer.js';
import { TestCa, type KeyCert } from './helpers/pki.js';

let ca: TestCa;
let relayCert: KeyCert;
let clientCert: KeyCert;
beforeAll(async () => {
  ca = await TestCa.create('internal CA');
  relayCert = await ca.issue(['relay.corp.test']);
  clientCert = await ca.issue(['mail.ours.test']);
});

describe('relay (smart host)', () => {
  let h: Harness | null = null;
  const peers: Peer[] = [];
  afterEach(async () => {
    await h?.close();
    for (const p of peers.splice(0)) await p.close();
    h = null;
  });

  it('sends all mail to the relay over verified, mutually authenticated TLS, one transaction per message', async () => {
    const relay = await startPeer({ tls: relayCert, clientCa: ca.certPem });
    peers.push(relay);
    h = await makeHarness({
      zone: { 'relay.corp.test': { A: ['127.0.0.1'] } },
      port: 1, // MX delivery would fail: everything must go to the relay
      relay: { host: 'relay.corp.test', port: relay.port, level: 'verify', domains: [], clientCert: { cert: clientCert.certPem, key: clientCert.keyPem }, extraCa: [ca.certPem] },
    });
    await h.enqueue({ to: ['bob@dest.test', 'carol@other.test'], body: message('via-relay') });
    await h.agent.pass();
    expect(relay.received).toHaveLength(1);
    expect(relay.received[0]).toMatchObject({ secure: true, to: ['bob@dest.test', 'carol@other.test'] });
    expect(relay.clientCerts).toEqual(['mail.ours.test']);
    expect((await h.store.meta.events.list('tls.success'))[0]).toMatchObject({ subject: 'relay.corp.test', data: { verified: 'pkix' } });
  });

  it('sends only the listed domains to the relay and the rest by MX', async () => {
    const relay = await startPeer({ tls: relayCert });
    const mx = await startPeer({ tls: null });
    peers.push(relay, mx);
    h = await makeHarness({
      zone: { 'relay.corp.test': { A: ['127.0.0.1'] }, 'dest.test': { A: ['127.0.0.1'] } },
      port: mx.port,
      relay: { host: 'relay.corp.test', port: relay.port, level: 'verify', domains: ['.corp.test'], extraCa: [ca.certPem] },
    });
    await h.enqueue({ to: ['bob@dest.test', 'ceo@hq.corp.test'], body: message('split') });
    await h.agent.pass();
    expect(relay.received.map((r) => r.to)).toEqual([['ceo@hq.corp.test']]);
    expect(mx.received.map((r) => r.to)).toEqual([['bob@dest.test']]);
  });

  it("holds a relay to the destination's TLS policy: an encrypt destination never crosses to a relay in clear", async () => {
    const relay = await startPeer({ tls: null }); // offers no STARTTLS
    peers.push(relay);
    h = await makeHarness({
      zone: { 'relay.corp.test': { A: ['127.0.0.1'] } },
      port: 1,
      policies: { 'secret.example': 'encrypt' },
      relay: { host: 'relay.corp.test', port: relay.port, level: 'may', domains: [] },
    });
    const id = await h.enqueue({ to: ['bob@secret.example', 'carol@other.test'], body: message('floor') });
    await h.agent.pass();
    // carol's copy may go in clear (the relay's level); bob's waits, and no MAIL FROM was sent for it.
    expect(relay.mailFroms).toHaveLength(1);
    expect(relay.received.map((r) => [r.to, r.secure])).toEqual([[['carol@other.test'], false]]);
    const byAddr = Object.fromEntries((await h.recipients(id)).map((r) => [r.address, r]));
    expect(byAddr['bob@secret.example']).toMatchObject({ state: 'deferred', lastError: expect.stringContaining('4.7.5') });
    expect(byAddr['carol@other.test']!.state).toBe('delivered');
    expect((await h.store.meta.events.list('tls.failure'))[0]).toMatchObject({ subject: 'relay.corp.test', data: { resultType: 'starttls-not-supported', enforced: true } });
  });

  it('requires a verified relay certificate for a dane destination, and delivers over it', async () => {
    const untrusted = await (await TestCa.create('someone else')).issue(['relay.corp.test']);
    const bad = await startPeer({ tls: untrusted });
    peers.push(bad);
    h = await makeHarness({
      zone: { 'relay.corp.test': { A: ['127.0.0.1'] } },
      port: 1,
      policies: { '.gov.example': 'dane' },
      relay: { host: 'relay.corp.test', port: bad.port, level: 'may', domains: [], extraCa: [ca.certPem] },
    });
    const id = await h.enqueue({ to: ['bob@x.gov.example'], body: message('dane-via-relay') });
    await h.agent.pass();
    expect(bad.mailFroms).toEqual([]);
    expect((await h.recipients(id))[0]!.state).toBe('deferred');
    await h.close();

    const good = await startPeer({ tls: relayCert });
    peers.push(good);
    h = await makeHarness({
      zone: { 'relay.corp.test': { A: ['127.0.0.1'] } },
      port: 1,
      policies: { '.gov.example': 'dane' },
      relay: { host: 'relay.corp.test', port: good.port, level: 'may', domains: [], extraCa: [ca.certPem] },
    });
    await h.enqueue({ to: ['bob@x.gov.example'], body: message('dane-via-relay-2') });
    await h.agent.pass();
    expect(good.received.map((r) => [r.to, r.secure])).toEqual([[['bob@x.gov.example'], true]]);
    expect((await h.store.meta.events.list('tls.success'))[0]).toMatchObject({ data: { verified: 'pkix' } });
  });

  it("raises any route to a floor a stage recorded on the message (meta.tlsFloor)", async () => {
    const mx = await startPeer({ tls: null });
    peers.push(mx);
    h = await makeHarness({ zone: { 'dest.test': { A: ['127.0.0.1'] } }, port: mx.port });
    const id = await h.enqueue({ to: ['bob@dest.test'], body: message('content-floor'), meta: { tlsFloor: 'encrypt' } });
    const plain = await h.enqueue({ to: ['carol@dest.test'], body: message('no-floor') });
    await h.agent.pass();
    expect(mx.received.map((r) => r.to)).toEqual([['carol@dest.test']]);
    expect((await h.recipients(id))[0]).toMatchObject({ state: 'deferred', lastError: expect.stringContaining('TLS required') });
    expect(await h.recipients(plain)).toEqual([]);
  });

  it('defers when the relay refuses a client without a certificate', async () => {
    const relay = await startPeer({ tls: relayCert, clientCa: ca.certPem });
    peers.push(relay);
    h = await makeHarness({
      zone: { 'relay.corp.test': { A: ['127.0.0.1'] } },
      port: 1,
      relay: { host: 'relay.corp.test', port: relay.port, level: 'verify', domains: [], extraCa: [ca.certPem] },
    });
    const id = await h.enqueue({ to: ['bob@dest.test'], body: message('no-client-cert') });
    await h.agent.pass();
    expect(relay.received).toHaveLength(0);
    expect((await h.recipients(id))[0]!.state).toBe('deferred');
  });
});
