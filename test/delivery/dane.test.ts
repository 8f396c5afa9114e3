/**
 * DANE (RFC 7672) with TLSA records from a DNSSEC-validating resolver: a
 * loopback DNS server that sets the AD bit for secure names, queried over UDP
 * by the real stub resolver.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { makeHarness, message, type Harness } from './helpers/harness.js';
import { startPeer, type Peer } from './helpers/peer.js';
import { TestCa, type KeyCert } from './helpers/pki.js';
import { ZoneServer } from '../../src/net/dns/testing/zone-server.js';
import { WireResolver } from '../../src/net/dns/wire.js';
import type { TlsaRecord } from '../../src/net/dns/types.js';
import { daneVerify } from '../../src/policy/tls/dane.js';

let ca: TestCa;
let cert: KeyCert;
let other: KeyCert;
beforeAll(async () => {
  ca = await TestCa.create('DANE test CA');
  cert = await ca.issue(['mx1.dest.test']);
  other = await ca.issue(['mx1.dest.test']);
});

const ee = (data: Buffer): TlsaRecord => ({ usage: 3, selector: 1, matchingType: 1, data });

describe('DANE', () => {
  let h: Harness | null = null;
  let peer: Peer | null = null;
  let dns: ZoneServer | null = null;
  afterEach(async () => {
    await h?.close();
    await peer?.close();
    await dns?.stop();
    h = peer = dns = null;
  });

  async function setup(level: string, tlsa: TlsaRecord[], secure: boolean, chain = cert) {
    peer = await startPeer({ tls: chain });
    dns = await new ZoneServer({
      'dest.test': { MX: [{ exchange: 'mx1.dest.test', preference: 10 }], secure: true },
      'mx1.dest.test': { A: ['127.0.0.1'], secure: true },
      [`_${peer.port}._tcp.mx1.dest.test`]: { TLSA: tlsa, secure },
    }).start();
    h = await makeHarness({ port: peer.port, policies: { 'dest.test': level }, resolver: new WireResolver({ server: dns.address, timeoutMs: 2000 }) });
    return h;
  }

  it('accepts a certificate matching an authenticated 3 1 1 record', async () => {
    const harness = await setup('dane-only', [ee(cert.spkiSha256)], true);
    await harness.enqueue({ to: ['bob@dest.test'], body: message('dane-ok') });
    await harness.agent.pass();
    expect(peer!.received).toHaveLength(1);
    expect(dns!.queries).toContain(`TLSA _${peer!.port}._tcp.mx1.dest.test`);
    const [s] = await harness.store.meta.events.list('tls.success');
    expect(s!.data).toMatchObject({ verified: 'dane', policyType: 'tlsa', policyStrings: [`3 1 1 ${cert.spkiSha256.toString('hex')}`] });
  });

  it('refuses a certificate that matches no authenticated record, under dane and dane-only', async () => {
    for (const level of ['dane', 'dane-only']) {
      const harness = await setup(level, [ee(other.spkiSha256)], true);
      const id = await harness.enqueue({ to: ['bob@dest.test'], body: message(`dane-bad-${level}`) });
      await harness.agent.pass();
      expect(peer!.mailFroms).toEqual([]);
      expect((await harness.recipients(id))[0]!.state).toBe('deferred');
      expect((await harness.store.meta.events.list('tls.failure'))[0]!.data).toMatchObject({ resultType: 'tlsa-invalid', enforced: true });
      await harness.close();
      await peer!.close();
      await dns!.stop();
      h = peer = dns = null;
    }
  });

  it('ignores TLSA records without the AD bit under dane (delivers as may), and refuses them under dane-only', async () => {
    const harness = await setup('dane', [ee(other.spkiSha256)], false);
    await harness.enqueue({ to: ['bob@dest.test'], body: message('dane-insecure') });
    await harness.agent.pass();
    expect(peer!.received).toHaveLength(1);
    expect((await harness.store.meta.events.list('tls.success'))[0]!.data).toMatchObject({ policyType: 'no-policy-found', verified: 'none' });
    await harness.close();
    await peer!.close();
    await dns!.stop();
    h = peer = dns = null;

    const strict = await setup('dane-only', [ee(cert.spkiSha256)], false);
    const id = await strict.enqueue({ to: ['bob@dest.test'], body: message('dane-only-insecure') });
    await strict.agent.pass();
    expect(peer!.mailFroms).toEqual([]);
    expect((await strict.recipients(id))[0]!.state).toBe('deferred');
    expect((await strict.store.meta.events.list('tls.failure'))[0]!.data).toMatchObject({ resultType: 'dane-required' });
  });

  it('accepts a chain to a DANE-TA(2 0 1) trust anchor when the name matches', async () => {
    const chain = { ...cert, certPem: cert.certPem + ca.certPem };
    const ta = { usage: 2, selector: 0, matchingType: 1, data: createHash('sha256').update(ca.certDer).digest() };
    const harness = await setup('dane-only', [ta], true, chain);
    await harness.enqueue({ to: ['bob@dest.test'], body: message('dane-ta') });
    await harness.agent.pass();
    expect(peer!.received).toHaveLength(1);
  });
});

describe('daneVerify', () => {
  it('matches selectors and matching types, ignores PKIX usages, checks names for DANE-TA', async () => {
    const spki = createHash('sha512').update(Buffer.from(new (await import('node:crypto')).X509Certificate(cert.certPem).publicKey.export({ type: 'spki', format: 'der' }))).digest();
    const now = Date.now();
    expect(daneVerify([{ usage: 3, selector: 1, matchingType: 2, data: spki }], [cert.certDer], [], now)).toEqual({ ok: true, match: 'DANE-EE' });
    expect(daneVerify([{ usage: 3, selector: 0, matchingType: 0, data: cert.certDer }], [cert.certDer], [], now)).toEqual({ ok: true, match: 'DANE-EE' });
    expect(daneVerify([{ usage: 1, selector: 0, matchingType: 0, data: cert.certDer }], [cert.certDer], [], now)).toMatchObject({ ok: false, reason: 'no usable TLSA record' });
    const ta = { usage: 2, selector: 0, matchingType: 0, data: ca.certDer };
    expect(daneVerify([ta], [cert.certDer, ca.certDer], ['mx1.dest.test'], now)).toEqual({ ok: true, match: 'DANE-TA' });
    expect(daneVerify([ta], [cert.certDer, ca.certDer], ['mx2.dest.test'], now)).toMatchObject({ ok: false });
    expect(daneVerify([ta], [other.certDer, cert.certDer], ['mx1.dest.test'], now)).toMatchObject({ ok: false });
  });
});
