import type { BlobStore, NewRecipient, QueueRepo } from '../store/types.js';
import type { Clock } from '../core/clock.js';

export interface Submission {
  queueId: string;
  data: Uint8Array; // the full message as it will be stored, trace headers included
  sender: string;
  recipients: NewRecipient[];
  source: 'mx' | 'submission' | 'local';
  clientAddress: string;
  authUser: string | null;
  meta: Record<string, unknown>;
}

/**
 * The only hand-off between the receiving and the delivering side. `accept`
 * resolves once the bytes and the queue entry are durable; only then may a
 * receiver acknowledge the message. Listeners hear of each new entry so
 * delivery can start without waiting for its next poll.
 */
export class Spool {
  private readonly listeners = new Set<(queueId: string) => void>();

  constructor(
    private readonly blobs: BlobStore,
    readonly queue: QueueRepo,
    private readonly clock: Clock,
  ) {}

  async accept(s: Submission): Promise<void> {
    const blob = await this.blobs.put(s.data);
    await this.queue.enqueue(
      {
        id: s.queueId,
        blobId: blob.id,
        size: blob.size,
        sender: s.sender,
        receivedAt: this.clock.now(),
        source: s.source,
        clientAddress: s.clientAddress,
        authUser: s.authUser,
        meta: s.meta,
      },
      s.recipients,
    );
    for (const l of this.listeners) l(s.queueId);
  }

  onEnqueued(fn: (queueId: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

/** Exponential backoff with a ceiling: retryMin * 2^(attempts-1), at most retryMax. */
export function backoffMs(attempts: number, retryMinMs: number, retryMaxMs: number): number {
  return Math.min(retryMaxMs, retryMinMs * 2 ** Math.max(0, Math.min(30, attempts - 1)));
}
