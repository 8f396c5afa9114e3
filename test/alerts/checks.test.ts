/**
 * The server's own checks, wired as the server wires them (startAlerts over a
 * real SQLite store, spool and directory): a certificate that expires in 5
 * days and mail waiting for 2 hours each raise their event once, however
 * often the check runs, and each becomes an alert mail queued for ops@.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startAlerts } from '../../src/alerts/index.js';
import { parseConfig } from '../../src/config/index.js';
import { systemClock } from '../../src/core/clock.js';
import { newQueueId } from '../../src/core/ids.js';
import { generateSelfSigned } from '../../src/crypto/selfsigned.js';
import { Directory } from '../../src/directory/directory.js';
import { silentLogger } from '../../src/metrics/logger.js';
import { Spool } from '../../src/queue/spool.js';
import { openStore, type Store } from '../../src/store/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'postern-alert-checks-'));
let store: Store | undefined;
afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + 30_000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('alert checks in the server', () => {
  it('raise tls.cert_expiring and queue.old once each, and alert them by mail through the queue', async () => {
    const cert = await generateSelfSigned({ hostname: 'mail.example.test', days: 5 });
    mkdirSync(path.join(dir, 'tls'));
    writeFileSync(path.join(dir, 'tls', 'cert.pem'), cert.certPem);
    const parsed = parseConfig(
      '[server]\nhostname = "mail.example.test"\n[alerts]\nenabled = true\nmail_to = ["ops@example.test"]\npoll_interval = 1\nqueue_age_warn = 3600\n',
      dir,
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    store = await openStore({ backend: 'sqlite', dataDir: path.join(dir, 'data') });
    const s = store;
    await s.meta.directory.addDomain('example.test', Date.now());
    const ops = await s.meta.directory.addAccount({ address: 'ops@example.test', passwordHash: '$x' }, Date.now());
    const blob = await s.blobs.put(Buffer.from('Subject: waiting\r\n\r\nbody\r\n'));
    await s.meta.queue.enqueue(
      { id: newQueueId(), blobId: blob.id, size: blob.size, sender: 'a@example.test', receivedAt: Date.now() - 2 * 3600_000, source: 'submission', clientAddress: '127.0.0.1', authUser: null, meta: {} },
      [{ address: 'someone@remote.test', transport: 'remote' }],
    );
    const sink = { record: (kind: string, subject: string, data: Record<string, unknown>) => void s.meta.events.record(kind, subject, data, Date.now()).catch(() => undefined) };
    const alerts = startAlerts(
      parsed.config,
      { events: s.meta.events, queue: s.meta.queue, spool: new Spool(s.blobs, s.meta.queue, systemClock), directory: new Directory(s.meta.directory), sink, clock: systemClock, log: silentLogger() },
      { certCheckMs: 20, queueCheckMs: 20 },
    );
    try {
      const sent = await until('both alerts', async () => {
        const kinds = (await s.meta.events.list('alert.sent')).map((e) => e.data.kind);
        return kinds.includes('tls.cert_expiring') && kinds.includes('queue.old') ? kinds : undefined;
      });
      expect(sent.sort()).toEqual(['queue.old', 'tls.cert_expiring']);
      await new Promise((r) => setTimeout(r, 300)); // many more checks, still bad
      expect(await s.meta.events.count('tls.cert_expiring')).toBe(1);
      expect(await s.meta.events.count('queue.old')).toBe(1);
      const [certEvent] = await s.meta.events.list('tls.cert_expiring');
      expect(certEvent!.data.days).toBe(4); // 5 days from now, less the time since
      expect((await s.meta.events.list('queue.old'))[0]!.data.age_s).toBeGreaterThanOrEqual(7200);

      const toOps = (await s.meta.queue.listPending()).filter((r) => r.address === 'ops@example.test');
      expect(toOps).toHaveLength(2);
      for (const r of toOps) {
        expect(r).toMatchObject({ transport: 'local', accountId: ops.id });
        const m = (await s.meta.queue.getMessage(r.queueId))!;
        expect(m.sender).toBe('');
        expect(Buffer.from(await s.blobs.get(m.blobId)).toString('utf8')).toMatch(/^Subject: \[postern (warning|critical)\] (tls\.cert_expiring|queue\.old) on mail\.example\.test\r$/m);
      }
    } finally {
      await alerts.stop();
    }
  }, 60_000);
});
