/**
 * AUTH PLAIN / LOGIN for the submission listeners. Credentials are checked by
 * the directory; this file decides when not to check them at all: on a
 * plaintext session (never reached: the connection refuses AUTH before TLS,
 * this is the second lock), and when the login throttle turns the attempt away
 * (the client address is locked out, or the account has too many attempts
 * queued); attempts on an account under attack are answered after its delay.
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
  return (auth: SMTPServerAuthentication, session: SMTPServerSession, callback: AuthCallback): void => {
    const state = ctx.sessions.get(session.id);
    if (!state || !isSubmission(ctx.kind)) return callback(null, authFailure('AUTH_NOT_HERE'));
    if (!session.secure) return callback(null, authFailure('TLS_REQUIRED'));
    const method = auth.method;
    const username = loginName(auth.username ?? '');
    const log = state.log.child({ method, user: username });
    if (method !== 'PLAIN' && method !== 'LOGIN') return callback(null, authFailure('AUTH_MECHANISM'));
    // PLAIN may name a different authorisation identity; postern lets nobody act as someone else.
    const authzid = method === 'PLAIN' ? (auth.authzid ?? '') : '';
    const proxying = authzid !== '' && loginName(authzid) !== loginName(auth.authcid || authzid);

    const verdict = async (): Promise<SMTPServerAuthenticationResponse> => {
      const throttle = ctx.deps.authThrottle;
      if (proxying) {
        throttle.failSource(state.ip);
        return refused('failed');
      }
      const outcome = await throttle.attempt(state.ip, username, () => ctx.deps.directory.authenticate(username, auth.password ?? ''));
      // Locked or busy: answered without looking at the password, right or wrong, and
      // still counted, so one session cannot keep knocking.
      if (outcome.result !== 'ok') return refused(outcome.result);
      const account = outcome.value;
      const sendable = await ctx.deps.directory.sendableAddresses(account);
      state.account = account;
      state.sendable = new Set([...sendable].map((a) => a.toLowerCase()));
      ctx.sessions.established(session.id, true);
      log.info({ result: 'ok', accountId: account.id }, 'auth succeeded');
      return { user: { id: account.id, username: account.address } };
    };
    const refused = (result: 'failed' | 'locked' | 'busy'): SMTPServerAuthenticationResponse => {
      state.authFailures++;
      const failed = result === 'failed';
      log.warn({ result: failed ? 'fail' : result, failures: state.authFailures }, failed ? 'auth failed' : 'auth refused: throttled');
      if (state.authFailures >= MAX_AUTH_FAILURES_PER_SESSION) return authFailure('AUTH_SESSION_LIMIT');
      return authFailure(failed ? 'AUTH_FAILED' : 'AUTH_THROTTLED');
    };
    // Every path answers the client: a throw anywhere (directory, store, a bug) is a
    // temporary failure for this one session, never an unhandled rejection.
    verdict()
      .then(
        (response) => callback(null, response),
        (err: unknown) => {
          log.error({ err }, 'auth could not be checked');
          callback(null, authFailure('AUTH_TEMPORARY'));
        },
      )
      .catch((err: unknown) => log.error({ err }, 'auth reply failed'));
  };
}
