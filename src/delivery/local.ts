import type { Logger } from '../metrics/logger.js';
import type { Clock } from '../core/clock.js';
import type { HeaderCacheEntry, Lease, LocalDeliveryOutcome, MailboxRepo, QueueRepo } from '../store/types.js';
import { withDeliveryFields } from './trace.js';
import { createSubscribed, inboxOf, junkOf } from '../mailbox/provision.js';
import type { MailboxNotifier } from '../mailbox/notify.js';
import { fitsQuota } from '../mailbox/quota.js';
import type { BlobStore, DirectoryRepo, EventRepo } from '../store/types.js';
import { cacheEntry } from '../mailbox/header-cache.js';
import { parseMessage } from '../codec/mime/index.js';
import { ByteBudget, SharedReads } from './bounded.js';
import { backoffMs } from '../queue/spool.js';
import { HandedLeases } from './handed.js';
import { LeaseWindow } from './window.js';
import { reportFailure } from './failure.js';
import type { DsnSender } from './dsn-sender.js';
import { AtRestDeferred, type AtRest, type AtRestResult } from '../mailbox/at-rest.js';
import type { Folder } from '../store/types.js';
import { SieveRunner, SIEVE_ERROR_EVENT, type SieveDeps, type SieveTarget } from './sieve.js';

export const AT_REST_EVENT = 'smime.at_rest';

/** Bytes held by copies under way (a queued message and its copy, each): large messages are not all in memory at once. */
const COPY_BYTES = 64 * 1024 * 1024;
const PURGE_EVERY_MS = 1000;

/** A recipient whose folders are known (the first is where the delivery goes). */
interface Planned {
  lease: Lease;
  log: Logger;
  now: number;
  targets: { folder: Folder; flags: string[] }[];
}

/** A planned recipient whose copy is stored: ready for the delivery transaction. */
interface Ready extends Planned {
  choice: { blobId: string; size: number; result: AtRestResult | null };
  /** Its header cache entry, from the bytes written; null with `readBack` when those were not in hand. */
  entry: HeaderCacheEntry | null;
  readBack: boolean;
}

interface Delivered extends Ready {
  uid: number;
}

export interface LocalDeliveryOptions {
  /**
   * Recipients under delivery at once (\`batch\` × \`parallel\`): a new one
   * is leased as soon as one is done, not when a whole batch is.
   */
  batch: number;
  leaseMs: number;
  pollMs: number;
  parallel?: number;
  retryMinMs: number;
  retryMaxMs: number;
  maxLifetimeMs: number;
  /**
   * Write `Return-Path:` and `Delivered-To:` into each recipient's copy
   * (RFC 5321 4.4): a blob per recipient, written before encryption at rest.
   * Needs the blob store; the server turns it on.
   */
  deliveryFields?: boolean;
  /** Finished entries are purged at most this often (default 1000 ms; see `purge`). */
  purgeEveryMs?: number;
}

/**
 * Moves queued mail for local accounts into their INBOX. Each delivery is one
 * store transaction (append + mark delivered), so a crash at any point leaves
 * the message either still queued or delivered, never both, never neither.
 * With encryption at rest, a covered recipient's copy is encrypted and written
 * as its own blob first; that blob is appended in the same one transaction,
 * and a failure to encrypt defers the recipient (the queued copy stays).
 */
export class LocalDelivery {
  private readonly window: LeaseWindow<Lease, Ready>;
  /** The queued bytes, read once for the recipients of one message under delivery together. */
  private readonly reads: SharedReads | null;
  private readonly copyBytes = new ByteBudget(COPY_BYTES);
  /** Bytes under delivery per account, not yet committed: the quota check counts them. */
  private readonly adding = new Map<number, number>();
  /** Plans run one at a time: a folder made on first use is made once. */
  private planning: Promise<unknown> = Promise.resolve();
  /** Queue blobs in clear whose covered recipients got encrypted copies: removed once nothing uses them. */
  private readonly shred = new Set<string>();
  private purgedAt = -Infinity;
  private readonly purgeEveryMs: number;
  /** Entries were finished since the last purge. */
  private purgeDue = false;
  private purgeTimer: NodeJS.Timeout | null = null;
  private atRest: AtRest | null = null;
  private sieve: SieveRunner | null = null;
  private notices: DsnSender | null = null;
  /** Leases the scanner hands over (`adopt`), and the store's. */
  private readonly leases: HandedLeases<Lease>;
  readonly transport = 'local' as const;

