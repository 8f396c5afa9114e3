/**
 * A peer that sends endless reply bytes nobody asked for (here on an idle,
 * cached session) is cut off once one largest reply's worth is buffered:
 * memory stays bounded, the event loop stays free, and delivery goes on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeHarness, message, type Harness } from './helpers/harness.js';
import { startRawPeer, type RawPeer } from './helpers/raw-peer.js';

describe('a flooding peer', () => {
  let h: Harness | null = null;
  let raw: RawPeer | null = null;
  afterEach(async () => {
    await h?.close();
    await raw?.close();
    h = raw = null;
  });

  it('is disconnected after a bounded number of bytes, and the next message goes out on a fresh connection', { timeout: 60_000 }, async () => {
    raw = await startRawPeer();
    h = await makeHarness({ zone: { 'flood.test': { A: ['127.0.0.1'] } }, port: raw.port, options: { sessionIdleMs: 20_000 } });
    await h.enqueue({ to: ['bob@flood.test'], body: message('flood-1') });
    await h.agent.pass();
    expect(raw.lines.filter((l) => l.startsWith('DELIVERED bob@flood.test'))).toHaveLength(1);

    // The peer floods the idle session until we close it (or it has sent 256 MiB).
    const sent = Number((await raw.waitFor(/^FLOOD \d+$/, 30_000)).slice(6));
    expect(sent).toBeLessThan(32 * 1024 * 1024); // the socket buffers in between, not the flood

    const id = await h.enqueue({ to: ['carol@flood.test'], body: message('flood-2') });
    await h.agent.pass();
    expect(raw.lines.filter((l) => l.startsWith('DELIVERED carol@flood.test'))).toHaveLength(1);
    expect(await h.recipients(id)).toEqual([]);
  });
});
