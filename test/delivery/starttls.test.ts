/**
 * Outbound delivery to a real SMTP server on loopback: opportunistic
 * STARTTLS, clear text when the peer offers none, and certificate
 * verification under `verify`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeHarness, message, type Harness } from './helpers/harness.js';
import { startPeer, type Peer } from './helpers/peer.js';
import { TestCa, selfSigned } from './helpers/pki.js';

const zone = {
  'dest.test': { MX: [{ exchange: 'mx1.dest.test', preference: 10 }] },
  'mx1.dest.test': { A: ['127.0.0.1'] },
};

describe('outbound STARTTLS', () => {
  let h: Harness | null = null;
  let peer: Peer | null = null;
  afterEach(async () => {
    await h?.close();
    await peer?.close();
    h = null;
    peer = null;
  });

  it('delivers over STARTTLS under may, with one transaction for several recipients', async () => {
    const ca = await TestCa.create();
    peer = await startPeer({ tls: await ca.issue(['mx1.dest.test']) });
    h = await makeHarness({ zone, port: peer.port });
    const id = await h.enqueue({ to: ['bob@dest.test', 'carol@dest.test'], body: message('m-tls-1') });
    expect(await h.agent.pass()).toBe(2);
    expect(peer.received).toHaveLength(1);
    const got = peer.received[0]!;
    expect(got).toMatchObject({ from: 'alice@ours.test', to: ['bob@dest.test', 'carol@dest.test'], secure: true });
    expect(got.data.toString()).toContain('the marker is m-tls-1.');
    expect(got.data.toString()).toContain('\r\n.leading dot line\r\n'); // dot-stuffing undone by the peer
    const rs = await h.recipients(id);
    // Delivered recipients are purged with their message once all are done.
    expect(rs).toEqual([]);
    expect(h.agent.stats.tlsSessions).toBe(1);
    expect(h.agent.stats.plaintextSessions).toBe(0);
    expect(await h.store.meta.events.count('tls.success')).toBe(1);
  });

  it('delivers in clear under may when the peer offers no STARTTLS, and counts it', async () => {
    peer = await startPeer({ tls: null });
    h = await makeHarness({ zone, port: peer.port });
    await h.enqueue({ to: ['bob@dest.test'], body: message('m-plain') });
    await h.agent.pass();
    expect(peer.received).toHaveLength(1);
    expect(peer.received[0]!.secure).toBe(false);
    expect(h.agent.stats.plaintextSessions).toBe(1);
    expect(h.agent.stats.tlsSessions).toBe(0);
    const [e] = await h.store.meta.events.list('tls.plaintext');
    expect(e).toMatchObject({ subject: 'dest.test', data: { mx: 'mx1.dest.test', ip: '127.0.0.1', policyType: 'no-policy-found' } });
  });

  it('records per-recipient timing (delays a/b/c/d) in the store', async () => {
    peer = await startPeer({ tls: null, onData: () => Object.assign(new Error('try later'), { responseCode: 451 }) });
    h = await makeHarness({ zone, port: peer.port });
    const id = await h.enqueue({ to: ['bob@dest.test'], body: message('m-timing') });
    await h.agent.pass();
    const [r] = await h.recipients(id);
    expect(r).toMatchObject({ state: 'deferred', attempts: 1, timing: { relay: `mx1.dest.test[127.0.0.1]:${peer.port}`, tls: 'none' } });
    expect(r!.leasedAt).toBeGreaterThanOrEqual((await h.store.meta.queue.getMessage(id))!.receivedAt);
    for (const k of ['waitMs', 'connMs', 'xmitMs'] as const) expect(r!.timing![k]).toBeGreaterThanOrEqual(0);
  });

  it('under verify, delivers to a certificate that chains to a trusted CA and names the MX', async () => {
    const ca = await TestCa.create();
    peer = await startPeer({ tls: await ca.issue(['mx1.dest.test']) });
    h = await makeHarness({ zone, port: peer.port, policies: { 'dest.test': 'verify' }, extraCa: [ca.certPem] });
    await h.enqueue({ to: ['bob@dest.test'], body: message('m-verify') });
    await h.agent.pass();
    expect(peer.received).toHaveLength(1);
    const [e] = await h.store.meta.events.list('tls.success');
    expect(e!.data).toMatchObject({ verified: 'pkix' });
  });

  it('under verify, defers on an expired or untrusted certificate and says why', async () => {
    const ca = await TestCa.create();
    peer = await startPeer({ tls: await ca.issue(['mx1.dest.test'], { expired: true }) });
    h = await makeHarness({ zone, port: peer.port, policies: { '.test': 'verify' }, extraCa: [ca.certPem] });
    const id = await h.enqueue({ to: ['bob@dest.test'], body: message('m-expired') });
    await h.agent.pass();
    expect(peer.received).toHaveLength(0);
    expect((await h.recipients(id))[0]).toMatchObject({ state: 'deferred', lastError: expect.stringContaining('certificate') });
    const [f] = await h.store.meta.events.list('tls.failure');
    expect(f!.data).toMatchObject({ resultType: 'certificate-expired', enforced: true });
    await peer.close();

    await h.close();
    peer = await startPeer({ tls: await selfSigned('mx1.dest.test') });
    h = await makeHarness({ zone, port: peer.port, policies: { 'dest.test': 'verify' }, extraCa: [ca.certPem] });
    await h.enqueue({ to: ['bob@dest.test'], body: message('m-selfsigned') });
    await h.agent.pass();
    expect(peer.received).toHaveLength(0);
    expect((await h.store.meta.events.list('tls.failure'))[0]!.data).toMatchObject({ resultType: 'certificate-not-trusted' });
  });
});
