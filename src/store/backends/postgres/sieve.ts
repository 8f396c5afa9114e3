/** The sieve role on PostgreSQL: each account's Sieve scripts and the vacation memory (see SieveRepo). */
import { SIEVE_LIMITS, type SieveRepo, type SieveScript, type SieveScriptInfo } from '../../types.js';
import { tx, type Pool } from './db.js';
import { checkScriptName, checkScriptText, checkVacationKey, toInfo, TOO_MANY_SCRIPTS, type SieveRow } from '../sieve-rows.js';

export class PgSieve implements SieveRepo {
  constructor(private readonly pool: Pool) {}

  async put(accountId: number, name: string, text: string, now: number): Promise<void> {
    checkScriptName(name);
    const size = checkScriptText(text);
    await tx(this.pool, async (c) => {
      // Writers of one account take turns, so two new scripts cannot both pass the count.
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`sieve:${accountId}`]);
      const exists = await c.query('SELECT 1 FROM sieve_scripts WHERE account_id = $1 AND name = $2', [accountId, name]);
      if (exists.rowCount === 0) {
        const n = await c.query<{ n: string }>('SELECT count(*) AS n FROM sieve_scripts WHERE account_id = $1', [accountId]);
        if (Number(n.rows[0]!.n) >= SIEVE_LIMITS.maxScripts) throw TOO_MANY_SCRIPTS();
      }
      await c.query(
        `INSERT INTO sieve_scripts (account_id, name, script, size, active, updated_at) VALUES ($1, $2, $3, $4, false, $5)
         ON CONFLICT (account_id, name) DO UPDATE SET script = excluded.script, size = excluded.size, updated_at = excluded.updated_at`,
        [accountId, name, text, size, now],
      );
    });
  }

  async get(accountId: number, name: string): Promise<SieveScript | null> {
    const r = await this.pool.query<SieveRow>('SELECT * FROM sieve_scripts WHERE account_id = $1 AND name = $2', [accountId, name]);
    const row = r.rows[0];
    return row ? { ...toInfo(row), text: row.script } : null;
  }

  async list(accountId: number): Promise<SieveScriptInfo[]> {
    const r = await this.pool.query<SieveRow>('SELECT name, active, size, updated_at FROM sieve_scripts WHERE account_id = $1 ORDER BY name', [accountId]);
    return r.rows.map(toInfo);
  }

  async delete(accountId: number, name: string): Promise<'deleted' | 'missing' | 'active'> {
    return tx(this.pool, async (c) => {
      const r = await c.query<{ active: boolean }>('SELECT active FROM sieve_scripts WHERE account_id = $1 AND name = $2 FOR UPDATE', [accountId, name]);
      if (r.rows.length === 0) return 'missing' as const;
      if (r.rows[0]!.active) return 'active' as const;
      await c.query('DELETE FROM sieve_scripts WHERE account_id = $1 AND name = $2', [accountId, name]);
      return 'deleted' as const;
    });
  }

  async rename(accountId: number, from: string, to: string, now: number): Promise<'renamed' | 'missing' | 'exists'> {
    checkScriptName(to);
    return tx(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`sieve:${accountId}`]);
      if ((await c.query('SELECT 1 FROM sieve_scripts WHERE account_id = $1 AND name = $2', [accountId, from])).rowCount === 0) return 'missing' as const;
      if ((await c.query('SELECT 1 FROM sieve_scripts WHERE account_id = $1 AND name = $2', [accountId, to])).rowCount !== 0) return 'exists' as const;
      await c.query('UPDATE sieve_scripts SET name = $1, updated_at = $2 WHERE account_id = $3 AND name = $4', [to, now, accountId, from]);
      return 'renamed' as const;
    });
  }

  async setActive(accountId: number, name: string | null): Promise<boolean> {
    return tx(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`sieve:${accountId}`]);
      if (name !== null && (await c.query('SELECT 1 FROM sieve_scripts WHERE account_id = $1 AND name = $2', [accountId, name])).rowCount === 0) return false;
      await c.query('UPDATE sieve_scripts SET active = false WHERE account_id = $1 AND active', [accountId]);
      if (name !== null) await c.query('UPDATE sieve_scripts SET active = true WHERE account_id = $1 AND name = $2', [accountId, name]);
      return true;
    });
  }

  async active(accountId: number): Promise<{ name: string; text: string } | null> {
    const r = await this.pool.query<SieveRow>('SELECT name, script FROM sieve_scripts WHERE account_id = $1 AND active', [accountId]);
    const row = r.rows[0];
    return row ? { name: row.name, text: row.script } : null;
  }

  async vacationSeen(accountId: number, key: string, notBefore: number): Promise<boolean> {
    checkVacationKey(key);
    const r = await this.pool.query('SELECT 1 FROM vacation_replies WHERE account_id = $1 AND key = $2 AND at >= $3', [accountId, key, notBefore]);
    return (r.rowCount ?? 0) > 0;
  }

  async vacationRemember(accountId: number, key: string, at: number): Promise<void> {
    checkVacationKey(key);
    await this.pool.query(
      'INSERT INTO vacation_replies (account_id, key, at) VALUES ($1, $2, $3) ON CONFLICT (account_id, key) DO UPDATE SET at = GREATEST(vacation_replies.at, excluded.at)',
      [accountId, key, at],
    );
  }

  async pruneVacation(before: number): Promise<number> {
    return (await this.pool.query('DELETE FROM vacation_replies WHERE at < $1', [before])).rowCount ?? 0;
  }
}
