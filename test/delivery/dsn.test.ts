/**
 * Delivery status notifications over real SMTP to loopback peers (RFC 3461,
 * 3464): a success notice when the peer cannot take NOTIFY on ("relayed"),
 * the request passed on (and no notice) when it can, exactly one delay
 * warning past delay_warning, NOTIFY=NEVER without a bounce, and nothing ever
 * to the null sender. A manual clock moves time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeHarness, message, ManualClock, type Harness } from './helpers/harness.js';
import { startPeer, smtpError, type Peer } from './helpers/peer.js';

const zone = {
  'dest.test': { MX: [{ exchange: 'mx1.dest.test', preference: 10 }] },
  'mx1.dest.test': { A: ['127.0.0.1'] },
};
const T0 = Date.UTC(2025, 0, 2, 12, 0, 0);

/** Notices waiting in the queue (sent from the null sender), with their text. */
async function notices(h: Harness) {
  const out: { to: string; text: string }[] = [];
  const seen = new Set<string>();
  for (const r of await h.store.meta.queue.listPending()) {
    const m = (await h.store.meta.queue.getMessage(r.queueId))!;
    if (m.sender !== '' || seen.has(m.id)) continue;
    seen.add(m.id);
    out.push({ to: r.address, text: Buffer.from(await h.store.blobs.get(m.blobId)).toString('utf8') });
  }
  return out;
}

const dsnMeta = (notify: string[] | null, extra: Record<string, unknown> = {}) => ({
  dsn: { envid: 'ENV-1', ret: 'HDRS', rcpts: { 'bob@dest.test': { ...(notify ? { notify } : {}), orcpt: 'Bob+x@dest.test', orcptType: 'rfc822' } }, ...extra },
});

describe('delivery status notifications', () => {
  let h: Harness | null = null;
  let peer: Peer | null = null;
  afterEach(async () => {
    await h?.close();
    await peer?.close();
    h = peer = null;
  });

  it('sends one "relayed" notice for NOTIFY=SUCCESS when the peer offers no DSN', async () => {
    peer = await startPeer({ tls: null });
    h = await makeHarness({ zone, port: peer.port, clock: new ManualClock(T0) });
    await h.enqueue({ to: ['bob@dest.test'], body: message('success'), meta: dsnMeta(['SUCCESS']) });
    await h.agent.pass();
    expect(peer.received).toHaveLength(1);
    const n = await notices(h);
    expect(n).toHaveLength(1);
    expect(n[0]!.to).toBe('alice@ours.test');
    expect(n[0]!.text).toContain('Content-Type: multipart/report; report-type=delivery-status');
    expect(n[0]!.text).toContain('Subject: Successful Mail Delivery Report');
    expect(n[0]!.text).toContain('Original-Envelope-Id: ENV-1\r\n');
    expect(n[0]!.text).toMatch(/Original-Recipient: rfc822; Bob\+2Bx@dest\.test\r\nFinal-Recipient: rfc822; bob@dest\.test\r\nAction: relayed\r\nStatus: 2\.0\.0/);
    expect(n[0]!.text).not.toContain('Action: failed');
  });

  it('passes NOTIFY, ORCPT, RET and ENVID on to a peer that offers DSN, and sends no notice itself', async () => {
    peer = await startPeer({ tls: null, dsn: true });
    h = await makeHarness({ zone, port: peer.port, clock: new ManualClock(T0) });
    await h.enqueue({ to: ['bob@dest.test'], body: message('passed on'), meta: dsnMeta(['SUCCESS', 'FAILURE']) });
    await h.agent.pass();
    expect(peer.received).toHaveLength(1);
    expect(peer.params).toContain('MAIL RET=HDRS ENVID=ENV-1');
    // smtp-server decodes the xtext: the ORCPT arrives as the sender gave it.
    expect(peer.params.find((p) => p.startsWith('RCPT '))).toBe('RCPT bob@dest.test NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob+x@dest.test');
    expect(await notices(h)).toEqual([]);
  });

  it('warns exactly once when a recipient is still deferred after delay_warning, and never for NOTIFY without DELAY', async () => {
    peer = await startPeer({ tls: null, onRcpt: () => smtpError(451, '4.7.1 greylisted, come back later') });
    const clock = new ManualClock(T0);
    h = await makeHarness({ zone, port: peer.port, clock, options: { delayWarningMs: 2500 } });
    await h.enqueue({ to: ['bob@dest.test'], body: message('delayed'), meta: dsnMeta(null) }); // no NOTIFY: failures and delays
    await h.enqueue({ to: ['bob@dest.test'], body: message('failures only'), meta: dsnMeta(['FAILURE']) });
    await h.agent.pass(); // attempt 1 at 0 s
    expect(await notices(h)).toEqual([]);
    for (const step of [1000, 2000, 4000, 4000]) {
      clock.advance(step); // attempts at 1 s, 3 s (past 2.5 s: the warning), 7 s, 11 s
      await h.agent.pass();
    }
    const n = await notices(h);
    expect(n).toHaveLength(1);
    expect(n[0]!.text).toContain('Subject: Delayed Mail (still being retried)');
    expect(n[0]!.text).toMatch(/Final-Recipient: rfc822; bob@dest\.test\r\nAction: delayed\r\nStatus: 4\.7\.1/);
    expect(n[0]!.text).toContain('Subject: test delayed'); // the original's header section
    expect(await h.store.meta.events.count('delivery.delay_warning')).toBe(1);
  });

  it('fails NOTIFY=NEVER without a bounce, bounces NOTIFY=FAILURE, and never notifies the null sender', async () => {
    peer = await startPeer({ tls: null, onRcpt: () => smtpError(550, '5.1.1 No such user') });
    h = await makeHarness({ zone, port: peer.port, clock: new ManualClock(T0), options: { delayWarningMs: 1 } });
    const never = await h.enqueue({ to: ['bob@dest.test'], body: message('never'), meta: dsnMeta([]) }); // NOTIFY=NEVER
    const nulls = await h.enqueue({ sender: '', to: ['bob@dest.test'], body: message('null sender'), meta: dsnMeta(['SUCCESS', 'FAILURE', 'DELAY']) });
    await h.agent.pass();
    expect(await h.recipients(never)).toEqual([]); // failed and purged
    expect(await h.recipients(nulls)).toEqual([]);
    expect(await notices(h)).toEqual([]);

    await h.enqueue({ to: ['bob@dest.test'], body: message('bounced'), meta: dsnMeta(['FAILURE']) });
    await h.agent.pass();
    const n = await notices(h);
    expect(n).toHaveLength(1);
    expect(n[0]!.text).toMatch(/Original-Recipient: rfc822; Bob\+2Bx@dest\.test\r\nFinal-Recipient: rfc822; bob@dest\.test\r\nAction: failed\r\nStatus: 5\.1\.1/);
    expect(n[0]!.text).toContain('Original-Envelope-Id: ENV-1');
  });
});
