/**
 * The store, split by role (after Stalwart's crates/store): a metadata store
 * with one small repository per role, and a blob store for message bytes.
 * Every backend implements exactly these interfaces and passes the contract
 * suite in contract.ts. All calls are async so a networked backend
 * (PostgreSQL) fits the same shape as the embedded one (SQLite).
 */
import type { Verdict } from '../core/verdict.js';

export type Role = 'user' | 'mailadmin' | 'auditor' | 'pkiofficer';
export const ROLES: readonly Role[] = ['user', 'mailadmin', 'auditor', 'pkiofficer'];

export interface Domain {
  readonly name: string;
  readonly createdAt: number;
}

export interface Account {
  readonly id: number;
  readonly address: string; // normalised, lower-case
  readonly displayName: string;
  readonly passwordHash: string; // PHC-style string, never a clear password
  /** SCRAM-SHA-256 StoredKey/ServerKey (RFC 5803 form); null until the password is next set. */
  readonly scramKeys: string | null;
  readonly disabled: boolean;
  readonly roles: readonly Role[];
  readonly quotaBytes: number | null;
  readonly createdAt: number;
}

export interface NewAccount {
  address: string;
  displayName?: string;
  passwordHash: string;
  scramKeys?: string | null;
  roles?: Role[];
  quotaBytes?: number | null;
}

export interface Group {
  readonly name: string;
  readonly description: string;
}

export interface DirectoryRepo {
  addDomain(name: string, now: number): Promise<void>;
  listDomains(): Promise<Domain[]>;
  hasDomain(name: string): Promise<boolean>;

  addAccount(a: NewAccount, now: number): Promise<Account>;
  getAccount(address: string): Promise<Account | null>;
  getAccountById(id: number): Promise<Account | null>;
  listAccounts(domain?: string): Promise<Account[]>;
  /** Replaces the password hash and the SCRAM keys together (keys left out are cleared, so an old password cannot live on in them). */
  setPasswordHash(address: string, hash: string, scramKeys?: string | null): Promise<void>;
  setDisabled(address: string, disabled: boolean): Promise<void>;
  setRoles(address: string, roles: Role[]): Promise<void>;

  /** An alias maps one address to one or more targets (local or remote addresses). */
  addAlias(address: string, target: string): Promise<void>;
  getAliasTargets(address: string): Promise<string[]>;
  listAliases(): Promise<{ address: string; target: string }[]>;

  addGroup(name: string, description: string): Promise<void>;
  listGroups(): Promise<Group[]>;
  addGroupMember(group: string, address: string): Promise<void>;
  removeGroupMember(group: string, address: string): Promise<void>;
  listGroupMembers(group: string): Promise<string[]>;
  groupsOf(address: string): Promise<string[]>;
}

export type Transport = 'local' | 'remote';
/** scanning: accepted, waiting for its after-queue policy stages; never leased for delivery. */
export type RecipientState = 'queued' | 'leased' | 'delivered' | 'deferred' | 'failed' | 'held' | 'scanning';

export interface NewQueueMessage {
  id: string; // queue id (core/ids newQueueId)
  blobId: string;
  size: number;
  sender: string; // envelope MAIL FROM, '' for the null sender
  receivedAt: number;
  source: 'mx' | 'submission' | 'local';
  clientAddress: string;
  authUser: string | null;
  /** Free-form JSON-serialisable facts later stages need (REQUIRETLS, TLS state, ...). */
  meta: Record<string, unknown>;
  /** Verdicts of the policy stages that have run (in-line ones at enqueue). */
  verdicts?: readonly Verdict[];
  /**
   * What happens to the recipients at enqueue: 'deliver' (default: due at once),
   * 'scan' (they wait in `scanning` for the after-queue stages), or
   * 'quarantine' (held, with a quarantine entry written in the same transaction).
   */
  route?: EnqueueRoute;
  /**
   * With route 'scan': the entry is stored with its scan already leased to
   * the caller (who scans it next), so no scanner need lease it from the
   * store; another takes it only once `until` has passed, as any scan lease.
   */
  scanLease?: { readonly token: string; readonly until: number };
}

export type EnqueueRoute = 'deliver' | 'scan' | { quarantine: { stage: string; reason: string } };

export interface NewRecipient {
  address: string;
  transport: Transport;
  /** For local recipients: the account that owns the mailbox. */
  accountId?: number | null;
}

export interface QueueMessage extends Omit<NewQueueMessage, 'route' | 'verdicts' | 'scanLease'> {
  readonly verdicts: readonly Verdict[];
}

/** A message taken for its after-queue stages; `token` proves the scan is still ours. */
export interface ScanLease {
  readonly token: string;
  readonly until: number;
  readonly message: QueueMessage;
}

export interface ScanOutcome {
  /** Verdicts of the after-queue stages, appended to those already recorded. */
  verdicts: readonly Verdict[];
  /** deliver: scanning recipients become due now. quarantine: they are held, with a quarantine entry. */
  next: 'deliver' | { quarantine: { stage: string; reason: string } };
  now: number;
  /** The message bytes when a stage rewrote them (headers, banner): replaces blobId and size. */
  blob?: BlobRef;
  /** Keys merged into the stored meta in the same transaction (e.g. a stage's `tlsFloor`). */
  meta?: Readonly<Record<string, string | number | boolean>>;
}

export interface QueueRecipient {
  readonly id: number;
  readonly queueId: string;
  readonly address: string;
  readonly transport: Transport;
  readonly accountId: number | null;
  readonly state: RecipientState;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastError: string | null;
  readonly deliveredAt: number | null;
  /** When the recipient last left the queue for a delivery attempt (its lease). */
  readonly leasedAt: number | null;
  /** Timing and route of the last remote attempt; null before the first one. */
  readonly timing: DeliveryTiming | null;
}

