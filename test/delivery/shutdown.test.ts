/**
 * Stopping the agent: idle sessions close at once, a transaction that hangs
 * is cut after the grace period and its recipient deferred, and nothing is
 * lost.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeHarness, message, type Harness } from './helpers/harness.js';
import { startPeer, type Peer } from './helpers/peer.js';

const zone = { 'dest.test': { A: ['127.0.0.1'] } };

describe('stopping outbound delivery', () => {
  let h: Harness | null = null;
  let peer: Peer | null = null;
  afterEach(async () => {
    await h?.close();
    await peer?.close();
    h = peer = null;
  });

  it('cuts a hanging transaction after the grace period and defers its recipient', async () => {
    peer = await startPeer({ tls: null, hangAfterData: true });
    h = await makeHarness({ zone, port: peer.port, options: { stopGraceMs: 100, dataTimeoutMs: 60_000 } });
    const id = await h.enqueue({ to: ['bob@dest.test'], body: message('hang') });
    h.agent.start();
    for (let i = 0; i < 100 && peer.hung.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(peer.hung).toHaveLength(1);
    await h.agent.stop();
    expect((await h.recipients(id))[0]).toMatchObject({ state: 'deferred', lastError: expect.stringContaining('lost connection') });
    expect(peer.received).toHaveLength(0);
  });

  it('delivers what is queued while running, and stops with idle sessions open', async () => {
    peer = await startPeer({ tls: null });
    h = await makeHarness({ zone, port: peer.port, options: { sessionIdleMs: 60_000 } });
    h.spool.onEnqueued(() => h!.agent.kick());
    h.agent.start();
    for (let n = 0; n < 3; n++) {
      await h.enqueue({ to: ['bob@dest.test'], body: message(`live-${n}`) });
      for (let i = 0; i < 100 && peer.received.length <= n; i++) await new Promise((r) => setTimeout(r, 20));
    }
    expect(peer.received).toHaveLength(3);
    expect(h.agent.stats.sessions).toBe(1); // one connection carried all three
    expect(h.agent.activeSessions).toBe(1); // and stays open, idle
    await h.agent.stop();
    // The idle session is closed by stop(), not after its 60 s idle time.
    for (let i = 0; i < 100 && h.agent.activeSessions > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(h.agent.activeSessions).toBe(0);
  });
});
