import { randomInt } from 'node:crypto';
import type {
  CachedHeader,
  FlagChange,
  FlagChangeResult,
  Folder,
  FolderChanges,
  FolderStats,
  HeaderCacheCandidate,
  HeaderCacheEntry,
  MailboxRepo,
  MailMessage,
  MessageIndex,
  NewMailMessage,
} from '../../types.js';
import { PosternError } from '../../../core/errors.js';
import { withoutSync, type Db } from './db.js';
import { prepared, preparedPluck, preparedRaw, runRows, transact } from './statements.js';
import { admitKeywords, checkMessageKeywords, hasKeywords, inUidOrder, keywordsFromFlags, planFlagChanges, toFolder, toMessage, type FolderRow, type MessageRow } from '../rows.js';


/**
 * Appends inside the caller's transaction: takes the folder's next UID and
 * modseq and bumps both, so UIDs stay strictly ascending across restarts and
 * concurrent writers (SQLite serialises writers).
 */
export function appendInTx(db: Db, folderId: number, m: NewMailMessage): MailMessage {
  const f = prepared(db, 'SELECT uid_next, highest_modseq, keywords, keywords_exact FROM folders WHERE id = ?').get(folderId) as
    | { uid_next: number; highest_modseq: number; keywords: string | null; keywords_exact: number }
    | undefined;
  if (!f) throw new PosternError('NOT_FOUND', `no folder ${folderId}`);
  if (m.flags?.some((x) => !x.startsWith('\\'))) {
    checkMessageKeywords(m.flags);
    admitKeywordsInTx(db, folderId, f, [m.flags]);
  }
  const uid = f.uid_next;
  const modseq = f.highest_modseq + 1;
  prepared(db, 'UPDATE folders SET uid_next = ?, highest_modseq = ? WHERE id = ?').run(uid + 1, modseq, folderId);
  const insert = prepared(db, 'INSERT INTO messages (folder_id, uid, blob_id, size, internal_date, flags, modseq) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const r = insert.run(folderId, uid, m.blobId, m.size, m.internalDate, (m.flags ?? []).join(' '), modseq);
  if (m.headerCache) headerEntryInTx(db, m.blobId, m.headerCache);
  // A blob already described (by the entry just written, or before) gives the new message its search row.
  prepared(db, 'INSERT INTO message_search (message_id, search) SELECT ?, search FROM header_cache WHERE blob_id = ?').run(r.lastInsertRowid, m.blobId);
  return {
    id: Number(r.lastInsertRowid),
    folderId,
    uid,
    blobId: m.blobId,
    size: m.size,
    internalDate: m.internalDate,
    flags: m.flags ?? [],
    modseq,
  };
}

/**
 * A new message's header cache entry, inside its append's transaction. An
 * entry the blob has already stays (it describes the same bytes, and the
 * search rows of the blob's other messages were made from it); a detail is
 * added where there was none.
 */
function headerEntryInTx(db: Db, blobId: string, e: HeaderCacheEntry): void {
  prepared(db, 'INSERT INTO header_cache (blob_id, search) VALUES (?, ?) ON CONFLICT (blob_id) DO NOTHING').run(blobId, e.search);
  if (e.detail) {
    prepared(db, 'INSERT INTO header_cache_detail (blob_id, detail) VALUES (?, ?) ON CONFLICT (blob_id) DO NOTHING')
      .run(blobId, Buffer.from(e.detail.buffer, e.detail.byteOffset, e.detail.byteLength));
  }
}

/**
 * Copies search parts to the message_search rows of the messages they were
 * derived for (HeaderCacheEntry.message: that message alone, looked up in
 * folder order), or of every message of the blob. Inside the caller's
 * transaction. `unchanged`: blobs whose header_cache row already held the
 * same search part before this write; their messages are left alone (see
 * putHeaderCache).
 */
function fillMessageSearch(db: Db, entries: readonly HeaderCacheEntry[], unchanged: ReadonlySet<string>): void {
  const located = entries.filter((e) => e.message);
  located.sort((a, b) => a.message!.folderId - b.message!.folderId || a.message!.uid - b.message!.uid);
  // A hundred rows to a statement (a first SEARCH writes 100,000); the join checks each message still holds that blob.
  runRows(
    db,
    (v) => `INSERT OR REPLACE INTO message_search (message_id, search)
      SELECT m.id, v.column4 FROM (VALUES ${v}) AS v CROSS JOIN messages m ON m.folder_id = v.column1 AND m.uid = v.column2 AND m.blob_id = v.column3`,
    4,
    located.map((e) => [e.message!.folderId, e.message!.uid, e.blobId, e.search]),
  );
  // Only rows that are missing or differ: a message already holding this part is not written again.
  const all = prepared(
    db,
    `INSERT OR REPLACE INTO message_search (message_id, search)
     SELECT m.id, @search FROM messages m LEFT JOIN message_search s ON s.message_id = m.id
     WHERE m.blob_id = @blobId AND (s.search IS NULL OR s.search <> @search)`,
  );
  for (const e of entries) if (!e.message && !unchanged.has(e.blobId)) all.run({ search: e.search, blobId: e.blobId });
}

/**
 * Of these per-blob entries, the blobs whose header_cache row already holds
 * exactly the same search part. Their messages have it already: each got it
 * when it was appended after that row was written (appendInTx), or from the
 * put that wrote the row (fillMessageSearch). Without this, every APPEND or
 * delivery of bytes that many messages share rewrote (and later only
 * re-read) a row per message: quadratic in the copies of one message.
 */
function unchangedSearch(db: Db, entries: readonly HeaderCacheEntry[]): Set<string> {
  const out = new Set<string>();
  // The last entry of a repeated blob id wins, as in the write.
  const want = new Map(entries.filter((e) => !e.message).map((e) => [e.blobId, e.search]));
  const ids = [...want.keys()];
  if (ids.length === 0) return out;
  const stmt = preparedRaw(db, 'SELECT blob_id, search FROM header_cache WHERE blob_id IN (SELECT value FROM json_each(?))');
  for (let i = 0; i < ids.length; i += HEADER_CACHE_CHUNK) {
    for (const [blobId, search] of stmt.all(JSON.stringify(ids.slice(i, i + HEADER_CACHE_CHUNK))) as [string, string][]) {
      if (want.get(blobId) === search) out.add(blobId);
    }
  }
  return out;
}

/** Makes room for the keywords in `wanted` in the folder's keyword list, inside the caller's transaction; throws LIMIT. */
function admitKeywordsInTx(db: Db, folderId: number, f: { keywords: string | null; keywords_exact: number }, wanted: readonly (readonly string[])[]): void {
  let a = admitKeywords(f.keywords, f.keywords_exact === 1, wanted, null);
  if (a.kind === 'rescan') {
    const used = preparedPluck(db, 'SELECT DISTINCT flags FROM messages WHERE folder_id = ?').all(folderId) as string[];
    a = admitKeywords(f.keywords, false, wanted, used);
  }
  if (a.kind === 'ok' && a.write) prepared(db, 'UPDATE folders SET keywords = ?, keywords_exact = ? WHERE id = ?').run(a.write.keywords, a.write.exact ? 1 : 0, folderId);
}

/** A keyword may have left the folder: its list may now hold unused ones. */
function keywordsMayBeStale(db: Db, folderId: number): void {
  prepared(db, 'UPDATE folders SET keywords_exact = 0 WHERE id = ? AND keywords_exact = 1').run(folderId);
}

/** Expunges one message if it still holds `blobId`, inside the caller's transaction; true when it did. */
export function expungeBlobInTx(db: Db, folderId: number, uid: number, blobId: string): boolean {
  const row = prepared(db, 'SELECT id FROM messages WHERE folder_id = ? AND uid = ? AND blob_id = ?').get(folderId, uid, blobId) as { id: number } | undefined;
  if (!row) return false;
  const f = prepared(db, 'UPDATE folders SET highest_modseq = highest_modseq + 1 WHERE id = ? RETURNING highest_modseq AS m').get(folderId) as { m: number };
  prepared(db, 'DELETE FROM messages WHERE id = ?').run(row.id);
  prepared(db, 'INSERT OR REPLACE INTO expunged (folder_id, uid, modseq) VALUES (?, ?, ?)').run(folderId, uid, f.m);
  keywordsMayBeStale(db, folderId);
  return true;
}

/** Messages and expunges an answer of changesSince may hold to be kept for the next session that asks. */
const SHARED_CHANGES_MAX = 1000;
/** Folders whose last answer is kept; the oldest goes first. */
const SHARED_CHANGES_FOLDERS = 1000;

export class SqliteMailboxes implements MailboxRepo {
  /**
   * The last answer of changesSince per folder. After a write to a folder
   * every session that has it selected asks for the same changes (since the
   * same modseq); with ten sessions on one mailbox that query was about 12 %
   * of the event loop. Every change to a folder's messages raises its
   * highest modseq in the same transaction (append, flags, expunge, from any
   * process), so an answer for (folder, since) stays exact while that value
   * is unchanged, and it is checked on every call. Folder ids are never
   * reused (AUTOINCREMENT).
   */
  private readonly sharedChanges = new Map<number, { since: number; highest: number; changes: FolderChanges }>();

  constructor(private readonly db: Db) {}

  private q(sql: string): ReturnType<typeof prepared> {
    return prepared(this.db, sql);
  }

  async createFolder(accountId: number, name: string, specialUse: string | null, now: number): Promise<Folder> {
    // UIDVALIDITY: seconds since epoch plus a random offset keeps it unique even
    // when a folder is deleted and recreated within one second.
    const uidValidity = (Math.floor(now / 1000) + randomInt(0, 1 << 16)) >>> 0 || 1;
    try {
      const r = this.q('INSERT INTO folders (account_id, name, special_use, uid_validity) VALUES (?, ?, ?, ?)').run(accountId, name, specialUse, uidValidity);
      return (await this.getFolderById(Number(r.lastInsertRowid)))!;
    } catch (e) {
      if (e instanceof Error && /UNIQUE/.test(e.message)) throw new PosternError('INVARIANT', `folder ${name} exists already`);
      throw e;
    }
  }

  async getFolder(accountId: number, name: string): Promise<Folder | null> {
    const r = this.q('SELECT * FROM folders WHERE account_id = ? AND name = ?').get(accountId, name) as FolderRow | undefined;
    return r ? toFolder(r) : null;
  }

  async getFolderById(id: number): Promise<Folder | null> {
    const r = this.q('SELECT * FROM folders WHERE id = ?').get(id) as FolderRow | undefined;
    return r ? toFolder(r) : null;
  }

  async listFolders(accountId: number): Promise<Folder[]> {
    return (this.q('SELECT * FROM folders WHERE account_id = ? ORDER BY name').all(accountId) as FolderRow[]).map(toFolder);
  }

  /**
   * Before a change that adds keywords: refuses at once when the folder's
   * exact keyword list is full, and rebuilds a full list that may be stale in
   * a transaction of its own, so that even a refused change leaves it exact
   * and the next refusal costs no scan of the folder.
   */
  private preflightKeywords(folderId: number, flags: readonly string[] | undefined): void {
    if (!hasKeywords(flags)) return;
    const f = this.q('SELECT keywords, keywords_exact FROM folders WHERE id = ?').get(folderId) as
      | { keywords: string | null; keywords_exact: number }
      | undefined;
    if (!f || admitKeywords(f.keywords, f.keywords_exact === 1, [flags!], null).kind === 'ok') return;
    transact(this.db, 'immediate', () => {
      const used = preparedPluck(this.db, 'SELECT DISTINCT flags FROM messages WHERE folder_id = ?').all(folderId) as string[];
      this.q('UPDATE folders SET keywords = ?, keywords_exact = 1 WHERE id = ?').run(keywordsFromFlags(used), folderId);
    });
  }

  async append(folderId: number, m: NewMailMessage): Promise<MailMessage> {
    this.preflightKeywords(folderId, m.flags);
    return transact(this.db, 'immediate', () => appendInTx(this.db, folderId, m));
  }

  async listMessages(folderId: number): Promise<MailMessage[]> {
    return (this.q('SELECT * FROM messages WHERE folder_id = ? ORDER BY uid').all(folderId) as MessageRow[]).map(toMessage);
  }

  async renameFolder(accountId: number, from: string, to: string, now: number): Promise<void> {
    const src = await this.getFolder(accountId, from);
    if (!src) throw new PosternError('NOT_FOUND', `no folder ${from}`);
    if (await this.getFolder(accountId, to)) throw new PosternError('INVARIANT', `folder ${to} exists already`);
    if (from === 'INBOX') {
      // RFC 3501 6.3.5: renaming INBOX moves its messages and leaves INBOX empty.
      const dst = await this.createFolder(accountId, to, null, now);
      const uids = (await this.listMessages(src.id)).map((m) => m.uid);
      await this.move(src.id, uids, dst.id, now);
      return;
    }
    transact(this.db, 'immediate', () => {
      const rows = this.q("SELECT id, name FROM folders WHERE account_id = ? AND (name = ? OR substr(name, 1, ?) = ?)").all(accountId, from, from.length + 1, `${from}/`) as {
        id: number;
        name: string;
      }[];
      const upd = this.q('UPDATE folders SET name = ? WHERE id = ?');
      for (const r of rows) upd.run(to + r.name.slice(from.length), r.id);
    });
  }

  async deleteFolder(folderId: number): Promise<void> {
    transact(this.db, 'immediate', () => {
      this.q('DELETE FROM messages WHERE folder_id = ?').run(folderId);
      this.q('DELETE FROM expunged WHERE folder_id = ?').run(folderId);
      this.q('DELETE FROM folders WHERE id = ?').run(folderId);
    });
  }

  async listSubscriptions(accountId: number): Promise<string[]> {
    const rows = this.q('SELECT name FROM subscriptions WHERE account_id = ? ORDER BY name').all(accountId) as { name: string }[];
    return rows.map((r) => r.name);
  }

  async setSubscription(accountId: number, name: string, subscribed: boolean): Promise<void> {
    if (subscribed) this.q('INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?, ?)').run(accountId, name);
    else this.q('DELETE FROM subscriptions WHERE account_id = ? AND name = ?').run(accountId, name);
  }

  async getMessages(folderId: number, uids: number[]): Promise<MailMessage[]> {
    return this.getMessagesSync(folderId, uids);
  }

  private bumpModseq(folderId: number): number {
    const f = this.q('SELECT highest_modseq FROM folders WHERE id = ?').get(folderId) as { highest_modseq: number } | undefined;
    if (!f) throw new PosternError('NOT_FOUND', `no folder ${folderId}`);
    const m = f.highest_modseq + 1;
    this.q('UPDATE folders SET highest_modseq = ? WHERE id = ?').run(m, folderId);
    return m;
  }

  async storeFlags(folderId: number, change: FlagChange): Promise<FlagChangeResult> {
    if (change.op !== 'remove') this.preflightKeywords(folderId, change.flags);
    return transact(this.db, 'immediate', (): FlagChangeResult => {
      const changed: MailMessage[] = [];
      const messages = this.getMessagesSync(folderId, change.uids);
      if (messages.length > 0 && change.op !== 'remove' && change.flags.some((x) => !x.startsWith('\\'))) {
        const f = this.q('SELECT keywords, keywords_exact FROM folders WHERE id = ?').get(folderId) as
          | { keywords: string | null; keywords_exact: number }
          | undefined;
        if (!f) throw new PosternError('NOT_FOUND', `no folder ${folderId}`);
        admitKeywordsInTx(this.db, folderId, f, [change.flags]);
      }
      const { next, conflicts } = planFlagChanges(messages, change);
      if (next.length === 0) return { changed, conflicts };
      // One folder update for the whole command; each message still gets its own, ascending modseq.
      const f = this.q('UPDATE folders SET highest_modseq = highest_modseq + ? WHERE id = ? RETURNING highest_modseq - ? AS base').get(
        next.length,
        folderId,
        next.length,
      ) as { base: number } | undefined;
      if (!f) throw new PosternError('NOT_FOUND', `no folder ${folderId}`);
      const upd = this.q('UPDATE messages SET flags = ?, modseq = ? WHERE id = ?');
      next.forEach(({ m, flags }, i) => {
        const modseq = f.base + 1 + i;
        upd.run(flags.join(' '), modseq, m.id);
        changed.push({ ...m, flags, modseq });
      });
      if (change.op !== 'add') keywordsMayBeStale(this.db, folderId);
      return { changed, conflicts };
    });
  }

  /**
   * The folder's messages with these UIDs, ascending: one range scan (it beats
   * thousands of point lookups for the large UID sets IMAP clients send), its
   * rows as arrays (an object per row cost twice as much: 18-21 against 9-10
   * ms for 10,000).
   */
  private getMessagesSync(folderId: number, uids: readonly number[]): MailMessage[] {
    const want = new Set(uids);
    if (want.size === 0) return [];
    let lo = Infinity;
    let hi = -Infinity;
    for (const u of want) {
      if (u < lo) lo = u;
      if (u > hi) hi = u;
    }
    const rows = preparedRaw(
      this.db,
      'SELECT id, uid, blob_id, size, internal_date, flags, modseq FROM messages WHERE folder_id = ? AND uid BETWEEN ? AND ? ORDER BY uid',
    ).all(folderId, lo, hi) as [number, number, string, number, number, string, number][];
    const out: MailMessage[] = [];
    for (const [id, uid, blobId, size, internalDate, flags, modseq] of rows) {
      if (!want.has(uid)) continue;
      out.push({ id, folderId, uid, blobId, size, internalDate, flags: flags === '' ? [] : flags.split(' ').filter(Boolean), modseq });
    }
    return out;
  }

  private expungeSync(folderId: number, uids: number[]): number[] {
    const rows = this.getMessagesSync(folderId, uids);
    if (rows.length === 0) return [];
    const modseq = this.bumpModseq(folderId);
    const del = this.q('DELETE FROM messages WHERE id = ?');
    const rec = this.q('INSERT OR REPLACE INTO expunged (folder_id, uid, modseq) VALUES (?, ?, ?)');
    for (const m of rows) {
      del.run(m.id);
      rec.run(folderId, m.uid, modseq);
    }
    keywordsMayBeStale(this.db, folderId);
    return rows.map((m) => m.uid);
  }

  async expunge(folderId: number, uids: number[]): Promise<number[]> {
    return transact(this.db, 'immediate', () => this.expungeSync(folderId, uids));
  }

  private copySync(fromFolderId: number, uids: number[], toFolderId: number): [number, number][] {
    const out: [number, number][] = [];
    for (const m of this.getMessagesSync(fromFolderId, uids)) {
      const flags = m.flags.filter((f) => f !== '\\Recent');
      const n = appendInTx(this.db, toFolderId, { blobId: m.blobId, size: m.size, internalDate: m.internalDate, flags });
      out.push([m.uid, n.uid]);
    }
    return out;
  }

  async copy(fromFolderId: number, uids: number[], toFolderId: number, _now: number): Promise<[number, number][]> {
    return transact(this.db, 'immediate', () => this.copySync(fromFolderId, uids, toFolderId));
  }

  async move(fromFolderId: number, uids: number[], toFolderId: number, _now: number): Promise<[number, number][]> {
    return transact(this.db, 'immediate', () => {
      const pairs = this.copySync(fromFolderId, uids, toFolderId);
      this.expungeSync(
        fromFolderId,
        pairs.map((p) => p[0]),
      );
      return pairs;
    });
  }

  async changesSince(folderId: number, modseq: number): Promise<FolderChanges> {
    return transact(this.db, 'deferred', (): FolderChanges => {
      const f = this.q('SELECT highest_modseq FROM folders WHERE id = ?').get(folderId) as { highest_modseq: number } | undefined;
      if (!f) {
        this.sharedChanges.delete(folderId);
        throw new PosternError('NOT_FOUND', `no folder ${folderId}`);
      }
      const kept = this.sharedChanges.get(folderId);
      if (kept && kept.since === modseq && kept.highest === f.highest_modseq) return kept.changes;
      const changed = (
        this.q('SELECT * FROM messages WHERE folder_id = ? AND modseq > ? ORDER BY uid').all(folderId, modseq) as MessageRow[]
      ).map(toMessage);
      const expunged = (
        this.q('SELECT uid FROM expunged WHERE folder_id = ? AND modseq > ? ORDER BY uid').all(folderId, modseq) as { uid: number }[]
      ).map((r) => r.uid);
      const changes: FolderChanges = { changed, expunged, highestModseq: f.highest_modseq };
      // Small answers only: a session catching up from far back is not held in memory for others.
      this.sharedChanges.delete(folderId);
      if (changed.length + expunged.length <= SHARED_CHANGES_MAX) {
        if (this.sharedChanges.size >= SHARED_CHANGES_FOLDERS) this.sharedChanges.delete(this.sharedChanges.keys().next().value!);
        this.sharedChanges.set(folderId, { since: modseq, highest: f.highest_modseq, changes });
      }
      return changes;
    });
  }

  async blobReferences(blobId: string): Promise<number> {
    const a = this.q('SELECT COUNT(*) AS n FROM messages WHERE blob_id = ?').get(blobId) as { n: number };
    const b = this.q('SELECT COUNT(*) AS n FROM queue_messages WHERE blob_id = ?').get(blobId) as { n: number };
    return a.n + b.n;
  }

  async listIndex(folderId: number): Promise<MessageIndex> {
    // Three JSON arrays in one row, read in UID order through the (folder_id, uid) index: at
    // 100,000 messages about a quarter of the time of a row per message through the driver.
    const [uids, flags, modseqs] = preparedRaw(
      this.db,
      `SELECT json_group_array(uid), json_group_array(flags), json_group_array(modseq)
       FROM (SELECT uid, flags, modseq FROM messages WHERE folder_id = ? ORDER BY uid)`,
    ).get(folderId) as [string, string, string];
    return inUidOrder({ uids: JSON.parse(uids) as number[], flags: JSON.parse(flags) as string[], modseqs: JSON.parse(modseqs) as number[] });
  }

  async folderStats(folderId: number): Promise<FolderStats> {
    const r = this.q(
      `SELECT COUNT(*) AS messages, COALESCE(SUM(size), 0) AS size,
         COALESCE(SUM(CASE WHEN (' ' || flags || ' ') LIKE '% \\Seen %' THEN 0 ELSE 1 END), 0) AS unseen,
         COALESCE(SUM(CASE WHEN (' ' || flags || ' ') LIKE '% \\Deleted %' THEN 1 ELSE 0 END), 0) AS deleted
       FROM messages WHERE folder_id = ?`,
    ).get(folderId) as FolderStats;
    return { messages: r.messages, unseen: r.unseen, deleted: r.deleted, size: r.size };
  }

  async usage(accountId: number): Promise<number> {
    const r = this.q('SELECT COALESCE(SUM(m.size), 0) AS n FROM messages m JOIN folders f ON f.id = m.folder_id WHERE f.account_id = ?').get(accountId) as { n: number };
    return r.n;
  }

  async getHeaderCache(blobIds: readonly string[], withDetail: boolean): Promise<CachedHeader[]> {
    const ids = [...new Set(blobIds)];
    if (ids.length === 0) return [];
    // The ids go in as one JSON array: one prepared statement whatever their number.
    const sql = withDetail
      ? `SELECT c.blob_id, c.search, d.detail FROM header_cache c JOIN header_cache_detail d ON d.blob_id = c.blob_id
         WHERE c.blob_id IN (SELECT value FROM json_each(?)) AND NOT EXISTS (SELECT 1 FROM damaged_blobs x WHERE x.blob_id = c.blob_id)`
      : `SELECT c.blob_id, c.search, NULL FROM header_cache c
         WHERE c.blob_id IN (SELECT value FROM json_each(?)) AND NOT EXISTS (SELECT 1 FROM damaged_blobs x WHERE x.blob_id = c.blob_id)`;
    const stmt = preparedRaw(this.db, sql);
    const out: CachedHeader[] = [];
    for (let i = 0; i < ids.length; i += HEADER_CACHE_CHUNK) {
      const rows = stmt.all(JSON.stringify(ids.slice(i, i + HEADER_CACHE_CHUNK))) as [string, string, Buffer | null][];
      for (const [blobId, search, detail] of rows) out.push({ blobId, search, detail });
    }
    return out;
  }

  async searchHeaderCache(folderId: number, loUid: number, hiUid: number, contains: string | null): Promise<HeaderCacheCandidate[]> {
    // The search text joins only when the blob is not marked damaged; the substring test runs in SQLite,
    // so a large folder's non-matching messages never become JavaScript objects.
    // The message's own search row comes first: read by message id, nearly in folder order. Only a message
    // without one looks its blob up in header_cache. Damaged blobs are looked for only when there are any.
    const sql = `SELECT uid, blob_id, size, internal_date, txt FROM (
         SELECT m.uid, m.blob_id, m.size, m.internal_date,
           CASE WHEN NOT EXISTS (SELECT 1 FROM damaged_blobs) OR NOT EXISTS (SELECT 1 FROM damaged_blobs x WHERE x.blob_id = m.blob_id)
             THEN COALESCE(s.search, (SELECT c.search FROM header_cache c WHERE c.blob_id = m.blob_id)) END AS txt
         FROM messages m LEFT JOIN message_search s ON s.message_id = m.id
         WHERE m.folder_id = ? AND m.uid BETWEEN ? AND ?)
       ${contains === null ? '' : 'WHERE txt IS NULL OR instr(txt, ?) > 0'}
       ORDER BY uid`;
    const args = contains === null ? [folderId, loUid, hiUid] : [folderId, loUid, hiUid, contains];
    const rows = preparedRaw(this.db, sql).all(...args) as [number, string, number, number, string | null][];
    return rows.map(([uid, blobId, size, internalDate, search]) => ({ uid, blobId, size, internalDate, search }));
  }

  async putHeaderCache(entries: readonly HeaderCacheEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const detail = this.q('INSERT OR REPLACE INTO header_cache_detail (blob_id, detail) VALUES (?, ?)');
    // In key order: neighbouring rows land on the same pages. The sort is stable: of repeated blob ids the last wins.
    const sorted = [...entries].sort((a, b) => (a.blobId < b.blobId ? -1 : a.blobId > b.blobId ? 1 : 0));
    // A search part alone derived for one message (a SEARCH's) becomes that message's row; a per-blob row
    // is only refreshed where one exists (an entry rebuilt after failing its check), not added: a first
    // SEARCH over 100,000 messages then writes one row per message, in folder order, not two.
    const perBlob = sorted.filter((e) => !e.message || e.detail);
    // A SEARCH that found no entry for the blob says so: 100,000 refreshes of rows that are not there cost 130 ms.
    const refreshed = sorted.filter((e) => e.message && !e.detail && !e.message.noBlobEntry);
    const write = (): void => {
      const unchanged = unchangedSearch(this.db, sorted);
      // Search parts are small: a hundred to a statement costs less per row than one each.
      runRows(this.db, (v) => `INSERT OR REPLACE INTO header_cache (blob_id, search) VALUES ${v}`, 2, perBlob.map((e) => [e.blobId, e.search]));
      for (const e of perBlob) {
        // Without a detail (search part only), a detail stored before stays: it describes the same bytes.
        if (e.detail) detail.run(e.blobId, Buffer.from(e.detail.buffer, e.detail.byteOffset, e.detail.byteLength));
      }
      runRows(
        this.db,
        (v) => `UPDATE header_cache SET search = v.column2 FROM (VALUES ${v}) AS v WHERE header_cache.blob_id = v.column1`,
        2,
        refreshed.map((e) => [e.blobId, e.search]),
      );
      fillMessageSearch(this.db, sorted, unchanged);
    };
    // Derived data: its commit does not wait for the disk. The next durable
    // commit syncs the log with these rows in it; a crash before that loses
    // only cache rows, which are rebuilt from the blobs. An APPEND saves one sync.
    withoutSync(this.db, () => transact(this.db, 'immediate', write));
  }

  async pruneHeaderCache(dryRun = false): Promise<number> {
    const unused = 'NOT EXISTS (SELECT 1 FROM messages m WHERE m.blob_id = t.blob_id)';
    if (dryRun) return (this.q(`SELECT COUNT(*) AS n FROM header_cache AS t WHERE ${unused}`).get() as { n: number }).n;
    // A page per transaction, yielding between pages: after a large expunge, one statement would hold the event loop.
    const search = this.q(`DELETE FROM header_cache WHERE blob_id IN (SELECT blob_id FROM header_cache AS t WHERE ${unused} LIMIT ?)`);
    const detail = this.q(`DELETE FROM header_cache_detail WHERE blob_id IN (SELECT blob_id FROM header_cache_detail AS t WHERE ${unused} LIMIT ?)`);
    // The verdicts kept with delivered mail go with the last message that used their blob.
    const verdicts = this.q(`DELETE FROM message_verdicts WHERE blob_id IN (SELECT blob_id FROM message_verdicts AS t WHERE ${unused} LIMIT ?)`);
    let total = 0;
    for (let i = 0; i < MAX_PRUNE_PAGES; i++) {
      const [n, d, v] = transact(this.db, 'immediate', (): [number, number, number] => [search.run(PRUNE_PAGE).changes, detail.run(PRUNE_PAGE).changes, verdicts.run(PRUNE_PAGE).changes]);
      total += n;
      if (n < PRUNE_PAGE && d < PRUNE_PAGE && v < PRUNE_PAGE) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return total;
  }

}

/** Blob ids per header cache query: bounds the result a single statement builds. */
const HEADER_CACHE_CHUNK = 2000;
/** Header cache entries pruned per transaction, and a bound on the pages of one call. */
const PRUNE_PAGE = 1000;
const MAX_PRUNE_PAGES = 1_000_000;

