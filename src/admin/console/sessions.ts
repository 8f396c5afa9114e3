/**
 * Console sessions, in this process's memory: a random 32-byte id in the
 * cookie, a per-session CSRF token, 15 minutes idle and 8 hours absolute.
 * Sessions are per node: behind a load balancer a login holds on the node
 * that made it (sticky sessions), and a restart logs everyone out.
 */
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import type { Role } from '../../store/types.js';

export const SESSION_COOKIE = '__Host-postern-session';
export const IDLE_MS = 15 * 60_000;
export const ABSOLUTE_MS = 8 * 3_600_000;
/** Pre-login sessions (a login form shown) are cheap to make, so sessions are capped; see evictOne. */
export const MAX_SESSIONS = 10_000;

/**
 * anonymous: a login form was shown. second: the password was right, a factor
 * must follow. enroll: the password was right, an administrator without a
 * factor must register one (with an enrollment code). full: logged in.
 */
export type SessionStage = 'anonymous' | 'second' | 'enroll' | 'full';

export interface Session {
  readonly id: string;
  readonly csrf: string;
  readonly createdAt: number;
  lastSeen: number;
  stage: SessionStage;
  address: string | null;
  roles: readonly Role[];
  /** The WebAuthn challenge handed out last (base64url); used once. */
  challenge: string | null;
  /** An enrollment code was accepted in this session. */
  codeAccepted: boolean;
  /** Wrong enrollment codes or second factors in this session; too many end it. */
  failures: number;
  /** A TOTP secret shown for enrollment, stored once a code from it is confirmed. */
  pendingTotp: Uint8Array | null;
  /** When a logged-in account last typed its password again (to add a factor); null: not in this session. */
  reauthAt: number | null;
}

/** How long a password typed again on the account page allows adding a factor. */
export const REAUTH_MS = 5 * 60_000;

const token = (): string => randomBytes(32).toString('base64url');
const ID_RE = /^[A-Za-z0-9_-]{43}$/;

export class SessionStore {
  /** Keyed by SHA-256 of the id, so a timing side channel of the map lookup says nothing about live ids. */
  private readonly byDigest = new Map<string, Session>();
  private lastSweep = 0;

  constructor(private readonly now: () => number) {}

  private static digest(id: string): string {
    return createHash('sha256').update(id).digest('base64url');
  }

  create(): Session {
    this.sweep();
    if (this.byDigest.size >= MAX_SESSIONS) this.evictOne();
    const t = this.now();
    const s: Session = { id: token(), csrf: token(), createdAt: t, lastSeen: t, stage: 'anonymous', address: null, roles: [], challenge: null, codeAccepted: false, failures: 0, pendingTotp: null, reauthAt: null };
    this.byDigest.set(SessionStore.digest(s.id), s);
    return s;
  }

  /** The live session of a cookie value, its idle time refreshed; null when unknown or expired. */
  get(id: string | undefined): Session | null {
    if (!id || !ID_RE.test(id)) return null;
    const key = SessionStore.digest(id);
    const s = this.byDigest.get(key);
    if (!s) return null;
    const t = this.now();
    if (t - s.lastSeen >= IDLE_MS || t - s.createdAt >= ABSOLUTE_MS) {
      this.byDigest.delete(key);
      return null;
    }
    s.lastSeen = t;
    // Map order is the eviction order: a used session moves to the back.
    this.byDigest.delete(key);
    this.byDigest.set(key, s);
    return s;
  }

  /** A new id and CSRF token for a session whose privilege changes (login, second factor): a planted id never gains it. */
  rotate(old: Session, change: Partial<Pick<Session, 'stage' | 'address' | 'roles'>>): Session {
    this.destroy(old);
    const s = this.create();
    s.stage = change.stage ?? old.stage;
    s.address = change.address ?? old.address;
    s.roles = change.roles ?? old.roles;
    return s;
  }

  destroy(s: Session): void {
    this.byDigest.delete(SessionStore.digest(s.id));
  }

  /**
   * Ends every session of an account (this node's) but `keep`: after its password changed, it is disabled
   * or its roles change, a session must not keep what it was given at login. Returns how many ended.
   */
  endAccount(address: string, keep: Session | null = null): number {
    let n = 0;
    for (const [k, s] of this.byDigest) {
      if (s !== keep && s.address === address) {
        this.byDigest.delete(k);
        n++;
      }
    }
    return n;
  }

  get size(): number {
    return this.byDigest.size;
  }

  /**
   * Makes room: the least recently used session not yet logged in goes first,
   * so opening login pages by the thousand cannot push logged-in people out;
   * only when every session is logged in does the oldest of those go.
   */
  private evictOne(): void {
    for (const [k, s] of this.byDigest) {
      if (s.stage !== 'full') {
        this.byDigest.delete(k);
        return;
      }
    }
    const oldest = this.byDigest.keys().next().value;
    if (oldest !== undefined) this.byDigest.delete(oldest);
  }

  private sweep(): void {
    const t = this.now();
    if (t - this.lastSweep < 60_000) return;
    this.lastSweep = t;
    for (const [k, s] of this.byDigest) if (t - s.lastSeen >= IDLE_MS || t - s.createdAt >= ABSOLUTE_MS) this.byDigest.delete(k);
  }
}

/** Constant-time comparison of a submitted CSRF token with the session's. */
export function csrfMatches(s: Session, submitted: unknown): boolean {
  if (typeof submitted !== 'string' || submitted.length !== s.csrf.length) return false;
  return timingSafeEqual(Buffer.from(submitted), Buffer.from(s.csrf));
}

export function sessionCookie(id: string): string {
  return `${SESSION_COOKIE}=${id}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=${ABSOLUTE_MS / 1000}`;
}

export const CLEAR_COOKIE = `${SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`;
