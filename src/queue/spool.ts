import type { BlobStore, EnqueueRoute, NewQueueMessage, NewRecipient, QueueMessage, QueueRepo, ScanLease } from '../store/types.js';
import type { Verdict } from '../core/verdict.js';
import type { Clock } from '../core/clock.js';
import { errorCodes, isStorageFull } from '../core/errors.js';
import { newToken } from '../core/ids.js';

/** Where the spool reports faults; must not throw (e.g. the store's EventOutbox). */
export interface FaultSink {
  record(kind: string, subject: string, data: Record<string, unknown>): void;
}

export interface Submission {
  queueId: string;
  data: Uint8Array; // the full message as it will be stored, trace headers included
  sender: string;
  recipients: NewRecipient[];
  source: 'mx' | 'submission' | 'local';
  clientAddress: string;
  authUser: string | null;
  meta: Record<string, unknown>;
  /** In-line policy verdicts, and where the recipients go first (see NewQueueMessage.route). */
  verdicts?: readonly Verdict[];
  route?: EnqueueRoute;
}

/**
 * Hears of each new entry and where its recipients wait: 'deliver' (due for
 * delivery now), 'scan' (for the after-queue scanner) or 'held' (quarantine).
 * An entry whose scan went to the scan taker (`handScansTo`) is not told.
 */
export type EnqueueListener = (queueId: string, waits: 'deliver' | 'scan' | 'held') => void;

/** Takes new entries' after-queue scans as they are stored, leased to it (the policy scanner). */
export interface ScanTaker {
  /** How long a scan lease handed over runs. */
  readonly leaseMs: number;
  adopt(lease: ScanLease): void;
}

/**
 * The only hand-off between the receiving and the delivering side. `accept`
 * resolves once the bytes and the queue entry are durable; only then may a
 * receiver acknowledge the message. Listeners hear of each new entry so
 * delivery can start without waiting for its next poll; they hear of it on
 * the next turn of the event loop, after the receiver's reply is written.
 */
export class Spool {
  private readonly listeners = new Set<EnqueueListener>();
  /** Whether a message's clear bytes must be removable whole (encryption at rest covers a recipient): see PutOptions.asFile. */
  private removableFor: ((recipients: readonly NewRecipient[]) => Promise<boolean>) | null = null;
  private scans: ScanTaker | null = null;

  constructor(
    private readonly blobs: BlobStore,
    readonly queue: QueueRepo,
    private readonly clock: Clock,
    private readonly faults?: FaultSink,
  ) {}

  /**
   * Entries that wait for the after-queue scan are stored with the scan
   * leased to `taker` and handed to it once stored: no scanner leases them
   * from the store (a transaction and a query per message). If the taker
   * does not finish one in time, its lease expires and the store hands it to
   * any scanner, as a lease taken there. Null stops it.
   */
  handScansTo(taker: ScanTaker | null): void {
    this.scans = taker;
  }

  /** Messages for which `fn` says so are stored so that they can be removed whole (PutOptions.asFile). */
  keepRemovableWhen(fn: (recipients: readonly NewRecipient[]) => Promise<boolean>): void {
    this.removableFor = fn;
  }

  async accept(s: Submission): Promise<void> {
    const route = s.route ?? 'deliver';
    const taker = route === 'scan' ? this.scans : null;
    const scanLease = taker ? { token: newToken(), until: this.clock.now() + taker.leaseMs } : undefined;
    let stored: NewQueueMessage;
    try {
      stored = await this.store(s, scanLease);
    } catch (err) {
      // A full disk refuses mail (4xx) until space is freed: the administrator must hear of it.
      if (isStorageFull(err)) this.faults?.record('storage.full', 'spool', { queueId: s.queueId, size: s.data.length, code: errorCodes(err).at(-1) ?? null });
      throw err;
    }
    // Heard once the caller has answered: an agent's pass starts with synchronous
    // store work (its lease), which would otherwise hold back the 250.
    if (taker && scanLease) {
      const lease = { ...scanLease, message: asStored(stored) };
      setImmediate(() => taker.adopt(lease));
      return;
    }
    const waits = typeof route === 'object' ? 'held' : route;
    setImmediate(() => this.tell(s.queueId, waits));
  }

  private tell(queueId: string, waits: 'deliver' | 'scan' | 'held'): void {
    for (const l of this.listeners) {
      try {
        l(queueId, waits);
      } catch {
        // A wake-up only: the agents also poll, so a failed one delays that entry by one poll at most.
      }
    }
  }

  /** Stores the bytes and the entry; returns the entry as stored. */
  private async store(s: Submission, scanLease: NewQueueMessage['scanLease']): Promise<NewQueueMessage> {
    // The queue entry's commit, synced before this resolves, makes the blob durable with it.
    const asFile = this.removableFor ? await this.removableFor(s.recipients) : false;
    const blob = await this.blobs.put(s.data, { syncedByCommit: true, asFile });
    const entry: NewQueueMessage = {
      id: s.queueId,
      blobId: blob.id,
      size: blob.size,
      sender: s.sender,
      receivedAt: this.clock.now(),
      source: s.source,
      clientAddress: s.clientAddress,
      authUser: s.authUser,
      meta: s.meta,
      verdicts: s.verdicts ?? [],
      route: s.route ?? 'deliver',
      ...(scanLease ? { scanLease } : {}),
    };
    await this.queue.enqueue(entry, s.recipients);
    return entry;
  }

  onEnqueued(fn: EnqueueListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

/**
 * An entry as the store gives it back, for the scanner it is handed to. Its
 * meta is copied (the receiver's object may change afterwards); the verdicts
 * are the in-line stages' own, never changed once made. The scan reads
 * these; what it stores is built from the stored row.
 */
function asStored(m: NewQueueMessage): QueueMessage {
  return {
    id: m.id,
    blobId: m.blobId,
    size: m.size,
    sender: m.sender,
    receivedAt: m.receivedAt,
    source: m.source,
    clientAddress: m.clientAddress,
    authUser: m.authUser,
    meta: { ...m.meta },
    verdicts: m.verdicts ?? [],
  };
}

/** Exponential backoff with a ceiling: retryMin * 2^(attempts-1), at most retryMax. */
export function backoffMs(attempts: number, retryMinMs: number, retryMaxMs: number): number {
  return Math.min(retryMaxMs, retryMinMs * 2 ** Math.max(0, Math.min(30, attempts - 1)));
}
