import type { CachedHeader, HeaderCacheCandidate, HeaderCacheEntry } from '../../types.js';
import { tx, type Pool, type Queryable } from './db.js';

/** Blob ids per header cache query: bounds the result a single statement builds. */
const CHUNK = 2000;

/**
 * IMAP's header cache, keyed by blob id, in two tables as in SQLite: the
 * small search part packed densely for SEARCH, the larger detail beside it
 * (absent until first needed: such an entry is left out when the detail is
 * asked for). Entries of blobs marked damaged are never returned.
 */
export async function getHeaderCache(pool: Pool, blobIds: readonly string[], withDetail: boolean): Promise<CachedHeader[]> {
  const ids = [...new Set(blobIds)];
  const sql = withDetail
    ? `SELECT c.blob_id, c.search, d.detail FROM header_cache c JOIN header_cache_detail d ON d.blob_id = c.blob_id
       WHERE c.blob_id = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM damaged_blobs x WHERE x.blob_id = c.blob_id)`
    : `SELECT c.blob_id, c.search, NULL::bytea FROM header_cache c
       WHERE c.blob_id = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM damaged_blobs x WHERE x.blob_id = c.blob_id)`;
  const out: CachedHeader[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const r = await pool.query<[string, string, Buffer | null]>({ text: sql, values: [ids.slice(i, i + CHUNK)], rowMode: 'array' });
    for (const [blobId, search, detail] of r.rows) out.push({ blobId, search, detail });
  }
  return out;
}

/** Stores entries in one transaction, replacing existing parts (a null detail replaces none); of repeated blob ids the last part of each kind wins. */
export async function putHeaderCache(pool: Pool, entries: readonly HeaderCacheEntry[]): Promise<void> {
  const last = [...new Map(entries.map((e) => [e.blobId, e])).values()];
  if (last.length === 0) return;
  await tx(pool, async (c) => {
    await c.query(
      `INSERT INTO header_cache (blob_id, search) SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT (blob_id) DO UPDATE SET search = excluded.search`,
      [last.map((e) => e.blobId), last.map((e) => e.search)],
    );
    // Without a detail (search part only), a detail stored before stays: it describes the same bytes.
    const withDetail = [...new Map(entries.filter((e) => e.detail !== null).map((e) => [e.blobId, e])).values()];
    if (withDetail.length === 0) return;
    await c.query(
      `INSERT INTO header_cache_detail (blob_id, detail) SELECT * FROM unnest($1::text[], $2::bytea[])
       ON CONFLICT (blob_id) DO UPDATE SET detail = excluded.detail`,
      [withDetail.map((e) => e.blobId), withDetail.map((e) => e.detail)],
    );
  });
}

/**
 * New messages' entries, inside their append's transaction
 * (NewMailMessage.headerCache): an entry a blob has already stays (it
 * describes the same bytes); a detail is added where there was none.
 */
export async function addHeaderEntries(q: Queryable, entries: readonly { blobId: string; entry: HeaderCacheEntry }[]): Promise<void> {
  const first = [...new Map(entries.map((e) => [e.blobId, e.entry])).entries()];
  if (first.length === 0) return;
  await q.query('INSERT INTO header_cache (blob_id, search) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (blob_id) DO NOTHING', [
    first.map(([id]) => id),
    first.map(([, e]) => e.search),
  ]);
  const withDetail = first.filter(([, e]) => e.detail !== null);
  if (withDetail.length === 0) return;
  await q.query('INSERT INTO header_cache_detail (blob_id, detail) SELECT * FROM unnest($1::text[], $2::bytea[]) ON CONFLICT (blob_id) DO NOTHING', [
    withDetail.map(([id]) => id),
    withDetail.map(([, e]) => Buffer.from(e.detail!.buffer, e.detail!.byteOffset, e.detail!.byteLength)),
  ]);
}

/** Deletes the entries of blobs that no mailbox message references; returns how many (`dryRun`: counts them). */
export async function pruneHeaderCache(pool: Pool, dryRun = false): Promise<number> {
  const unused = 'NOT EXISTS (SELECT 1 FROM messages m WHERE m.blob_id = t.blob_id)';
  if (dryRun) return (await pool.query<{ n: number }>(`SELECT count(*) AS n FROM header_cache t WHERE ${unused}`)).rows[0]!.n;
  return tx(pool, async (c) => {
    const r = await c.query(`DELETE FROM header_cache t WHERE ${unused}`);
    await c.query(`DELETE FROM header_cache_detail t WHERE ${unused}`);
    // The verdicts kept with delivered mail go with the last message that used their blob.
    await c.query(`DELETE FROM message_verdicts t WHERE ${unused}`);
    return r.rowCount ?? 0;
  });
}

/**
 * Every message of the folder in the UID range, ascending, with its cached
 * search text (null when uncached or the blob is marked damaged). With
 * `contains`, rows whose cached text lacks it are dropped in the database.
 */
export async function searchHeaderCache(
  pool: Pool,
  folderId: number,
  loUid: number,
  hiUid: number,
  contains: string | null,
): Promise<HeaderCacheCandidate[]> {
  const text = `SELECT m.uid, m.blob_id, m.size, m.internal_date, c.search FROM messages m
     LEFT JOIN header_cache c ON c.blob_id = m.blob_id AND NOT EXISTS (SELECT 1 FROM damaged_blobs x WHERE x.blob_id = m.blob_id)
     WHERE m.folder_id = $1 AND m.uid BETWEEN $2 AND $3${contains === null ? '' : ' AND (c.search IS NULL OR strpos(c.search, $4) > 0)'}
     ORDER BY m.uid`;
  const values = contains === null ? [folderId, loUid, hiUid] : [folderId, loUid, hiUid, contains];
  const r = await pool.query<[number, string, number, number, string | null]>({ text, values, rowMode: 'array' });
  return r.rows.map(([uid, blobId, size, internalDate, search]) => ({ uid, blobId, size, internalDate, search }));
}