/**
 * Where the time of one delivery attempt went, like Postfix's delays=a/b/c/d:
 * a = leasedAt - receivedAt (in the queue), b = waitMs (leased until the
 * connection was started or taken over), c = connMs (DNS, TCP, greeting,
 * EHLO, STARTTLS; 0 on a reused connection), d = xmitMs (MAIL FROM to the
 * final reply).
 */
export interface DeliveryTiming {
  readonly waitMs: number;
  readonly connMs: number;
  readonly xmitMs: number;
  /** "mx.example.net[192.0.2.1]:25" */
  readonly relay: string | null;
  /** "TLSv1.3 TLS_AES_256_GCM_SHA384 verified=dane", or "none". */
  readonly tls: string | null;
}

export interface PendingSummary {
  readonly messages: number;
  readonly recipients: number;
  readonly oldestReceivedAt: number | null;
}

export interface Lease {
  readonly token: string;
  readonly until: number;
  readonly recipient: QueueRecipient;
  readonly message: QueueMessage;
}

/** Recipients of one transport leased as their scan result is stored (`finishScanMany`). */
export interface LeaseHandOff {
  readonly transport: Transport;
  readonly leaseMs: number;
}

/** One stored scan result: true, false (its lease was lost), the leases handed off with it, or the error that refused it. */
export type ScanStored = boolean | { readonly leases: readonly Lease[] } | { readonly error: unknown };

export interface LeaseRequest {
  transport: Transport;
  now: number;
  leaseMs: number;
  limit: number;
}

/** One recipient's delivery for `deliverLocalMany`. */
export interface LocalDeliveryItem {
  lease: Lease;
  folderId: number;
  now: number;
  stored?: { blobId: string; size: number };
  /** The delivered blob's header cache entry, stored in the delivery's transaction (NewMailMessage.headerCache). */
  headerCache?: HeaderCacheEntry | null;
}

export type LocalDeliveryOutcome = { uid: number } | null | { error: unknown };

export interface QueueRepo {
  /** Durable when the promise resolves: the message row and its recipients are committed. */
  enqueue(msg: NewQueueMessage, recipients: NewRecipient[]): Promise<void>;
  /** Takes up to `limit` due recipients (queued, deferred and due, or with an expired lease). */
  lease(req: LeaseRequest): Promise<Lease[]>;
  /**
   * Appends the message to the account's folder and marks the recipient delivered
   * in one transaction, so a crash can never deliver twice or lose the message.
   * Returns null when the lease is no longer held (another worker took it).
   * `stored` appends another blob in place of the queue's (encryption at rest
   * writes one per recipient); verdicts are kept for the blob appended.
   */
  deliverLocal(lease: Lease, folderId: number, now: number, stored?: { blobId: string; size: number }): Promise<{ uid: number } | null>;
  /**
   * `deliverLocal` for several recipients at once, each with its own outcome
   * in order: the uid, null (lease lost) or the error that refused it (that
   * one alone changes nothing). Each item is atomic as in `deliverLocal`; a
   * backend may commit them together (one sync to disk for the lot).
   */
  deliverLocalMany(items: readonly LocalDeliveryItem[]): Promise<LocalDeliveryOutcome[]>;
  complete(lease: Lease, now: number, detail?: string, timing?: DeliveryTiming): Promise<boolean>;
  /**
   * Extends a lease still held to `until` (a transfer that is still making
   * progress keeps its recipients); false when the lease is no longer held.
   */
  renew(lease: Lease, until: number): Promise<boolean>;
  defer(lease: Lease, until: number, error: string, timing?: DeliveryTiming): Promise<boolean>;
  fail(lease: Lease, now: number, error: string, timing?: DeliveryTiming): Promise<boolean>;
  getMessage(queueId: string): Promise<QueueMessage | null>;
  listRecipients(queueId: string): Promise<QueueRecipient[]>;
  /** Recipients not yet delivered or failed, oldest first. */
  listPending(limit?: number): Promise<QueueRecipient[]>;
  /**
   * Takes up to `limit` messages waiting for their after-queue stages whose
   * scan is not leased (or whose scan lease expired: a crash mid-scan rescans).
   */
  leaseScan(req: { now: number; leaseMs: number; limit: number }): Promise<ScanLease[]>;
  /** Ends a scan in one transaction; false when the scan lease is no longer held. */
  finishScan(lease: ScanLease, outcome: ScanOutcome): Promise<boolean>;
  /**
   * `finishScan` for several scans, each with its own result in order (true,
   * false when its lease was lost, or the error that refused it: that one
   * alone changes nothing). A backend may commit them together.
   *
   * With `handOff`, the recipients of that transport of each scan that goes on
   * to delivery are leased in the same transaction (as `lease` would lease
   * them, for `handOff.leaseMs`) and that scan's result is `{ leases }`: the
   * caller hands them to its delivery agent instead of that agent leasing
   * them again. Nothing is lost if the caller dies with them: the leases
   * expire and the entries are leased again.
   */
  finishScanMany(items: readonly { lease: ScanLease; outcome: ScanOutcome }[], handOff?: LeaseHandOff): Promise<ScanStored[]>;
  /** Gives a scan back to be retried at `until` (a stage failed closed); false when the lease was lost. */
  deferScan(lease: ScanLease, until: number, error: string): Promise<boolean>;
  /** Deletes queue messages whose recipients are all delivered or failed; returns how many. */
  purgeFinished(): Promise<number>;
  /** Queued and deferred recipients of a message become held (never leased); returns how many. */
  hold(queueId: string): Promise<number>;
  /** Held recipients of a message become queued and due at `now`; returns how many. */
  release(queueId: string, now: number): Promise<number>;
  /** Queued and deferred recipients of a message become due at `now`; returns how many. */
  retryNow(queueId: string, now: number): Promise<number>;
  /** Removes a message and all its recipients, whatever their state; false when there was none. */
  deleteMessage(queueId: string): Promise<boolean>;
  /**
   * Milliseconds since the oldest message still waiting for delivery (a
   * recipient queued, deferred, leased or scanning; held mail is not waiting)
   * was received, at `now`; null when nothing waits.
   */
  oldestAge(now?: number): Promise<number | null>;
  /** What waits in the queue now (recipients not delivered or failed): totals, counts per state and the oldest. */
  stats(): Promise<QueueStats>;
}

