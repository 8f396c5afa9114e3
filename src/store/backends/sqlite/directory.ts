import type { Account, DirectoryRepo, Domain, Group, NewAccount, Role } from '../../types.js';
import { PosternError } from '../../../core/errors.js';
import type { Db } from './db.js';
import { domainOf, toAccount, type AccountRow } from '../rows.js';
import { prepared } from './statements.js';

export class SqliteDirectory implements DirectoryRepo {
  constructor(private readonly db: Db) {}

  async addDomain(name: string, now: number): Promise<void> {
    const r = prepared(this.db, 'INSERT OR IGNORE INTO domains (name, created_at) VALUES (?, ?)').run(name, now);
    if (r.changes === 0) throw new PosternError('EXISTS', `domain ${name} exists already`);
  }

  async listDomains(): Promise<Domain[]> {
    return prepared(this.db, 'SELECT name, created_at FROM domains ORDER BY name')
      .all()
      .map((r) => {
        const row = r as { name: string; created_at: number };
        return { name: row.name, createdAt: row.created_at };
      });
  }

  async hasDomain(name: string): Promise<boolean> {
    return prepared(this.db, 'SELECT 1 FROM domains WHERE name = ?').get(name) !== undefined;
  }

  async addAccount(a: NewAccount, now: number): Promise<Account> {
    const domain = domainOf(a.address);
    if (!(await this.hasDomain(domain))) throw new PosternError('NOT_FOUND', `domain ${domain} is not a local domain`);
    try {
      const r = prepared(this.db,
          'INSERT INTO accounts (address, domain, display_name, password_hash, scram_keys, roles, quota_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(a.address, domain, a.displayName ?? '', a.passwordHash, a.scramKeys ?? null, (a.roles ?? ['user']).join(','), a.quotaBytes ?? null, now);
      return (await this.getAccountById(Number(r.lastInsertRowid)))!;
    } catch (e) {
      if (e instanceof Error && /UNIQUE/.test(e.message)) throw new PosternError('EXISTS', `account ${a.address} exists already`);
      throw e;
    }
  }

  async getAccount(address: string): Promise<Account | null> {
    const r = prepared(this.db, 'SELECT * FROM accounts WHERE address = ?').get(address) as AccountRow | undefined;
    return r ? toAccount(r) : null;
  }

  async getAccountById(id: number): Promise<Account | null> {
    const r = prepared(this.db, 'SELECT * FROM accounts WHERE id = ?').get(id) as AccountRow | undefined;
    return r ? toAccount(r) : null;
  }

  async listAccounts(domain?: string): Promise<Account[]> {
    const rows = domain
      ? prepared(this.db, 'SELECT * FROM accounts WHERE domain = ? ORDER BY address').all(domain)
      : prepared(this.db, 'SELECT * FROM accounts ORDER BY address').all();
    return (rows as AccountRow[]).map(toAccount);
  }

  private mustChange(changes: number, address: string): void {
    if (changes === 0) throw new PosternError('NOT_FOUND', `no account ${address}`);
  }

  async setPasswordHash(address: string, hash: string, scramKeys: string | null = null): Promise<void> {
    const r = prepared(this.db, 'UPDATE accounts SET password_hash = ?, scram_keys = ? WHERE address = ?').run(hash, scramKeys, address);
    this.mustChange(r.changes, address);
  }

  async setDisabled(address: string, disabled: boolean): Promise<void> {
    this.mustChange(prepared(this.db, 'UPDATE accounts SET disabled = ? WHERE address = ?').run(disabled ? 1 : 0, address).changes, address);
  }

  async setRoles(address: string, roles: Role[]): Promise<void> {
    this.mustChange(prepared(this.db, 'UPDATE accounts SET roles = ? WHERE address = ?').run(roles.join(','), address).changes, address);
  }

  async addAlias(address: string, target: string): Promise<void> {
    prepared(this.db, 'INSERT OR IGNORE INTO aliases (address, target) VALUES (?, ?)').run(address, target);
  }

  async getAliasTargets(address: string): Promise<string[]> {
    return (prepared(this.db, 'SELECT target FROM aliases WHERE address = ? ORDER BY target').all(address) as { target: string }[]).map(
      (r) => r.target,
    );
  }

  async listAliases(): Promise<{ address: string; target: string }[]> {
    return prepared(this.db, 'SELECT address, target FROM aliases ORDER BY address, target').all() as { address: string; target: string }[];
  }

  async addGroup(name: string, description: string): Promise<void> {
    const r = prepared(this.db, 'INSERT OR IGNORE INTO groups (name, description) VALUES (?, ?)').run(name, description);
    if (r.changes === 0) throw new PosternError('EXISTS', `group ${name} exists already`);
  }

  async listGroups(): Promise<Group[]> {
    return prepared(this.db, 'SELECT name, description FROM groups ORDER BY name').all() as Group[];
  }

  async addGroupMember(group: string, address: string): Promise<void> {
    if (!prepared(this.db, 'SELECT 1 FROM groups WHERE name = ?').get(group)) throw new PosternError('NOT_FOUND', `no group ${group}`);
    prepared(this.db, 'INSERT OR IGNORE INTO group_members (group_name, address) VALUES (?, ?)').run(group, address);
  }

  async removeGroupMember(group: string, address: string): Promise<void> {
    prepared(this.db, 'DELETE FROM group_members WHERE group_name = ? AND address = ?').run(group, address);
  }

  async listGroupMembers(group: string): Promise<string[]> {
    return (
      prepared(this.db, 'SELECT address FROM group_members WHERE group_name = ? ORDER BY address').all(group) as { address: string }[]
    ).map((r) => r.address);
  }

  async groupsOf(address: string): Promise<string[]> {
    return (
      prepared(this.db, 'SELECT group_name FROM group_members WHERE address = ? ORDER BY group_name').all(address) as {
        group_name: string;
      }[]
    ).map((r) => r.group_name);
  }
}
