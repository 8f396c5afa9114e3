import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../store/index.js';
import { Spool } from '../queue/spool.js';
import { LocalDelivery } from './local.js';
import { ManualClock } from '../core/clock.js';
import { newQueueId } from '../core/ids.js';
import { silentLogger } from '../metrics/logger.js';
import { MailboxNotifier } from '../mailbox/notify.js';
import { provisionMailbox } from '../mailbox/provision.js';
import type { Lease } from '../store/types.js';

const OPTS = { batch: 10, leaseMs: 30_000, pollMs: 1000, retryMinMs: 1000, retryMaxMs: 8000, maxLifetimeMs: 60_000 };

/** A fresh store with one account and its mailbox. */
async function withAccount(address: string) {
  const store = await openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-local-')) });
  await store.meta.directory.addDomain(address.split('@')[1]!, 1);
  const acct = await store.meta.directory.addAccount({ address, passwordHash: 'x' }, 1);
  await provisionMailbox(store.meta.mailboxes, acct.id, 1);
  const inbox = (await store.meta.mailboxes.getFolder(acct.id, 'INBOX'))!;
  return { store, acct, inbox };
}

/** A message from outside to one local account, as the MX queues it. */
function toAccount(acct: { address: string; id: number }, queueId: string, data: Buffer) {
  return { queueId, data, sender: 'bob@remote.test', recipients: [{ address: acct.address, transport: 'local' as const, accountId: acct.id }], source: 'mx' as const, clientAddress: '127.0.0.1', authUser: null, meta: {} };
}