  constructor(
    private readonly queue: QueueRepo,
    private readonly mailboxes: MailboxRepo,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: LocalDeliveryOptions,
    private readonly directory?: DirectoryRepo,
    private readonly notifier?: MailboxNotifier,
    /** When given, each newly delivered message's headers are cached for IMAP SEARCH and FETCH. */
    private readonly blobs?: BlobStore,
    /** Where failures left to a retry are recorded (`delivery.error`). */
    private readonly events?: EventRepo,
  ) {
    this.reads = blobs ? new SharedReads((id) => blobs.get(id)) : null;
    this.purgeEveryMs = opts.purgeEveryMs ?? PURGE_EVERY_MS;
    this.leases = new HandedLeases(opts.pollMs, (now, limit) => this.queue.lease({ transport: 'local', now, leaseMs: this.opts.leaseMs, limit }));
    this.window = new LeaseWindow(
      {
        lease: (limit) => this.lease(limit),
        work: (lease) => this.prepare(lease),
        commit: (ready) => this.commit(ready),
        // A mailbox gets its mail in queue order (UIDs follow arrival), whatever copy is written first.
        orderKey: (lease) => lease.recipient.accountId ?? -1,
      },
      opts.batch * (opts.parallel ?? 1),
      opts.pollMs,
      log,
      'local delivery',
      (e) => this.failure('local delivery lease', e),
    );
  }

  private async failure(what: string, e: unknown, data: Record<string, unknown> = {}): Promise<void> {
    if (this.events) await reportFailure({ log: this.log, events: this.events, clock: this.clock }, String(data.queueId ?? 'local'), what, e, data);
    else this.log.error({ err: e, what, ...data }, `${what} failed; left to a retry`);
  }

  start(): void {
    this.window.start();
  }

  /** Turns encryption at rest on ([encryption_at_rest]); null turns it off. */
  encryptAtRest(atRest: AtRest | null): void {
    this.atRest = atRest;
  }

  /**
   * Turns Sieve filtering on: each local recipient's active script decides
   * the folders, flags and mail sent (`sieve.ts`). Needs the blob store to
   * read the message; null (the default) delivers to INBOX as before.
   */
  useSieve(deps: SieveDeps | null): void {
    this.sieve = deps && this.blobs ? new SieveRunner({ events: this.events, ...deps }, this.log) : null;
  }

  /** The folder a Sieve target names (created on first use), or the default one when that fails. */
  private async targetFolder(t: SieveTarget, accountId: number, fallback: Folder, now: number, queueId: string, log: Logger): Promise<Folder> {
    if (t.folder === null) return fallback;
    try {
      return (await this.mailboxes.getFolder(accountId, t.folder)) ?? (await createSubscribed(this.mailboxes, accountId, t.folder, null, now));
    } catch (e) {
      const err = e instanceof Error ? e.message : String(e);
      log.warn({ folder: t.folder, err }, 'sieve fileinto folder refused; kept in the default folder');
      await this.events?.record(SIEVE_ERROR_EVENT, queueId, { accountId, error: `fileinto ${JSON.stringify(t.folder)}: ${err}` }, now).catch(() => undefined);
      return fallback;
    }
  }

  /** The `smime.at_rest` event; a store that cannot take it only loses the count. */
  private async atRestEvent(result: AtRestResult, queueId: string, now: number, log: Logger): Promise<void> {
    try {
      await this.events?.record(AT_REST_EVENT, queueId, { result }, now);
    } catch (e) {
      log.warn({ err: e instanceof Error ? e.message : String(e) }, 'smime.at_rest event not recorded');
    }
  }

  /** Success notices (RFC 3461 NOTIFY=SUCCESS, "delivered") go out through this; none without it. */
  notifySuccess(notices: DsnSender | null): void {
    this.notices = notices;
  }

  /** Queues a "delivered" notice when the recipient's NOTIFY asks for one; a failure only loses the notice. */
  private async successNotice(lease: Lease, now: number, log: Logger): Promise<void> {
    const r = { address: lease.recipient.address, status: '2.0.0', diagnostic: 'delivered to mailbox', remoteMta: null, lastAttemptAt: now, action: 'delivered' as const };
    if (!this.notices || this.notices.wanted(lease.message, 'success', [r]).length === 0) return;
    try {
      const id = await this.notices.send(lease.message, 'success', [r]);
      log.info({ dsn: id }, 'sender notified of the delivery');
    } catch (e) {
      await this.failure('queueing a success notice', e, { queueId: lease.message.id });
    }
  }

  /** Leases what is due now in the store (or as soon as a slot is free). */
  kick(): void {
    this.leases.due();
    this.window.kick();
  }

