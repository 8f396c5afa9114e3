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
  MessageIndex,
  DeliveryDirection,
  EnqueueRoute,
  Lease,
  QuarantineEntry,
  QueueMessage,
  QueueRecipient,
  RecipientState,
  Role,
  Transport,
} from '../types.js';
import type { Verdict } from '../../core/verdict.js';
import { KEYWORD_LIMITS } from '../types.js';
import { PosternError } from '../../core/errors.js';

type SqlBool = number | boolean;

export interface AccountRow {
  id: number;
  address: string;
  display_name: string;
  password_hash: string;
  scram_keys: string | null;
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
    scramKeys: r.scram_keys ?? null,
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
  verdicts: string;
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
    verdicts: JSON.parse(r.verdicts) as Verdict[],
  };
}

/** A quarantine entry as the queue writes it, inside the transaction that holds the recipients. */
export interface NewQuarantine {
  queueId: string;
  at: number;
  stage: string;
  reason: string;
  sender: string;
  size: number;
  recipients: string[];
}

export interface QuarantineRow {
  queue_id: string;
  at: number;
  stage: string;
  reason: string;
  state: string;
  actor: string | null;
  acted_at: number | null;
  sender: string;
  recipients: string;
  size: number;
}

export function toQuarantineEntry(r: QuarantineRow): QuarantineEntry {
  return {
    queueId: r.queue_id,
    at: Number(r.at),
    stage: r.stage,
    reason: r.reason,
    state: r.state as QuarantineEntry['state'],
    actor: r.actor,
    actedAt: r.acted_at === null ? null : Number(r.acted_at),
    sender: r.sender,
    recipients: JSON.parse(r.recipients) as string[],
    size: Number(r.size),
  };
}

/** The recipients' first state for an enqueue route. */
export function initialState(route: EnqueueRoute | undefined): RecipientState {
  if (route === 'scan') return 'scanning';
  if (typeof route === 'object') return 'held';
  return 'queued';
}

/**
 * The flags after a STORE; IMAP flags compare case-insensitively, so each
 * flag is keyed by its lower-case form: one Map, linear in the flags of the
 * message and of the change. Sorted, so equal sets compare equal. Throws
 * LIMIT when the message would carry more keywords than it may.
 */
export function applyFlags(current: readonly string[], c: FlagChange): string[] {
  const byLower = new Map<string, string>();
  if (c.op !== 'set') for (const f of current) byLower.set(f.toLowerCase(), f);
  if (c.op === 'remove') {
    for (const f of c.flags) byLower.delete(f.toLowerCase());
  } else {
    for (const f of c.flags) {
      const k = f.toLowerCase();
      if (!byLower.has(k)) byLower.set(k, f);
    }
  }
  const next = [...byLower.values()].sort();
  checkMessageKeywords(next);
  return next;
}

const isKeyword = (f: string) => !f.startsWith('\\');

/** Refuses a keyword longer than MAX_KEYWORD_LENGTH and a message with more than MAX_KEYWORDS_PER_MESSAGE keywords. */
export function checkMessageKeywords(flags: readonly string[]): void {
  let n = 0;
  for (const f of flags) {
    if (!isKeyword(f)) continue;
    if (f.length > KEYWORD_LIMITS.maxLength) throw new PosternError('LIMIT', `keywords are limited to ${KEYWORD_LIMITS.maxLength} characters`);
    if (++n > KEYWORD_LIMITS.perMessage) throw new PosternError('LIMIT', `a message may carry at most ${KEYWORD_LIMITS.perMessage} keywords`);
  }
}

/** The lower-case keywords among flag lists (each a list, or a space-joined string as stored). */
function keywordSet(lists: Iterable<readonly string[] | string>, into = new Set<string>()): Set<string> {
  for (const l of lists) for (const f of typeof l === 'string' ? l.split(' ') : l) if (f !== '' && isKeyword(f)) into.add(f.toLowerCase());
  return into;
}

export type KeywordAdmission =
  /** `write` is the folder's new keyword list (and whether it is exact) to store, or null when it stays as it is. */
  | { readonly kind: 'ok'; readonly write: { readonly keywords: string; readonly exact: boolean } | null }
  /** The stored list is unknown (a folder from before it was kept) or full and perhaps stale: scan the folder's messages and ask again. */
  | { readonly kind: 'rescan' };

