/**
 * AUTH SCRAM-SHA-256 and SCRAM-SHA-256-PLUS for the submission listeners. The
 * wire steps (334 challenges, the client's lines) are driven by
 * connection.ts, since smtp-server knows only its own mechanisms; the checks
 * are here and follow auth.ts: TLS only, the directory's exchange, the shared
 * login throttle around the proof, three failures per session.
 */
import type { ChannelBindings } from '../net/channel-binding.js';
import type { ScramMechanism, ScramStart } from '../directory/scram.js';
import type { ErrorCode } from '../core/errors.js';
import { replyOf, type LocalReply } from './replies.js';
import { MAX_AUTH_FAILURES_PER_SESSION } from './auth.js';
import { isSubmission, type ListenerContext } from './context.js';

type Reply = [number, string];
export type ScramBegun = Extract<ScramStart, { ok: true }>;

export interface SmtpScram {
  /** The client-first-message: the exchange to go on with, or the reply that ends it. */
  start(sessionId: string, mechanism: ScramMechanism, bindings: ChannelBindings, clientFirst: string): Promise<{ ok: true; begun: ScramBegun } | { ok: false; reply: Reply }>;
  /** The client-final-message: the user for the session and the server-final-message, or the reply that ends it. */
  finish(sessionId: string, mechanism: ScramMechanism, begun: ScramBegun, clientFinal: string): Promise<{ ok: true; user: { id: number; username: string }; serverFinal: string } | { ok: false; reply: Reply }>;
}

const reply = (code: ErrorCode | LocalReply): Reply => {
  const [c, text] = replyOf(code);
  return [c, text];
};

export function makeSmtpScram(ctx: ListenerContext): SmtpScram {
  const refused = (sessionId: string, result: 'failed' | 'locked' | 'busy', user: string, method: string): { ok: false; reply: Reply } => {
    const state = ctx.sessions.get(sessionId);
    if (!state) return { ok: false, reply: reply('AUTH_FAILED') };
    state.authFailures++;
    const failed = result === 'failed';
    state.log.warn({ method, user, result: failed ? 'fail' : result, failures: state.authFailures }, failed ? 'auth failed' : 'auth refused: throttled');
    if (state.authFailures >= MAX_AUTH_FAILURES_PER_SESSION) return { ok: false, reply: reply('AUTH_SESSION_LIMIT') };
    return { ok: false, reply: reply(failed ? 'AUTH_FAILED' : 'AUTH_THROTTLED') };
  };
  return {
    async start(sessionId, mechanism, bindings, clientFirst) {
      const state = ctx.sessions.get(sessionId);
      if (!state || !isSubmission(ctx.kind)) return { ok: false, reply: reply('AUTH_NOT_HERE') };
      try {
        const begun = await ctx.deps.directory.scramStart(mechanism, bindings, clientFirst);
        if (!begun.ok) return refused(sessionId, 'failed', '', mechanism);
        return { ok: true, begun };
      } catch (err) {
        state.log.error({ err }, 'auth could not be checked');
        return { ok: false, reply: reply('AUTH_TEMPORARY') };
      }
    },
    async finish(sessionId, mechanism, begun, clientFinal) {
      const state = ctx.sessions.get(sessionId);
      if (!state) return { ok: false, reply: reply('AUTH_NOT_HERE') };
      try {
        const outcome = await ctx.deps.authThrottle.attempt(state.ip, begun.username, () => begun.finish(clientFinal));
        if (outcome.result !== 'ok') return refused(sessionId, outcome.result, begun.username, mechanism);
        const { account, serverFinal } = outcome.value;
        const sendable = await ctx.deps.directory.sendableAddresses(account);
        state.account = account;
        state.sendable = new Set([...sendable].map((a) => a.toLowerCase()));
        ctx.sessions.established(sessionId, true);
        state.log.info({ method: mechanism, user: begun.username, result: 'ok', accountId: account.id }, 'auth succeeded');
        return { ok: true, user: { id: account.id, username: account.address }, serverFinal };
      } catch (err) {
        state.log.error({ err }, 'auth could not be checked');
        return { ok: false, reply: reply('AUTH_TEMPORARY') };
      }
    },
  };
}
