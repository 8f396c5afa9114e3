import type { DamagedBlob, DamagedMessage, IntegrityRepo, MetadataCheckMode } from '../../types.js';
import { SCHEMA_VERSION, tx, type Client, type Pool } from './db.js';
import { writeSqliteSnapshot } from './snapshot.js';

/** At most this many findings are kept from one check. */
const MAX_FINDINGS = 100;
/** At most this many offending rows are named per finding. */
const SAMPLE = 5;

/**
 * Checks that hold in a sound database, each a query returning the offending
 * rows as text. The foreign keys make most of them impossible, unless the keys
 * were bypassed (session_replication_role = replica during a bulk load) or
 * dropped; the UID and modseq checks guard what IMAP clients rely on most.
 * `quick` ones use indexes; `full` ones scan whole tables.
 */
const INVARIANTS: { mode: MetadataCheckMode; what: string; sql: string }[] = [
  {
    mode: 'quick',
    what: 'folder whose uid_next is not above its highest UID (a UID would be reused)',
    sql: `SELECT f.id::text FROM folders f
          WHERE f.uid_next <= GREATEST((SELECT max(uid) FROM messages m WHERE m.folder_id = f.id),
                                       (SELECT max(uid) FROM expunged e WHERE e.folder_id = f.id))`,
  },
  {
    mode: 'quick',
    what: 'folder whose highest_modseq is below a modseq it holds',
    sql: `SELECT f.id::text FROM folders f
          WHERE f.highest_modseq < GREATEST((SELECT max(modseq) FROM messages m WHERE m.folder_id = f.id),
                                            (SELECT max(modseq) FROM expunged e WHERE e.folder_id = f.id))`,
  },
  { mode: 'full', what: 'message in a missing folder', sql: 'SELECT m.id::text FROM messages m LEFT JOIN folders f ON f.id = m.folder_id WHERE f.id IS NULL' },
  { mode: 'full', what: 'expunged UID of a missing folder', sql: 'SELECT e.folder_id::text FROM expunged e LEFT JOIN folders f ON f.id = e.folder_id WHERE f.id IS NULL' },
  { mode: 'full', what: 'folder of a missing account', sql: 'SELECT f.id::text FROM folders f LEFT JOIN accounts a ON a.id = f.account_id WHERE a.id IS NULL' },
  { mode: 'full', what: 'account in a missing domain', sql: 'SELECT a.address FROM accounts a LEFT JOIN domains d ON d.name = a.domain WHERE d.name IS NULL' },
  { mode: 'full', what: 'member of a missing group', sql: 'SELECT g.group_name FROM group_members g LEFT JOIN groups x ON x.name = g.group_name WHERE x.name IS NULL' },
  {
    mode: 'full',
    what: 'queue recipient of a missing message',
    sql: 'SELECT r.id::text FROM queue_recipients r LEFT JOIN queue_messages q ON q.id = r.queue_id WHERE q.id IS NULL',
  },
  {
    mode: 'full',
    what: 'queue recipient in an unknown state or leased without a lease',
    sql: `SELECT id::text FROM queue_recipients
          WHERE state NOT IN ('queued','leased','delivered','deferred','failed','held')
             OR (state = 'leased' AND (lease_token IS NULL OR lease_until IS NULL))`,
  },
  {
    mode: 'full',
    what: 'malformed blob id',
    sql: `SELECT blob_id FROM messages WHERE blob_id !~ '^[0-9a-f]{64}$'
          UNION SELECT blob_id FROM queue_messages WHERE blob_id !~ '^[0-9a-f]{64}$'`,
  },
];

/** Every table, read page by page (no index): an unreadable page or a page checksum failure surfaces as an error. */
const TABLES = ['domains', 'accounts', 'aliases', 'groups', 'group_members', 'queue_messages', 'queue_recipients', 'folders', 'messages', 'expunged', 'events', 'damaged_blobs', 'blobs', 'header_cache', 'header_cache_detail', 'quarantine', 'message_verdicts', 'dmarc_reports', 'dmarc_records', 'audit_log', 'audit_checkpoints', 'delivery_times', 'webauthn_credentials', 'totp_secrets', 'enrollment_codes', 'subscriptions'];