describe('local delivery', () => {
  it('delivers into INBOX, tells open sessions, and caches the headers for IMAP', async () => {
    const { store, acct, inbox } = await withAccount('ann@example.test');
    try {
      const clock = new ManualClock(1_000_000);
      const notifier = new MailboxNotifier();
      const heard: number[] = [];
      notifier.subscribe(inbox.id, (id) => heard.push(id));
      const spool = new Spool(store.blobs, store.meta.queue, clock);
      const bytes = Buffer.from('From: bob@remote.test\r\nTo: ann@example.test\r\nSubject: cached\r\n\r\nhello\r\n');
      const queueId = newQueueId();
      await spool.accept(toAccount(acct, queueId, bytes));
      const agent = new LocalDelivery(store.meta.queue, store.meta.mailboxes, clock, silentLogger(), OPTS, store.meta.directory, notifier, store.blobs);
      expect(await agent.pass()).toBe(1);
      const [m] = await store.meta.mailboxes.listMessages(inbox.id);
      expect(Buffer.from(await store.blobs.get(m!.blobId)).equals(bytes)).toBe(true);
      await new Promise((r) => setTimeout(r, 0));
      expect(heard).toEqual([inbox.id]);
      const cached = await store.meta.mailboxes.getHeaderCache([m!.blobId], false);
      expect(cached).toHaveLength(1);
      expect(cached[0]!.search).toMatch(/cached/i);
      expect(await store.meta.queue.listPending()).toEqual([]);
      // pass() purges what it finished.
      expect(await store.meta.queue.getMessage(queueId)).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('purges finished entries at most once per interval: at once the first time, later by its timer, and on pass()', async () => {
    const { store, acct, inbox } = await withAccount('pat@example.test');
    const agents: LocalDelivery[] = [];
    try {
      const clock = new ManualClock(1_000_000);
      const spool = new Spool(store.blobs, store.meta.queue, clock);
      const accept = async (): Promise<string> => {
        const queueId = newQueueId();
        await spool.accept(toAccount(acct, queueId, Buffer.from(`Subject: ${queueId}\r\n\r\nbody\r\n`)));
        return queueId;
      };
      const delivered = async (n: number): Promise<void> => {
        for (let i = 0; i < 300 && (await store.meta.mailboxes.listMessages(inbox.id)).length < n; i++) await new Promise((r) => setTimeout(r, 10));
        expect(await store.meta.mailboxes.listMessages(inbox.id)).toHaveLength(n);
      };
      const gone = async (id: string): Promise<boolean> => (await store.meta.queue.getMessage(id)) === null;

      const started = (purgeEveryMs: number): LocalDelivery => {
        const agent = new LocalDelivery(store.meta.queue, store.meta.mailboxes, clock, silentLogger(), { ...OPTS, purgeEveryMs }, store.meta.directory);
        agents.push(agent);
        agent.start();
        return agent;
      };
      /** One message accepted and delivered (the n-th in INBOX); its queue id. */
      const through = async (agent: LocalDelivery, n: number): Promise<string> => {
        const id = await accept();
        agent.kick();
        await delivered(n);
        return id;
      };

      // An interval longer than the test: the first purge runs at once, the next waits.
      const slow = started(3_600_000);
      const a = await through(slow, 1);
      for (let i = 0; i < 100 && !(await gone(a)); i++) await new Promise((r) => setTimeout(r, 10));
      expect(await gone(a)).toBe(true);
      const b = await through(slow, 2);
      await new Promise((r) => setTimeout(r, 50));
      expect(await store.meta.queue.listPending()).toEqual([]);
      expect(await gone(b)).toBe(false); // finished, not yet purged
      await slow.pass();
      expect(await gone(b)).toBe(true); // pass() purges what is due
      await slow.stop();

      // A short interval: the timer purges without a pass.
      const quick = started(200);
      const c = await through(quick, 3);
      const d = await through(quick, 4);
      for (let i = 0; i < 300 && !(await gone(d)); i++) await new Promise((r) => setTimeout(r, 10));
      expect([await gone(c), await gone(d)]).toEqual([true, true]);
    } finally {
      for (const a of agents) await a.stop();
      await store.close();
    }
  });

  it('delivers recipients handed over leased by the scan, without leasing them again; asks the store when kicked and for expired ones', async () => {
    const { store, acct, inbox } = await withAccount('hal@example.test');
    try {
      const clock = new ManualClock(1_000_000);
      const spool = new Spool(store.blobs, store.meta.queue, clock);
      let asked = 0;
      const queue = new Proxy(store.meta.queue, {
        get(t, k) {
          if (k === 'lease') return (req: Parameters<typeof t.lease>[0]) => (asked++, t.lease(req));
          const v = Reflect.get(t, k) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
        },
      });
      const agent = new LocalDelivery(queue, store.meta.mailboxes, clock, silentLogger(), OPTS, store.meta.directory);
      const scanned = async (): Promise<Lease[]> => {
        const queueId = newQueueId();
        await spool.accept({ ...toAccount(acct, queueId, Buffer.from(`Subject: ${queueId}\r\n\r\nbody\r\n`)), route: 'scan' });
        const [scan] = await store.meta.queue.leaseScan({ now: clock.now(), leaseMs: 60_000, limit: 1 });
        const [r] = await store.meta.queue.finishScanMany([{ lease: scan!, outcome: { verdicts: [], next: 'deliver', now: clock.now() } }], agent);
        return (r as { leases: Lease[] }).leases;
      };
      const count = async () => (await store.meta.mailboxes.listMessages(inbox.id)).length;
      const until = async (n: number) => {
        for (let i = 0; i < 300 && (await count()) < n; i++) await new Promise((r) => setTimeout(r, 10));
        expect(await count()).toBe(n);
      };
      agent.start();
      await until(0);
      await new Promise((r) => setTimeout(r, 20));
      const atStart = asked;
      expect(atStart).toBe(1);
      // Handed over: delivered without a lease of its own.
      agent.adopt(await scanned());
      await until(1);
      agent.adopt(await scanned());
      await until(2);
      expect(asked).toBe(atStart);
      // A kick says mail may wait in the store (queued without a scan): the store is asked.
      await spool.accept(toAccount(acct, newQueueId(), Buffer.from('Subject: plain\r\n\r\nbody\r\n')));
      agent.kick();
      await until(3);
      expect(asked).toBe(atStart + 1);
      // One handed over after its lease ran out is left to the store, which leases it again.
      const late = await scanned();
      clock.advance(OPTS.leaseMs);
      agent.adopt(late);
      await new Promise((r) => setTimeout(r, 50));
      expect(await count()).toBe(3);
      agent.kick();
      await until(4);
      const [again] = (await store.meta.queue.listRecipients(late[0]!.recipient.queueId)).map((r) => r.attempts);
      expect(again).toBe(2);
      await agent.stop();
    } finally {
      await store.close();
    }
  });

  it('defers a delivery that would exceed the quota', async () => {
    const store = await openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-local-')) });
    try {
      const clock = new ManualClock(1_000_000);
      await store.meta.directory.addDomain('example.test', 1);
      const acct = await store.meta.directory.addAccount({ address: 'tiny@example.test', passwordHash: 'x', quotaBytes: 10 }, 1);
      const spool = new Spool(store.blobs, store.meta.queue, clock);
      await spool.accept({
        queueId: newQueueId(),
        data: Buffer.from('Subject: too big for the quota\r\n\r\nbody\r\n'),
        sender: 'bob@remote.test',
        recipients: [{ address: acct.address, transport: 'local', accountId: acct.id }],
        source: 'mx',
        clientAddress: '127.0.0.1',
        authUser: null,
        meta: {},
      });
      const agent = new LocalDelivery(store.meta.queue, store.meta.mailboxes, clock, silentLogger(), OPTS, store.meta.directory);
      await agent.pass();
      const [r] = await store.meta.queue.listPending();
      expect(r).toMatchObject({ state: 'deferred', lastError: 'mailbox over quota' });
    } finally {
      await store.close();
    }
  });

  it('with delivery fields, each recipient gets its own copy with Return-Path and Delivered-To, and the queue copy is left unreferenced', async () => {
    const store = await openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-local-')) });
    try {
      const clock = new ManualClock(1_000_000);
      await store.meta.directory.addDomain('example.test', 1);
      const ann = await store.meta.directory.addAccount({ address: 'ann@example.test', passwordHash: 'x' }, 1);
      const ben = await store.meta.directory.addAccount({ address: 'ben@example.test', passwordHash: 'x' }, 1);
      for (const a of [ann, ben]) await provisionMailbox(store.meta.mailboxes, a.id, 1);
      const spool = new Spool(store.blobs, store.meta.queue, clock);
      const bytes = Buffer.from('Return-Path: <forged@evil.test>\r\nFrom: bob@remote.test\r\nSubject: fields\r\n\r\nhello\r\n');
      const queueId = newQueueId();
      await spool.accept({
        queueId,
        data: bytes,
        sender: 'bob@remote.test',
        recipients: [ann, ben].map((a) => ({ address: a.address, transport: 'local' as const, accountId: a.id })),
        source: 'mx',
        clientAddress: '127.0.0.1',
        authUser: null,
        meta: {},
      });
      const queueBlob = (await store.meta.queue.getMessage(queueId))!.blobId;
      const agent = new LocalDelivery(store.meta.queue, store.meta.mailboxes, clock, silentLogger(), { ...OPTS, deliveryFields: true }, store.meta.directory, undefined, store.blobs);
      expect(await agent.pass()).toBe(2);
      for (const a of [ann, ben]) {
        const inbox = (await store.meta.mailboxes.getFolder(a.id, 'INBOX'))!;
        const [m] = await store.meta.mailboxes.listMessages(inbox.id);
        const got = Buffer.from(await store.blobs.get(m!.blobId)).toString('latin1');
        expect(got).toBe(`Return-Path: <bob@remote.test>\r\nDelivered-To: ${a.address}\r\nFrom: bob@remote.test\r\nSubject: fields\r\n\r\nhello\r\n`);
        expect(m!.size).toBe(Buffer.byteLength(got));
      }
      // Every recipient has its own copy: the queue copy is referenced by nothing, so the collector may take it.
      expect(await store.meta.mailboxes.blobReferences(queueBlob)).toBe(0);
    } finally {
      await store.close();
    }
  });
  it('delivers a batch in queue order, each copy with its fields and header cache entry, and keeps the quota for the batch as a whole', async () => {
    const store = await openStore({ backend: 'sqlite', dataDir: mkdtempSync(path.join(tmpdir(), 'postern-local-')) });
    try {
      const clock = new ManualClock(1_000_000);
      await store.meta.directory.addDomain('example.test', 1);
      const ann = await store.meta.directory.addAccount({ address: 'ann@example.test', passwordHash: 'x' }, 1);
      const ben = await store.meta.directory.addAccount({ address: 'ben@example.test', passwordHash: 'x' }, 1);
      const raw = (n: number) => Buffer.from(`From: bob@remote.test\r\nSubject: batch ${n}\r\n\r\nbody ${n}\r\n`);
      // Room for three of the messages in ben's mailbox, not four.
      const tiny = await store.meta.directory.addAccount({ address: 'tiny@example.test', passwordHash: 'x', quotaBytes: 3 * raw(0).length + 10 }, 1);
      for (const a of [ann, ben, tiny]) await provisionMailbox(store.meta.mailboxes, a.id, 1);
      const notifier = new MailboxNotifier();
      const heard = new Set<number>();
      const inboxes = await Promise.all([ann, ben, tiny].map(async (a) => (await store.meta.mailboxes.getFolder(a.id, 'INBOX'))!));
      for (const f of inboxes) notifier.subscribe(f.id, (id) => heard.add(id));
      const spool = new Spool(store.blobs, store.meta.queue, clock);
      for (let n = 0; n < 6; n++) {
        await spool.accept({
          queueId: newQueueId(),
          data: raw(n),
          sender: 'bob@remote.test',
          recipients: (n < 2 ? [ann, ben] : [tiny]).map((a) => ({ address: a.address, transport: 'local' as const, accountId: a.id })),
          source: 'mx',
          clientAddress: '127.0.0.1',
          authUser: null,
          meta: {},
        });
        clock.advance(1);
      }
      const agent = new LocalDelivery(store.meta.queue, store.meta.mailboxes, clock, silentLogger(), { ...OPTS, batch: 16, deliveryFields: true }, store.meta.directory, notifier, store.blobs);
      expect(await agent.pass()).toBe(8);
      await new Promise((r) => setTimeout(r, 0));
      expect([...heard].sort()).toEqual(inboxes.map((f) => f.id).sort());
      const want = { [ann.id]: [0, 1], [ben.id]: [0, 1], [tiny.id]: [2, 3, 4] };
      for (const a of [ann, ben, tiny]) {
        const inbox = inboxes.find((f) => f.accountId === a.id)!;
        const msgs = await store.meta.mailboxes.listMessages(inbox.id);
        expect(msgs.map((m) => m.uid)).toEqual(want[a.id]!.map((_, i) => i + 1));
        for (const [i, m] of msgs.entries()) {
          const n = want[a.id]![i]!;
          const got = Buffer.from(await store.blobs.get(m.blobId));
          expect(got.toString('latin1')).toBe(`Return-Path: <bob@remote.test>\r\nDelivered-To: ${a.address}\r\n${raw(n).toString('latin1')}`);
          const [cached] = await store.meta.mailboxes.getHeaderCache([m.blobId], false);
          expect(cached?.search).toContain(`batch ${n}`);
        }
      }
      const pending = await store.meta.queue.listPending();
      expect(pending.map((r) => [r.address, r.state, r.lastError])).toEqual([['tiny@example.test', 'deferred', 'mailbox over quota']]);
    } finally {
      await store.close();
    }
  });
});
