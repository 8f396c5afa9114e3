/**
 * No silent downgrade: a man in the middle strips STARTTLS from the peer's
 * EHLO reply, or the peer shows a certificate for the wrong name. Where the
 * policy requires TLS the message stays queued, nothing of it crosses the
 * wire in clear (checked on the captured bytes), and the failure is recorded;
 * under `may` it is delivered.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeHarness, message, type Harness } from './helpers/harness.js';
import { startPeer, type Peer } from './helpers/peer.js';
import { startMitm, type Mitm } from './helpers/mitm.js';
import { TestCa, selfSigned, type KeyCert } from './helpers/pki.js';
import { startStsServer, enforcePolicy, type StsServer } from './helpers/sts-server.js';
import { httpsStsFetcher } from '../../src/policy/tls/index.js';
import type { ZoneEntry } from '../../src/net/dns/memory.js';

let ca: TestCa;
let mxCert: KeyCert;
let stsCert: KeyCert;
beforeAll(async () => {
  ca = await TestCa.create();
  mxCert = await ca.issue(['mx1.dest.test']);
  stsCert = await ca.issue(['mta-sts.dest.test']);
});

function zoneFor(cert: KeyCert, port: number): Record<string, ZoneEntry> {
  return {
    'dest.test': { MX: [{ exchange: 'mx1.dest.test', preference: 10 }], secure: true },
    'mx1.dest.test': { A: ['127.0.0.1'], secure: true },
    [`_${port}._tcp.mx1.dest.test`]: { TLSA: [{ usage: 3, selector: 1, matchingType: 1, data: cert.spkiSha256 }], secure: true },
    '_mta-sts.dest.test': { TXT: ['v=STSv1; id=20250101T000000'] },
    'mta-sts.dest.test': { A: ['127.0.0.1'] },
  };
}

describe('no silent downgrade', () => {
  let h: Harness | null = null;
  let peer: Peer | null = null;
  let mitm: Mitm | null = null;
  let sts: StsServer | null = null;
  afterEach(async () => {
    await h?.close();
    await mitm?.close();
    await peer?.close();
    await sts?.close();
    h = peer = mitm = sts = null;
  });

  async function setup(level: string, opts: { strip: boolean; cert?: KeyCert }) {
    peer = await startPeer({ tls: opts.cert ?? mxCert });
    mitm = await startMitm(peer.port, { stripStartTls: opts.strip });
    sts = await startStsServer(stsCert, enforcePolicy('mx1.dest.test'));
    const zone = zoneFor(opts.cert ?? mxCert, mitm.port);
    // The policy fetch goes to the HTTPS server on loopback, trusting the test CA.
    const stsPort = sts.port;
    h = await makeHarness({
      zone,
      port: mitm.port,
      policies: { 'dest.test': level },
      extraCa: [ca.certPem],
      sts: (resolver) => httpsStsFetcher({ resolver, port: stsPort, extraCa: [ca.certPem], timeoutMs: 5000 }),
    });
    return h;
  }

  for (const level of ['encrypt', 'verify', 'mta-sts', 'dane-only']) {
    it(`${level}: STARTTLS stripped → deferred, nothing sent in clear, failure recorded`, async () => {
      const harness = await setup(level, { strip: true });
      const marker = `secret-${level}-7f3a`;
      const id = await harness.enqueue({ to: ['bob@dest.test'], body: message(marker) });
      await harness.agent.pass();
      if (level === 'mta-sts') expect(sts!.requests).toBe(1);
      const wire = mitm!.fromClient().toString('latin1');
      expect(wire).toMatch(/^EHLO mail\.ours\.test\r\n/); // postern did talk to the peer...
      expect(wire).not.toMatch(/MAIL FROM/i); // ...but never gave it the envelope
      expect(wire).not.toContain(marker);
      expect(wire).not.toContain('bob@dest.test');
      expect(peer!.received).toHaveLength(0);
      const [r] = await harness.recipients(id);
      expect(r).toMatchObject({ state: 'deferred', lastError: expect.stringMatching(/4\.7\.5 .*starttls-not-supported/) });
      const failures = await harness.store.meta.events.list('tls.failure');
      expect(failures.map((f) => [f.subject, f.data.resultType, f.data.enforced])).toEqual([['dest.test', 'starttls-not-supported', true]]);
      expect(harness.agent.stats.tlsFailures).toBe(1);
      expect(harness.agent.stats.delivered).toBe(0);
    });
  }

  it('may: STARTTLS stripped → delivered in clear (and counted as such)', async () => {
    const harness = await setup('may', { strip: true });
    await harness.enqueue({ to: ['bob@dest.test'], body: message('open-may') });
    await harness.agent.pass();
    expect(peer!.received).toHaveLength(1);
    expect(peer!.received[0]!.secure).toBe(false);
    expect(mitm!.fromClient().toString('latin1')).toContain('open-may');
    expect(harness.agent.stats.plaintextSessions).toBe(1);
  });

  for (const level of ['verify', 'mta-sts', 'dane-only']) {
    it(`${level}: self-signed certificate for the wrong name → deferred before MAIL FROM`, async () => {
      const wrong = await selfSigned('attacker.test');
      // DANE records keep pinning the real key; the peer shows another one.
      const harness = await setup(level, { strip: false, cert: wrong });
      harness.dns.set(`_${mitm!.port}._tcp.mx1.dest.test`, { TLSA: [{ usage: 3, selector: 1, matchingType: 1, data: mxCert.spkiSha256 }], secure: true });
      const id = await harness.enqueue({ to: ['bob@dest.test'], body: message(`wrong-cert-${level}`) });
      await harness.agent.pass();
      expect(peer!.mailFroms).toEqual([]);
      expect(peer!.received).toHaveLength(0);
      expect(mitm!.fromClient().toString('latin1')).toMatch(/STARTTLS\r\n/);
      expect((await harness.recipients(id))[0]!.state).toBe('deferred');
      const [f] = await harness.store.meta.events.list('tls.failure');
      expect(f!.data).toMatchObject({ enforced: true, resultType: level === 'dane-only' ? 'tlsa-invalid' : 'certificate-not-trusted' });
    });
  }

  it('may: a self-signed certificate for the wrong name is accepted (opportunistic TLS)', async () => {
    const harness = await setup('may', { strip: false, cert: await selfSigned('attacker.test') });
    await harness.enqueue({ to: ['bob@dest.test'], body: message('may-selfsigned') });
    await harness.agent.pass();
    expect(peer!.received).toHaveLength(1);
    expect(peer!.received[0]!.secure).toBe(true);
  });
});
