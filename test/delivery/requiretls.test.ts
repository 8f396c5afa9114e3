/**
 * REQUIRETLS (RFC 8689), delivery side: a message flagged at submission goes
 * only over verified TLS, to an MX obtained securely, to a server that
 * supports REQUIRETLS — otherwise it waits (TLS trouble) or is bounced
 * (the route can never satisfy it).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeHarness, message, type Harness } from './helpers/harness.js';
import { startPeer, type Peer } from './helpers/peer.js';
import { startMitm, type Mitm } from './helpers/mitm.js';
import { TestCa, selfSigned, type KeyCert } from './helpers/pki.js';

let ca: TestCa;
let mxCert: KeyCert;
beforeAll(async () => {
  ca = await TestCa.create();
  mxCert = await ca.issue(['mx1.dest.test']);
});

const zone = (secure: boolean) => ({
  'dest.test': { MX: [{ exchange: 'mx1.dest.test', preference: 10 }], secure },
  'mx1.dest.test': { A: ['127.0.0.1'], secure },
});

async function bounceText(h: Harness): Promise<string | null> {
  for (const r of await h.store.meta.queue.listPending()) {
    const m = (await h.store.meta.queue.getMessage(r.queueId))!;
    if (m.sender === '') {
      expect(m.meta).toMatchObject({ requireTls: true }); // the bounce is protected like the message
      return Buffer.from(await h.store.blobs.get(m.blobId)).toString();
    }
  }
  return null;
}

describe('REQUIRETLS delivery', () => {
  let h: Harness | null = null;
  let peer: Peer | null = null;
  let mitm: Mitm | null = null;
  afterEach(async () => {
    await h?.close();
    await mitm?.close();
    await peer?.close();
    h = peer = mitm = null;
  });

  const send = async (harness: Harness, marker: string) => {
    const id = await harness.enqueue({ to: ['bob@dest.test'], body: message(marker), meta: { requireTls: true } });
    await harness.agent.pass();
    return id;
  };

  it('delivers over verified TLS with REQUIRETLS on MAIL FROM, even under the default may', async () => {
    peer = await startPeer({ tls: mxCert, requireTlsExtension: true });
    h = await makeHarness({ zone: zone(true), port: peer.port, extraCa: [ca.certPem] });
    await send(h, 'rt-ok');
    expect(peer.received).toHaveLength(1);
    expect(peer.received[0]).toMatchObject({ secure: true, requireTls: true });
  });

  it('bounces with 5.7.30 when the server does not support REQUIRETLS', async () => {
    peer = await startPeer({ tls: mxCert, requireTlsExtension: false });
    h = await makeHarness({ zone: zone(true), port: peer.port, extraCa: [ca.certPem] });
    await send(h, 'rt-noext');
    expect(peer.mailFroms).toEqual([]);
    expect(await bounceText(h)).toMatch(/Status: 5\.7\.30/);
  });

  it('bounces when the MX was not obtained with DNSSEC (and no MTA-STS policy vouches for it)', async () => {
    peer = await startPeer({ tls: mxCert, requireTlsExtension: true });
    h = await makeHarness({ zone: zone(false), port: peer.port, extraCa: [ca.certPem] });
    await send(h, 'rt-insecure-mx');
    expect(peer.mailFroms).toEqual([]);
    expect(await bounceText(h)).toMatch(/Status: 5\.7\.30[^]*not DNSSEC- or MTA-STS-protected/);
  });

  it('waits (deferred, nothing sent) when the certificate cannot be verified or STARTTLS is stripped', async () => {
    peer = await startPeer({ tls: await selfSigned('mx1.dest.test'), requireTlsExtension: true });
    h = await makeHarness({ zone: zone(true), port: peer.port, extraCa: [ca.certPem] });
    let id = await send(h, 'rt-selfsigned');
    expect(peer.mailFroms).toEqual([]);
    expect((await h.recipients(id))[0]).toMatchObject({ state: 'deferred' });
    await h.close();
    await peer.close();

    peer = await startPeer({ tls: mxCert, requireTlsExtension: true });
    mitm = await startMitm(peer.port, { stripStartTls: true });
    h = await makeHarness({ zone: zone(true), port: mitm.port, extraCa: [ca.certPem] });
    id = await send(h, 'rt-stripped');
    expect(mitm.fromClient().toString('latin1')).not.toMatch(/MAIL FROM|rt-stripped/);
    expect((await h.recipients(id))[0]).toMatchObject({ state: 'deferred' });
    expect(await bounceText(h)).toBeNull();
  });
});
