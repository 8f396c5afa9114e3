/**
 * The listener of a line-based protocol (POP3, ManageSieve): accepts TCP
 * connections, applies the connection limits from the accept (so clients
 * still in the TLS handshake count too), and closes with a grace period for
 * running commands. The protocol's connection and session come from the caller.
 */
import net from 'node:net';
import tls, { type SecureContextOptions } from 'node:tls';
import { PosternError } from '../../core/errors.js';
import { newToken } from '../../core/ids.js';
import type { Logger } from '../../metrics/logger.js';
import { ConnectionTable, connectionLimits } from '../connections.js';
import { serverTlsOptions } from '../tls.js';
import type { LineConnection, LineConnectionOptions, LineSession } from './connection.js';

/** How long close() lets a running command (a QUIT expunging, a long RETR) finish. */
export const CLOSE_GRACE_MS = 10_000;

export interface LineLimits {
  /** Open sessions on the listener. */
  maxConnections: number;
  /** Open sessions from one client address. */
  maxConnectionsPerClient: number;
  /** Open sessions from one client address that have not logged in yet. */
  maxPendingPerClient: number;
  /** Slots at the top of maxConnections kept for addresses with few connections or a past login. */
  reservedConnections: number;
  /** Inactivity after which the connection is closed. */
  idleTimeoutMs: number;
  /** From connect to a successful login, whatever the client sends meanwhile. */
  loginTimeoutMs: number;
  /** A command line must be complete this long after its first byte; also how long a reply may wait unread. */
  commandTimeoutMs: number;
}

export interface LineListener {
  /** Binds and resolves with the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number>;
  /** Stops accepting, closes idle sessions, lets a running command finish. */
  close(): Promise<void>;
}

export interface LineListenerSpec<Ev, S extends LineSession<Ev>, C extends LineConnection<Ev, S>> {
  /** The listener's name in logs and errors (pop3, pop3s, managesieve). */
  name: string;
  implicitTls: boolean;
  tls: SecureContextOptions;
  limits: LineLimits;
  log: Logger;
  connection(socket: net.Socket, opts: LineConnectionOptions): C;
  session(conn: C, clientIp: string, log: Logger): S;
}

/** "::ffff:192.0.2.1" and "192.0.2.1" are one client for limits and throttling. */
export function clientAddress(socket: net.Socket): string {
  const a = socket.remoteAddress ?? 'unknown';
  return a.startsWith('::ffff:') && net.isIPv4(a.slice(7)) ? a.slice(7) : a;
}

export function createLineListener<Ev, S extends LineSession<Ev>, C extends LineConnection<Ev, S>>(
  spec: LineListenerSpec<Ev, S, C>,
): LineListener {
  const { name, limits } = spec;
  if (!spec.tls.key || !spec.tls.cert) throw new PosternError('CONFIG_INVALID', `${name}: a TLS certificate and key are required`);
  if (limits.idleTimeoutMs <= 0) throw new PosternError('CONFIG_INVALID', `${name}: the idle timeout must be positive`);
  const log = spec.log.child({ listener: name });
  const secureContext = tls.createSecureContext(serverTlsOptions(spec.tls));
  const table = new ConnectionTable(connectionLimits(limits));
  const open = new Set<C>();

  const server = net.createServer((socket) => {
    const ip = clientAddress(socket);
    const refusal = table.refusal(ip);
    const slot = refusal === null ? table.admit(ip) : null;
    const clog = log.child({ cid: newToken(6), client: ip });
    const conn = spec.connection(socket, {
      implicitTls: spec.implicitTls,
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
    conn.start((wire) => spec.session(wire, ip, clog));
  });
  // Refused clients are still answered; beyond twice the limit they are dropped at accept.
  server.maxConnections = limits.maxConnections * 2;
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