async function runChecks(c: Client, mode: MetadataCheckMode): Promise<string[]> {
  const out: string[] = [];
  await c.query('SELECT 1');
  const v = (await c.query<{ v: number | null }>('SELECT max(version) AS v FROM postern_migrations')).rows[0]?.v ?? 0;
  if (v !== SCHEMA_VERSION) out.push(`schema version is ${v}, this postern expects ${SCHEMA_VERSION}`);
  const idx = await c.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND NOT (i.indisvalid AND i.indisready) ORDER BY 1`,
  );
  for (const r of idx.rows) out.push(`index ${r.name} is not valid (rebuild it with REINDEX)`);
  const con = await c.query<{ name: string }>(
    'SELECT conname AS name FROM pg_constraint WHERE connamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AND NOT convalidated ORDER BY 1',
  );
  for (const r of con.rows) out.push(`constraint ${r.name} is not validated`);
  for (const inv of INVARIANTS) {
    if (inv.mode === 'full' && mode !== 'full') continue;
    const r = await c.query<[string]>({ text: `SELECT * FROM (${inv.sql}) x LIMIT ${SAMPLE + 1}`, rowMode: 'array' });
    if (r.rows.length > 0) {
      const names = r.rows.slice(0, SAMPLE).map((x) => x[0]);
      out.push(`${inv.what}: ${names.join(', ')}${r.rows.length > SAMPLE ? ', ...' : ''}`);
    }
  }
  if (mode === 'full') {
    await c.query('SET LOCAL enable_indexscan = off');
    await c.query('SET LOCAL enable_indexonlyscan = off');
    await c.query('SET LOCAL enable_bitmapscan = off');
    for (const t of TABLES) await c.query(`SELECT count(*) FROM ${t}`);
  }
  return out;
}

export class PgIntegrity implements IntegrityRepo {
  constructor(private readonly pool: Pool) {}

  /**
   * PostgreSQL has no quick_check; what can be checked without extensions
   * (amcheck) is checked here, in one snapshot: the server answers, the
   * schema version, no invalid index or unvalidated constraint, and the
   * invariants above. 'full' adds the table-scanning invariants and a
   * sequential read of every table. Index contents are not verified.
   */
  async checkMetadata(mode: MetadataCheckMode): Promise<string[]> {
    try {
      return (await tx(this.pool, (c) => runChecks(c, mode), 'snapshot')).slice(0, MAX_FINDINGS);
    } catch (e) {
      return [`the database cannot be checked: ${(e as Error).message}`];
    }
  }

  /**
   * Writes a SQLite metadata file (the format `postern backup` keeps and
   * verifies) from one consistent snapshot while writers go on. It restores
   * as a single-node SQLite store; a PostgreSQL deployment is restored from
   * pg_dump / its own backups instead.
   */
  async backupTo(file: string): Promise<void> {
    await writeSqliteSnapshot(this.pool, file);
  }

  async referencedBlobs(): Promise<string[]> {
    const r = await this.pool.query<{ blob_id: string }>('SELECT blob_id FROM messages UNION SELECT blob_id FROM queue_messages ORDER BY 1');
    return r.rows.map((x) => x.blob_id);
  }

  async markDamaged(blobId: string, reason: string, now: number): Promise<void> {
    await this.pool.query(
      'INSERT INTO damaged_blobs (blob_id, reason, at) VALUES ($1, $2, $3) ON CONFLICT (blob_id) DO UPDATE SET reason = excluded.reason, at = excluded.at',
      [blobId, reason, now],
    );
  }

  async clearDamaged(blobId: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM damaged_blobs WHERE blob_id = $1', [blobId])).rowCount ?? 0) > 0;
  }

  async isDamaged(blobId: string): Promise<boolean> {
    return ((await this.pool.query('SELECT 1 FROM damaged_blobs WHERE blob_id = $1', [blobId])).rowCount ?? 0) > 0;
  }

  async listDamaged(): Promise<DamagedBlob[]> {
    const r = await this.pool.query<{ blob_id: string; reason: string; at: number }>('SELECT blob_id, reason, at FROM damaged_blobs ORDER BY blob_id');
    return r.rows.map((x) => ({ blobId: x.blob_id, reason: x.reason, at: x.at }));
  }

  async damagedMessages(): Promise<DamagedMessage[]> {
    const r = await this.pool.query<{ blob_id: string; folder_id: number | null; uid: number | null; queue_id: string | null }>(
      `SELECT * FROM (
         SELECT m.blob_id, m.folder_id, m.uid, NULL::text AS queue_id FROM messages m JOIN damaged_blobs d ON d.blob_id = m.blob_id
         UNION ALL
         SELECT q.blob_id, NULL, NULL, q.id FROM queue_messages q JOIN damaged_blobs d ON d.blob_id = q.blob_id
       ) x ORDER BY blob_id, queue_id IS NOT NULL, folder_id NULLS FIRST, uid NULLS FIRST, queue_id NULLS FIRST`,
    );
    return r.rows.map((x) => ({ blobId: x.blob_id, folderId: x.folder_id, uid: x.uid, queueId: x.queue_id }));
  }
}
