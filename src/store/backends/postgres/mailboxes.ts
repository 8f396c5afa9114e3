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
import { isUniqueViolation, tx, type Client, type Pool, type Queryable } from './db.js';
import { addHeaderEntries, getHeaderCache, pruneHeaderCache, putHeaderCache, searchHeaderCache } from './headers.js';
import { admitKeywords, checkMessageKeywords, hasKeywords, inUidOrder, keywordsFromFlags, planFlagChanges, toFolder, toMessage, type FolderRow, type MessageRow } from '../rows.js';

/**
 * Appends in one statement, inside the caller's transaction or on its own.
 * The UPDATE takes the folder's next UIDs and modseqs and bumps both; the row
 * lock it takes is held until COMMIT, so appenders on any node queue behind
 * each other and UIDs are unique and become visible in ascending order. Each
 * message gets its own modseq. One statement keeps the lock short: no round
 * trip happens while it is held, only the commit.
 */
export async function appendInTx(q: Queryable, folderId: number, list: NewMailMessage[]): Promise<MailMessage[]> {
  if (list.length === 0) return [];
  const withKeywords = list.filter((m) => m.flags?.some((x) => !x.startsWith('\\')));
  if (withKeywords.length > 0) {
    for (const m of withKeywords) checkMessageKeywords(m.flags!);
    // The folder row stays locked until COMMIT: the keyword list and the messages change together.
    await admitKeywordsInTx(q, folderId, withKeywords.map((m) => m.flags!));
  }
  const r = await q.query<{ id: number; uid: number; modseq: number }>(
    `WITH f AS (
       UPDATE folders SET uid_next = uid_next + $2, highest_modseq = highest_modseq + $2 WHERE id = $1
       RETURNING uid_next - $2 AS first_uid, highest_modseq - $2 AS base_modseq)
     INSERT INTO messages (folder_id, uid, blob_id, size, internal_date, flags, modseq)
     SELECT $1, f.first_uid + u.o - 1, u.blob_id, u.size, u.internal_date, u.flags, f.base_modseq + u.o
     FROM f, unnest($3::text[], $4::bigint[], $5::bigint[], $6::text[]) WITH ORDINALITY AS u(blob_id, size, internal_date, flags, o)
     RETURNING id, uid, modseq`,
    [folderId, list.length, list.map((m) => m.blobId), list.map((m) => m.size), list.map((m) => m.internalDate), list.map((m) => (m.flags ?? []).join(' '))],
  );
  if (r.rows.length === 0) throw new PosternError('NOT_FOUND', `no folder ${folderId}`);
  await addHeaderEntries(q, list.flatMap((m) => (m.headerCache ? [{ blobId: m.blobId, entry: m.headerCache }] : [])));
  const rows = r.rows.sort((a, b) => a.uid - b.uid);
  return list.map((m, i) => ({
    id: rows[i]!.id,
    folderId,
    uid: rows[i]!.uid,
    blobId: m.blobId,
    size: m.size,
    internalDate: m.internalDate,
    flags: m.flags ?? [],
    modseq: rows[i]!.modseq,
  }));
}

/**
 * Makes room for the keywords in `wanted` in the folder's keyword list, inside
 * the caller's transaction (the folder row is locked FOR UPDATE); throws LIMIT.
 */
async function admitKeywordsInTx(q: Queryable, folderId: number, wanted: readonly (readonly string[])[]): Promise<void> {
  const f = await q.query<{ keywords: string | null; keywords_exact: boolean }>('SELECT keywords, keywords_exact FROM folders WHERE id = $1 FOR UPDATE', [
    folderId,
  ]);
  if (!f.rows[0]) throw new PosternError('NOT_FOUND', `no folder ${folderId}`);
  const stored = f.rows[0].keywords;
  let a = admitKeywords(stored, f.rows[0].keywords_exact, wanted, null);
  if (a.kind === 'rescan') {
    const used = await q.query<{ flags: string }>('SELECT DISTINCT flags FROM messages WHERE folder_id = $1', [folderId]);
    a = admitKeywords(
      stored,
      false,
      wanted,
      used.rows.map((r) => r.flags),
    );
  }
  if (a.kind === 'ok' && a.write) await q.query('UPDATE folders SET keywords = $2, keywords_exact = $3 WHERE id = $1', [folderId, a.write.keywords, a.write.exact]);
}

