/**
 * Crash safety: SIGKILL the server while clients are sending. After a restart
 * every message that got `250` must be in the recipient's INBOX (or still in
 * the queue), byte-intact, exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import path from 'node:path';
import { cli, makeInstallation, startServer, type Installation, type ServerProcess } from '../process/postern-process.js';
import { openStore } from '../../src/store/index.js';

const SENDERS = 6;
const KILL_AFTER_ACKS = 60;
const MAX_PER_SENDER = 200; // bounds the loop even if the kill never comes

function body(id: string): string {
  return `From: load@sender.test\r\nTo: alice@crash.test\r\nSubject: crash ${id}\r\nMessage-ID: <${id}@sender.test>\r\n\r\n${`line of ${id}\r\n`.repeat(40)}`;
}

describe('crash safety', () => {
  let inst: Installation;
  let server: ServerProcess | null = null;
  beforeAll(async () => {
    inst = await makeInstallation('crash.test');
    expect(cli(inst, ['user', 'add', 'alice@crash.test'], 'a long enough password\n').status).toBe(0);
  });
  afterAll(async () => {
    await server?.kill('SIGKILL');
    inst.cleanup();
  });

  it('keeps every acknowledged message exactly once across SIGKILL', { timeout: 180_000 }, async () => {
    server = await startServer(inst);
    const acked = new Set<string>();
    let killed = false;
    const sender = async (n: number) => {
      const t = nodemailer.createTransport({ host: '127.0.0.1', port: inst.ports.mx, secure: false, ignoreTLS: true, pool: false });
      for (let i = 0; i < MAX_PER_SENDER && !killed; i++) {
        const id = `s${n}-m${i}`;
        try {
          await t.sendMail({ envelope: { from: 'load@sender.test', to: ['alice@crash.test'] }, raw: body(id) });
          acked.add(id);
        } catch {
          return; // the server died under us: anything not acknowledged may be lost
        }
      }
    };
    const killer = (async () => {
      const until = Date.now() + 60_000;
      while (acked.size < KILL_AFTER_ACKS && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      killed = true;
      await server!.kill('SIGKILL');
    })();
    await Promise.all([killer, ...Array.from({ length: SENDERS }, (_, n) => sender(n))]);
    expect(acked.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);

    // Restart; local delivery drains what was queued before the crash (a
    // recipient leased at the moment of the kill waits for its 30 s lease).
    server = await startServer(inst);
    const until = Date.now() + 90_000;
    while (Date.now() < until) {
      const q = cli(inst, ['queue', 'list', '--json']);
      if (q.status === 0 && (JSON.parse(q.stdout) as unknown[]).length === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await server.kill('SIGTERM');
    server = null;

    const store = await openStore({ backend: 'sqlite', dataDir: path.join(inst.dir, 'data') });
    try {
      const acct = (await store.meta.directory.getAccount('alice@crash.test'))!;
      const inbox = (await store.meta.mailboxes.getFolder(acct.id, 'INBOX'))!;
      const seen = new Map<string, number>();
      for (const m of await store.meta.mailboxes.listMessages(inbox.id)) {
        const bytes = Buffer.from(await store.blobs.get(m.blobId)).toString('latin1');
        const id = /^Message-ID: <([^@]+)@sender\.test>/m.exec(bytes)?.[1];
        expect(id).toBeDefined();
        // Intact: the stored message ends with exactly what the client sent.
        expect(bytes.endsWith(body(id!))).toBe(true);
        seen.set(id!, (seen.get(id!) ?? 0) + 1);
      }
      expect(await store.meta.queue.listPending()).toEqual([]);
      for (const id of acked) expect(seen.get(id), `acknowledged message ${id}`).toBe(1);
      for (const [id, n] of seen) expect(n, `message ${id} stored ${n} times`).toBe(1);
    } finally {
      await store.close();
    }
  });
});
