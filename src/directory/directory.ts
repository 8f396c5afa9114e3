import type { Account, DirectoryRepo } from '../store/types.js';
import { normalizeAddress, domainOf } from '../core/address.js';
import { hashPassword, verifyPassword, dummyVerify } from '../crypto/password.js';
import { checkPasswordStrength } from './password-rules.js';
import { LoginCache } from './login-cache.js';
import { randomBytes } from 'node:crypto';
import { deriveScramKeys, encodeScramKeys, type ChannelBindingType } from '../crypto/scram.js';
import { scramStart, type ScramMechanism, type ScramStart } from './scram.js';

/** What is stored for a password: the scrypt hash and the SCRAM-SHA-256 keys, made together. */
export async function passwordCredentials(password: string): Promise<{ passwordHash: string; scramKeys: string }> {
  const [passwordHash, keys] = await Promise.all([hashPassword(password), deriveScramKeys(password)]);
  return { passwordHash, scramKeys: encodeScramKeys(keys) };
}

export type Resolution =
  | { kind: 'local'; account: Account }
  | { kind: 'disabled'; account: Account }
  | { kind: 'unknown' }
  | { kind: 'remote' };

const MAX_ALIAS_DEPTH = 8;

/**
 * Local parts that exist at every local domain even without an account or
 * alias: `postmaster` (RFC 5321 4.5.1), `abuse` (RFC 2142), and the report
 * addresses `postern init` publishes in DNS (`dmarc-reports`, the DMARC rua;
 * `tls-reports`, the TLS-RPT rua). Implicit rather than created aliases, so
 * a domain added later has them too and no one can forget or delete them; an
 * explicit account or alias of the same name takes precedence.
 */
export const REQUIRED_LOCAL_PARTS: readonly string[] = ['postmaster', 'abuse', 'dmarc-reports', 'tls-reports'];

/**
 * The directory service: who is local, who may log in, and which addresses an
 * account may send as. Credentials are verified here and nowhere else.
 */
export interface DirectoryOptions {
  /** Local parts that reach the postmaster at every local domain (default: REQUIRED_LOCAL_PARTS). */
  readonly requiredLocalParts?: readonly string[];
  /**
   * Who receives mail for those addresses: a local account or alias
   * (`[directory] postmaster`); when absent, the first enabled `mailadmin`.
   */
  readonly postmaster?: string;
  /**
   * Remembers successful logins by client address for a short time (see
   * login-cache.ts); default: 60 s, 10,000 entries; null: every login is
   * checked with scrypt.
   */
  readonly loginCache?: LoginCache | null;
  /**
   * Makes the fake SCRAM salt of a name without keys (see scram.ts); default:
   * random at start, so that salt changes when the process restarts.
   */
  readonly scramSecret?: Buffer;
}

export class Directory {
  private readonly required: ReadonlySet<string>;
  private readonly loginCache: LoginCache | null;
  private readonly scramSecret: Buffer;

  constructor(
    readonly repo: DirectoryRepo,
    private readonly opts: DirectoryOptions = {},
  ) {
    this.required = new Set((opts.requiredLocalParts ?? REQUIRED_LOCAL_PARTS).map((l) => l.toLowerCase()));
    this.loginCache = opts.loginCache === undefined ? new LoginCache() : opts.loginCache;
    this.scramSecret = opts.scramSecret ?? randomBytes(32);
  }

  /** Whether `address` (normalised) is one of the required addresses of a local domain. */
  async isRequiredAddress(address: string): Promise<boolean> {
    const at = address.lastIndexOf('@');
    return at > 0 && this.required.has(address.slice(0, at)) && (await this.isLocalDomain(address.slice(at + 1)));
  }

  /**
   * Where the postmaster's mail goes: the configured address expanded (its
   * accounts and remote targets), else the first enabled mailadmin; null when
   * there is neither, which the start check reports.
   */
  async postmasterTarget(): Promise<{ local: Account[]; remote: string[] } | null> {
    if (this.opts.postmaster) {
      const exp = await this.expandExplicit(this.opts.postmaster);
      return exp && (exp.local.length > 0 || exp.remote.length > 0) ? { local: exp.local, remote: exp.remote } : null;
    }
    const admins = (await this.repo.listAccounts()).filter((a) => a.roles.includes('mailadmin') && !a.disabled);
    const first = admins.sort((a, b) => a.id - b.id)[0];
    return first ? { local: [first], remote: [] } : null;
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
    const exp = await this.expandExplicit(address);
    if (exp) return exp;
    const norm = normalizeAddress(address);
    if (!norm || !(await this.isRequiredAddress(norm))) return null;
    const target = await this.postmasterTarget();
    return target ? { ...target, disabled: [] } : null;
  }

  /** Accounts and aliases as stored, without the required addresses. */
  private async expandExplicit(address: string): Promise<{ local: Account[]; remote: string[]; disabled: Account[] } | null> {
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
    if (local.size === 0 && remote.size === 0 && disabled.length === 0) return null;
    return { local: [...local.values()], remote: [...remote], disabled };
  }

  /**
   * Verifies a login; costs the same time for unknown users as for known ones.
   * With a client address and a login cache, a success that this address had
   * with this password and this stored hash in the last moments is taken
   * without scrypt; anything else is checked in full.
   */
  async authenticate(username: string, password: string, client?: string): Promise<Account | null> {
    const norm = normalizeAddress(username);
    const acct = norm ? await this.repo.getAccount(norm) : null;
    if (!acct) {
      await dummyVerify();
      return null;
    }
    const cache = client === undefined ? null : this.loginCache;
    const facts = { accountId: acct.id, passwordHash: acct.passwordHash, client: client ?? '', password };
    // The account was just read: a disabled one, or one with a new password, never hits.
    if (cache?.has(facts)) return acct.disabled ? null : acct;
    const ok = await verifyPassword(password, acct.passwordHash);
    if (!ok || acct.disabled) return null;
    cache?.remember(facts);
    return acct;
  }

  /**
   * Starts a SCRAM-SHA-256(-PLUS) login from the client-first-message; the
   * caller runs `finish` under the login throttle. Names without keys get an
   * exchange that looks the same and always fails.
   */
  scramStart(mechanism: ScramMechanism, bindings: Partial<Record<ChannelBindingType, Buffer>>, clientFirst: string): Promise<ScramStart> {
    return scramStart(this.repo, this.scramSecret, mechanism, bindings, clientFirst);
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
    const c = await passwordCredentials(password);
    await this.repo.setPasswordHash(address, c.passwordHash, c.scramKeys);
    this.loginCache?.clear();
  }
}