/**
 * Before a change that adds keywords: refuses at once when the folder's exact
 * keyword list is full, and rebuilds a full list that may be stale in a
 * transaction of its own, so that even a refused change leaves it exact and
 * the next refusal costs no scan of the folder.
 */
async function preflightKeywords(pool: Pool, folderId: number, flags: readonly string[] | undefined): Promise<void> {
  if (!hasKeywords(flags)) return;
  const f = await pool.query<{ keywords: string | null; keywords_exact: boolean }>('SELECT keywords, keywords_exact FROM folders WHERE id = $1', [folderId]);
  if (!f.rows[0] || admitKeywords(f.rows[0].keywords, f.rows[0].keywords_exact, [flags!], null).kind === 'ok') return;
  await tx(pool, async (c) => {
    await c.query('SELECT 1 FROM folders WHERE id = $1 FOR UPDATE', [folderId]);
    const used = await c.query<{ flags: string }>('SELECT DISTINCT flags FROM messages WHERE folder_id = $1', [folderId]);
    await c.query('UPDATE folders SET keywords = $2, keywords_exact = true WHERE id = $1', [folderId, keywordsFromFlags(used.rows.map((r) => r.flags))]);
  });
}

/** Locks folder rows (ascending id, so two movers in opposite directions cannot deadlock); returns those that exist. */
async function lockFolders(c: Client, ids: number[]): Promise<Set<number>> {
  const r = await c.query<{ id: number }>('SELECT id FROM folders WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE', [ids]);
  return new Set(r.rows.map((x) => x.id));
}

/** Messages of a folder with the given UIDs, ascending: one range scan, then a filter. */
async function selectByUids(q: Queryable, folderId: number, uids: number[]): Promise<MailMessage[]> {
  const want = new Set(uids);
  if (want.size === 0) return [];
  let lo = Infinity;
  let hi = -Infinity;
  for (const u of want) {
    if (u < lo) lo = u;
    if (u > hi) hi = u;
  }
  const r = await q.query<MessageRow>('SELECT * FROM messages WHERE folder_id = $1 AND uid BETWEEN $2 AND $3 ORDER BY uid', [folderId, lo, hi]);
  return r.rows.filter((m) => want.has(m.uid)).map(toMessage);
}

async function insertFolder(c: Client, accountId: number, name: string, specialUse: string | null, now: number): Promise<Folder> {
  // UIDVALIDITY: seconds since epoch plus a random offset keeps it unique even
  // when a folder is deleted and recreated within one second.
  const uidValidity = (Math.floor(now / 1000) + randomInt(0, 1 << 16)) >>> 0 || 1;
  try {
    const r = await c.query<FolderRow>('INSERT INTO folders (account_id, name, special_use, uid_validity) VALUES ($1, $2, $3, $4) RETURNING *', [
      accountId,
      name,
      specialUse,
      uidValidity,
    ]);
    return toFolder(r.rows[0]!);
  } catch (e) {
    // The transaction is aborted either way; the caller's tx() rolls it back.
    if (isUniqueViolation(e)) throw new PosternError('INVARIANT', `folder ${name} exists already`);
    throw e;
  }
}

export async function expungeInTx(c: Client, folderId: number, uids: number[]): Promise<number[]> {
  if ((await lockFolders(c, [folderId])).size === 0) return [];
  const rows = await selectByUids(c, folderId, uids);
  if (rows.length === 0) return [];
  // A keyword may leave the folder with its messages: the keyword list may now hold unused ones.
  const f = await c.query<{ m: number }>(
    'UPDATE folders SET highest_modseq = highest_modseq + 1, keywords_exact = false WHERE id = $1 RETURNING highest_modseq AS m',
    [folderId],
  );
  const modseq = f.rows[0]!.m;
  await c.query('DELETE FROM messages WHERE id = ANY($1::bigint[])', [rows.map((m) => m.id)]);
  await c.query(
    `INSERT INTO expunged (folder_id, uid, modseq) SELECT $1, unnest($2::bigint[]), $3
     ON CONFLICT (folder_id, uid) DO UPDATE SET modseq = excluded.modseq`,
    [folderId, rows.map((m) => m.uid), modseq],
  );
  return rows.map((m) => m.uid);
}

