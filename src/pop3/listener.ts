/**
 * A POP3 listener: 'stls' (port 110, plaintext until STLS) or 'tls' (port
 * 995, implicit TLS). Both use postern's own certificate only; connection
 * limits apply from the TCP accept, so clients still in the TLS handshake
 * count too.
 */
import net from 'node:net';
import tls from 'node:tls';
import { PosternError } from '../core/errors.js';
import { newToken } from '../core/ids.js';
import { Pop3Connection } from './connection.js';
import { ConnectionTable, connectionLimits } from '../net/connections.js';
import { serverTlsOptions } from '../net/tls.js';
import { MaildropLocks } from './locks.js';
import { Pop3Session, type SessionContext } from './session.js';
import type { Pop3Deps, Pop3Listener, Pop3Mode } from './types.js';

/** How long close() lets a running command (a QUIT expunging, a long RETR) finish. */
export const CLOSE_GRACE_MS = 10_000;

/** "::ffff:192.0.2.1" and "192.0.2.1" are one client for limits and throttling. */
function clientAddress(socket: net.Socket): string {
  const a = socket.remoteAddress ?? 'unknown';
  return a.startsWith('::ffff:') && net.isIPv4(a.slice(7)) ? a.slice(7) : a;
}

export function createPop3Listener(mode: Pop3Mode, deps: Pop3Deps): Pop3Listener {
  if (!deps.tls.key || !deps.tls.cert) throw new PosternError('CONFIG_INVALID', `pop3 ${mode}: a TLS certificate and key are required`);
  if (deps.limits.idleTimeoutMs <= 0) throw new PosternError('CONFIG_INVALID', 'pop3: the idle timeout must be positive');
  const name = mode === 'tls' ? 'pop3s' : 'pop3';
  const log = deps.log.child({ listener: name });
  const secureContext = tls.createSecureContext(serverTlsOptions(deps.tls));
  const ctx: SessionContext = { mode, deps, locks: MaildropLocks.forStore(deps.mailboxes) };
  const { limits } = deps;
  const table = new ConnectionTable(connectionLimits(limits));
  const open = new Set<Pop3Connection>();

  const server = net.createServer((socket) => {
    const ip = clientAddress(socket);
    const refusal = table.refusal(ip);
    const slot = refusal === null ? table.admit(ip) : null;
    const clog = log.child({ cid: newToken(6), client: ip });
    const conn = new Pop3Connection(socket, {
      mode,
      secureContext,
      idleTimeoutMs: limits.idleTimeoutMs,
      loginTimeoutMs: limits.loginTimeoutMs,
      commandTimeoutMs: limits.commandTimeoutMs,
      log: clog,
      refusal,
      onLogin: () => slot?.establish(true),
    });
    open.add(conn);
    conn.done
      .catch((err: unknown) => clog.warn({ err }, 'connection failed'))
      .finally(() => {
        open.delete(conn);
        slot?.release();
      })
      .catch(() => undefined);
    if (refusal === null) clog.info({ port: socket.localPort }, 'connection');
    conn.start((wire) => new Pop3Session(ctx, wire, ip, clog));
  });
  // Refused clients are still answered; beyond twice the limit they are dropped at accept.
  server.maxConnections = deps.limits.maxConnections * 2;
  server.on('error', (err) => log.error({ err }, 'listener error'));
  let listening = false;

  return {
    listen(port: number, host: string): Promise<number> {
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          listening = true;
          const addr = server.address();
          resolve(typeof addr === 'object' && addr ? addr.port : port);
        });
      });
    },
    async close(): Promise<void> {
      if (!listening) return;
      listening = false;
      log.info({ open: open.size }, 'listener closing');
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      const conns = [...open];
      for (const c of conns) c.shutdown();
      const grace = setTimeout(() => conns.forEach((c) => c.destroy()), CLOSE_GRACE_MS);
      await Promise.all(conns.map((c) => c.done));
      clearTimeout(grace);
      await stopped;
    },
  };
}