  async stop(): Promise<void> {
    this.window.halt();
    await this.window.idle;
    if (this.purgeTimer) clearTimeout(this.purgeTimer);
    this.purgeTimer = null;
  }

  /** Delivers everything due (started or not), then purges what it finished; returns how many recipients were handled. */
  async pass(): Promise<number> {
    const n = await this.window.drain();
    await this.purge();
    return n;
  }

  /**
   * Deletes the finished entries, at most once a second. The purge reads the
   * whole queue table, and deleting one message's rows rewrites as many pages
   * as storing them did (the table, its indexes, the free-page list): one
   * purge per delivery cost about a fifth of the database pages written per
   * message when mail came one at a time. Finished entries left meanwhile are
   * not leased (the lease queries read only waiting states). A delivery that
   * leaves clear queue copies to remove (encryption at rest) purges at once.
   */
  private async purge(): Promise<void> {
    if (!this.purgeDue) return;
    this.purgeDue = false;
    this.purgedAt = performance.now();
    try {
      await this.queue.purgeFinished();
    } catch (e) {
      await this.failure('purging finished queue entries', e);
    }
  }

  /** A purge once the interval has passed since the last, unless one is already set. */
  private schedulePurge(): void {
    if (this.purgeTimer) return;
    this.purgeTimer = setTimeout(
      () => {
        this.purgeTimer = null;
        this.purge().catch(() => undefined);
      },
      Math.max(0, this.purgeEveryMs - (performance.now() - this.purgedAt)),
    );
    this.purgeTimer.unref();
  }

  /** How long a lease handed over by the scanner runs (as this agent's own leases). */
  get leaseMs(): number {
    return this.opts.leaseMs;
  }

  /**
   * Takes recipients the scanner leased for this agent as it stored their
   * scan results (PolicyScanner.handOffTo), and starts on them.
   */
  adopt(leases: readonly Lease[]): void {
    this.leases.add(leases);
    this.window.kick();
  }

  /** Handed-over leases first, then the store's (HandedLeases); their queued bytes are wanted. */
  private async lease(limit: number): Promise<Lease[]> {
    const leases = await this.leases.take(this.clock.now(), limit);
    for (const l of leases) this.reads?.want(l.message.blobId);
    return leases;
  }

  /**
   * One recipient up to its commit: its folders (plans in turn: a folder
   * made on first use is made once), then its copy written (copies of
   * several recipients at once: their syncs to disk overlap). Null when it
   * needs no commit (discarded, or set back).
   */
  private async prepare(lease: Lease): Promise<Ready | null> {
    const log = this.log.child({ queueId: lease.message.id, rcpt: lease.recipient.address });
    const now = this.clock.now();
    let p: Planned | null;
    try {
      p = await this.inTurn(() => this.plan(lease, log, now));
    } catch (e) {
      p = null;
      await this.setBack(lease, now, e, log);
    }
    if (!p) {
      this.reads?.forget(lease.message.blobId);
      return null;
    }
    const weight = 2 * lease.message.size;
    await this.copyBytes.acquire(weight);
    try {
      return await this.storeCopy(p);
    } catch (e) {
      this.settled(lease);
      await this.setBack(lease, p.now, e, p.log);
      return null;
    } finally {
      this.copyBytes.release(weight);
    }
  }

