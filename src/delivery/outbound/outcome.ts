/**
 * Applies the results of delivery attempts to the queue: delivered,
 * deferred with backoff (failed once the queue lifetime is over), or failed.
 * Failures are collected per message and returned to the sender as one
 * delivery status notification when the message's last job of the pass ends;
 * the DSN is queued before the recipients are marked failed, so a crash in
 * between can repeat a bounce but never lose one. A message from the null
 * sender is never bounced. A store that fails while an outcome is recorded
 * never throws out of here: the failure is logged and recorded as a
 * `delivery.error` event, and the recipient stays leased until its lease
 * expires and it is tried again.
 */
import { newQueueId } from '../../core/ids.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../metrics/logger.js';
import type { BlobStore, DeliveryTiming, EventRepo, Lease, NewRecipient, QueueMessage, QueueRepo } from '../../store/types.js';
import { backoffMs, type Spool } from '../../queue/spool.js';
import { buildDsn, type FailedRecipient } from './dsn.js';
import type { OutboundStats } from './report.js';
import { reportFailure } from '../failure.js';

/** Where a bounce to this address goes (local mailbox or remote queue); null: nowhere. */
export type BounceRouter = (address: string) => Promise<NewRecipient | null>;

export interface OutcomeDeps {
  readonly queue: QueueRepo;
  readonly blobs: BlobStore;
  readonly events: EventRepo;
  readonly spool: Spool;
  readonly routeBounce: BounceRouter;
  readonly clock: Clock;
  readonly log: Logger;
  readonly stats: OutboundStats;
  readonly reportingMta: string;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  readonly maxLifetimeMs: number;
}

interface Pending {
  message: QueueMessage;
  open: number;
  failed: { lease: Lease; f: FailedRecipient; timing?: DeliveryTiming }[];
}

export function formatTiming(m: QueueMessage, lease: Lease, t: DeliveryTiming | undefined, now: number): Record<string, unknown> {
  const a = (lease.recipient.leasedAt ?? now) - m.receivedAt;
  const b = t?.waitMs ?? 0;
  const c = t?.connMs ?? 0;
  const d = t?.xmitMs ?? 0;
  const s = (ms: number) => (ms / 1000).toFixed(2);
  return { delay: s(now - m.receivedAt), delays: `${s(a)}/${s(b)}/${s(c)}/${s(d)}`, relay: t?.relay ?? null, tls: t?.tls ?? null };
}

const domainOf = (address: string): string => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

