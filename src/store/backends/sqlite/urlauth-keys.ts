/** URLAUTH mailbox access keys on SQLite (see UrlauthKeyRepo). */
import type { UrlauthKeyRepo } from '../../types.js';
import type { Db } from './db.js';
import { prepared, preparedPluck } from './statements.js';

export class SqliteUrlauthKeys implements UrlauthKeyRepo {
  constructor(private readonly db: Db) {}

  async keyFor(accountId: number, folderId: number, fresh: Buffer): Promise<Buffer> {
    return this.db.transaction(() => {
      prepared(this.db, 'INSERT INTO urlauth_keys (account_id, folder_id, key) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(accountId, folderId, fresh);
      return preparedPluck(this.db, 'SELECT key FROM urlauth_keys WHERE account_id = ? AND folder_id = ?').get(accountId, folderId) as Buffer;
    }).immediate();
  }

  async get(accountId: number, folderId: number): Promise<Buffer | null> {
    const key = preparedPluck(this.db, 'SELECT key FROM urlauth_keys WHERE account_id = ? AND folder_id = ?').get(accountId, folderId) as Buffer | undefined;
    return key ?? null;
  }

  async reset(accountId: number, folderId: number | null): Promise<void> {
    if (folderId === null) prepared(this.db, 'DELETE FROM urlauth_keys WHERE account_id = ?').run(accountId);
    else prepared(this.db, 'DELETE FROM urlauth_keys WHERE account_id = ? AND folder_id = ?').run(accountId, folderId);
  }
}