  private inTurn<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.planning.then(fn);
    this.planning = run.catch(() => undefined);
    return run;
  }

  /** A planned recipient is committed or set back: its bytes no longer count for its account. */
  private settled(lease: Lease): void {
    const id = lease.recipient.accountId;
    if (id === null) return;
    const left = (this.adding.get(id) ?? 0) - lease.message.size;
    if (left > 0) this.adding.set(id, left);
    else this.adding.delete(id);
  }

  /**
   * Every append + mark delivered of the recipients ready together in one
   * store transaction, each in a savepoint of its own. Open sessions hear of
   * the new mail before any bookkeeping is done.
   */
  private async commit(ready: Ready[]): Promise<void> {
    let outcomes: LocalDeliveryOutcome[];
    try {
      outcomes = await this.queue.deliverLocalMany(
        ready.map((r) => ({
          lease: r.lease,
          folderId: r.targets[0]!.folder.id,
          now: r.now,
          ...(r.choice.blobId === r.lease.message.blobId ? {} : { stored: r.choice }),
          // From the bytes in hand (null without them): stored in the delivery's own transaction.
          headerCache: r.entry,
        })),
      );
    } catch (e) {
      outcomes = ready.map(() => ({ error: e }));
    }
    const done: Delivered[] = [];
    for (const [i, r] of ready.entries()) {
      const o = outcomes[i];
      this.settled(r.lease);
      if (o && 'error' in o) await this.setBack(r.lease, r.now, o.error, r.log);
      else if (o) done.push({ ...r, uid: o.uid });
    }
    for (const d of done) await this.file(d);
    await this.cacheHeaders(done);
    for (const d of done) await this.recordDone(d, this.shred);
    this.purgeDue = true;
    // Clear queue copies to remove now: their entries must be gone first (a copy still
    // referenced by a queue entry is left to the collector, in clear, until then).
    if (this.shred.size > 0 || performance.now() - this.purgedAt >= this.purgeEveryMs) await this.purge();
    else this.schedulePurge();
    if (this.shred.size > 0) {
      const ids = [...this.shred];
      this.shred.clear();
      await this.shredClear(ids);
    }
  }

  /** The recipient's folders (Sieve may name several); null when its filter discarded the message. */
  private async plan(lease: Lease, log: Logger, now: number): Promise<Planned | null> {
    const adding = this.adding;
    const accountId = lease.recipient.accountId;
    if (accountId === null) throw new Error('local recipient without an account');
    const account = this.directory ? await this.directory.getAccountById(accountId) : null;
    const bytes = (adding.get(accountId) ?? 0) + lease.message.size;
    if (account && !(await fitsQuota(this.mailboxes, account, bytes))) throw new Error('mailbox over quota');
    // A policy stage (e.g. DMARC p=quarantine) may ask for the recipient's Junk folder.
    const junk = lease.message.verdicts.some((v) => v.junk === true);
    const folder = junk ? await junkOf(this.mailboxes, accountId, now) : await inboxOf(this.mailboxes, accountId, now);
    const blobId = lease.message.blobId;
    const plan = this.sieve && this.blobs
      ? await this.sieve.plan({ accountId, address: account?.address ?? lease.recipient.address, sender: lease.message.sender, load: async () => Buffer.from(await this.blobs!.get(blobId)), now, queueId: lease.message.id })
      : null;
    if (plan && plan.targets.length === 0) {
      // Discarded or refused by the recipient's own filter: done, nothing stored.
      if (await this.queue.complete(lease, now, 'sieve: discarded')) log.info({}, 'discarded by sieve');
      return null;
    }
    const targets = plan ? await Promise.all(plan.targets.map(async (t) => ({ folder: await this.targetFolder(t, accountId, folder, now, lease.message.id, log), flags: t.flags }))) : [{ folder, flags: [] as string[] }];
    adding.set(accountId, bytes);
    return { lease, log, now, targets };
  }

  /**
   * Writes the recipient's copy: with its delivery fields (a blob of its own),
   * then encrypted at rest if the recipient is covered. The header cache entry
   * comes from the bytes in hand, so the message is not read back.
   */
  private async storeCopy(p: Planned): Promise<Ready> {
    const { reads, shred } = this;
    const queued = { blobId: p.lease.message.blobId, size: p.lease.message.size };
    let copy = queued;
    let bytes: Uint8Array | null = null;
    if (this.blobs && reads) {
      bytes = await reads.take(queued.blobId);
      if (this.opts.deliveryFields) {
        bytes = withDeliveryFields(bytes, p.lease.message.sender, p.lease.recipient.address);
        // Referenced by the delivery's commit, which is synced before anything relies on it.
        // A covered recipient's clear copy is replaced by an encrypted one: it must be removable whole.
        const asFile = this.atRest ? await this.atRest.covered(p.lease.recipient.address) : false;
        const ref = await this.blobs.put(bytes, { syncedByCommit: true, asFile });
        // The queue copy, unused once every recipient has its own, is left to the collector
        // (deleting it at once would race with a backup that listed it).
        copy = { blobId: ref.id, size: ref.size };
      }
    }
    const choice = this.atRest ? await this.atRest.prepare(p.lease.recipient.address, copy, p.now) : { ...copy, result: null };
    // An encrypted copy replaces the clear one written for this recipient.
    if (choice.blobId !== copy.blobId && copy !== queued) shred.add(copy.blobId);
    const inHand = bytes !== null && choice.blobId === copy.blobId;
    return { ...p, choice, entry: inHand ? this.entryOf(choice.blobId, bytes!, p.log) : null, readBack: !inHand };
  }

  /** Flags and further copies a script asked for, then the news to open sessions. */
  private async file(d: Delivered): Promise<void> {
    const [primary, ...more] = d.targets;
    try {
      if (primary!.flags.length > 0) await this.mailboxes.storeFlags(primary!.folder.id, { uids: [d.uid], op: 'add', flags: primary!.flags });
      // Further copies (fileinto :copy, keep and fileinto): the same blob, after the recipient
      // is marked delivered, so a retry never stores the first copy twice.
      for (const t of more) {
        await this.mailboxes.append(t.folder.id, { blobId: d.choice.blobId, size: d.choice.size, internalDate: d.now, flags: t.flags });
        this.notifier?.changed(t.folder.id);
      }
    } catch (e) {
      await this.failure('filing a delivered message', e, { queueId: d.lease.message.id, rcpt: d.lease.recipient.address });
    }
    this.notifier?.changed(primary!.folder.id);
  }

  /** Events, the log line and a success notice for a delivered recipient. */
  private async recordDone(d: Delivered, shred: Set<string>): Promise<void> {
    const { lease, choice, now, log } = d;
    if (choice.result) await this.atRestEvent(choice.result, lease.message.id, now, log);
    if (choice.result === 'encrypted') shred.add(lease.message.blobId);
    log.info({ folder: d.targets[0]!.folder.name, ...(d.targets.length > 1 ? { copies: d.targets.length } : {}), uid: d.uid, delay: now - lease.message.receivedAt, ...(choice.result ? { atRest: choice.result } : {}) }, 'delivered');
    await this.successNotice(lease, now, log);
  }

  /** A header cache entry from a message's bytes; null (parsed on its first SEARCH instead) when that fails. */
  private entryOf(blobId: string, bytes: Uint8Array, log: Logger): HeaderCacheEntry | null {
    try {
      return cacheEntry(blobId, parseMessage(bytes));
    } catch (e) {
      log.warn({ err: e instanceof Error ? e.message : String(e) }, 'header cache not filled');
      return null;
    }
  }

  /**
   * Entries of copies whose bytes were not in hand (an encrypted copy, read
   * back as IMAP would see it), best effort, one transaction for the batch;
   * the others were stored with their delivery. A message without an entry
   * is simply parsed on its first SEARCH.
   */
  private async cacheHeaders(done: Delivered[]): Promise<void> {
    if (!this.blobs) return;
    const entries = new Map<string, HeaderCacheEntry>();
    for (const d of done) {
      if (!d.readBack || entries.has(d.choice.blobId)) continue;
      const entry = await this.blobs.get(d.choice.blobId).then((b) => this.entryOf(d.choice.blobId, b, d.log), () => null);
      if (entry) entries.set(d.choice.blobId, entry);
    }
    if (entries.size === 0) return;
    try {
      await this.mailboxes.putHeaderCache([...entries.values()]);
    } catch (e) {
      this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'header cache not filled');
    }
  }

  /** A failed recipient waits for a retry, or fails for good once the queue lifetime is over. */
  private async setBack(lease: Lease, now: number, e: unknown, log: Logger): Promise<void> {
    if (e instanceof AtRestDeferred) await this.atRestEvent(e.result, lease.message.id, now, log);
    const msg = e instanceof Error ? e.message : String(e);
    try {
      if (now - lease.message.receivedAt > this.opts.maxLifetimeMs) {
        await this.queue.fail(lease, now, msg);
        log.error({ err: msg }, 'local delivery failed permanently');
      } else {
        await this.queue.defer(lease, now + backoffMs(lease.recipient.attempts, this.opts.retryMinMs, this.opts.retryMaxMs), msg);
        log.warn({ err: msg }, 'local delivery deferred');
      }
    } catch (e2) {
      // The store failed twice: the lease expires and the recipient is tried again.
      await this.failure('recording a local delivery failure', e2, { queueId: lease.message.id, rcpt: lease.recipient.address });
    }
  }

  /**
   * Deletes the clear queue copies of encrypted deliveries now rather than at
   * the next garbage collection, with the collector's own safe protocol: only
   * blobs no message or queue entry references at the moment of deletion, and
   * not rewritten since (a queue copy carries its unique Received field, so
   * the same bytes arriving again is not expected). One still used (another
   * recipient not yet delivered) is left to the garbage collector.
   */
  private async shredClear(ids: string[]): Promise<void> {
    if (!this.blobs) return;
    try {
      await this.blobs.collectGarbage(ids, this.clock.now(), async (id) => (await this.mailboxes.blobReferences(id)) === 0);
    } catch (e) {
      this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'clear queue copies left to garbage collection');
    }
  }
}
