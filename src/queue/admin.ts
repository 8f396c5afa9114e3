/**
 * What an operator does to queue entries, shared by `postern queue` and the
 * console: one message in full (envelope, headers, each recipient's state,
 * last error and timing) and the actions retry, hold, release and delete.
 * The caller records the audit entry, with its own actor.
 */
import { headerValue, parseHeaderSection } from '../codec/mime/header.js';
import type { QueueMessage, QueueRecipient, QueueRepo, Store } from '../store/types.js';

export const QUEUE_ACTIONS = ['retry', 'hold', 'release', 'delete'] as const;
export type QueueAction = (typeof QUEUE_ACTIONS)[number];

/** Queue ids as `core/ids` makes them; anything else is refused before the store is asked. */
export const QUEUE_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

/** Header fields shown for a queued message, read from its first 64 KiB. */
export const SHOWN_HEADERS = ['From', 'To', 'Subject', 'Message-ID', 'Date'] as const;

export interface QueueMessageDetail {
  readonly message: QueueMessage;
  readonly header: Record<string, string | null>;
  readonly recipients: QueueRecipient[];
}

/** One queued message with its headers and recipients, or null when the queue has no such id. */
export async function queueMessageDetail(store: Store, id: string): Promise<QueueMessageDetail | null> {
  const message = await store.meta.queue.getMessage(id);
  if (!message) return null;
  const recipients = await store.meta.queue.listRecipients(id);
  const head = await store.blobs.get(message.blobId).then(
    (b) => parseHeaderSection(b.subarray(0, 64 * 1024)).fields,
    () => [],
  );
  const header = Object.fromEntries(SHOWN_HEADERS.map((k) => [k, headerValue(head, k)]));
  return { message, header, recipients };
}

/** Postfix-style delays=a/b/c/d in seconds: in queue, waiting for a session, connection setup, transmission. */
export function delays(r: QueueRecipient, receivedAt: number): string {
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const t = r.timing;
  if (!t || r.leasedAt === null) return '-';
  return `${s(r.leasedAt - receivedAt)}/${s(t.waitMs)}/${s(t.connMs)}/${s(t.xmitMs)}`;
}

/**
 * Applies one action to one message. retry: deferred recipients are due now;
 * hold: no more delivery attempts until released; release: held recipients
 * are due again; delete: the entry goes without delivery or bounce. Returns
 * the recipients changed (delete: whether it went), or null for an unknown id.
 */
export async function applyQueueAction(queue: QueueRepo, action: QueueAction, id: string, now: number): Promise<number | boolean | null> {
  if (!(await queue.getMessage(id))) return null;
  switch (action) {
    case 'retry':
      return queue.retryNow(id, now);
    case 'hold':
      return queue.hold(id);
    case 'release':
      return queue.release(id, now);
    case 'delete':
      return queue.deleteMessage(id);
  }
}

/** The audit data of an action's result, the same from every entry point. */
export const queueActionData = (r: number | boolean): Record<string, unknown> => (typeof r === 'number' ? { recipients: r } : { changed: r });
