/** URLAUTH mailbox access keys on PostgreSQL (see UrlauthKeyRepo). */
import type { UrlauthKeyRepo } from '../../types.js';
import type { Pool } from './db.js';

export class PgUrlauthKeys implements UrlauthKeyRepo {
  constructor(private readonly pool: Pool) {}

  async keyFor(accountId: number, folderId: number, fresh: Buffer): Promise<Buffer> {
    // The insert either writes `fresh` or leaves the key a concurrent writer made; the select reads whichever stands.
    await this.pool.query('INSERT INTO urlauth_keys (account_id, folder_id, key) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [accountId, folderId, fresh]);
    const key = await this.get(accountId, folderId);
    return key ?? fresh;
  }

  async get(accountId: number, folderId: number): Promise<Buffer | null> {
    const r = await this.pool.query<{ key: Buffer }>('SELECT key FROM urlauth_keys WHERE account_id = $1 AND folder_id = $2', [accountId, folderId]);
    return r.rows[0]?.key ?? null;
  }

  async reset(accountId: number, folderId: number | null): Promise<void> {
    if (folderId === null) await this.pool.query('DELETE FROM urlauth_keys WHERE account_id = $1', [accountId]);
    else await this.pool.query('DELETE FROM urlauth_keys WHERE account_id = $1 AND folder_id = $2', [accountId, folderId]);
  }
}