/**
 * The queue at a glance (metrics, the report): totals over recipients not yet
 * delivered or failed (messages counted once), the oldest such message's
 * receivedAt (null when nothing waits), and the same per state.
 */
export interface QueueStats extends PendingSummary {
  /** Per waiting state: messages with at least one recipient in it, and those recipients. */
  readonly states: readonly { readonly state: RecipientState; readonly messages: number; readonly recipients: number }[];
}

export interface Folder {
  readonly id: number;
  readonly accountId: number;
  readonly name: string;
  readonly specialUse: string | null;
  readonly uidValidity: number;
  readonly uidNext: number;
  readonly highestModseq: number;
}

export interface MailMessage {
  readonly id: number;
  readonly folderId: number;
  readonly uid: number;
  readonly blobId: string;
  readonly size: number;
  readonly internalDate: number;
  readonly flags: readonly string[];
  readonly modseq: number;
}

export interface NewMailMessage {
  blobId: string;
  size: number;
  internalDate: number;
  flags?: string[];
  /**
   * The blob's header cache entry (derived from the bytes in hand), stored in
   * the message's own transaction rather than one of its own: one commit per
   * APPEND or delivery instead of two. An entry the blob has already stays
   * (it describes the same bytes); a detail is added where it had none.
   */
  headerCache?: HeaderCacheEntry | null;
}

export type FlagOp = 'add' | 'remove' | 'set';

/**
 * Bounds on IMAP keywords (flags not starting with "\"), enforced by every
 * backend: a STORE, APPEND or COPY that would pass one fails with LIMIT and
 * changes nothing. Without them one client could hang thousands of keywords
 * on a message and make every flag update of the mailbox slow for everyone.
 */
export const KEYWORD_LIMITS = {
  /** Distinct keywords the messages of one folder may use (as Cyrus and many servers do). */
  perMailbox: 64,
  /** Keywords on one message. */
  perMessage: 64,
  /** Characters in one keyword. */
  maxLength: 128,
} as const;

export interface FlagChange {
  uids: number[];
  op: FlagOp;
  flags: string[];
  /** CONDSTORE UNCHANGEDSINCE: messages whose modseq is above it are left alone and reported. */
  unchangedSince?: number;
}

export interface FlagChangeResult {
  /** Messages whose flags changed, with their new flags and modseq. */
  changed: MailMessage[];
  /** UIDs skipped because of unchangedSince. */
  conflicts: number[];
}

/** Read-only: a store may hand the same answer to every session that asks for the same changes. */
export interface FolderChanges {
  /** Messages added or whose flags changed after the given modseq. */
  readonly changed: readonly MailMessage[];
  /** UIDs expunged after the given modseq (for QRESYNC VANISHED). */
  readonly expunged: readonly number[];
  readonly highestModseq: number;
}

/**
 * A folder's messages in ascending UID order as parallel columns: listing a
 * large folder so takes a fraction of the time and garbage of an object per
 * message. `flags[i]`: message i's flags as stored, separated by single
 * spaces ('' for none).
 */
export interface MessageIndex {
  readonly uids: readonly number[];
  readonly flags: readonly string[];
  readonly modseqs: readonly number[];
}

export interface FolderStats {
  readonly messages: number;
  /** Messages without \Seen. */
  readonly unseen: number;
  /** Messages with \Deleted. */
  readonly deleted: number;
  /** Sum of message sizes in bytes. */
  readonly size: number;
}

/**
 * What IMAP derives from one message blob, kept so that SEARCH and FETCH need
 * not read, verify and parse the blob again (the role of Dovecot's index
 * cache). Keyed by blob id, so every copy of a message shares one entry, and
 * written only from bytes that hash to that id. Both parts are opaque to the
 * store: src/mailbox/header-cache.ts lays them out and checks them on read.
 */
export interface HeaderCacheEntry {
  readonly blobId: string;
  /** Read for every candidate of a SEARCH, so kept small (typically under 1 KiB): valid Unicode without NUL characters. */
  readonly search: string;
  /**
   * Read only when asked for (FETCH ENVELOPE/BODYSTRUCTURE/header sections): typically 1–10 KiB, at most 256 KiB.
   * Null: the entry has its search part only (a detail already stored for the blob stays).
   */
  readonly detail: Uint8Array | null;
  /**
   * The message it was derived for, when known: a store that keeps the search
   * part per message as well fills that message's copy (the other messages of
   * the blob are answered from the per-blob entry), and may then keep an entry
   * without a detail for that message alone (refreshing a per-blob entry that
   * exists, adding none). Absent: every message of the blob.
   * `noBlobEntry`: the caller found no per-blob entry for the blob (nor one for
   * the message), so there is none to refresh and the store need not look.
   */
  readonly message?: { readonly folderId: number; readonly uid: number; readonly noBlobEntry?: boolean };
}

/** A header cache entry as read back: `detail` is null unless it was asked for. */
export type CachedHeader = HeaderCacheEntry;

/** One message of a folder with its blob's header cache search text, as SEARCH reads it. */
export interface HeaderCacheCandidate {
  readonly uid: number;
  readonly blobId: string;
  readonly size: number;
  readonly internalDate: number;
  /** Null when the blob has no entry, or is marked damaged. */
  readonly search: string | null;
}