export class OutcomeRecorder {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly d: OutcomeDeps) {}

  open(message: QueueMessage): void {
    const p = this.pending.get(message.id);
    if (p) p.open++;
    else this.pending.set(message.id, { message, open: 1, failed: [] });
  }

  async delivered(lease: Lease, reply: string, timing?: DeliveryTiming): Promise<void> {
    const now = this.d.clock.now();
    await this.guard([lease], 'recording a delivery', async () => {
      if (await this.d.queue.complete(lease, now, reply, timing)) {
        this.d.stats.delivered++;
        this.log(lease).info({ status: 'sent', reply, ...formatTiming(lease.message, lease, timing, now) }, 'delivered');
        // C: the share of outbound mail that crossed the network encrypted, and how it was verified.
        const parts = (timing?.tls ?? 'none').split(' ');
        const verified = parts.find((p) => p.startsWith('verified='))?.slice('verified='.length) ?? 'none';
        // Not awaited into the outcome: the delivery is recorded; a lost event must not turn it into a failure.
        void this.d.events.record('relay.message', lease.message.id, { tls: parts[0] ?? 'none', verified, domain: domainOf(lease.recipient.address) }, now).catch(() => undefined);
      }
    });
  }

  async deferred(lease: Lease, status: string, reason: string, timing?: DeliveryTiming, remoteMta: string | null = null): Promise<void> {
    const now = this.d.clock.now();
    if (now - lease.message.receivedAt >= this.d.maxLifetimeMs) {
      return this.failed(lease, '5.4.7', `delivery time expired; last error: ${reason}`, remoteMta, timing);
    }
    const until = now + backoffMs(lease.recipient.attempts, this.d.retryMinMs, this.d.retryMaxMs);
    await this.guard([lease], 'deferring', async () => {
      if (await this.d.queue.defer(lease, until, `${status} ${reason}`, timing)) {
        this.d.stats.deferred++;
        this.log(lease).warn({ status: 'deferred', reason, retryAt: new Date(until).toISOString(), ...formatTiming(lease.message, lease, timing, now) }, 'deferred');
      }
    });
  }

  /** Collected; applied with the bounce when the message's last open job closes. */
  async failed(lease: Lease, status: string, reason: string, remoteMta: string | null, timing?: DeliveryTiming): Promise<void> {
    const p = this.pending.get(lease.message.id);
    const entry = { lease, f: { address: lease.recipient.address, status, diagnostic: reason, remoteMta, lastAttemptAt: this.d.clock.now() }, ...(timing ? { timing } : {}) };
    if (p) p.failed.push(entry);
    else await this.guard([lease], 'bouncing', () => this.bounce(lease.message, [entry]));
  }

  async close(message: QueueMessage): Promise<void> {
    const p = this.pending.get(message.id);
    if (!p || --p.open > 0) return;
    this.pending.delete(message.id);
    if (p.failed.length > 0) {
      const failed = p.failed;
      await this.guard(
        failed.map((x) => x.lease),
        'bouncing',
        () => this.bounce(p.message, failed),
      );
    }
  }

  /** Runs a store write; a failure leaves the leases to expire and be retried, and is reported, never thrown. */
  private async guard(leases: readonly Lease[], what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      const m = leases[0]?.message;
      await reportFailure(this.d, m?.id ?? '', what, e, { queueId: m?.id ?? null, recipients: leases.map((l) => l.recipient.address) });
    }
  }

  private async bounce(m: QueueMessage, failed: Pending['failed']): Promise<void> {
    const now = this.d.clock.now();
    let dsnId: string | null = null;
    const to = m.sender === '' ? null : await this.d.routeBounce(m.sender).catch(async (e: unknown) => (await reportFailure(this.d, m.id, 'routing a bounce', e, { queueId: m.id }), undefined));
    if (to === undefined) {
      // Could not tell where the bounce goes: keep the recipients and try again later.
      for (const x of failed) await this.guard([x.lease], 'deferring a bounce', () => this.d.queue.defer(x.lease, now + this.d.retryMinMs, `${x.f.status} ${x.f.diagnostic}`, x.timing).then(() => undefined));
      return;
    }
    if (to) {
      const original = await this.d.blobs.get(m.blobId).catch(() => new Uint8Array(0));
      const data = buildDsn({ reportingMta: this.d.reportingMta, queueId: m.id, sender: m.sender, arrivalAt: m.receivedAt, originalMessage: original, failed: failed.map((x) => x.f), now });
      dsnId = newQueueId(now);
      try {
        await this.d.spool.accept({
          queueId: dsnId,
          data,
          sender: '', // a bounce is never bounced
          recipients: [to],
          source: 'local',
          clientAddress: '127.0.0.1',
          authUser: null,
          meta: { dsnFor: m.id, ...(m.meta.requireTls === true ? { requireTls: true } : {}) },
        });
        this.d.stats.bounces++;
      } catch (e) {
        await reportFailure(this.d, m.id, 'queueing a bounce', e, { queueId: m.id });
        for (const x of failed) await this.guard([x.lease], 'deferring a bounce', () => this.d.queue.defer(x.lease, now + this.d.retryMinMs, `${x.f.status} ${x.f.diagnostic}`, x.timing).then(() => undefined));
        return;
      }
    }
    // The bounce is queued: a recipient whose mark fails here is retried and may be bounced twice, never lost.
    for (const x of failed) {
      await this.guard([x.lease], 'marking a recipient failed', async () => {
        if (await this.d.queue.fail(x.lease, now, `${x.f.status} ${x.f.diagnostic}`, x.timing)) {
          this.d.stats.failed++;
          this.log(x.lease).warn({ status: 'bounced', reason: x.f.diagnostic, dsn: dsnId, ...formatTiming(m, x.lease, x.timing, now) }, m.sender === '' ? 'failed; no bounce for the null sender' : 'failed; returned to sender');
        }
      });
    }
  }

  private log(lease: Lease): Logger {
    return this.d.log.child({ queueId: lease.message.id, rcpt: lease.recipient.address });
  }
}
