/**
 * One IMAP listener: STARTTLS (143) or implicit TLS (993). Sockets are
 * accepted plain and wrapped in TLS here, so connection limits apply from
 * the first byte and a refused client still gets a BYE it can read.
 */
import net from 'node:net';
import { ConnectionTable, connectionLimits } from '../net/connections.js';
import { serverTlsOptions } from '../net/tls.js';
import tls from 'node:tls';
import { ImapCommandReader } from '../codec/imap/index.js';
import { PosternError } from '../core/errors.js';
import { newToken } from '../core/ids.js';
import { ImapConnection } from './connection.js';
import { ImapSession } from './session.js';
import { Lru, STRUCTURE_CACHE_ENTRIES, type MessageStructure } from './structure.js';
import type { ImapDeps, ImapListener, ImapMode } from './types.js';

/** Connections over the limit that may still be told BYE; beyond this they are dropped at once. */
const MAX_REFUSING = 64;
/** How long close() waits for clients to leave after BYE. */
const CLOSE_WAIT_MS = 5_000;

export function createImapListener(mode: ImapMode, deps: ImapDeps): ImapListener {
  if (!deps.tls.key || !deps.tls.cert) throw new PosternError('CONFIG_INVALID', `imap ${mode}: a TLS certificate and key are required`);
  const secureContext = tls.createSecureContext(serverTlsOptions(deps.tls));
  const log = deps.log.child({ listener: `imap-${mode}` });
  const { limits } = deps;
  const clients = new ConnectionTable(connectionLimits(limits));
  const cache = new Lru<string, MessageStructure>(STRUCTURE_CACHE_ENTRIES);
  const open = new Set<ImapConnection>();
  let refusing = 0;
  let listening = false;
  const { maxLiteralSize, maxLineLength } = deps.limits;
  const newReader = (): ImapCommandReader => new ImapCommandReader({ maxLineLength, maxLiteralSize, maxCommandSize: maxLiteralSize + 1024 * 1024 });

  const server = net.createServer({ pauseOnConnect: false, noDelay: true }, (socket) => {
    const ip = socket.remoteAddress ?? 'unknown';
    const id = newToken(6);
    const clog = log.child({ cid: id, client: ip });
    const refusal = clients.refusal(ip);
    if (refusal && refusing >= MAX_REFUSING) {
      socket.destroy();
      return;
    }
    const conn = new ImapConnection(socket, {
      deps,
      mode,
      secureContext,
      log: clog,
      id,
      newReader,
      newSession: (port) => new ImapSession(port, deps, cache, clog),
    });
    if (refusal) {
      refusing++;
      socket.once('close', () => refusing--);
      clog.warn({ limit: refusal }, 'connection refused: limit reached');
      conn.refuse(refusal === 'total' ? 'Too many connections, try again later' : 'Too many connections from your address');
      return;
    }
    const slot = clients.admit(ip);
    conn.onLogin = () => slot.establish(true);
    open.add(conn);
    socket.once('close', () => {
      slot.release();
      open.delete(conn);
    });
    clog.info({ port: socket.localPort }, 'connection');
    conn.start();
  });
  server.on('error', (err) => log.error({ err }, 'listener error'));

  return {
    listen(port: number, host: string): Promise<number> {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          listening = true;
          const addr = server.address();
          resolve(typeof addr === 'object' && addr ? addr.port : port);
        });
      });
    },
    close(): Promise<void> {
      if (!listening) return Promise.resolve();
      listening = false;
      log.info({ open: open.size }, 'listener closing');
      return new Promise((resolve) => {
        let done = false;
        const finish = (): void => {
          if (done) return;
          done = true;
          resolve();
        };
        server.close(finish);
        for (const c of open) c.shutdown('Server shutting down');
        // Clients that do not leave are cut off, so close() always ends.
        setTimeout(() => {
          for (const c of open) c.destroy();
        }, CLOSE_WAIT_MS).unref();
      });
    },
    connectionCount(): number {
      return clients.size + refusing;
    },
  };
}