async function copyInTx(c: Client, fromFolderId: number, uids: number[], toFolderId: number): Promise<[number, number][]> {
  await lockFolders(c, [fromFolderId, toFolderId]);
  const src = await selectByUids(c, fromFolderId, uids);
  const added = await appendInTx(
    c,
    toFolderId,
    src.map((m) => ({ blobId: m.blobId, size: m.size, internalDate: m.internalDate, flags: m.flags.filter((f) => f !== '\\Recent') })),
  );
  return src.map((m, i) => [m.uid, added[i]!.uid]);
}

export class PgMailboxes implements MailboxRepo {
  constructor(private readonly pool: Pool) {}

  async createFolder(accountId: number, name: string, specialUse: string | null, now: number): Promise<Folder> {
    return tx(this.pool, (c) => insertFolder(c, accountId, name, specialUse, now));
  }

  async getFolder(accountId: number, name: string): Promise<Folder | null> {
    const r = await this.pool.query<FolderRow>('SELECT * FROM folders WHERE account_id = $1 AND name = $2', [accountId, name]);
    return r.rows[0] ? toFolder(r.rows[0]) : null;
  }

  async getFolderById(id: number): Promise<Folder | null> {
    const r = await this.pool.query<FolderRow>('SELECT * FROM folders WHERE id = $1', [id]);
    return r.rows[0] ? toFolder(r.rows[0]) : null;
  }

  async listFolders(accountId: number): Promise<Folder[]> {
    return (await this.pool.query<FolderRow>('SELECT * FROM folders WHERE account_id = $1 ORDER BY name', [accountId])).rows.map(toFolder);
  }

  async append(folderId: number, m: NewMailMessage): Promise<MailMessage> {
    // One statement is one transaction: no BEGIN/COMMIT round trips around it. With keywords,
    // the folder's keyword list is checked and updated first, under the folder lock.
    const keywords = hasKeywords(m.flags);
    if (keywords) await preflightKeywords(this.pool, folderId, m.flags);
    // With keywords or a header cache entry, more than one statement: a transaction.
    if (keywords || m.headerCache) return tx(this.pool, async (c) => (await appendInTx(c, folderId, [m]))[0]!);
    return (await appendInTx(this.pool, folderId, [m]))[0]!;
  }

  async listMessages(folderId: number): Promise<MailMessage[]> {
    return (await this.pool.query<MessageRow>('SELECT * FROM messages WHERE folder_id = $1 ORDER BY uid', [folderId])).rows.map(toMessage);
  }

  async renameFolder(accountId: number, from: string, to: string, now: number): Promise<void> {
    await tx(this.pool, async (c) => {
      const src = await c.query<{ id: number }>('SELECT id FROM folders WHERE account_id = $1 AND name = $2 FOR UPDATE', [accountId, from]);
      if (!src.rows[0]) throw new PosternError('NOT_FOUND', `no folder ${from}`);
      if ((await c.query('SELECT 1 FROM folders WHERE account_id = $1 AND name = $2', [accountId, to])).rowCount) {
        throw new PosternError('INVARIANT', `folder ${to} exists already`);
      }
      if (from === 'INBOX') {
        // RFC 3501 6.3.5: renaming INBOX moves its messages and leaves INBOX empty; here in one transaction.
        const dst = await insertFolder(c, accountId, to, null, now);
        const uids = (await c.query<{ uid: number }>('SELECT uid FROM messages WHERE folder_id = $1 ORDER BY uid', [src.rows[0].id])).rows.map((r) => r.uid);
        const pairs = await copyInTx(c, src.rows[0].id, uids, dst.id);
        await expungeInTx(
          c,
          src.rows[0].id,
          pairs.map((p) => p[0]),
        );
        return;
      }
      try {
        // Lengths are counted by PostgreSQL, in characters, like the names themselves.
        await c.query(
          `UPDATE folders SET name = $3::text || substr(name, length($2::text) + 1)
           WHERE account_id = $1 AND (name = $2::text OR left(name, length($2::text) + 1) = $2::text || '/')`,
          [accountId, from, to],
        );
      } catch (e) {
        if (isUniqueViolation(e)) throw new PosternError('INVARIANT', `a folder under ${to} exists already`);
        throw e;
      }
    });
  }

