/** The sieve role on SQLite: each account's Sieve scripts and the vacation memory (see SieveRepo). */
import { SIEVE_LIMITS, type SieveRepo, type SieveScript, type SieveScriptInfo } from '../../types.js';
import type { Db } from './db.js';
import { checkScriptName, checkScriptText, checkVacationKey, toInfo, TOO_MANY_SCRIPTS, type SieveRow } from '../sieve-rows.js';
import { prepared, preparedPluck } from './statements.js';

export class SqliteSieve implements SieveRepo {
  constructor(private readonly db: Db) {}

  async put(accountId: number, name: string, text: string, now: number): Promise<void> {
    checkScriptName(name);
    const size = checkScriptText(text);
    // One transaction: the count and the insert see the same rows.
    this.db.transaction(() => {
      const exists = prepared(this.db, 'SELECT 1 FROM sieve_scripts WHERE account_id = ? AND name = ?').get(accountId, name) !== undefined;
      if (!exists) {
        const count = preparedPluck(this.db, 'SELECT count(*) FROM sieve_scripts WHERE account_id = ?').get(accountId) as number;
        if (count >= SIEVE_LIMITS.maxScripts) throw TOO_MANY_SCRIPTS();
      }
      prepared(this.db,
          `INSERT INTO sieve_scripts (account_id, name, script, size, active, updated_at) VALUES (?, ?, ?, ?, 0, ?)
           ON CONFLICT (account_id, name) DO UPDATE SET script = excluded.script, size = excluded.size, updated_at = excluded.updated_at`,
        )
        .run(accountId, name, text, size, now);
    }).immediate();
  }

  async get(accountId: number, name: string): Promise<SieveScript | null> {
    const r = prepared(this.db, 'SELECT * FROM sieve_scripts WHERE account_id = ? AND name = ?').get(accountId, name) as SieveRow | undefined;
    return r ? { ...toInfo(r), text: r.script } : null;
  }

  async list(accountId: number): Promise<SieveScriptInfo[]> {
    const rows = prepared(this.db, 'SELECT name, active, size, updated_at FROM sieve_scripts WHERE account_id = ? ORDER BY name').all(accountId) as SieveRow[];
    return rows.map(toInfo);
  }

  async delete(accountId: number, name: string): Promise<'deleted' | 'missing' | 'active'> {
    return this.db.transaction(() => {
      const r = prepared(this.db, 'SELECT active FROM sieve_scripts WHERE account_id = ? AND name = ?').get(accountId, name) as { active: number } | undefined;
      if (!r) return 'missing' as const;
      if (r.active) return 'active' as const;
      prepared(this.db, 'DELETE FROM sieve_scripts WHERE account_id = ? AND name = ?').run(accountId, name);
      return 'deleted' as const;
    }).immediate();
  }

  async rename(accountId: number, from: string, to: string, now: number): Promise<'renamed' | 'missing' | 'exists'> {
    checkScriptName(to);
    return this.db.transaction(() => {
      if (prepared(this.db, 'SELECT 1 FROM sieve_scripts WHERE account_id = ? AND name = ?').get(accountId, from) === undefined) return 'missing' as const;
      if (prepared(this.db, 'SELECT 1 FROM sieve_scripts WHERE account_id = ? AND name = ?').get(accountId, to) !== undefined) return 'exists' as const;
      prepared(this.db, 'UPDATE sieve_scripts SET name = ?, updated_at = ? WHERE account_id = ? AND name = ?').run(to, now, accountId, from);
      return 'renamed' as const;
    }).immediate();
  }

  async setActive(accountId: number, name: string | null): Promise<boolean> {
    return this.db.transaction(() => {
      if (name !== null && prepared(this.db, 'SELECT 1 FROM sieve_scripts WHERE account_id = ? AND name = ?').get(accountId, name) === undefined) return false;
      prepared(this.db, 'UPDATE sieve_scripts SET active = 0 WHERE account_id = ? AND active = 1').run(accountId);
      if (name !== null) prepared(this.db, 'UPDATE sieve_scripts SET active = 1 WHERE account_id = ? AND name = ?').run(accountId, name);
      return true;
    }).immediate();
  }

  async active(accountId: number): Promise<{ name: string; text: string } | null> {
    const r = prepared(this.db, 'SELECT name, script FROM sieve_scripts WHERE account_id = ? AND active = 1').get(accountId) as SieveRow | undefined;
    return r ? { name: r.name, text: r.script } : null;
  }

  async vacationSeen(accountId: number, key: string, notBefore: number): Promise<boolean> {
    checkVacationKey(key);
    return prepared(this.db, 'SELECT 1 FROM vacation_replies WHERE account_id = ? AND key = ? AND at >= ?').get(accountId, key, notBefore) !== undefined;
  }

  async vacationRemember(accountId: number, key: string, at: number): Promise<void> {
    checkVacationKey(key);
    prepared(this.db, 'INSERT INTO vacation_replies (account_id, key, at) VALUES (?, ?, ?) ON CONFLICT (account_id, key) DO UPDATE SET at = max(vacation_replies.at, excluded.at)')
      .run(accountId, key, at);
  }

  async pruneVacation(before: number): Promise<number> {
    return prepared(this.db, 'DELETE FROM vacation_replies WHERE at < ?').run(before).changes;
  }
}
