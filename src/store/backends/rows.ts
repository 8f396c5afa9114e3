/**
 * Rows as both SQL backends return them, and their mapping to the store's
 * types. One definition keeps SQLite and PostgreSQL answering alike; the
 * only difference, booleans (SQLite 0/1, PostgreSQL true/false), is absorbed here.
 */
import type {
  Account,
  DeliveryTiming,
  FlagChange,
  Folder,
  MailMessage,
  QueueMessage,
  QueueRecipient,
  RecipientState,
  Role,
  Transport,
} from '../types.js';

type SqlBool = number | boolean;

export interface AccountRow {
  id: number;
  address: string;
  display_name: string;
  password_hash: string;
  disabled: SqlBool;
  roles: string;
  quota_bytes: number | null;
  created_at: number;
}

export function toAccount(r: AccountRow): Account {
  return {
    id: r.id,
    address: r.address,
    displayName: r.display_name,
    passwordHash: r.password_hash,
    disabled: Boolean(r.disabled),
    roles: r.roles.split(',').filter(Boolean) as Role[],
    quotaBytes: r.quota_bytes,
    createdAt: r.created_at,
  };
}

export interface FolderRow {
  id: number;
  account_id: number;
  name: string;
  special_use: string | null;
  uid_validity: number;
  uid_next: number;
  highest_modseq: number;
  subscribed: SqlBool;
}

export function toFolder(r: FolderRow): Folder {
  return {
    id: r.id,
    accountId: r.account_id,
    name: r.name,
    specialUse: r.special_use,
    uidValidity: r.uid_validity,
    uidNext: r.uid_next,
    highestModseq: r.highest_modseq,
    subscribed: Boolean(r.subscribed),
  };
}

export interface MessageRow {
  id: number;
  folder_id: number;
  uid: number;
  blob_id: string;
  size: number;
  internal_date: number;
  flags: string;
  modseq: number;
}

export function toMessage(r: MessageRow): MailMessage {
  return {
    id: r.id,
    folderId: r.folder_id,
    uid: r.uid,
    blobId: r.blob_id,
    size: r.size,
    internalDate: r.internal_date,
    flags: r.flags.split(' ').filter(Boolean),
    modseq: r.modseq,
  };
}

export interface RecipientRow {
  id: number;
  queue_id: string;
  address: string;
  transport: string;
  account_id: number | null;
  state: string;
  attempts: number;
  next_attempt_at: number;
  lease_token: string | null;
  lease_until: number | null;
  last_error: string | null;
  delivered_at: number | null;
  leased_at: number | null;
  timing: string | null;
}

export function toRecipient(r: RecipientRow): QueueRecipient {
  return {
    id: r.id,
    queueId: r.queue_id,
    address: r.address,
    transport: r.transport as Transport,
    accountId: r.account_id,
    state: r.state as RecipientState,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    deliveredAt: r.delivered_at,
    leasedAt: r.leased_at ?? null,
    timing: r.timing ? (JSON.parse(r.timing) as DeliveryTiming) : null,
  };
}

export interface QueueMessageRow {
  id: string;
  blob_id: string;
  size: number;
  sender: string;
  received_at: number;
  source: string;
  client_address: string;
  auth_user: string | null;
  meta: string;
}

export function toQueueMessage(r: QueueMessageRow): QueueMessage {
  return {
    id: r.id,
    blobId: r.blob_id,
    size: r.size,
    sender: r.sender,
    receivedAt: r.received_at,
    source: r.source as QueueMessage['source'],
    clientAddress: r.client_address,
    authUser: r.auth_user,
    meta: JSON.parse(r.meta) as Record<string, unknown>,
  };
}

/** The flags after a STORE; IMAP flags compare case-insensitively. Sorted, so equal sets compare equal. */
export function applyFlags(current: readonly string[], c: FlagChange): string[] {
  const set = new Set(c.op === 'set' ? [] : current);
  if (c.op === 'remove') {
    for (const f of c.flags) for (const x of set) if (x.toLowerCase() === f.toLowerCase()) set.delete(x);
  } else {
    for (const f of c.flags) if (![...set].some((x) => x.toLowerCase() === f.toLowerCase())) set.add(f);
  }
  return [...set].sort();
}

export function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((x, i) => x === sb[i]);
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}
