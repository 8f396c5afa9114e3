/**
 * AUTH PLAIN / LOGIN for the submission listeners. Credentials are checked by
 * the directory; this file decides when not to check them at all: on a
 * plaintext session (never reached: the connection refuses AUTH before TLS,
 * this is the second lock), and while the client address or the account is
 * throttled after repeated failures.
 */
import type { SMTPServerAuthentication, SMTPServerAuthenticationResponse, SMTPServerSession } from 'smtp-server';
import { normalizeAddress } from '../core/address.js';
import { authFailure } from './replies.js';
import { isSubmission, type ListenerContext } from './context.js';

/** Failures one session may make before it is disconnected. */
export const MAX_AUTH_FAILURES_PER_SESSION = 3;

/** The throttle and lookup key for a login name: the normalised address, or the text itself. */
function loginName(raw: string): string {
  return normalizeAddress(raw) ?? raw.toLowerCase().slice(0, 256);
}

type AuthCallback = (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void;

export function makeOnAuth(ctx: ListenerContext) {
  const { byClient, byAccount } = ctx.deps.authThrottle;
  return (auth: SMTPServerAuthentication, session: SMTPServerSession, callback: AuthCallback): void => {
    const state = ctx.sessions.get(session.id);
    if (!state || !isSubmission(ctx.kind)) return callback(null, authFailure('AUTH_NOT_HERE'));
    if (!session.secure) return callback(null, authFailure('TLS_REQUIRED'));
    const method = auth.method;
    const username = loginName(auth.username ?? '');
    const log = state.log.child({ method, user: username });
    if (method !== 'PLAIN' && method !== 'LOGIN') return callback(null, authFailure('AUTH_MECHANISM'));
    // Locked out: answer without looking at the password, right or wrong.
    if (byClient.isLocked(state.ip) || byAccount.isLocked(username)) {
      // Cheap for us, but still counted, so a session cannot keep knocking.
      state.authFailures++;
      log.warn({ result: 'throttled', failures: state.authFailures }, 'auth refused: too many failures');
      return callback(null, authFailure(state.authFailures >= MAX_AUTH_FAILURES_PER_SESSION ? 'AUTH_SESSION_LIMIT' : 'AUTH_THROTTLED'));
    }
    // PLAIN may name a different authorisation identity; postern lets nobody act as someone else.
    const authzid = method === 'PLAIN' ? (auth.authzid ?? '') : '';
    const proxying = authzid !== '' && loginName(authzid) !== loginName(auth.authcid || authzid);

    const verdict = async (): Promise<SMTPServerAuthenticationResponse> => {
      try {
        const account = proxying ? null : await ctx.deps.directory.authenticate(username, auth.password ?? '');
        if (!account) {
          state.authFailures++;
          byClient.fail(state.ip);
          byAccount.fail(username);
          log.warn({ result: 'fail', failures: state.authFailures }, 'auth failed');
          return authFailure(state.authFailures >= MAX_AUTH_FAILURES_PER_SESSION ? 'AUTH_SESSION_LIMIT' : 'AUTH_FAILED');
        }
        const sendable = await ctx.deps.directory.sendableAddresses(account);
        byClient.succeed(state.ip);
        byAccount.succeed(username);
        state.account = account;
        state.sendable = new Set([...sendable].map((a) => a.toLowerCase()));
        log.info({ result: 'ok', accountId: account.id }, 'auth succeeded');
        return { user: { id: account.id, username: account.address } };
      } catch (err) {
        log.error({ err }, 'auth could not be checked');
        return authFailure('AUTH_TEMPORARY');
      }
    };
    void verdict().then((response) => callback(null, response));
  };
}