  async deleteFolder(folderId: number): Promise<void> {
    await tx(this.pool, async (c) => {
      await lockFolders(c, [folderId]);
      await c.query('DELETE FROM messages WHERE folder_id = $1', [folderId]);
      await c.query('DELETE FROM expunged WHERE folder_id = $1', [folderId]);
      await c.query('DELETE FROM folders WHERE id = $1', [folderId]);
    });
  }

  async listSubscriptions(accountId: number): Promise<string[]> {
    const r = await this.pool.query<{ name: string }>('SELECT name FROM subscriptions WHERE account_id = $1 ORDER BY name', [accountId]);
    return r.rows.map((row) => row.name);
  }

  async setSubscription(accountId: number, name: string, subscribed: boolean): Promise<void> {
    if (subscribed) await this.pool.query('INSERT INTO subscriptions (account_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING', [accountId, name]);
    else await this.pool.query('DELETE FROM subscriptions WHERE account_id = $1 AND name = $2', [accountId, name]);
  }

  async getMessages(folderId: number, uids: number[]): Promise<MailMessage[]> {
    return selectByUids(this.pool, folderId, uids);
  }

  async storeFlags(folderId: number, change: FlagChange): Promise<FlagChangeResult> {
    if (change.op !== 'remove') await preflightKeywords(this.pool, folderId, change.flags);
    return tx(this.pool, async (c): Promise<FlagChangeResult> => {
      const changed: MailMessage[] = [];
      // The folder lock first: the messages read next are then the latest, and stay so until COMMIT.
      if ((await lockFolders(c, [folderId])).size === 0) return { changed, conflicts: [] };
      const messages = await selectByUids(c, folderId, change.uids);
      if (messages.length > 0 && change.op !== 'remove' && change.flags.some((x) => !x.startsWith('\\'))) {
        await admitKeywordsInTx(c, folderId, [change.flags]);
      }
      const { next, conflicts } = planFlagChanges(messages, change);
      if (next.length === 0) return { changed, conflicts };
      // Removing or replacing flags may take a keyword out of the folder: its keyword list may then hold unused ones.
      const f = await c.query<{ base: number }>(
        'UPDATE folders SET highest_modseq = highest_modseq + $2, keywords_exact = keywords_exact AND $3 WHERE id = $1 RETURNING highest_modseq - $2 AS base',
        [folderId, next.length, change.op === 'add'],
      );
      const base = f.rows[0]!.base;
      next.forEach(({ m, flags }, i) => changed.push({ ...m, flags, modseq: base + 1 + i }));
      await c.query(
        `UPDATE messages m SET flags = u.flags, modseq = u.modseq
         FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS u(id, flags, modseq) WHERE m.id = u.id`,
        [changed.map((m) => m.id), changed.map((m) => m.flags.join(' ')), changed.map((m) => m.modseq)],
      );
      return { changed, conflicts };
    });
  }

  async expunge(folderId: number, uids: number[]): Promise<number[]> {
    return tx(this.pool, (c) => expungeInTx(c, folderId, uids));
  }

  async copy(fromFolderId: number, uids: number[], toFolderId: number, _now: number): Promise<[number, number][]> {
    return tx(this.pool, (c) => copyInTx(c, fromFolderId, uids, toFolderId));
  }

