import type { Account, DirectoryRepo } from '../store/types.js';
import { normalizeAddress, domainOf } from '../core/address.js';
import { hashPassword, verifyPassword, dummyVerify } from '../crypto/password.js';
import { checkPasswordStrength } from './password-rules.js';

export type Resolution =
  | { kind: 'local'; account: Account }
  | { kind: 'disabled'; account: Account }
  | { kind: 'unknown' }
  | { kind: 'remote' };

const MAX_ALIAS_DEPTH = 8;

/**
 * The directory service: who is local, who may log in, and which addresses an
 * account may send as. Credentials are verified here and nowhere else.
 */
export interface DirectoryOptions {
  /**
   * Local parts that exist at every local domain even without an account or
   * alias (the DMARC report address `postern init` publishes): mail for them
   * goes to the first enabled `mailadmin` account.
   */
  readonly reportLocalParts?: readonly string[];
}

export class Directory {
  constructor(
    readonly repo: DirectoryRepo,
    private readonly opts: DirectoryOptions = {},
  ) {}

  /** The first enabled mailadmin, who receives mail for the report addresses nobody else has claimed. */
  private async reportRecipient(address: string): Promise<Account | null> {
    const at = address.lastIndexOf('@');
    if (at < 1 || !(this.opts.reportLocalParts ?? []).includes(address.slice(0, at))) return null;
    if (!(await this.isLocalDomain(address.slice(at + 1)))) return null;
    const admins = (await this.repo.listAccounts()).filter((a) => a.roles.includes('mailadmin') && !a.disabled);
    return admins.sort((a, b) => a.id - b.id)[0] ?? null;
  }

  async isLocalDomain(domain: string): Promise<boolean> {
    return this.repo.hasDomain(domain.toLowerCase());
  }

  /**
   * Resolves a recipient to the local accounts it reaches, following aliases
   * (bounded depth, cycles ignored). Remote alias targets are returned as
   * addresses for the outbound queue.
   */
  async expandRecipient(address: string): Promise<{ local: Account[]; remote: string[]; disabled: Account[] } | null> {
    const norm = normalizeAddress(address);
    if (!norm) return null;
    const local = new Map<number, Account>();
    const disabled: Account[] = [];
    const remote = new Set<string>();
    const seen = new Set<string>();
    const walk = async (addr: string, depth: number): Promise<void> => {
      if (seen.has(addr) || depth > MAX_ALIAS_DEPTH) return;
      seen.add(addr);
      const acct = await this.repo.getAccount(addr);
      if (acct) {
        if (acct.disabled) disabled.push(acct);
        else local.set(acct.id, acct);
        return;
      }
      const targets = await this.repo.getAliasTargets(addr);
      if (targets.length === 0) {
        if (depth > 0 && !(await this.isLocalDomain(domainOf(addr)))) remote.add(addr);
        return;
      }
      for (const t of targets) await walk(t, depth + 1);
    };
    await walk(norm, 0);
    if (local.size === 0 && remote.size === 0 && disabled.length === 0) {
      const admin = await this.reportRecipient(norm);
      return admin ? { local: [admin], remote: [], disabled: [] } : null;
    }
    return { local: [...local.values()], remote: [...remote], disabled };
  }

  /** Verifies a login; costs the same time for unknown users as for known ones. */
  async authenticate(username: string, password: string): Promise<Account | null> {
    const norm = normalizeAddress(username);
    const acct = norm ? await this.repo.getAccount(norm) : null;
    if (!acct) {
      await dummyVerify();
      return null;
    }
    const ok = await verifyPassword(password, acct.passwordHash);
    return ok && !acct.disabled ? acct : null;
  }

  /** The addresses an account may use as envelope sender and From: its own and aliases pointing only at it. */
  async sendableAddresses(account: Account): Promise<Set<string>> {
    const out = new Set<string>([account.address]);
    for (const a of await this.repo.listAliases()) {
      if (a.target === account.address) {
        const all = await this.repo.getAliasTargets(a.address);
        if (all.length === 1) out.add(a.address);
      }
    }
    return out;
  }

  /** Sets a new password under the shared rules (password-rules.ts); throws RangeError with the reason when it breaks them. */
  async setPassword(address: string, password: string): Promise<void> {
    const weak = checkPasswordStrength(password);
    if (weak) throw new RangeError(weak);
    await this.repo.setPasswordHash(address, await hashPassword(password));
  }
}
