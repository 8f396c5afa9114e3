/**
 * Builds one SMTP listener (mx, submission or submissions) from smtp-server,
 * configured so that nothing is left at the library's default where the
 * default would be unsafe: no reverse DNS, no library logging, no XCLIENT or
 * PROXY trust, no AUTH outside TLS, postern's own TLS key only.
 */
import { makeSmtpScram } from './scram.js';
import type tls from 'node:tls';
import type { SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import { PosternError } from '../core/errors.js';
import { serverTlsOptions } from '../net/tls.js';
import { connectionLimits } from '../net/connections.js';
import { makeOnAuth } from './auth.js';
import { PosternSmtpServer, type PosternConnection } from './connection.js';
import { isSubmission, type ListenerContext } from './context.js';
import { makeOnData } from './data.js';
import { makeOnMailFrom, makeOnRcptTo } from './envelope.js';
import { smtpError } from './replies.js';
import { SessionTable } from './session.js';
import type { SmtpDeps, SmtpListener, SmtpListenerKind } from './types.js';

/** How long close() lets a client we owe a reply (message being queued) finish. */
export const CLOSE_GRACE_MS = 10_000;
/** Longest command line; AUTH PLAIN with a long password fits easily. */
export const MAX_COMMAND_LENGTH = 4096;
/** Commands before authentication on submission (EHLO, STARTTLS, EHLO, AUTH is four). */
export const MAX_UNAUTHENTICATED_COMMANDS = 10;

// Never useful on a public listener; XCLIENT/XFORWARD would let a client claim any address.
const ALWAYS_DISABLED = ['XCLIENT', 'XFORWARD', 'WIZ', 'SHELL', 'KILL'];

type Done = (err?: Error | null) => void;

function serverOptions(ctx: ListenerContext): SMTPServerOptions {
  const { kind, deps } = ctx;
  const { limits } = deps;
  return {
    // Renegotiation refused on 25, 587 (after STARTTLS) and 465 alike: smtp-server
    // builds its one secure context from these options.
    ...(serverTlsOptions(deps.tls) as tls.TlsOptions),
    secure: kind === 'submissions',
    name: deps.hostname,
    size: limits.maxMessageSize,
    // AUTH is offered inside TLS only (connection.ts), where -PLUS has binding data.
    authMethods: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'PLAIN', 'LOGIN'],
    authOptional: false,
    authRequiredMessage: '5.7.0 Authentication required',
    allowInsecureAuth: false,
    disabledCommands: kind === 'mx' ? [...ALWAYS_DISABLED, 'AUTH'] : ALWAYS_DISABLED,
    hideSTARTTLS: false,
    hideENHANCEDSTATUSCODES: false,
    hideSMTPUTF8: false, // RFC 6531: UTF-8 addresses only in a transaction that asked for them (connection.ts)
    hideDSN: false, // RFC 3461: NOTIFY, ORCPT, RET and ENVID are checked in params.ts and kept with the message
    hideREQUIRETLS: false, // RFC 8689; the library lists it on TLS sessions only
    disableReverseLookup: true,
    logger: false,
    useXClient: false,
    useXForward: false,
    useProxy: false,
    // Our own limit (421 4.7.0) applies in onConnect; this one also bounds sockets
    // still in the TLS handshake, which onConnect has not seen yet.
    maxClients: limits.maxConnections * 2,
    socketTimeout: limits.socketTimeoutMs,
    closeTimeout: CLOSE_GRACE_MS,
    maxCommandLength: MAX_COMMAND_LENGTH,
    maxAllowedUnauthenticatedCommands: MAX_UNAUTHENTICATED_COMMANDS,
    onConnect: (session, callback) => onConnect(ctx, session, callback),
    onSecure: (socket, session, callback) => {
      const state = ctx.sessions.get(session.id);
      const t = socket as tls.TLSSocket;
      if (state) {
        state.tls = { protocol: t.getProtocol?.() ?? 'unknown', cipher: t.getCipher?.()?.name ?? 'unknown' };
        state.account = null; // RFC 3207: nothing from before the handshake carries over
        state.sendable = new Set();
      }
      callback();
    },
    onAuth: makeOnAuth(ctx),
    onMailFrom: makeOnMailFrom(ctx),
    onRcptTo: makeOnRcptTo(ctx),
    onData: makeOnData(ctx),
    onClose: (session) => {
      const state = ctx.sessions.release(session.id);
      state?.log.debug({ messages: state.messages, user: state.account?.address ?? null }, 'connection closed');
      // Counted when it ends, so the TLS it reached is known (C: share of sessions with TLS).
      if (state) ctx.deps.events?.record('smtp.session', session.id, { listener: ctx.kind, tls: state.tls?.protocol ?? 'none', messages: state.messages });
    },
  };
}