  async move(fromFolderId: number, uids: number[], toFolderId: number, _now: number): Promise<[number, number][]> {
    return tx(this.pool, async (c) => {
      const pairs = await copyInTx(c, fromFolderId, uids, toFolderId);
      await expungeInTx(
        c,
        fromFolderId,
        pairs.map((p) => p[0]),
      );
      return pairs;
    });
  }

  async changesSince(folderId: number, modseq: number): Promise<FolderChanges> {
    // One snapshot: the changes and the highest modseq agree with each other.
    return tx(
      this.pool,
      async (c): Promise<FolderChanges> => {
        const f = await c.query<{ highest_modseq: number }>('SELECT highest_modseq FROM folders WHERE id = $1', [folderId]);
        if (!f.rows[0]) throw new PosternError('NOT_FOUND', `no folder ${folderId}`);
        const changed = (await c.query<MessageRow>('SELECT * FROM messages WHERE folder_id = $1 AND modseq > $2 ORDER BY uid', [folderId, modseq])).rows.map(
          toMessage,
        );
        const expunged = (await c.query<{ uid: number }>('SELECT uid FROM expunged WHERE folder_id = $1 AND modseq > $2 ORDER BY uid', [folderId, modseq])).rows.map(
          (r) => r.uid,
        );
        return { changed, expunged, highestModseq: f.rows[0].highest_modseq };
      },
      'snapshot',
    );
  }

  async blobReferences(blobId: string): Promise<number> {
    const r = await this.pool.query<{ n: number }>(
      'SELECT (SELECT count(*) FROM messages WHERE blob_id = $1) + (SELECT count(*) FROM queue_messages WHERE blob_id = $1) AS n',
      [blobId],
    );
    return r.rows[0]!.n;
  }

  async listIndex(folderId: number): Promise<MessageIndex> {
    const r = await this.pool.query<[number, string, number]>({
      text: 'SELECT uid, flags, modseq FROM messages WHERE folder_id = $1 ORDER BY uid',
      values: [folderId],
      rowMode: 'array',
    });
    const uids: number[] = [];
    const flags: string[] = [];
    const modseqs: number[] = [];
    for (const [uid, f, modseq] of r.rows) {
      uids.push(Number(uid));
      flags.push(f);
      modseqs.push(Number(modseq));
    }
    return inUidOrder({ uids, flags, modseqs });
  }

  async folderStats(folderId: number): Promise<FolderStats> {
    // Flags compare case-insensitively; the flag is a parameter so no LIKE escaping applies.
    const r = await this.pool.query<FolderStats>(
      `SELECT count(*) AS messages, COALESCE(sum(size), 0) AS size,
         count(*) FILTER (WHERE position($2 IN lower(' ' || flags || ' ')) = 0) AS unseen,
         count(*) FILTER (WHERE position($3 IN lower(' ' || flags || ' ')) > 0) AS deleted
       FROM messages WHERE folder_id = $1`,
      [folderId, ' \\seen ', ' \\deleted '],
    );
    const s = r.rows[0]!;
    return { messages: s.messages, unseen: s.unseen, deleted: s.deleted, size: s.size };
  }

  async usage(accountId: number): Promise<number> {
    const r = await this.pool.query<{ n: number }>(
      'SELECT COALESCE(sum(m.size), 0) AS n FROM messages m JOIN folders f ON f.id = m.folder_id WHERE f.account_id = $1',
      [accountId],
    );
    return r.rows[0]!.n;
  }

  async getHeaderCache(blobIds: readonly string[], withDetail: boolean): Promise<CachedHeader[]> {
    return getHeaderCache(this.pool, blobIds, withDetail);
  }

  async searchHeaderCache(folderId: number, loUid: number, hiUid: number, contains: string | null): Promise<HeaderCacheCandidate[]> {
    return searchHeaderCache(this.pool, folderId, loUid, hiUid, contains);
  }

  async putHeaderCache(entries: readonly HeaderCacheEntry[]): Promise<void> {
    await putHeaderCache(this.pool, entries);
  }

  async pruneHeaderCache(dryRun = false): Promise<number> {
    return pruneHeaderCache(this.pool, dryRun);
  }
}

