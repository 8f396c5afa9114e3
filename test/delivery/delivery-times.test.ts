/**
 * Delivery times come from real timestamps: a message that a slow receiving
 * server takes 1.5 s to acknowledge counts as at least 1.5 s of outbound
 * time, and is not counted as inbound or internal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeHarness, message, type Harness } from './helpers/harness.js';
import { startPeer, type Peer } from './helpers/peer.js';

let h: Harness | null = null;
let peer: Peer | null = null;
afterEach(async () => {
  await h?.close();
  await peer?.close();
  h = peer = null;
});

describe('delivery times', () => {
  it('puts a message delayed by a slow server in the slow bucket, outbound only', { timeout: 60_000 }, async () => {
    peer = await startPeer({ tls: null, delayDataMs: 1500 });
    h = await makeHarness({ zone: { 'dest.test': { A: ['127.0.0.1'] } }, port: peer.port });
    const started = Date.now();
    await h.enqueue({ to: ['slow@dest.test'], body: message('slow') });
    expect(await h.agent.pass()).toBe(1);
    const took = Date.now() - started;
    const rows = await h.store.meta.deliveryTimes.summary({ since: started - 60_000 });
    expect(rows.map((r) => r.direction)).toEqual(['outbound']);
    expect(rows[0]).toMatchObject({ count: 1 });
    expect(rows[0]!.p50Ms).toBeGreaterThanOrEqual(1500);
    expect(rows[0]!.p50Ms).toBeLessThanOrEqual(took + 1000);
  });
});