function onConnect(ctx: ListenerContext, session: SMTPServerSession, callback: Done): void {
  const ip = session.remoteAddress;
  const refusal = ctx.sessions.refusal(ip);
  const log = ctx.deps.log.child({ listener: ctx.kind, cid: session.id, client: ip });
  if (refusal) {
    log.warn({ limit: refusal }, 'connection refused: limit reached');
    return callback(smtpError(refusal === 'total' ? 'TOO_MANY_CONNECTIONS' : 'TOO_MANY_FROM_CLIENT'));
  }
  ctx.sessions.admit(session.id, ip, log);
  // Debug: the session's event (smtp.session, at its end) and each message's line say the rest at info.
  log.debug({ port: session.localPort, tls: session.secure }, 'connection');
  callback();
}

export function createSmtpListener(kind: SmtpListenerKind, deps: SmtpDeps): SmtpListener {
  if (!deps.tls.key || !deps.tls.cert) {
    // smtp-server would silently use its built-in key, which is public.
    throw new PosternError('CONFIG_INVALID', `smtp ${kind}: a TLS certificate and key are required`);
  }
  const { limits } = deps;
  const sessions = new SessionTable(connectionLimits(limits));
  const ctx: ListenerContext = { kind, deps, sessions };
  const log = deps.log.child({ listener: kind });
  const guards = {
    loginTimeoutMs: limits.loginTimeoutMs,
    commandTimeoutMs: limits.commandTimeoutMs,
    minTransferRate: limits.minTransferRate,
    isEstablished: (id: string) => sessions.isEstablished(id),
    scram: makeSmtpScram(ctx),
    onPlaintextAuth: (id: string) => deps.events?.record('auth.plaintext_refused', sessions.get(id)?.ip ?? id, { protocol: 'smtp', listener: kind }),
    onClosing: (id: string) => sessions.leaving(id),
    // Mail clients (587, 465) are greeted at once; the pause only screens servers and bots on mx.
    greetPauseMs: kind === 'mx' ? (limits.greetPauseMs ?? 0) : 0,
    onEarlyTalker: (ip: string) => {
      log.info({ client: ip }, 'refused: client talked before the greeting');
      deps.events?.record('smtp.early_talker', ip, { listener: kind });
    },
  };
  const onDeadline = (id: string, reply: string): void => sessions.get(id)?.log.info({ reply }, 'closing: deadline passed');
  const server = new PosternSmtpServer(serverOptions(ctx), guards, onDeadline);
  // Client errors (failed handshakes, resets) arrive here; without a listener they would crash the process.
  server.on('error', (err: Error & { code?: string; meta?: unknown }) => {
    log.info({ err: { message: err.message, code: err.code } }, 'client connection error');
  });
  let listening = false;

  return {
    kind,
    listen(port: number, host: string): Promise<number> {
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.server.once('error', onError);
        server.listen(port, host, () => {
          server.server.off('error', onError);
          listening = true;
          const addr = server.server.address();
          resolve(typeof addr === 'object' && addr ? addr.port : port);
        });
      });
    },
    close(): Promise<void> {
      if (!listening) return Promise.resolve();
      listening = false;
      return new Promise((resolve) => {
        server.close(() => resolve());
        for (const c of server.connections) (c as PosternConnection).shutdownIfIdle();
        log.info({ open: ctx.sessions.size, submission: isSubmission(kind) }, 'listener closing');
      });
    },
  };
}
