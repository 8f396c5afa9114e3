/**
 * The ManageSieve listener (RFC 5804, port 4190): plaintext until STARTTLS,
 * with postern's own certificate. Connection limits apply from the TCP
 * accept, so clients still in the TLS handshake count too.
 */
import net from 'node:net';
import tls from 'node:tls';
import { PosternError } from '../core/errors.js';
import { newToken } from '../core/ids.js';
import { ConnectionTable, connectionLimits } from '../net/connections.js';
import { serverTlsOptions } from '../net/tls.js';
import { ManageSieveConnection } from './connection.js';
import { ManageSieveSession } from './session.js';
import type { ManageSieveDeps, ManageSieveListener } from './types.js';

/** How long close() lets a running command finish. */
export const CLOSE_GRACE_MS = 10_000;

/** "::ffff:192.0.2.1" and "192.0.2.1" are one client for limits and throttling. */
function clientAddress(socket: net.Socket): string {
  const a = socket.remoteAddress ?? 'unknown';
  return a.startsWith('::ffff:') && net.isIPv4(a.slice(7)) ? a.slice(7) : a;
}

export function createManageSieveListener(deps: ManageSieveDeps): ManageSieveListener {
  if (!deps.tls.key || !deps.tls.cert) throw new PosternError('CONFIG_INVALID', 'managesieve: a TLS certificate and key are required');
  if (deps.limits.idleTimeoutMs <= 0) throw new PosternError('CONFIG_INVALID', 'managesieve: the idle timeout must be positive');
  const log = deps.log.child({ listener: 'managesieve' });
  const secureContext = tls.createSecureContext(serverTlsOptions(deps.tls));
  const { limits } = deps;
  const table = new ConnectionTable(connectionLimits(limits));
  const open = new Set<ManageSieveConnection>();

  const server = net.createServer((socket) => {
    const ip = clientAddress(socket);
    const refusal = table.refusal(ip);
    const slot = refusal === null ? table.admit(ip) : null;
    const clog = log.child({ cid: newToken(6), client: ip });
    const conn = new ManageSieveConnection(socket, {
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
    conn.start((wire) => new ManageSieveSession(deps, wire, ip, clog));
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
