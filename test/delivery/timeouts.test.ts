/**
 * Deadlines on the outbound side (RFC 5321 4.5.3.2) and leases that outlive
 * a slow transfer: a peer that answers 354 and then stops reading is cut at
 * the data block deadline and its recipients deferred, the agent keeps
 * delivering elsewhere meanwhile, and the message later goes out once; a
 * slow but legitimate transfer keeps its lease, so a second node never
 * sends the message again while the first is still sending it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeHarness, message, type Harness } from './helpers/harness.js';
import { startRawPeer, type RawPeer } from './helpers/raw-peer.js';
import { startPeer, type Peer } from './helpers/peer.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A message of about `mib` MiB: far more than the socket buffers between us and a peer that stopped reading. */
function bigMessage(marker: string, mib: number): string {
  const line = 'x'.repeat(78) + '\r\n';
  return message(marker) + line.repeat(Math.ceil((mib * 1024 * 1024) / line.length));
}

describe('outbound deadlines', () => {
  let h: Harness | null = null;
  let raw: RawPeer | null = null;
  let peer: Peer | null = null;
  afterEach(async () => {
    await h?.close();
    await raw?.close();
    await peer?.close();
    h = raw = peer = null;
  });

  it('defers a message whose peer stops reading after 354, keeps going meanwhile, and delivers it once later', { timeout: 60_000 }, async () => {
    raw = await startRawPeer();
    h = await makeHarness({
      zone: { 'stall.test': { A: ['127.0.0.1'] }, 'other.test': { A: ['127.0.0.1'] } },
      port: raw.port,
      options: { dataBlockTimeoutMs: 1000, retryMinMs: 200, retryMaxMs: 200 },
    });
    const stalled = await h.enqueue({ to: ['bob@stall.test'], body: bigMessage('stall', 8) });
    await h.enqueue({ to: ['carol@other.test'], body: message('other') });

    await h.agent.pass(); // returns: the stalled transfer ended at its deadline
    expect(raw.lines).toContain('STALLED');
    expect(raw.lines.filter((l) => l.startsWith('DELIVERED carol@other.test'))).toHaveLength(1);
    const [r] = await h.recipients(stalled);
    expect(r).toMatchObject({ state: 'deferred', lastError: expect.stringMatching(/4\.4\.2 .*peer took no data for 1000 ms while we sent the message/) });

    for (let i = 0; i < 50 && (await h.agent.pass()) === 0; i++) await sleep(100);
    expect(raw.lines.filter((l) => l.startsWith('DELIVERED bob@stall.test'))).toHaveLength(1);
    expect(await h.recipients(stalled)).toEqual([]);
  });

  it('does not commit a message whose leases it no longer holds: the connection is dropped before the final dot', { timeout: 30_000 }, async () => {
    peer = await startPeer({ tls: null, delayRcptMs: 1000 });
    let renewals = 0;
    h = await makeHarness({
      zone: { 'dest.test': { A: ['127.0.0.1'] } },
      port: peer.port,
      options: { leaseMs: 1500 },
      // As if another node had taken the recipient over: every renewal finds the lease gone.
      wrapQueue: (q) => Object.assign(Object.create(q) as typeof q, { renew: async () => (renewals++, false) }),
    });
    const id = await h.enqueue({ to: ['bob@dest.test'], body: message('lost-lease') });
    await h.agent.pass();
    expect(renewals).toBeGreaterThan(0);
    expect(peer.mailFroms).toHaveLength(1);
    expect(peer.received).toHaveLength(0);
    expect((await h.recipients(id))[0]).toMatchObject({ state: 'deferred', lastError: expect.stringContaining('not committed') });
  });

  it('renews the lease of a slow transfer, so a second node does not send the message again', { timeout: 60_000 }, async () => {
    peer = await startPeer({ tls: null, delayDataMs: 3000 }); // answers the message after twice the lease time
    h = await makeHarness({ zone: { 'dest.test': { A: ['127.0.0.1'] } }, port: peer.port, options: { leaseMs: 1500 } });
    const id = await h.enqueue({ to: ['bob@dest.test'], body: message('slow') });
    const second = h.anotherAgent();

    let done = false;
    const first = h.agent.pass().finally(() => (done = true));
    let stolen = 0;
    for (let i = 0; i < 100 && !done; i++) {
      stolen += await second.pass();
      await sleep(100);
    }
    expect(await first).toBe(1);
    await second.stop();
    expect(stolen).toBe(0);
    expect(peer.received).toHaveLength(1);
    expect(await h.recipients(id)).toEqual([]);
  });
});
