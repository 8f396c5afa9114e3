/**
 * At-least-once delivery across a crash: the postern process is killed with
 * SIGKILL while the peer holds the message (DATA sent, no reply yet). After a
 * restart the lease expires and the message is delivered — possibly twice,
 * never zero times. Runs the built `postern` (npm test builds first) with
 * the DNS resolver pointed at a loopback DNS server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { cli, makeInstallation, startServer, type Installation, type ServerProcess } from '../process/postern-process.js';
import { openStore } from '../../src/store/index.js';
import { Spool } from '../../src/queue/spool.js';
import { systemClock } from '../../src/core/clock.js';
import { newQueueId } from '../../src/core/ids.js';
import { ZoneServer } from '../../src/net/dns/testing/zone-server.js';
import { startPeer, type Peer, type PeerOptions } from './helpers/peer.js';
import { message } from './helpers/harness.js';

async function until(what: string, ms: number, test: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await test()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('outbound delivery across a crash', () => {
  let inst: Installation | null = null;
  let server: ServerProcess | null = null;
  let peer: Peer | null = null;
  let dns: ZoneServer | null = null;
  afterEach(async () => {
    await server?.kill('SIGKILL');
    await peer?.close();
    await dns?.stop();
    inst?.cleanup();
    inst = server = peer = dns = null;
  });

  it('delivers a message at least once after the process is killed mid-delivery', async () => {
    const peerOpts: PeerOptions = { tls: null, hangAfterData: true };
    peer = await startPeer(peerOpts);
    dns = await new ZoneServer({
      'dest.test': { MX: [{ exchange: 'mx1.dest.test', preference: 10 }] },
      'mx1.dest.test': { A: ['127.0.0.1'] },
    }).start();
    inst = await makeInstallation(
      'ours.test',
      `[delivery]\nport = ${peer.port}\nresolver = "${dns.address}"\nconnect_timeout = 1\ncommand_timeout = 1\ngreeting_timeout = 1\nmail_timeout = 1\nrcpt_timeout = 1\ndata_init_timeout = 1\ndata_block_timeout = 1\ndata_timeout = 5\n[queue]\nretry_min = 1\nretry_max = 2\n`,
    );

    // Queue a remote message before the server starts, as the submission listener would.
    const store = await openStore({ backend: 'sqlite', dataDir: path.join(inst.dir, 'data') });
    const marker = `crash-${newQueueId()}`;
    try {
      await new Spool(store.blobs, store.meta.queue, systemClock).accept({
        queueId: newQueueId(),
        data: Buffer.from(message(marker)),
        sender: 'alice@ours.test',
        recipients: [{ address: 'bob@dest.test', transport: 'remote' }],
        source: 'submission',
        clientAddress: '127.0.0.1',
        authUser: 'alice@ours.test',
        meta: {},
      });
    } finally {
      await store.close();
    }

    server = await startServer(inst);
    await until('the peer to hold the message', 20_000, () => peer!.hung.length > 0);
    await server.kill('SIGKILL');
    server = null;
    expect(peer.received).toHaveLength(0); // never acknowledged

    peerOpts.hangAfterData = false;
    server = await startServer(inst);
    await until('the message to be delivered after the lease expired', 45_000, () => peer!.received.length > 0);
    await until('the queue to be empty', 10_000, () => {
      const q = cli(inst!, ['queue', 'list', '--json']);
      return q.status === 0 && (JSON.parse(q.stdout) as unknown[]).length === 0;
    });
    await server.kill('SIGTERM');
    server = null;

    expect(peer.hung[0]!.data.toString()).toContain(marker);
    expect(peer.received.length).toBeGreaterThanOrEqual(1);
    for (const r of peer.received) {
      expect(r.to).toEqual(['bob@dest.test']);
      expect(r.data.toString()).toContain(`the marker is ${marker}.`);
    }
  });
});