export interface MailboxRepo {
  createFolder(accountId: number, name: string, specialUse: string | null, now: number): Promise<Folder>;
  getFolder(accountId: number, name: string): Promise<Folder | null>;
  getFolderById(id: number): Promise<Folder | null>;
  listFolders(accountId: number): Promise<Folder[]>;
  /** Renames a folder and its children (name + '/' + ...). Renaming INBOX moves its messages to a new folder (RFC 3501). */
  renameFolder(accountId: number, from: string, to: string, now: number): Promise<void>;
  /** Deletes a folder and its messages; blobs stay until garbage collection. */
  deleteFolder(folderId: number): Promise<void>;
  /** Subscribed names (RFC 9051 6.3.7), kept apart from folders: a name may outlive its folder or precede it. */
  listSubscriptions(accountId: number): Promise<string[]>;
  setSubscription(accountId: number, name: string, subscribed: boolean): Promise<void>;
  append(folderId: number, m: NewMailMessage): Promise<MailMessage>;
  listMessages(folderId: number): Promise<MailMessage[]>;
  getMessages(folderId: number, uids: number[]): Promise<MailMessage[]>;
  /** Changes flags; each changed message gets a new modseq. */
  storeFlags(folderId: number, change: FlagChange): Promise<FlagChangeResult>;
  /** Removes the messages; returns the UIDs actually removed, ascending. */
  expunge(folderId: number, uids: number[]): Promise<number[]>;
  /** Copies messages (same blobs) in UID order; returns [sourceUid, newUid] pairs. */
  copy(fromFolderId: number, uids: number[], toFolderId: number, now: number): Promise<[number, number][]>;
  /** Copy + expunge in one transaction (RFC 6851 MOVE). */
  move(fromFolderId: number, uids: number[], toFolderId: number, now: number): Promise<[number, number][]>;
  changesSince(folderId: number, modseq: number): Promise<FolderChanges>;
  /** Bytes used by an account's stored messages (for quota). */
  usage(accountId: number): Promise<number>;
  /** How many folders and messages reference the blob (for garbage collection and integrity reports). */
  blobReferences(blobId: string): Promise<number>;
  /** UIDs ascending with flags and modseq only: what opening a large folder (IMAP SELECT) needs. */
  listIndex(folderId: number): Promise<MessageIndex>;
  /** Message counts and bytes of one folder without listing its messages (IMAP STATUS). */
  folderStats(folderId: number): Promise<FolderStats>;
  /**
   * The header cache entries of these blobs, in any order, at most one per
   * blob: ids without an entry, and blobs marked damaged (IntegrityRepo), are
   * left out. Takes any number of ids (unknown and repeated ones included) in
   * one call. `withDetail` false leaves `detail` null, so SEARCH can read
   * thousands of small entries cheaply; `withDetail` true leaves out the
   * entries that have no detail yet (their search part only), as if absent.
   */
  getHeaderCache(blobIds: readonly string[], withDetail: boolean): Promise<CachedHeader[]>;
  /**
   * SEARCH's one query per batch: every message of the folder with a UID in
   * [loUid, hiUid], ascending by UID, with its blob's search text (as
   * getHeaderCache gives it, null likewise). With `contains`, messages whose
   * search text does not contain that string (exact, case-sensitive
   * substring) are left out; a message with a null search text never is.
   */
  searchHeaderCache(folderId: number, loUid: number, hiUid: number, contains: string | null): Promise<HeaderCacheCandidate[]>;
  /**
   * Stores entries in one transaction: each one's search part replaces the
   * blob's, its detail (when not null) replaces the blob's detail; an entry
   * with a null detail leaves a stored detail as it was (both are derived
   * from the same bytes, each checked on its own). Of repeated blob ids, the
   * last search part and the last detail given win.
   */
  putHeaderCache(entries: readonly HeaderCacheEntry[]): Promise<void>;
  /**
   * Deletes the header cache entries (and the kept verdicts) of blobs that no
   * mailbox message references (after expunges); returns how many header cache
   * entries. `dryRun` only counts them.
   */
  pruneHeaderCache(dryRun?: boolean): Promise<number>;
}

export type EventKind = string;

export interface StoreEvent {
  readonly id: number;
  readonly at: number;
  readonly kind: EventKind;
  readonly subject: string;
  readonly data: Record<string, unknown>;
}

export interface NewEvent {
  readonly kind: EventKind;
  readonly subject: string;
  readonly data: Record<string, unknown>;
  readonly at: number;
}

export interface EventTally {
  readonly labels: Readonly<Record<string, string | null>>;
  readonly count: number;
}

export interface EventBucket extends EventTally {
  /** Start of the bucket (Unix ms). */
  readonly start: number;
}

/** Data field names tally() may group by (e.g. detector, resultType): they go into a JSON path. */
export const TALLY_FIELD = /^[a-z][A-Za-z0-9_]{0,31}$/;

export interface EventRepo {
  record(kind: EventKind, subject: string, data: Record<string, unknown>, now: number): Promise<void>;
  /** Several events in one transaction (one sync to disk): for events that come by the hundred per second. */
  recordMany(events: readonly NewEvent[]): Promise<void>;
  /** Newest first, at most `limit`; only events recorded at or after `since` when it is given. */
  list(kind?: EventKind, limit?: number, since?: number): Promise<StoreEvent[]>;
  count(kind: EventKind): Promise<number>;
  /**
   * Events of one kind recorded at or after `since` (and before `until`, when
   * given), counted per distinct value of the given data fields (bounded
   * labels such as detector, origin); field names are words of letters,
   * digits and _ starting lower-case (TALLY_FIELD). Most frequent first.
   */
  tally(kind: EventKind, since: number, fields: readonly string[], until?: number): Promise<EventTally[]>;
  /**
   * Like tally over [since, until), split into buckets of `bucketMs` counted
   * from `since` (bucket i starts at since + i * bucketMs): for daily charts.
   * Ordered by bucket, then most frequent first; empty buckets are left out.
   */
  histogram(kind: EventKind, since: number, until: number, bucketMs: number, fields: readonly string[]): Promise<EventBucket[]>;
  /** Subjects (e.g. destination domains) with the most events of a kind in [since, until), most first, at most `limit`. */
  topSubjects(kind: EventKind, since: number, until: number, limit: number): Promise<{ subject: string; count: number }[]>;
  /** The newest event of a kind recorded at or before `atOrBefore`, or null. */
  latest(kind: EventKind, atOrBefore: number): Promise<StoreEvent | null>;
  /** Events of a kind recorded in [since, until), oldest first, at most `limit` (default 10,000). */
  between(kind: EventKind, since: number, until: number, limit?: number): Promise<StoreEvent[]>;
  /**
   * Deletes up to `limit` events recorded before `before`, oldest first, but
   * never the newest event of a kind (the last scrub, the last verified
   * backup stay known); returns how many. Callers loop while it returns
   * `limit`, so no single call holds the database long. `dryRun` only counts
   * (all of them, without the limit).
   */
  prune(before: number, limit: number, dryRun?: boolean): Promise<number>;
  /** Up to `limit` events of the given kinds with an id above `afterId`, ascending by id (tailing the table). */
  after(afterId: number, kinds: readonly EventKind[], limit: number): Promise<StoreEvent[]>;
  /** The position of the named cursor, created at `start` if there is none yet (the first caller's start wins). */
  cursor(name: string, start: number): Promise<number>;
  /**
   * Compare-and-set: moves the named cursor from `fromId` to `toId` and
   * returns true, or returns false when it is no longer at `fromId` (another
   * node claimed those events first). Nodes sharing a store handle each event once.
   */
  claim(name: string, fromId: number, toId: number): Promise<boolean>;
}

