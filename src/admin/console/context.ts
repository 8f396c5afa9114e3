/**
 * What the console needs from the rest of postern, and the request plumbing
 * every route shares: the session of the cookie, the POST checks (Origin and
 * CSRF token), role checks and the audit record with the logged-in actor.
 */
import type { Context } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import { getCookie } from 'hono/cookie';
import type { Account, Role, Store } from '../../store/types.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../metrics/logger.js';
import type { LoginThrottle } from '../../net/throttle.js';
import type { MaintenanceSchedule } from '../../store/maintenance.js';
import type { ListenerInfo } from '../app.js';
import { recordAudit } from '../../integrity/audit-log.js';
import { CLEAR_COOKIE, SESSION_COOKIE, sessionCookie, type Session, type SessionStore } from './sessions.js';
import { escapeHtml, page } from './html.js';
import { navFor } from './nav.js';

export interface ConsoleDeps {
  readonly store: Store;
  /** The directory's password check (dummy verification for unknown accounts); null when wrong or disabled. */
  readonly authenticate: (address: string, password: string) => Promise<Account | null>;
  /** The login throttle the mail listeners share. */
  readonly throttle: LoginThrottle;
  /** WebAuthn relying party id: the host name browsers use for the console (server.hostname, also the mail clients' server). */
  readonly rpId: string;
  /** Origins a POST may come from (https://host[:port]); checked on every POST and in WebAuthn responses. */
  readonly origins: () => readonly string[];
  /** [policy] release_roles: a plain user may release their own mail only when it holds 'user'. */
  readonly releaseRoles: readonly string[];
  /** [auth] allow_pki_and_mail_admin: one account may hold mailadmin and pkiofficer (absent: it may not). */
  readonly allowPkiAndMailAdmin?: boolean;
  readonly slaTargetPct: number;
  readonly schedule?: MaintenanceSchedule;
  /** The bound listeners, for the Apple Mail profile (only TLS services that listen); absent: none. */
  readonly listeners?: () => readonly ListenerInfo[];
  readonly clock: Clock;
  readonly log: Logger;
}

export type ConsoleEnv = {
  Bindings: HttpBindings;
  Variables: { session: Session | null; form: Record<string, unknown> };
};
export type Ctx = Context<ConsoleEnv>;

export const MAX_FIELD = 1024;

/** A string field of the parsed POST body, or '' (absent, repeated, too long or not text). */
export function field(c: Ctx, name: string): string {
  const v = c.get('form')[name];
  return typeof v === 'string' && v.length <= MAX_FIELD ? v : '';
}

export function sessionOf(c: Ctx, store: SessionStore): Session | null {
  return store.get(getCookie(c, SESSION_COOKIE));
}

export function setSession(c: Ctx, s: Session | null): void {
  c.header('Set-Cookie', s ? sessionCookie(s.id) : CLEAR_COOKIE);
}

export function remoteAddress(c: Ctx): string {
  return c.env.incoming.socket.remoteAddress ?? '0.0.0.0';
}

export async function audit(d: ConsoleDeps, actor: string, action: string, subject: string, data: Record<string, unknown> = {}): Promise<void> {
  await recordAudit(d.store, { actor, action, subject, data: { ...data, via: 'console' } }, d.clock.now());
}

export function htmlError(c: Ctx, status: 403 | 404 | 400 | 401 | 429, title: string, text: string): Response {
  const s = c.get('session');
  return c.html(page(title, s, `<p class="error">${escapeHtml(text)}</p><p><a href="/console/">Back</a></p>`, s ? navFor(s) : []), status);
}

/** The logged-in session when it holds one of `roles`; otherwise the answer to send (login redirect, or 403 audited). */
export async function requireRole(c: Ctx, d: ConsoleDeps, roles: readonly Role[], what: string): Promise<Session | Response> {
  const s = c.get('session');
  if (!s || s.stage !== 'full' || !s.address) {
    return c.req.method === 'GET' ? c.redirect('/console/login', 303) : c.json({ error: 'not logged in' }, 401);
  }
  if (!s.roles.some((r) => roles.includes(r))) {
    await audit(d, s.address, 'console.refused', c.req.path, { method: c.req.method, needs: roles });
    return htmlError(c, 403, 'Not allowed', `${what} needs one of the roles ${roles.join(', ')}; ${s.address} has ${s.roles.join(', ')}.`);
  }
  return s;
}
