/**
 * Login (USER/PASS and AUTH PLAIN share it). Credentials are checked by the
 * directory behind the shared login throttle (which may delay the answer, or
 * turn the attempt away unchecked while the client address is locked out), takes the
 * maildrop lock and loads the INBOX snapshot.
 */
import { normalizeAddress } from '../core/address.js';
import { pop3Err } from '../codec/pop3/index.js';
import { inboxOf } from '../mailbox/provision.js';
import type { Logger } from '../metrics/logger.js';
import type { Account } from '../store/types.js';
import type { MaildropLocks } from './locks.js';
import { Maildrop } from './maildrop.js';
import type { Pop3Deps } from './types.js';

/** Failed logins one session may make before it is closed. */
export const MAX_AUTH_FAILURES_PER_SESSION = 3;

export type LoginResult =
  | { ok: true; account: Account; maildrop: Maildrop; release: () => void }
  /** failed: counts toward the session's failure limit (wrong or unchecked credentials). */
  | { ok: false; reply: Buffer; failed: boolean };

/** The throttle and lookup key for a login name: the normalised address, or the text itself. */
export function loginName(raw: string): string {
  return normalizeAddress(raw) ?? raw.toLowerCase().slice(0, 256);
}

export const AUTH_FAILED = pop3Err('Authentication failed', 'AUTH');

export async function login(deps: Pop3Deps, locks: MaildropLocks, ip: string, rawName: string, password: string, log: Logger): Promise<LoginResult> {
  const name = loginName(rawName);
  const l = log.child({ user: name });
  const outcome = await deps.authThrottle.attempt(ip, name, () => deps.directory.authenticate(name, password));
  // Locked out or too many attempts queued on the account: answered without looking at the password.
  if (outcome.result === 'locked' || outcome.result === 'busy') {
    l.warn({ result: outcome.result }, 'login refused: too many failures');
    return { ok: false, reply: pop3Err('Too many failed logins, try again later', 'SYS/TEMP'), failed: true };
  }
  if (outcome.result === 'failed') {
    l.warn({ result: 'fail' }, 'login failed');
    return { ok: false, reply: AUTH_FAILED, failed: true };
  }
  return openMaildrop(deps, locks, outcome.value, l);
}

/** After the credentials were checked: takes the maildrop lock and loads the INBOX snapshot. */
export async function openMaildrop(deps: Pop3Deps, locks: MaildropLocks, account: Account, l: Logger): Promise<LoginResult> {
  const release = locks.tryAcquire(account.id);
  if (!release) {
    l.info({ result: 'in-use', accountId: account.id }, 'login refused: maildrop locked by another session');
    return { ok: false, reply: pop3Err('Mailbox is in use by another POP3 session', 'IN-USE'), failed: false };
  }
  try {
    const inbox = await inboxOf(deps.mailboxes, account.id, deps.clock.now());
    const messages = await deps.mailboxes.listMessages(inbox.id);
    const maildrop = new Maildrop(inbox.id, inbox.uidValidity, messages);
    l.info({ result: 'ok', accountId: account.id, messages: messages.length }, 'login succeeded');
    return { ok: true, account, maildrop, release };
  } catch (err) {
    release();
    l.error({ err }, 'maildrop could not be opened');
    return { ok: false, reply: pop3Err('Mailbox temporarily unavailable, try again later', 'SYS/TEMP'), failed: false };
  }
}