/**
 * Whether a folder has room for the keywords in `wanted`. Each folder keeps
 * the lower-case keywords its messages use (folders.keywords, space-joined;
 * NULL when not yet known), so the common case costs no scan of the folder.
 * The list may hold keywords no message uses any more: when it is full, it is
 * rebuilt from the messages (`scanned`: their flag strings), so the cap counts
 * keywords in use. A rebuilt list is `exact` until a flag removal or an
 * expunge in the folder; a full exact list refuses at once, so a client at
 * the cap cannot make every STORE scan the folder. Throws LIMIT when there is
 * no room.
 */
export function admitKeywords(
  stored: string | null,
  exact: boolean,
  wanted: Iterable<readonly string[] | string>,
  scanned: Iterable<string> | null,
): KeywordAdmission {
  if (stored === null && scanned === null) return { kind: 'rescan' };
  const registry = scanned !== null ? keywordSet(scanned) : new Set(stored!.split(' ').filter(Boolean));
  const isExact = scanned !== null || exact;
  const added = [...keywordSet(wanted)].filter((k) => !registry.has(k));
  if (registry.size + added.length > KEYWORD_LIMITS.perMailbox) {
    if (!isExact) return { kind: 'rescan' };
    throw new PosternError('LIMIT', `a mailbox may use at most ${KEYWORD_LIMITS.perMailbox} distinct keywords`);
  }
  if (added.length === 0 && scanned === null) return { kind: 'ok', write: null };
  for (const k of added) registry.add(k);
  return { kind: 'ok', write: { keywords: [...registry].sort().join(' '), exact: isExact } };
}

export function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((x, i) => x === sb[i]);
}

/**
 * What a STORE changes among `messages`: each message whose flags it changes,
 * with its new flags, in the given order, and the UIDs it may not change
 * (CONDSTORE UNCHANGEDSINCE older than the message's modseq).
 */
export function planFlagChanges<M extends { readonly uid: number; readonly modseq: number; readonly flags: readonly string[] }>(
  messages: readonly M[],
  change: FlagChange,
): { next: { m: M; flags: string[] }[]; conflicts: number[] } {
  const next: { m: M; flags: string[] }[] = [];
  const conflicts: number[] = [];
  for (const m of messages) {
    if (change.unchangedSince !== undefined && m.modseq > change.unchangedSince) {
      conflicts.push(m.uid);
      continue;
    }
    const flags = applyFlags(m.flags, change);
    if (!sameFlags(flags, m.flags)) next.push({ m, flags });
  }
  return { next, conflicts };
}

/**
 * The index as it came, when its UIDs ascend (what the query asks for);
 * otherwise its columns sorted together by UID, so that no driver's or
 * planner's choice of order can reach a caller.
 */
export function inUidOrder(index: MessageIndex): MessageIndex {
  const { uids } = index;
  let ascending = true;
  for (let i = 1; i < uids.length && ascending; i++) ascending = uids[i - 1]! < uids[i]!;
  if (ascending) return index;
  const order = uids.map((_, i) => i).sort((a, b) => uids[a]! - uids[b]!);
  return { uids: order.map((i) => uids[i]!), flags: order.map((i) => index.flags[i]!), modseqs: order.map((i) => index.modseqs[i]!) };
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

/** The keyword list of a folder as read from its messages' flag strings. */
export function keywordsFromFlags(flagStrings: Iterable<string>): string {
  return [...keywordSet(flagStrings)].sort().join(' ');
}

/** Whether flags hold any keyword (a flag not starting with "\\"). */
export function hasKeywords(flags: readonly string[] | undefined): boolean {
  return flags?.some(isKeyword) ?? false;
}

/** The direction a delivered recipient counts under. */
export function deliveryDirection(lease: Lease): DeliveryDirection {
  if (lease.recipient.transport === 'remote') return 'outbound';
  return lease.message.source === 'mx' ? 'inbound' : 'internal';
}

/** The delivery_times row of a delivery: queue id, direction, received, delivered, ms. */
export function deliveryTimeRow(lease: Lease, now: number): [string, DeliveryDirection, number, number, number] {
  return [lease.message.id, deliveryDirection(lease), lease.message.receivedAt, now, Math.max(0, now - lease.message.receivedAt)];
}

/** The row of an ascending list of n values at percentile p (nearest rank). */
export function percentileOffset(n: number, p: number): number {
  return Math.max(0, Math.min(n - 1, Math.ceil(p * n) - 1));
}