export type MetadataCheckMode = 'quick' | 'full';

/** A blob found damaged beyond repair or missing: every message that references it is damaged. */
export interface DamagedBlob {
  readonly blobId: string;
  readonly reason: string;
  readonly at: number;
}

/** A mailbox message (folderId + uid) or a queue entry (queueId) whose blob is damaged. */
export interface DamagedMessage {
  readonly blobId: string;
  readonly folderId: number | null;
  readonly uid: number | null;
  readonly queueId: string | null;
}

/** What the scrubber, backup and restore need from the metadata store. */
export interface IntegrityRepo {
  /**
   * 'quick' (SQLite: quick_check, plus integrity_check of the tables mail depends on, so a row that
   * disagrees with its indexes is found) or 'full' (integrity_check of everything): [] when sound.
   * Damage is a finding, never a throw. SQLite runs it in a worker thread, off the event loop.
   */
  checkMetadata(mode: MetadataCheckMode): Promise<string[]>;
  /** Writes a consistent, self-contained copy of the metadata to `file` while writers go on (online backup). */
  backupTo(file: string): Promise<void>;
  /** Every distinct blob id referenced by a mailbox message or a queue entry, ascending. */
  referencedBlobs(): Promise<string[]>;
  markDamaged(blobId: string, reason: string, now: number): Promise<void>;
  /** Forgets a damage mark (the blob was repaired or replaced); true if there was one. */
  clearDamaged(blobId: string): Promise<boolean>;
  isDamaged(blobId: string): Promise<boolean>;
  listDamaged(): Promise<DamagedBlob[]>;
  /** Messages and queue entries whose blob is marked damaged: IMAP and POP3 must not serve them. */
  damagedMessages(): Promise<DamagedMessage[]>;
}

/** A message held by a policy stage: its queue entry (recipients `held`) plus who held it and why. */
export interface QuarantineEntry {
  readonly queueId: string;
  readonly at: number;
  readonly stage: string;
  readonly reason: string;
  readonly state: 'held' | 'released' | 'deleted';
  /** Who released or deleted it (an account address), and when. */
  readonly actor: string | null;
  readonly actedAt: number | null;
  readonly sender: string;
  readonly recipients: readonly string[];
  readonly size: number;
}

/** The quarantine role: held messages stay in the queue (their blobs checksummed like all others). */
export interface QuarantineRepo {
  /** Newest first. */
  list(opts?: { state?: QuarantineEntry['state']; limit?: number }): Promise<QuarantineEntry[]>;
  get(queueId: string): Promise<QuarantineEntry | null>;
  /** Held recipients become due now and the entry is marked released by `actor`, in one transaction; false if not held. */
  release(queueId: string, actor: string, now: number): Promise<boolean>;
  /** The queue entry is removed and the quarantine entry kept as a record, marked deleted by `actor`; false if not held. */
  delete(queueId: string, actor: string, now: number): Promise<boolean>;
  /**
   * Takes delivered copies of a message out of their mailboxes and into the
   * quarantine (a rescan found malware), in one transaction: the copies still
   * holding `blobId` are expunged, and a queue entry `queueId` is written with
   * one held local recipient per account, plus its quarantine entry. Releasing
   * it delivers the message to those accounts' inboxes again. Returns how many
   * copies were taken; 0 writes nothing.
   */
  holdStored(h: StoredHold): Promise<number>;
}

/** Delivered copies of one message to move into the quarantine (see QuarantineRepo.holdStored). */
export interface StoredHold {
  readonly queueId: string;
  readonly blobId: string;
  readonly size: number;
  readonly sender: string;
  readonly at: number;
  readonly stage: string;
  readonly reason: string;
  readonly verdicts: readonly Verdict[];
  readonly copies: readonly { readonly folderId: number; readonly uid: number; readonly accountId: number; readonly address: string }[];
}

/** Verdicts kept with delivered mail, by blob (copies of a message share them). */
export interface VerdictRepo {
  get(blobId: string): Promise<{ queueId: string; verdicts: Verdict[] } | null>;
}

/**
 * A DMARC aggregate report (RFC 7489 7.2) as the store keeps it. Times of the
 * report's period are unix seconds, as reports write them; policy/dmarc-report
 * produces this shape.
 */
