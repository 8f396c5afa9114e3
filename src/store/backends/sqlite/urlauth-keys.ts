/** URLAUTH mailbox access keys on SQLite (see UrlauthKeyRepo). */
import type { UrlauthKeyRepo } from '../../types.js';
import type { Db } from './db.js';

export class SqliteUrlauthKeys implements UrlauthKeyRepo {
  constructor(private readonly db: Db) {}

  async keyFor(accountId: number, folderId: number, fresh: Buffer): Promise<Buffer> {
    return this.db.transaction(() => {
      this.db.prepare('INSERT INTO urlauth_keys (account_id, folder_id, key) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(accountId, folderId, fresh);
      return this.db.prepare('SELECT key FROM urlauth_keys WHERE account_id = ? AND folder_id = ?').pluck().get(accountId, folderId) as Buffer;
    }).immediate();
  }

  async get(accountId: number, folderId: number): Promise<Buffer | null> {
    const key = this.db.prepare('SELECT key FROM urlauth_keys WHERE account_id = ? AND folder_id = ?').pluck().get(accountId, folderId) as Buffer | undefined;
    return key ?? null;
  }

  async reset(accountId: number, folderId: number | null): Promise<void> {
    if (folderId === null) this.db.prepare('DELETE FROM urlauth_keys WHERE account_id = ?').run(accountId);
    else this.db.prepare('DELETE FROM urlauth_keys WHERE account_id = ? AND folder_id = ?').run(accountId, folderId);
  }
}
