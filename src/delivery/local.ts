import type { Logger } from '../metrics/logger.js';
import type { Clock } from '../core/clock.js';
import type { Lease, MailboxRepo, QueueRepo } from '../store/types.js';
import { withDeliveryFields } from './trace.js';
import { createSubscribed, inboxOf, junkOf } from '../mailbox/provision.js';
import type { MailboxNotifier } from '../mailbox/notify.js';
import { fitsQuota } from '../mailbox/quota.js';
import type { BlobStore, DirectoryRepo, EventRepo } from '../store/types.js';
import { cacheMessage } from '../mailbox/header-cache.js';
import { backoffMs } from '../queue/spool.js';
import { Pump } from './pump.js';
import { reportFailure } from './failure.js';
import type { DsnSender } from './dsn-sender.js';
import { AtRestDeferred, type AtRest, type AtRestResult } from '../mailbox/at-rest.js';
import type { Folder } from '../store/types.js';
import { SieveRunner, SIEVE_ERROR_EVENT, type SieveDeps, type SieveTarget } from './sieve.js';

export const AT_REST_EVENT = 'smime.at_rest';

export interface LocalDeliveryOptions {
  batch: number;
  leaseMs: number;
  pollMs: number;
  retryMinMs: number;
  retryMaxMs: number;
  maxLifetimeMs: number;
  /**
   * Write `Return-Path:` and `Delivered-To:` into each recipient's copy
   * (RFC 5321 4.4): a blob per recipient, written before encryption at rest.
   * Needs the blob store; the server turns it on.
   */
  deliveryFields?: boolean;
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
  private readonly pump: Pump;
  private atRest: AtRest | null = null;
  private sieve: SieveRunner | null = null;
  private notices: DsnSender | null = null;

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
    this.pump = new Pump(() => this.pass(), opts.pollMs, log, 'local delivery', (e) => this.failure('local delivery pass', e));
  }

  private async failure(what: string, e: unknown, data: Record<string, unknown> = {}): Promise<void> {
    if (this.events) await reportFailure({ log: this.log, events: this.events, clock: this.clock }, String(data.queueId ?? 'local'), what, e, data);
    else this.log.error({ err: e, what, ...data }, `${what} failed; left to a retry`);
  }

  start(): void {
    this.pump.start();
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

  /** Runs a pass now (or right after the current one). */
  kick(): void {
    this.pump.kick();
  }

  async stop(): Promise<void> {
    this.pump.halt();
    await this.pump.idle;
  }

  /** Best effort: a message without a cache entry is simply parsed on its first SEARCH. */
  private async cacheHeaders(blobId: string, log: Logger): Promise<void> {
    if (!this.blobs) return;
    try {
      if ((await this.mailboxes.getHeaderCache([blobId], false)).length > 0) return;
      await cacheMessage(this.mailboxes, blobId, await this.blobs.get(blobId));
    } catch (e) {
      log.warn({ err: e instanceof Error ? e.message : String(e) }, 'header cache not filled');
    }
  }

  /** The recipient's copy with its delivery fields (a new blob), or the queued one when they are off. */
  private async recipientCopy(lease: Lease, queued: { blobId: string; size: number }): Promise<{ blobId: string; size: number }> {
    if (!this.opts.deliveryFields || !this.blobs) return queued;
    const raw = await this.blobs.get(queued.blobId);
    const ref = await this.blobs.put(withDeliveryFields(raw, lease.message.sender, lease.recipient.address));
    return { blobId: ref.id, size: ref.size };
  }

  /** One pass: delivers everything due; returns how many recipients were handled. */
  async pass(): Promise<number> {
    let handled = 0;
    // Queue blobs in clear whose covered recipients got encrypted copies: removed once nothing uses them.
    const shred = new Set<string>();
    for (;;) {
      const leases = await this.queue.lease({ transport: 'local', now: this.clock.now(), leaseMs: this.opts.leaseMs, limit: this.opts.batch });
      if (leases.length === 0) break;
      for (const lease of leases) {
        const log = this.log.child({ queueId: lease.message.id, rcpt: lease.recipient.address });
        const now = this.clock.now();
        try {
          if (lease.recipient.accountId === null) throw new Error('local recipient without an account');
          const account = this.directory ? await this.directory.getAccountById(lease.recipient.accountId) : null;
          if (account && !(await fitsQuota(this.mailboxes, account, lease.message.size))) throw new Error('mailbox over quota');
          // A policy stage (e.g. DMARC p=quarantine) may ask for the recipient's Junk folder.
          const junk = lease.message.verdicts.some((v) => v.junk === true);
          const folder = junk ? await junkOf(this.mailboxes, lease.recipient.accountId, now) : await inboxOf(this.mailboxes, lease.recipient.accountId, now);
          const queued = { blobId: lease.message.blobId, size: lease.message.size };
          const plan = this.sieve && this.blobs
            ? await this.sieve.plan({ accountId: lease.recipient.accountId, address: account?.address ?? lease.recipient.address, sender: lease.message.sender, load: async () => Buffer.from(await this.blobs!.get(queued.blobId)), now, queueId: lease.message.id })
            : null;
          if (plan && plan.targets.length === 0) {
            // Discarded or refused by the recipient's own filter: done, nothing stored.
            if (await this.queue.complete(lease, now, 'sieve: discarded')) log.info({}, 'discarded by sieve');
            handled++;
            continue;
          }
          const targets = plan ? await Promise.all(plan.targets.map(async (t) => ({ folder: await this.targetFolder(t, lease.recipient.accountId!, folder, now, lease.message.id, log), flags: t.flags }))) : [{ folder, flags: [] as string[] }];
          const primary = targets[0]!;
          // The queue copy, unused once every recipient has its own, is left to the collector
          // (deleting it at once would race with a backup that listed it).
          const copy = await this.recipientCopy(lease, queued);
          const choice = this.atRest ? await this.atRest.prepare(lease.recipient.address, copy, now) : { ...copy, result: null };
          // An encrypted copy replaces the clear one written for this recipient.
          if (choice.blobId !== copy.blobId && copy !== queued) shred.add(copy.blobId);
          const r = await this.queue.deliverLocal(lease, primary.folder.id, now, choice.blobId === queued.blobId ? undefined : choice);
          if (r && primary.flags.length > 0) await this.mailboxes.storeFlags(primary.folder.id, { uids: [r.uid], op: 'add', flags: primary.flags });
          // Further copies a script asked for (fileinto :copy, keep and fileinto): the same blob, after the
          // recipient is marked delivered, so a retry never stores the first copy twice.
          if (r) {
            for (const t of targets.slice(1)) {
              await this.mailboxes.append(t.folder.id, { blobId: choice.blobId, size: choice.size, internalDate: now, flags: t.flags });
              this.notifier?.changed(t.folder.id);
            }
          }
          if (r) this.notifier?.changed(primary.folder.id);
          if (r) await this.cacheHeaders(choice.blobId, log);
          if (r && choice.result) await this.atRestEvent(choice.result, lease.message.id, now, log);
          if (r && choice.result === 'encrypted') shred.add(queued.blobId);
          if (r) log.info({ folder: primary.folder.name, ...(targets.length > 1 ? { copies: targets.length } : {}), uid: r.uid, delay: now - lease.message.receivedAt, ...(choice.result ? { atRest: choice.result } : {}) }, 'delivered');
          if (r) await this.successNotice(lease, now, log);
        } catch (e) {
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
        handled++;
      }
    }
    if (handled > 0) await this.queue.purgeFinished();
    if (shred.size > 0) await this.shredClear([...shred]);
    return handled;
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
