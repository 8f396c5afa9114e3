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
