import type { Account, DirectoryRepo, Domain, Group, NewAccount, Role } from '../../types.js';
import { PosternError } from '../../../core/errors.js';
import { isUniqueViolation, type Pool } from './db.js';
import { domainOf, toAccount, type AccountRow } from '../rows.js';

export class PgDirectory implements DirectoryRepo {
  constructor(private readonly pool: Pool) {}

  async addDomain(name: string, now: number): Promise<void> {
    const r = await this.pool.query('INSERT INTO domains (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [name, now]);
    if (r.rowCount === 0) throw new PosternError('EXISTS', `domain ${name} exists already`);
  }

  async listDomains(): Promise<Domain[]> {
    const r = await this.pool.query<{ name: string; created_at: number }>('SELECT name, created_at FROM domains ORDER BY name');
    return r.rows.map((row) => ({ name: row.name, createdAt: row.created_at }));
  }

  async hasDomain(name: string): Promise<boolean> {
    return ((await this.pool.query('SELECT 1 FROM domains WHERE name = $1', [name])).rowCount ?? 0) > 0;
  }

  async addAccount(a: NewAccount, now: number): Promise<Account> {
    const domain = domainOf(a.address);
    if (!(await this.hasDomain(domain))) throw new PosternError('NOT_FOUND', `domain ${domain} is not a local domain`);
    try {
      const r = await this.pool.query<AccountRow>(
        `INSERT INTO accounts (address, domain, display_name, password_hash, scram_keys, roles, quota_bytes, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
        [a.address, domain, a.displayName ?? '', a.passwordHash, a.scramKeys ?? null, (a.roles ?? ['user']).join(','), a.quotaBytes ?? null, now],
      );
      return toAccount(r.rows[0]!);
    } catch (e) {
      if (isUniqueViolation(e)) throw new PosternError('EXISTS', `account ${a.address} exists already`);
      // The domain was removed between the check and the insert.
      if ((e as { code?: string }).code === '23503') throw new PosternError('NOT_FOUND', `domain ${domain} is not a local domain`);
      throw e;
    }
  }

  async getAccount(address: string): Promise<Account | null> {
    const r = await this.pool.query<AccountRow>('SELECT * FROM accounts WHERE address = $1', [address]);
    return r.rows[0] ? toAccount(r.rows[0]) : null;
  }

  async getAccountById(id: number): Promise<Account | null> {
    const r = await this.pool.query<AccountRow>('SELECT * FROM accounts WHERE id = $1', [id]);
    return r.rows[0] ? toAccount(r.rows[0]) : null;
  }

  async listAccounts(domain?: string): Promise<Account[]> {
    const r = domain
      ? await this.pool.query<AccountRow>('SELECT * FROM accounts WHERE domain = $1 ORDER BY address', [domain])
      : await this.pool.query<AccountRow>('SELECT * FROM accounts ORDER BY address');
    return r.rows.map(toAccount);
  }

  private async update(sql: string, value: unknown, address: string): Promise<void> {
    const r = await this.pool.query(sql, [value, address]);
    if (r.rowCount === 0) throw new PosternError('NOT_FOUND', `no account ${address}`);
  }

  async setPasswordHash(address: string, hash: string, scramKeys: string | null = null): Promise<void> {
    const r = await this.pool.query('UPDATE accounts SET password_hash = $1, scram_keys = $2 WHERE address = $3', [hash, scramKeys, address]);
    if (r.rowCount === 0) throw new PosternError('NOT_FOUND', `no account ${address}`);
  }

  async setDisabled(address: string, disabled: boolean): Promise<void> {
    await this.update('UPDATE accounts SET disabled = $1 WHERE address = $2', disabled, address);
  }

  async setRoles(address: string, roles: Role[]): Promise<void> {
    await this.update('UPDATE accounts SET roles = $1 WHERE address = $2', roles.join(','), address);
  }

  async addAlias(address: string, target: string): Promise<void> {
    await this.pool.query('INSERT INTO aliases (address, target) VALUES ($1, $2) ON CONFLICT DO NOTHING', [address, target]);
  }

  async getAliasTargets(address: string): Promise<string[]> {
    const r = await this.pool.query<{ target: string }>('SELECT target FROM aliases WHERE address = $1 ORDER BY target', [address]);
    return r.rows.map((row) => row.target);
  }

  async listAliases(): Promise<{ address: string; target: string }[]> {
    return (await this.pool.query<{ address: string; target: string }>('SELECT address, target FROM aliases ORDER BY address, target')).rows;
  }

  async addGroup(name: string, description: string): Promise<void> {
    const r = await this.pool.query('INSERT INTO groups (name, description) VALUES ($1, $2) ON CONFLICT DO NOTHING', [name, description]);
    if (r.rowCount === 0) throw new PosternError('EXISTS', `group ${name} exists already`);
  }

  async listGroups(): Promise<Group[]> {
    return (await this.pool.query<Group>('SELECT name, description FROM groups ORDER BY name')).rows;
  }

  async addGroupMember(group: string, address: string): Promise<void> {
    // One statement: the group cannot vanish between the check and the insert.
    const r = await this.pool.query(
      `WITH g AS (SELECT name FROM groups WHERE name = $1 FOR SHARE),
            ins AS (INSERT INTO group_members (group_name, address) SELECT name, $2 FROM g ON CONFLICT DO NOTHING)
       SELECT 1 FROM g`,
      [group, address],
    );
    if (r.rowCount === 0) throw new PosternError('NOT_FOUND', `no group ${group}`);
  }

  async removeGroupMember(group: string, address: string): Promise<void> {
    await this.pool.query('DELETE FROM group_members WHERE group_name = $1 AND address = $2', [group, address]);
  }

  async listGroupMembers(group: string): Promise<string[]> {
    const r = await this.pool.query<{ address: string }>('SELECT address FROM group_members WHERE group_name = $1 ORDER BY address', [group]);
    return r.rows.map((row) => row.address);
  }

  async groupsOf(address: string): Promise<string[]> {
    const r = await this.pool.query<{ group_name: string }>('SELECT group_name FROM group_members WHERE address = $1 ORDER BY group_name', [address]);
    return r.rows.map((row) => row.group_name);
  }
}