export interface DmarcReportInput {
  readonly orgName: string;
  readonly email: string;
  readonly reportId: string;
  readonly begin: number;
  readonly end: number;
  readonly domain: string;
  readonly policy: { readonly adkim: string; readonly aspf: string; readonly p: string; readonly sp: string; readonly pct: number };
  readonly records: readonly {
    readonly sourceIp: string;
    readonly count: number;
    readonly disposition: string;
    /** DMARC-aligned results as the reporter evaluated them. */
    readonly dkim: 'pass' | 'fail';
    readonly spf: 'pass' | 'fail';
    readonly headerFrom: string;
    readonly envelopeFrom?: string;
    readonly authDkim: readonly { readonly domain: string; readonly result: string; readonly selector?: string }[];
    readonly authSpf: readonly { readonly domain: string; readonly result: string; readonly scope?: string }[];
  }[];
}

/** One stored report, without its rows. */
export interface DmarcReportMeta {
  readonly id: number;
  readonly orgName: string;
  readonly email: string;
  readonly reportId: string;
  readonly domain: string;
  readonly begin: number;
  readonly end: number;
  /** Milliseconds, when postern received it. */
  readonly receivedAt: number;
  readonly rows: number;
  /** Messages the report counts (sum of its rows' counts). */
  readonly messages: number;
}

/** Mail seen by reporters, per policy domain, sending IP and header From domain. */
export interface DmarcSummaryRow {
  readonly domain: string;
  readonly sourceIp: string;
  readonly headerFrom: string;
  readonly count: number;
  readonly dkimPass: number;
  readonly dkimFail: number;
  readonly spfPass: number;
  readonly spfFail: number;
  /** DMARC passes when aligned DKIM or aligned SPF passes. */
  readonly dmarcPass: number;
  readonly dmarcFail: number;
  /** Reporting organisations (their e-mail when they give no name), sorted. */
  readonly reporters: readonly string[];
}

export interface DmarcQuery {
  /** Milliseconds: reports whose period ends at or after this instant. */
  readonly since: number;
  /** Only this policy domain (lower case). */
  readonly domain?: string;
}

export interface DmarcReportRepo {
  /** Stores a report and its rows; false when the same reporter's report for the domain is stored already. */
  add(report: DmarcReportInput, receivedAt: number): Promise<boolean>;
  /** Sorted by count, largest first. */
  summary(q: DmarcQuery): Promise<DmarcSummaryRow[]>;
  /** Newest period first, at most `limit` (default 1000). */
  list(q: DmarcQuery & { readonly limit?: number }): Promise<DmarcReportMeta[]>;
}

/** inbound: MX to a mailbox. internal: submitted (or generated) to a mailbox. outbound: accepted by a remote server. */
export type DeliveryDirection = 'inbound' | 'internal' | 'outbound';

