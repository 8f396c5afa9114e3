/**
 * Retries and bounces: 4xx is retried with exponential backoff (a manual
 * clock moves time), 5xx produces exactly one RFC 3464 bounce to the sender
 * with the original headers, a null MX fails at once, the queue lifetime
 * ends retries, and a bounce is never bounced.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeHarness, message, ManualClock, type Harness } from './helpers/harness.js';
import { startPeer, smtpError, type Peer } from './helpers/peer.js';

const zone = {
  'dest.test': { MX: [{ exchange: 'mx1.dest.test', preference: 10 }] },
  'mx1.dest.test': { A: ['127.0.0.1'] },
  'nomail.test': { MX: [{ exchange: '', preference: 0 }] },
};
const T0 = Date.UTC(2025, 0, 2, 12, 0, 0);

async function bounces(h: Harness) {
  const out = [];
  for (const r of await h.store.meta.queue.listPending()) {
    const m = (await h.store.meta.queue.getMessage(r.queueId))!;
    if (m.sender === '') out.push({ rcpt: r, message: m, text: Buffer.from(await h.store.blobs.get(m.blobId)).toString('utf8') });
  }
  return out;
}

describe('retries and bounces', () => {
  let h: Harness | null = null;
  let peer: Peer | null = null;
  afterEach(async () => {
    await h?.close();
    await peer?.close();
    h = peer = null;
  });

  it('retries a 4xx with backoff until the peer accepts', async () => {
    let refuse = true;
    peer = await startPeer({ tls: null, onRcpt: () => (refuse ? smtpError(451, '4.7.1 greylisted, come back later') : null) });
    const clock = new ManualClock(T0);
    h = await makeHarness({ zone, port: peer.port, clock });
    const id = await h.enqueue({ to: ['bob@dest.test'], body: message('retry') });

    await h.agent.pass();
    let [r] = await h.recipients(id);
    expect(r).toMatchObject({ state: 'deferred', attempts: 1, nextAttemptAt: T0 + 1000, lastError: expect.stringContaining('451 4.7.1 greylisted') });
    expect(await h.agent.pass()).toBe(0); // not due yet

    clock.advance(1000);
    expect(await h.agent.pass()).toBe(1);
    [r] = await h.recipients(id);
    expect(r).toMatchObject({ state: 'deferred', attempts: 2, nextAttemptAt: T0 + 1000 + 2000 }); // doubled

    clock.advance(2000);
    refuse = false;
    await h.agent.pass();
    expect(peer.received).toHaveLength(1);
    expect(await h.recipients(id)).toEqual([]); // delivered and purged
    expect(await bounces(h)).toEqual([]);
  });

  it('bounces a 5xx once to the sender, listing every failed recipient, with the original headers', async () => {
    peer = await startPeer({ tls: null, onRcpt: (a) => (a.startsWith('ghost') ? smtpError(550, '5.1.1 no such user') : null) });
    h = await makeHarness({ zone, port: peer.port });
    const id = await h.enqueue({ to: ['ghost1@dest.test', 'bob@dest.test', 'ghost2@dest.test'], body: message('bounce-me') });
    await h.agent.pass();
    expect(peer.received.map((r) => r.to)).toEqual([['bob@dest.test']]);
    // All three are done (one delivered, two failed), so the message left the queue.
    expect(await h.recipients(id)).toEqual([]);
    expect(h.agent.stats).toMatchObject({ delivered: 1, failed: 2 });
    const b = await bounces(h);
    expect(b).toHaveLength(1);
    expect(b[0]!.rcpt).toMatchObject({ address: 'alice@ours.test', transport: 'local' });
    expect(b[0]!.message.meta).toMatchObject({ dsnFor: id });
    const text = b[0]!.text;
    expect(text).toContain('report-type=delivery-status');
    expect(text).toMatch(/Final-Recipient: rfc822; ghost1@dest\.test\r\nAction: failed\r\nStatus: 5\.1\.1/);
    expect(text).toMatch(/Final-Recipient: rfc822; ghost2@dest\.test/);
    expect(text).not.toMatch(/Final-Recipient: rfc822; bob@dest\.test/);
    expect(text).toContain('Diagnostic-Code: smtp; 550 5.1.1 no such user');
    expect(text).toContain('Content-Type: text/rfc822-headers');
    expect(text).toContain('Subject: test bounce-me\r\nMessage-ID: <bounce-me@ours.test>');
    expect(text).not.toContain('the marker is bounce-me'); // no body
    expect(h.agent.stats.bounces).toBe(1);
  });

  it('fails a 5xx after DATA for all accepted recipients, in one bounce', async () => {
    peer = await startPeer({ tls: null, onData: () => smtpError(554, '5.7.1 rejected as spam') });
    h = await makeHarness({ zone, port: peer.port });
    await h.enqueue({ to: ['bob@dest.test', 'carol@dest.test'], body: message('spam') });
    await h.agent.pass();
    const b = await bounces(h);
    expect(b).toHaveLength(1);
    expect(b[0]!.text.match(/Final-Recipient/g)).toHaveLength(2);
    expect(b[0]!.text).toContain('Status: 5.7.1');
  });

  it('never bounces a bounce', async () => {
    peer = await startPeer({ tls: null, onRcpt: () => smtpError(550, '5.1.1 gone') });
    h = await makeHarness({ zone, port: peer.port });
    const id = await h.enqueue({ sender: '', to: ['bob@dest.test'], body: message('dsn-to-nowhere') });
    await h.agent.pass();
    expect(await h.recipients(id)).toEqual([]);
    expect(h.agent.stats).toMatchObject({ failed: 1, bounces: 0 });
    expect(await bounces(h)).toEqual([]);
  });

  it('bounces mail to a domain with a null MX at once, without connecting', async () => {
    peer = await startPeer({ tls: null });
    h = await makeHarness({ zone, port: peer.port });
    const id = await h.enqueue({ to: ['x@nomail.test'], body: message('null-mx') });
    await h.agent.pass();
    expect(peer.mailFroms).toEqual([]);
    expect(await h.recipients(id)).toEqual([]);
    expect(h.agent.stats).toMatchObject({ failed: 1, bounces: 1 });
    expect((await bounces(h))[0]!.text).toMatch(/Status: 5\.1\.10\r\n[^]*nomail\.test accepts no mail \(null MX\)/);
  });

  it('gives up when the queue lifetime is over, with a bounce that gives the last error', async () => {
    peer = await startPeer({ tls: null, onRcpt: () => smtpError(452, '4.2.2 mailbox full') });
    const clock = new ManualClock(T0);
    h = await makeHarness({ zone, port: peer.port, clock, options: { maxLifetimeMs: 10_000 } });
    const id = await h.enqueue({ to: ['bob@dest.test'], body: message('expire') });
    let attempts = 0;
    for (; attempts < 10 && (await h.recipients(id)).length > 0; attempts++) {
      await h.agent.pass();
      clock.advance(4000);
    }
    // Attempts at 0, 4, 8 s are deferred; the one at 12 s is past the 10 s lifetime.
    expect(attempts).toBe(4);
    expect(h.agent.stats).toMatchObject({ deferred: 3, failed: 1 });
    const b = await bounces(h);
    expect(b).toHaveLength(1);
    expect(b[0]!.text).toContain('Status: 5.4.7');
    expect(b[0]!.text).toMatch(/Diagnostic-Code: x-postern; delivery time expired; last error: .*452 4\.2\.2 mailbox full/);
  });

  it('defers every waiting message at once when the destination is unreachable', async () => {
    peer = await startPeer({ tls: null });
    const port = peer.port;
    await peer.close();
    peer = null;
    h = await makeHarness({ zone, port });
    const ids = [await h.enqueue({ to: ['a@dest.test'], body: message('u1') }), await h.enqueue({ to: ['b@dest.test'], body: message('u2') })];
    await h.agent.pass();
    for (const id of ids) expect((await h.recipients(id))[0]).toMatchObject({ state: 'deferred', lastError: expect.stringContaining('ECONNREFUSED') });
  });
});
