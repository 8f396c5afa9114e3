/**
 * Login for AUTHENTICATE "PLAIN": credentials are checked by the directory
 * behind the shared login throttle, which may delay the answer or turn the
 * attempt away unchecked while the client address is locked out.
 */
import { normalizeAddress } from '../core/address.js';
import { sieveNo } from '../codec/managesieve/index.js';
import type { Logger } from '../metrics/logger.js';
import type { Account } from '../store/types.js';
import type { ManageSieveDeps } from './types.js';

/** Failed logins one session may make before it is closed. */
export const MAX_AUTH_FAILURES_PER_SESSION = 3;

export type LoginResult = { ok: true; account: Account } | { ok: false; reply: Buffer };

/** The throttle and lookup key for a login name: the normalised address, or the text itself. */
export function loginName(raw: string): string {
  return normalizeAddress(raw) ?? raw.toLowerCase().slice(0, 256);
}

export const AUTH_FAILED = sieveNo('Authentication failed');

export async function login(deps: ManageSieveDeps, ip: string, rawName: string, password: string, log: Logger): Promise<LoginResult> {
  const name = loginName(rawName);
  const l = log.child({ user: name });
  const outcome = await deps.authThrottle.attempt(ip, name, () => deps.directory.authenticate(name, password));
  if (outcome.result === 'locked' || outcome.result === 'busy') {
    l.warn({ result: outcome.result }, 'login refused: too many failures');
    return { ok: false, reply: sieveNo('Too many failed logins, try again later', { atom: 'TRYLATER' }) };
  }
  if (outcome.result === 'failed') {
    l.warn({ result: 'fail' }, 'login failed');
    return { ok: false, reply: AUTH_FAILED };
  }
  l.info({ result: 'ok', accountId: outcome.value.id }, 'login succeeded');
  return { ok: true, account: outcome.value };
}