export interface DeliveryTimeSummary {
  readonly direction: DeliveryDirection;
  readonly count: number;
  readonly avgMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/**
 * How long each delivered recipient took from acceptance (the `250` to the
 * sender) to its mailbox or to the remote server's `250`: written in the
 * transaction that records the delivery, read as percentiles per direction.
 */
export interface DeliveryTimeRepo {
  summary(q: { since: number; until?: number }): Promise<DeliveryTimeSummary[]>;
  /** Deletes rows delivered before `before`; returns how many. */
  prune(before: number): Promise<number>;
}

/** What an administrative action or access writes to the audit log. */
export interface NewAuditEntry {
  /** Unix milliseconds. */
  readonly at: number;
  /** Who acted: an account address, or `cli:<os user>` for the command line. */
  readonly actor: string;
  /** e.g. 'user.add', 'queue.delete', 'quarantine.release'. */
  readonly action: string;
  /** What was acted on (an address, a queue id, a domain). */
  readonly subject: string;
  /** Details; never a password or a key. */
  readonly data: Readonly<Record<string, unknown>>;
}

/** One stored record of the hash-chained audit log (see src/crypto/hashchain.ts). */
export interface AuditEntry extends NewAuditEntry {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
}

export interface AuditCheckpointRow {
  readonly seq: number;
  readonly at: number;
  readonly hash: string;
  /** Ed25519 signature, base64. */
  readonly signature: string;
  readonly keyId: string;
}

export interface AuditQuery {
  /** Records with seq >= fromSeq. */
  readonly fromSeq?: number;
  readonly actor?: string;
  readonly action?: string;
  /** Records with at >= since (unix ms). */
  readonly since?: number;
  /** At most this many (default 1000). */
  readonly limit?: number;
}

/**
 * The audit log role: an append-only, hash-chained log. append computes the
 * new record's hash from the last record inside one transaction, so appends
 * from several processes or nodes form one chain.
 */
export interface AuditRepo {
  append(e: NewAuditEntry): Promise<{ seq: number; hash: string }>;
  /** Ascending by seq. */
  list(q?: AuditQuery): Promise<AuditEntry[]>;
  /** Every record in stored order (by seq), read in pages: bounded memory. */
  all(pageSize?: number): AsyncIterable<AuditEntry>;
  addCheckpoint(cp: AuditCheckpointRow): Promise<void>;
  /** Ascending by seq. */
  listCheckpoints(): Promise<AuditCheckpointRow[]>;
}

/** Where a user's certificate came from: uploaded by an admin, issued by the CA, or learned from a signed message. */
export type CertificateSource = 'uploaded' | 'issued' | 'learned';

/** A user's (public) S/MIME certificate; the server never holds the matching key. */
export interface StoredCertificate {
  readonly id: number;
  readonly address: string;
  readonly der: Uint8Array;
  /** sha256 of the DER, lowercase hex. */
  readonly fingerprint: string;
  readonly source: CertificateSource;
  /** Unix ms. */
  readonly notBefore: number;
  /** Unix ms. */
  readonly notAfter: number;
  readonly addedAt: number;
  readonly revoked: boolean;
}

/** The certificates role: public certificates of addresses (encryption at rest, learned signers). Addresses are stored lowercased. */
export interface CertificateRepo {
  /**
   * Adds (or, same fingerprint, refreshes source/addedAt of) a certificate for an address; returns it.
   * A refresh keeps a revoked mark, and source 'learned' never replaces 'uploaded' or 'issued'.
   */
  put(
    c: { address: string; der: Uint8Array; fingerprint: string; source: CertificateSource; notBefore: number; notAfter: number },
    now: number,
  ): Promise<StoredCertificate>;
  /** Certificates of an address valid at `at` (not revoked, notBefore ≤ at < notAfter), newest first. */
  valid(address: string, at: number): Promise<StoredCertificate[]>;
  list(address?: string): Promise<StoredCertificate[]>;
  remove(fingerprint: string): Promise<boolean>;
  setRevoked(fingerprint: string, revoked: boolean): Promise<boolean>;
}

/** A WebAuthn security key registered to an address (the public half only). */
export interface WebAuthnCredential {
  /** The credential id, base64url. */
  readonly id: string;
  readonly address: string;
  /** COSE public key as the authenticator gave it. */
  readonly publicKey: Uint8Array;
  /** The authenticator's signature counter as last seen. */
  readonly counter: number;
  readonly transports: readonly string[];
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
}

/**
 * The second factors of accounts with an administrator role: WebAuthn
 * credentials, one TOTP secret per address, and one-time enrollment codes
 * (kept only as SHA-256). Addresses are stored lowercased. A TOTP secret is
 * kept as it is (the HMAC needs it): whoever reads the store can compute codes.
 */
export interface FactorRepo {
  /** Registers a credential; a credential id already registered (to anyone) throws RangeError. */
  addCredential(c: { id: string; address: string; publicKey: Uint8Array; counter: number; transports: readonly string[] }, now: number): Promise<WebAuthnCredential>;
  getCredential(id: string): Promise<WebAuthnCredential | null>;
  /** Oldest first. */
  listCredentials(address: string): Promise<WebAuthnCredential[]>;
  /**
   * Records a verified assertion: the new counter and the time of use, only if
   * the counter went up (or both are 0, an authenticator without a counter);
   * false otherwise (a cloned key, or a replay racing this one).
   */
  useCredential(id: string, counter: number, now: number): Promise<boolean>;
  removeCredential(id: string): Promise<boolean>;
  /** Sets (or replaces) the TOTP secret of an address; forgets the last step used. */
  setTotp(address: string, secret: Uint8Array, now: number): Promise<void>;
  getTotp(address: string): Promise<{ readonly secret: Uint8Array; readonly lastStep: number | null; readonly createdAt: number } | null>;
  /** Records that the code of time step `step` was used; false when that step or a later one was already used (no code twice). */
  useTotpStep(address: string, step: number): Promise<boolean>;
  removeTotp(address: string): Promise<boolean>;
  /** Stores a one-time enrollment code by its SHA-256 (hex); older unused codes of the address stop working. */
  addEnrollmentCode(address: string, codeSha256: string, expiresAt: number, now: number): Promise<void>;
  /** Marks the code used when it belongs to the address, is unused and not expired at `now`: true exactly once. */
  consumeEnrollmentCode(address: string, codeSha256: string, now: number): Promise<boolean>;
  /** Whether the address has a WebAuthn credential or a TOTP secret. */
  hasFactor(address: string): Promise<boolean>;
}

/** Limits of the sieve role, enforced by the store (and reported by ManageSieve HAVESPACE). */
export const SIEVE_LIMITS = Object.freeze({
  /** Characters (code points) of a script name. */
  maxNameLength: 128,
  /** UTF-8 bytes of a script's text. */
  maxScriptBytes: 64 * 1024,
  /** Scripts one account may keep. */
  maxScripts: 32,
});

export interface SieveScriptInfo {
  readonly name: string;
  readonly active: boolean;
  /** UTF-8 bytes of the text. */
  readonly size: number;
  readonly updatedAt: number;
}

export interface SieveScript extends SieveScriptInfo {
  readonly text: string;
}

/**
 * The sieve role: each account's Sieve scripts (RFC 5228), at most one of
 * them active, and the vacation memory (RFC 5230: one reply per sender and
 * period). Names and texts are checked here: a name that is empty, too long
 * or holds control characters (RFC 5804 section 1.6), a text over the limit,
 * or one script too many throws RangeError and changes nothing.
 */
export interface SieveRepo {
  /** Creates or replaces a script (an active script stays active). */
  put(accountId: number, name: string, text: string, now: number): Promise<void>;
  get(accountId: number, name: string): Promise<SieveScript | null>;
  /** By name (bytewise). */
  list(accountId: number): Promise<SieveScriptInfo[]>;
  /** 'active': the active script is never deleted (deactivate it first). */
  delete(accountId: number, name: string): Promise<'deleted' | 'missing' | 'active'>;
  /** Keeps the text and the active mark. */
  rename(accountId: number, from: string, to: string, now: number): Promise<'renamed' | 'missing' | 'exists'>;
  /** Makes `name` the one active script; null deactivates all. False when no such script. */
  setActive(accountId: number, name: string | null): Promise<boolean>;
  /** The script delivery runs for the account, or null. */
  active(accountId: number): Promise<{ name: string; text: string } | null>;
  /** Whether a vacation reply under `key` (a handle and sender) was remembered at or after `notBefore`. */
  vacationSeen(accountId: number, key: string, notBefore: number): Promise<boolean>;
  /** Remembers that a vacation reply under `key` was sent at `at`. */
  vacationRemember(accountId: number, key: string, at: number): Promise<void>;
  /** Forgets vacation replies sent before `before`; returns how many. */
  pruneVacation(before: number): Promise<number>;
}

/**
 * URLAUTH (RFC 4467 section 7) mailbox access keys: one random secret per
 * account and folder, made on first use and forgotten on reset (RESETKEY),
 * which voids every URL signed with it. Keys never leave the server.
 */
export interface UrlauthKeyRepo {
  /** The folder's key; when it has none, `fresh` becomes it (the first writer wins). */
  keyFor(accountId: number, folderId: number, fresh: Buffer): Promise<Buffer>;
  /** The folder's key, or null when none was made since the last reset. */
  get(accountId: number, folderId: number): Promise<Buffer | null>;
  /** Forgets one folder's key, or every key of the account when folderId is null. */
  reset(accountId: number, folderId: number | null): Promise<void>;
}

export interface MetaStore {
  readonly directory: DirectoryRepo;
  readonly queue: QueueRepo;
  readonly quarantine: QuarantineRepo;
  readonly verdicts: VerdictRepo;
  readonly mailboxes: MailboxRepo;
  readonly events: EventRepo;
  readonly integrity: IntegrityRepo;
  readonly dmarcReports: DmarcReportRepo;
  readonly deliveryTimes: DeliveryTimeRepo;
  readonly audit: AuditRepo;
  readonly certificates: CertificateRepo;
  readonly factors: FactorRepo;
  readonly sieve: SieveRepo;
  readonly urlauthKeys: UrlauthKeyRepo;
  /**
   * Optional: a long-running server's store moves its housekeeping I/O off
   * the event loop from now on where it can (SQLite: WAL checkpoints run in
   * a thread of their own instead of inside commits).
   */
  checkpointInBackground?(): void;
  close(): Promise<void>;
}

export interface BlobRef {
  readonly id: string;
  readonly size: number;
}

/** What a blob read or scrub found: reported to the event log and metrics. */
export type IntegrityEvent =
  | { kind: 'corrected'; blobId: string; block: number; bit: number; area: 'data' | 'check' | 'header' }
  | { kind: 'uncorrectable'; blobId: string; detail: string }
  | { kind: 'missing'; blobId: string; detail: string };

export interface BlobCheck {
  readonly ok: boolean;
  readonly corrections: readonly unknown[];
  readonly damage: readonly { block: number; reason: string }[];
}

/** What BlobStore.getDerived gives: what the deriver returned for the blob's verified bytes, or those bytes. */
export type DerivedRead = { readonly derived: string | null } | { readonly data: Uint8Array };

/** How a caller uses a blob it puts. */
export interface PutOptions {
  /**
   * The caller next commits a row that references the blob, in the same
   * store, and relies on neither before that commit is durable (the spool
   * before `250`, delivery, IMAP APPEND before its OK). A backend that keeps
   * the blob in the same log as that row (SQLite's WAL) then resolves
   * without a sync of its own: the later commit's sync covers the earlier
   * write. Others sync as always.
   */
  readonly syncedByCommit?: boolean;
  /**
   * The bytes must be removable whole later: a clear copy that encryption
   * at rest replaces once its encrypted copy is stored. A backend that keeps
   * small blobs in its database stores this one as a file, since a deleted
   * row's bytes stay in the database's write-ahead log until overwritten.
   */
  readonly asFile?: boolean;
}

export interface BlobStore {
  /** Stores bytes; durable (synced) when the promise resolves, unless `opts.syncedByCommit`. Identical bytes share one blob. A full disk throws STORAGE_FULL (cause: the errno error). */
  put(data: Uint8Array, opts?: PutOptions): Promise<BlobRef>;
  /** Returns the exact bytes stored, or throws PosternError NOT_FOUND / INTEGRITY. */
  get(id: string): Promise<Uint8Array>;
  /**
   * Optional: as get, but a backend that verifies blobs off the event loop
   * may run the deriver there on the verified bytes and answer with what it
   * returns, sparing the event loop the bytes and the work (SEARCH derives
   * header cache search parts so). `deriver` is the URL of a module
   * exporting `derive(blobId: string, data: Uint8Array): string | null`, a
   * pure function of its arguments. Otherwise (or where it could not run)
   * the bytes, as get gives them, and the caller derives the same itself.
   */
  getDerived?(id: string, deriver: URL): Promise<DerivedRead>;
  /**
   * Starts the backend's I/O threads now and keeps them while the store is
   * open, where it has any (a long-running server: otherwise the first read
   * or write after an idle spell waits for a thread to start). `derivers`:
   * modules for getDerived that the threads load now rather than on first use.
   */
  keepWarm?(derivers?: readonly URL[]): void;
  has(id: string): Promise<boolean>;
  /** Verifies and repairs a blob without returning it (scrub); throws NOT_FOUND if missing. */
  check(id: string): Promise<BlobCheck>;
  /** Hears every integrity finding (corrections, uncorrectable damage, missing blobs). */
  onIntegrity(fn: (e: IntegrityEvent) => void): void;
  delete(id: string): Promise<void>;
  list(): AsyncIterable<string>;
  /** Bytes the blob takes in storage (its container), or null if it is missing. */
  storedSize(id: string): Promise<number | null>;
  /** The stored container exactly as it is, unverified (backup verifies it); throws NOT_FOUND. */
  readContainer(id: string): Promise<Uint8Array>;
  /** Stores a container as is (restore), durably; throws INTEGRITY unless it verifies as blob `id`. */
  writeContainer(id: string, container: Uint8Array): Promise<void>;
  /**
   * Garbage collection: deletes those of `ids` that were last written (or
   * stored again: identical bytes refresh a blob) before `writtenBefore` and
   * for which `isUnused` still holds at the moment of deletion, so a blob
   * that a message or queue entry committed meanwhile, or that a writer is
   * about to reference, is kept. Returns the ids deleted and the bytes they
   * took; `dryRun` deletes nothing and returns what would go.
   */
  collectGarbage(
    ids: readonly string[],
    writtenBefore: number,
    isUnused: (id: string) => Promise<boolean>,
    dryRun?: boolean,
  ): Promise<{ deleted: string[]; bytes: number }>;
  /**
   * Removes what failed writes left behind (file store: `.tmp-*` files older
   * than `olderThanMs`, default 10 minutes, so a write in progress is never
   * touched); returns what it removed. Backends without temp files remove nothing.
   */
  removeStaleTemp(now: number, olderThanMs?: number): Promise<{ files: number; bytes: number }>;
  close(): Promise<void>;
}

export interface Store {
  readonly meta: MetaStore;
  readonly blobs: BlobStore;
  close(): Promise<void>;
}
